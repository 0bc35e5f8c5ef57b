#[containerize::main(healthcheck(path = "/healthz", intervl = "1s"))]
fn main() {}
