//! containerize: turn any Rust package into a small, secure, fast-to-rebuild container image.
//!
//! The pure core (settings, project, spec, plan, Dockerfile) lives in `containerize-build`
//! and is re-exported here with the default `cli` feature, which also adds the build context,
//! the engine and the `cargo-containerize` command. Apps that only use the attribute turn
//! `cli` off and compile nothing of it for their target: only the small runtime the attribute
//! calls (the attribute's own parser runs on the host, in the proc-macro).

#[cfg(feature = "cli")]
pub use containerize_build::{Diagnostic, Options, Plan, Project, Selection, Settings, Spec};
pub use containerize_macros::main;

/// Runtime support for the code `#[containerize::main]` expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runtime::{Signals, start};
}
mod runtime;
#[cfg(feature = "cli")]
pub use containerize_build::{diagnostic, keys, manifest, plan, project, render, settings, spec, validate};

/// `eprint!`/`eprintln!` that never panic: a closed stderr (`2>&1 | head`) must leave the run's
/// exit status as it is, not turn it into a panic's 101.
#[cfg(feature = "cli")]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
#[cfg(feature = "cli")]
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

#[cfg(feature = "cli")]
pub mod assemble;
/// The `cargo-containerize` command itself, for its binary; not a public API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[cfg(feature = "cli")]
pub mod context;
#[cfg(feature = "cli")]
pub mod credentials;
#[cfg(feature = "cli")]
pub mod dockerignore;
#[cfg(feature = "cli")]
pub mod engine;
#[cfg(feature = "cli")]
pub mod error;
#[cfg(feature = "cli")]
pub mod export;
#[cfg(feature = "cli")]
pub mod image;
#[cfg(feature = "cli")]
pub mod interrupt;
#[cfg(feature = "cli")]
pub mod push;
