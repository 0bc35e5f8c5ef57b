#[containerize::main(base = "scratch")]
fn main() {}
