#[containerize::main(expse = 8080)]
fn main() {}
