#[containerize::main(healthcheck(path = "/healthz", timeout = "0s"))]
fn main() {}
