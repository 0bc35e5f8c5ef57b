//! The library's errors, and the exit status each maps to at the CLI's edge.

use crate::engine::EngineError;
use containerize_build::Diagnostic;
use containerize_build::project::ProjectError;
use containerize_build::spec::SpecError;

/// Exit statuses, documented in `--help`.
pub mod exit {
    /// An internal error: a bug.
    pub const INTERNAL: u8 = 1;
    /// Bad flags or settings.
    pub const USAGE: u8 = 2;
    /// The project can't be used as asked (metadata, selection).
    pub const PROJECT: u8 = 3;
    /// No usable engine.
    pub const ENGINE: u8 = 4;
    /// The image build failed.
    pub const BUILD: u8 = 5;
    /// The smoke run failed.
    pub const RUN: u8 = 6;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// Anything that stops `cargo containerize`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Settings are invalid; the diagnostics say where and why.
    #[error("invalid container settings")]
    Settings(Vec<Diagnostic>),
    /// `cargo metadata` failed.
    #[error("failed to read the project's metadata")]
    Metadata(#[source] cargo_metadata::Error),
    /// The project can't be used.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The selection can't be met.
    #[error(transparent)]
    Selection(SpecError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Writing the output failed.
    #[error("failed to write the output")]
    Output(#[source] std::io::Error),
}

impl From<SpecError> for Error {
    fn from(error: SpecError) -> Self {
        match error {
            SpecError::Invalid(diagnostics) => Error::Settings(diagnostics),
            other => Error::Selection(other),
        }
    }
}

impl Error {
    /// The exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Settings(_) => exit::USAGE,
            Error::Metadata(_) | Error::Project(_) | Error::Selection(_) => exit::PROJECT,
            Error::Engine(e) => e.exit_code(),
            Error::Output(_) => exit::INTERNAL,
        }
    }

    /// How to fix it, where there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::Metadata(_) => Some("run `cargo metadata` in the project to see cargo's own message".into()),
            Error::Project(ProjectError::UnsupportedPath(_)) => Some("rename the file or directory".into()),
            Error::Selection(SpecError::UnknownPackage { .. } | SpecError::UnknownBinary { .. }) => {
                Some("check the name, or leave the flag out to build every binary".into())
            }
            Error::Selection(SpecError::NoBinaries(_)) => {
                Some("select a package with a [[bin]] target, e.g. with -p".into())
            }
            Error::Engine(e) => e.help(),
            _ => None,
        }
    }
}
