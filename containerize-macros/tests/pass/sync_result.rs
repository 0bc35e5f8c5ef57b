// The function keeps its return type and errors.
#[containerize::main(expose = 8080, healthcheck(path = "/healthz", interval = "5s"), env(RUST_LOG = "info"))]
fn main() -> Result<(), std::num::ParseIntError> {
    let _: u8 = "7".parse()?;
    Ok(())
}
