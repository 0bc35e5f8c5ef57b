#[containerize::main(healthcheck(path = "/healthz", interval = "6000000000000h"))]
fn main() {}
