//! The library's errors, and the exit status each maps to at the CLI's edge: one table,
//! [`Error::exit_code`], documented in `--help` from [`exit::STATUSES`].

use crate::context::ContextError;
use crate::engine::{EngineError, Phase};
use containerize_build::project::ProjectError;
use containerize_build::spec::SpecError;
use containerize_build::{Diagnostic, PlanError};

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

    /// Each status and what it means, for `--help` and the README.
    pub const STATUSES: [(u8, &str); 8] = [
        (0, "done"),
        (INTERNAL, "internal error (a bug), or the output could not be written"),
        (USAGE, "bad flags or settings"),
        (PROJECT, "project problem: metadata, selection, a bad .dockerignore, a file from outside the project"),
        (ENGINE, "engine unavailable: not running, no permission, too old, no BuildKit, or lost midway"),
        (BUILD, "image build failed: a step, a missing base image, a file changed while sent, a refused tag"),
        (RUN, "smoke run failed: non-zero exit, no answer from outside the container, --run-timeout passed"),
        (INTERRUPTED, "interrupted by Ctrl-C"),
    ];
}

/// Anything that stops `cargo containerize`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Settings or flags are invalid; the diagnostics say where and why.
    #[error("invalid container settings")]
    Settings(Vec<Diagnostic>),
    /// The project could not be planned (metadata, project, selection).
    #[error(transparent)]
    Plan(PlanError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Writing the output failed.
    #[error("failed to write the output")]
    Output(#[source] std::io::Error),
    /// Ctrl-C: the images reported as built keep their tags; no other tag was changed.
    #[error("interrupted; {}", if .tagged.is_empty() { "nothing was tagged".to_owned() } else { format!("tagged before the interruption: {}", .tagged.join(", ")) })]
    Interrupted {
        /// The tags applied, each image's whole set, before Ctrl-C.
        tagged: Vec<String>,
    },
}

impl From<PlanError> for Error {
    fn from(error: PlanError) -> Self {
        match error {
            // Shown like the flags' own diagnostics, with the same status.
            PlanError::Settings(diagnostics) => Error::Settings(diagnostics),
            other => Error::Plan(other),
        }
    }
}

impl Error {
    /// The exit status for this error: the one table, with no catch-all, so that a new error
    /// must be given the status its meaning documents.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Settings(_) => exit::USAGE,
            Error::Plan(_) => exit::PROJECT,
            Error::Output(_) => exit::INTERNAL,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            Error::Engine(error) => match error {
                EngineError::Unreachable { .. }
                | EngineError::PermissionDenied { .. }
                | EngineError::TooOld { .. }
                | EngineError::NoBuildKit { .. } => exit::ENGINE,
                EngineError::Api { source, .. } if engine_lost(source) => exit::ENGINE,
                // What the project holds, not what the build did: fixed in the project.
                EngineError::Context(
                    ContextError::Ignore(_)
                    | ContextError::Pattern { .. }
                    | ContextError::LinkOutside { .. }
                    | ContextError::Outside(_)
                    | ContextError::Excluded(_)
                    | ContextError::NotAFile(_)
                    | ContextError::Name(_),
                ) => exit::PROJECT,
                EngineError::Context(ContextError::Changed(_) | ContextError::Io { .. })
                | EngineError::BaseImageMissing { .. }
                | EngineError::StepFailed { .. }
                | EngineError::BuildFailed(_)
                | EngineError::NoImage
                | EngineError::NotExported(_)
                | EngineError::Api { phase: Phase::Build, .. } => exit::BUILD,
                EngineError::RunFailed { .. }
                | EngineError::NotAnswered { .. }
                | EngineError::RunTimedOut { .. }
                | EngineError::Api { phase: Phase::Run, .. } => exit::RUN,
                EngineError::Interrupted => exit::INTERRUPTED,
            },
        }
    }

    /// How to fix it, where there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::Plan(PlanError::Metadata(_)) => {
                Some("run `cargo metadata` in the project to see cargo's own message".into())
            }
            Error::Plan(PlanError::Project(ProjectError::UnsupportedPath(_))) => {
                Some("rename the file or directory".into())
            }
            Error::Plan(PlanError::Selection(SpecError::UnknownPackage { .. } | SpecError::UnknownBinary { .. })) => {
                Some("check the name, or leave the flag out to build every binary".into())
            }
            Error::Plan(PlanError::Selection(SpecError::NoBinaries(_))) => {
                Some("select a package with a [[bin]] target, e.g. with -p".into())
            }
            Error::Engine(e) => engine_help(e),
            _ => None,
        }
    }
}

