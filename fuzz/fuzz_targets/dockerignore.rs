//! The `.dockerignore` matcher: the input up to the first NUL is the file, each line after it
//! a path to match.
#![no_main]

use containerize::dockerignore::DockerIgnore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let (text, paths) = input.split_once('\0').unwrap_or((input, "a/b"));
    if let Ok(ignore) = DockerIgnore::parse(text) {
        for path in paths.lines() {
            ignore.excludes(path);
            ignore.must_descend(path);
        }
    }
});
