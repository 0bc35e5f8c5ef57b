//! Prints a greeting, to whom the first argument names.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".to_owned());
    println!("Hello, {name}! (from a {} container)", if cfg!(target_feature = "crt-static") { "static" } else { "dynamic" });
}
