#[containerize::main(healthcheck(path = "/healthz", timeout = "soon"))]
fn main() {}
