#[containerize::main]
fn main() {}
