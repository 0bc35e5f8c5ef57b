//! The `#[containerize::main(...)]` reader: the input as the arguments of the attribute on a
//! binary's `main`, as the CLI reads it from the source.
#![no_main]

use containerize_build::SourceFile;
use containerize_build::attribute::settings_in_source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|arguments: &str| {
    let file = SourceFile::new("src/main.rs", format!("#[containerize::main({arguments})]\nfn main() {{}}\n"));
    settings_in_source(&file, &mut Vec::new());
});
