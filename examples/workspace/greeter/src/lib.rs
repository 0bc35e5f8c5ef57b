//! The greeting both binaries share.

/// A greeting for `name`.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}
