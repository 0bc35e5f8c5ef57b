#[containerize::main(expose 8080)]
fn main() {}
