//! Checks the container settings on every build and tells the app its image.

fn main() {
    containerize_build::configure();
}
