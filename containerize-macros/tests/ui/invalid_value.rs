#[containerize::main(user = "root; rm -rf /")]
fn main() {}
