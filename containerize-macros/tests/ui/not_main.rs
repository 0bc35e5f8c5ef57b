#[containerize::main]
fn serve() {}

fn main() {}
