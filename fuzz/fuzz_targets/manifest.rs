//! The settings reader and validator: the input as a `Cargo.toml`.
#![no_main]

use containerize_build::SourceFile;
use containerize_build::manifest::read;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    read(&SourceFile::new("Cargo.toml", text), &mut Vec::new());
});
