//! Greets whoever the arguments name.

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let name = if names.is_empty() { "world".to_owned() } else { names.join(" ") };
    println!("{}", greeter::greeting(&name));
}