/// How to fix an engine error, where there is something to say: with the other help texts, at
/// the edge, so the engine module only says what happened.
fn engine_help(error: &EngineError) -> Option<String> {
    Some(match error {
        EngineError::Unreachable { .. } => {
            "start the engine (`sudo systemctl start docker`, or Docker Desktop), or point DOCKER_HOST at one, e.g. DOCKER_HOST=unix:///run/user/1000/docker.sock".into()
        }
        EngineError::PermissionDenied { .. } => {
            "add your user to the `docker` group (`sudo usermod -aG docker $USER`, then log in again), or use rootless Docker and set DOCKER_HOST".into()
        }
        EngineError::TooOld { .. } => "upgrade the Docker engine".into(),
        EngineError::NoBuildKit { .. } => {
            "use `--buildkit auto` or `never`, or an engine with BuildKit (Docker 18.09 or later)".into()
        }
        EngineError::BaseImageMissing { image, .. } => {
            format!("no registry answered: pull `{image}` where one is reachable and `docker save`/`docker load` it here, or set `builder`/`base` to an image the engine has")
        }
        EngineError::StepFailed { .. } => "the step's output is above; run with -v to see every step's output".into(),
        EngineError::NotAnswered { probe, .. } => format!(
            "make the service listen on 0.0.0.0:{port} (every interface), not 127.0.0.1:{port}: the container's loopback is out of reach from outside it; if it only starts slowly, raise --run-timeout",
            port = probe.port
        ),
        EngineError::RunTimedOut { .. } => {
            "a run with arguments (or of an image with no exposed port) waits for the program to exit: raise --run-timeout, or pass arguments that make it exit".into()
        }
        EngineError::Context(ContextError::LinkOutside { .. } | ContextError::Outside(_)) => {
            "only files of the workspace and its local packages are sent: copy the file into the project and name that copy".into()
        }
        EngineError::Context(ContextError::Name(_)) => "rename it, or leave it out with .dockerignore".into(),
        EngineError::Context(ContextError::Excluded(path)) => {
            format!("add `!{path}` to .dockerignore, after the pattern that excludes it")
        }
        EngineError::Context(ContextError::NotAFile(_)) => "make it a regular file, or remove it".into(),
        EngineError::Context(ContextError::Changed(_)) => {
            "something wrote to it during the build: build again, or leave it out with .dockerignore".into()
        }
        _ => return None,
        })
}

/// Whether a failed call means the engine itself went away (the connection failed), rather
/// than the engine refusing what was asked.
fn engine_lost(error: &bollard::errors::Error) -> bool {
    use bollard::errors::Error as E;
    matches!(
        error,
        E::HyperResponseError { .. }
            | E::HyperLegacyError { .. }
            | E::IOError { .. }
            | E::SocketNotFoundError(_)
            | E::RequestTimeoutError
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(phase: Phase, source: bollard::errors::Error) -> Error {
        Error::Engine(EngineError::Api { action: "do it", phase, source })
    }

    fn refused() -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError { status_code: 500, message: "no".into() }
    }

    #[test]
    fn an_engine_that_refuses_is_not_an_unavailable_engine() {
        assert_eq!(api(Phase::Build, refused()).exit_code(), exit::BUILD, "a refused tag or inspection");
        assert_eq!(api(Phase::Run, refused()).exit_code(), exit::RUN, "a refused container");
        let lost = bollard::errors::Error::IOError { err: std::io::Error::other("broken pipe") };
        assert_eq!(api(Phase::Run, lost).exit_code(), exit::ENGINE);
    }

    #[test]
    fn a_bad_dockerignore_is_a_project_problem() {
        let ignore = crate::dockerignore::DockerIgnore::parse("src/[").unwrap_err();
        assert_eq!(Error::Engine(EngineError::Context(ignore.into())).exit_code(), exit::PROJECT);
    }

    #[test]
    fn every_documented_status_is_distinct() {
        let mut codes: Vec<u8> = exit::STATUSES.iter().map(|(code, _)| *code).collect();
        codes.dedup();
        assert_eq!(codes.len(), exit::STATUSES.len());
    }
}
