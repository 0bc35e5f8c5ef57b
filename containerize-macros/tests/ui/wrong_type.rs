#[containerize::main(expose = true)]
fn main() {}
