//! The library's errors, and the exit status each maps to at the CLI's edge: one table,
//! [`Error::exit_code`], documented in `--help` from [`exit::STATUSES`].

use crate::context::ContextError;
use crate::engine::{DiscoveryError, EngineError, Found, Phase, is_refusal, is_unreachable, registry_of};
use crate::push::Pushed;
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
    /// `--push`: the registry refused the credentials (or wanted some), or they could not be read.
    pub const PUSH_AUTH: u8 = 7;
    /// `--push`: the registry could not be reached.
    pub const REGISTRY_UNREACHABLE: u8 = 8;
    /// `--push`: the repository's name was refused.
    pub const REPOSITORY: u8 = 9;
    /// `--push`: a plain-http registry the engine does not take.
    pub const INSECURE_REGISTRY: u8 = 10;
    /// `--push`: the push failed midway for another reason.
    pub const PUSH: u8 = 11;
    /// `--check`: the file is not the Dockerfile `--print` writes.
    pub const STALE: u8 = 12;
    /// The tests failed (`--stage test`).
    pub const TESTS: u8 = 13;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;

    /// Each status and what it means, for `--help` and the README.
    pub const STATUSES: [(u8, &str); 15] = [
        (0, "done"),
        (INTERNAL, "internal error (a bug), or the output could not be written"),
        (USAGE, "bad flags or settings"),
        (PROJECT, "project problem: metadata, selection, a bad .dockerignore, a file from outside the project"),
        (ENGINE, "engine unavailable: not found, denied, TLS certificate, too old, no BuildKit, lost, wrong OS"),
        (BUILD, "image build failed: a step, a missing base image, a file changed while sent, a refused tag"),
        (RUN, "smoke run failed: non-zero exit, no answer from outside the container, --run-timeout passed"),
        (PUSH_AUTH, "push refused: the registry refused the credentials or wanted some, or they could not be read"),
        (REGISTRY_UNREACHABLE, "push failed: the registry could not be reached"),
        (REPOSITORY, "push refused: the repository name is invalid there, or names no registry"),
        (INSECURE_REGISTRY, "push refused: a plain-http registry that is not on this machine"),
        (PUSH, "push failed: the registry failed it (the error says what was pushed, if anything)"),
        (STALE, "--check: the file is missing or not what --print --eject writes (the diff is on stdout)"),
        (TESTS, "tests failed (--stage test): they compiled, and at least one failed"),
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
    /// The tests compiled, and at least one failed (`--stage test`); nothing was tagged.
    #[error("the tests of package `{package}` failed; nothing was tagged")]
    TestsFailed {
        /// The package tested.
        package: String,
        /// What `cargo test` printed.
        output: String,
    },
    /// Writing the output failed.
    #[error("failed to write the output")]
    Output(#[source] std::io::Error),
    /// A file the user named (`--output`, `--sbom`, `--print -o`...) could not be written.
    #[error("failed to write {}", .path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A push failed: nothing was pushed when the registries were checked before building,
    /// else what was pushed before it.
    #[error("{error}; {}", pushed_list(.pushed))]
    Push {
        /// Why it failed.
        error: EngineError,
        /// The tags pushed before it failed, with their digests.
        pushed: Vec<Pushed>,
    },
    /// `--check`: the file is not what `--print` writes.
    #[error("{} {}", .file.display(), match .difference {
        Difference::Shown => format!("is not the Dockerfile `{command}` writes (the difference is above)"),
        Difference::Missing => "does not exist".to_owned(),
        Difference::LineEndings => format!("is the Dockerfile `{command}` writes, but with CRLF line endings"),
    })]
    Stale {
        /// The file checked.
        file: std::path::PathBuf,
        /// The command that writes the Dockerfile it should be.
        command: String,
        /// How it differs.
        difference: Difference,
    },
    /// `--eject`: a plain `docker build .` of this project would go wrong.
    #[error("{reason}")]
    NotEjectable {
        /// Why.
        reason: String,
        /// What to change.
        fix: String,
    },
    /// Ctrl-C: the images reported as built keep their tags; no other tag was changed.
    #[error("interrupted; {}{}", if .tagged.is_empty() { "nothing was tagged".to_owned() } else { format!("tagged before the interruption: {}", .tagged.join(", ")) }, .pushed.as_deref().map(|p| format!("; {}", pushed_list(p))).unwrap_or_default())]
    Interrupted {
        /// The tags applied, each image's whole set, before Ctrl-C.
        tagged: Vec<String>,
        /// With `--push`: the tags pushed before Ctrl-C.
        pushed: Option<Vec<Pushed>>,
    },
}

impl Error {
    /// The error as one about writing `path`, if it is one about writing at all.
    pub fn writing(self, path: &std::path::Path) -> Error {
        match self {
            Error::Output(source) => Error::Write { path: path.to_owned(), source },
            other => other,
        }
    }
}

/// How a checked Dockerfile differs from the one `--print` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difference {
    /// Lines differ; the unified diff was shown.
    Shown,
    /// There is no such file.
    Missing,
    /// Only the line endings: CRLF for LF.
    LineEndings,
}

/// `nothing was pushed`, or each pushed tag with its digest.
fn pushed_list(pushed: &[Pushed]) -> String {
    if pushed.is_empty() {
        return "nothing was pushed".to_owned();
    }
    let tags: Vec<String> = pushed.iter().map(|p| format!("{}@{}", p.tag, p.digest)).collect();
    format!("pushed before it stopped: {}", tags.join(", "))
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
            Error::Output(_) | Error::Write { .. } => exit::INTERNAL,
            Error::Stale { .. } => exit::STALE,
            Error::NotEjectable { .. } => exit::PROJECT,
            Error::TestsFailed { .. } => exit::TESTS,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            Error::Push { error, .. } => Error::engine_exit_code(error),
            Error::Engine(error) => Error::engine_exit_code(error),
        }
    }

    fn engine_exit_code(error: &EngineError) -> u8 {
        match error {
            EngineError::Discovery(_)
            | EngineError::Unreachable { .. }
            | EngineError::NotAnEngine { .. }
            | EngineError::PermissionDenied { .. }
            | EngineError::NotASocket { .. }
            | EngineError::Certificate { .. }
            | EngineError::TooOld { .. }
            | EngineError::NoBuildKit { .. }
            | EngineError::Platform { .. } => exit::ENGINE,
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
            EngineError::RegistryAuth { .. } | EngineError::CredentialsUnreadable { .. } => exit::PUSH_AUTH,
            EngineError::RegistryUnreachable { .. } => exit::REGISTRY_UNREACHABLE,
            EngineError::RepositoryInvalid { .. } => exit::REPOSITORY,
            EngineError::InsecureRegistry { .. } => exit::INSECURE_REGISTRY,
            EngineError::PushFailed { .. } => exit::PUSH,
            EngineError::Interrupted => exit::INTERRUPTED,
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
            Error::Plan(PlanError::Project(ProjectError::AbsolutePath { .. })) => {
                Some("write the path relative to the manifest's directory, as cargo allows; the context keeps the packages' places relative to one another".into())
            }
            Error::Plan(PlanError::Project(ProjectError::SourceDateEpoch(_))) => {
                Some("unset it, or set it to the commit's time: SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)".into())
            }
            Error::Plan(PlanError::Selection(SpecError::UnknownPackage { .. } | SpecError::UnknownBinary { .. })) => {
                Some("check the name, or leave the flag out to build every binary".into())
            }
            Error::Plan(PlanError::Selection(SpecError::NoBinaries(_))) => {
                Some("select a package with a [[bin]] target, e.g. with -p".into())
            }
            Error::Stale { difference: Difference::LineEndings, .. } => Some(
                "git may have converted them (core.autocrlf): mark the file `-text` in .gitattributes, then check it out again".into(),
            ),
            Error::Stale { file, command, .. } => {
                Some(format!("regenerate it with `{command} > {}`, and commit it", file.display()))
            }
            Error::NotEjectable { fix, .. } => Some(fix.clone()),
            Error::Engine(e) | Error::Push { error: e, .. } => engine_help(e),
            Error::TestsFailed { .. } => {
                Some("cargo test's output is above; run the failing tests with `cargo test` on this machine".into())
            }
            _ => None,
        }
    }
}

/// How to fix an engine error, where there is something to say: with the other help texts, at
/// the edge, so the engine module only says what happened.
fn engine_help(error: &EngineError) -> Option<String> {
    Some(match error {
        EngineError::Unreachable { endpoint, .. } if matches!(endpoint.found, Found::DefaultSocket | Found::Podman { .. }) => {
            "start the engine (`sudo systemctl start docker`, Docker Desktop, or Podman's `systemctl --user start podman.socket`), or point DOCKER_HOST or a Docker context at one (`docker context use NAME`)".into()
        }
        EngineError::Unreachable { endpoint, .. } => {
            let fix = format!("start the engine there, or fix {}", configured_by(&endpoint.found));
            // A TLS engine spoken to in plain TCP does not answer in HTTP either.
            match &endpoint.found {
                _ if endpoint.tls.is_some() || !endpoint.host.starts_with("tcp://") => fix,
                Found::Context { name, .. } => format!(
                    "{fix}; if the engine speaks TLS (as on port 2376), give the context its certificates: `docker context update {name} --docker \"host=...,ca=ca.pem,cert=cert.pem,key=key.pem\"`"
                ),
                _ => format!(
                    "{fix}; if the engine speaks TLS (as on port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory of ca.pem, cert.pem and key.pem"
                ),
            }
        }
        EngineError::NotASocket { endpoint, .. } => {
            format!("name the engine's socket instead: fix {}", configured_by(&endpoint.found))
        }
        EngineError::NotAnEngine { endpoint, .. } => format!(
            "what answered is quoted above: if it is the engine, its log says why it failed (`journalctl -u docker`); else fix {}",
            configured_by(&endpoint.found)
        ),
        EngineError::PermissionDenied { group, also_tried, .. } => {
            // Joining root's group is no fix to propose; an unknown group is the usual `docker`.
            let join = match group.as_deref() {
                Some("root") => String::new(),
                group => {
                    let group = crate::engine::discovery::shown(group.unwrap_or("docker"));
                    format!("add your user to the socket's group (`sudo usermod -aG {group} $USER`, then log in again), or ")
                }
            };
            let tried = if also_tried.is_empty() {
                String::new()
            } else {
                format!(" (tried too: {})", also_tried.join("; "))
            };
            format!("{join}use an engine of your own: rootless Docker or Podman (`systemctl --user start podman.socket`), selected with `docker context use NAME` or DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock{tried}")
        }
        EngineError::Certificate { endpoint, .. } => format!(
            "the client certificate, its key and the authority (cert.pem, key.pem, ca.pem) must be the ones the engine's TLS was set up with: check {}",
            match &endpoint.found {
                Found::Context { name, .. } => format!("the context's (`docker context inspect {name}`)"),
                // Where the docker CLI looks too: DOCKER_CERT_PATH, else its configuration directory.
                _ => match endpoint.tls.as_ref().and_then(|tls| tls.key.parent()) {
                    Some(dir) => format!("those in {} (DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker)", dir.display()),
                    None => "DOCKER_CERT_PATH (else $DOCKER_CONFIG, else ~/.docker)".to_owned(),
                },
            }
        ),
        EngineError::Discovery(DiscoveryError::TlsWithoutVerify { .. }) => {
            "verify the engine's certificate: set DOCKER_TLS_VERIFY=1, with the engine's CA certificate as ca.pem (and cert.pem and key.pem, if the engine asks for a client certificate) in DOCKER_CERT_PATH (else $DOCKER_CONFIG, else ~/.docker); or unset DOCKER_TLS for plain TCP".into()
        }
        EngineError::Discovery(DiscoveryError::Scheme { host, .. }) if !host.starts_with("ssh://") => {
            "name the engine by a unix:// socket or a tcp:// address".into()
        }
        EngineError::Discovery(DiscoveryError::Scheme { .. }) => {
            "forward the remote engine's socket (`ssh -NL /tmp/remote.sock:/var/run/docker.sock host`) and set DOCKER_HOST=unix:///tmp/remote.sock, or use a context with a tcp:// host and TLS".into()
        }
        EngineError::Discovery(DiscoveryError::BrokenContext { name, .. }) => format!(
            "`docker context inspect {name}` shows what the docker CLI makes of it; `docker context rm {name}` removes it (then create it anew), or DOCKER_CONTEXT=default (`docker context use default`) leaves it aside"
        ),
        EngineError::Discovery(DiscoveryError::InvalidHost { found, .. }) => {
            format!("write it as tcp://HOST:PORT, with a port from 1 to 65535, in {}", configured_by(found))
        }
        EngineError::Discovery(DiscoveryError::UnknownContext { .. }) => {
            "`docker context ls` lists the contexts; `docker context use default` goes back to the default socket".into()
        }
        EngineError::Discovery(DiscoveryError::SkipTlsVerify { name, host, tls_files }) => {
            let (name, host) = (crate::engine::discovery::shown(name), crate::engine::discovery::shown(host));
            // `docker context update --docker` replaces the endpoint's TLS files with the ones it
            // names, so the context's own are named again to keep them.
            let kept: String = tls_files
                .iter()
                .filter_map(|path| Some(format!(",{}={}", path.file_stem()?.to_str()?, path.display())))
                .collect();
            if tls_files.iter().any(|path| path.ends_with("ca.pem")) {
                format!("it has the engine's CA certificate: verify with it, `docker context update {name} --docker \"host={host}{kept},skip-tls-verify=false\"`")
            } else {
                format!("give the context the engine's CA certificate: `docker context update {name} --docker \"host={host},ca=ca.pem,cert=cert.pem,key=key.pem\"`")
            }
        }
        EngineError::TooOld { .. } => "upgrade the Docker engine".into(),
        EngineError::RegistryAuth { registry, .. } => {
            format!("{}, and check that the account may push there", log_in(registry))
        }
        EngineError::CredentialsUnreadable { .. } => {
            "fix the docker configuration ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) or its credential helper, or log in again with `docker login`".into()
        }
        EngineError::RegistryUnreachable { registry, .. } => {
            format!("check the registry's address and that the engine's host can reach {registry} (network, proxy, DNS)")
        }
        // The registry refused a name that names it.
        EngineError::RepositoryInvalid { reference, .. } if containerize_build::validate::image::domain(reference).is_some() => {
            format!("check the repository's name and namespace in `{reference}` against what {} allows (some registries take only `<owner>/<name>`)", registry_of(reference))
        }
        EngineError::RepositoryInvalid { .. } => {
            "name the registry: set `registry = \"ghcr.io/<you>\"` in [package.metadata.containerize], or tag with `-t <registry>/<name>:<tag>`".into()
        }
        EngineError::PushFailed { .. } => {
            "the registry's answer is above; once it is fixed, run the same command again (tags already pushed are sent again, unchanged)".into()
        }
        EngineError::InsecureRegistry { registry } => format!(
            "serve the registry over https, or, if plain http is meant, add it to the engine's insecure registries: `\"insecure-registries\": [\"{registry}\"]` in /etc/docker/daemon.json, then restart the engine (Podman: `[[registry]]` with `location = \"{registry}\"` and `insecure = true` in /etc/containers/registries.conf)"
        ),
        EngineError::Platform { .. } => {
            "print its Dockerfile with `--print --eject` and build that where Windows images are built, or leave out --platform".into()
        }
        EngineError::NoBuildKit { engine } if engine.name == "Podman" => {
            "use `--buildkit auto` or `never` (Podman builds with the legacy builder), or a Docker engine (18.09 or later) through DOCKER_HOST or a context".into()
        }
        EngineError::NoBuildKit { .. } => {
            "use `--buildkit auto` or `never`, or an engine with BuildKit (Docker 18.09 or later)".into()
        }
        EngineError::BaseImageMissing { image, message, .. } if is_refusal(message) => {
            format!("the registry refused the credentials (or wanted some): {}", log_in(registry_of(image)))
        }
        EngineError::BaseImageMissing { image, included, message } => {
            let setting = if *included { "the `include` entry's `from`" } else { "`builder`/`base`" };
            match is_unreachable(message) {
                true => format!("no registry answered: pull `{image}` where one is reachable and `docker save`/`docker load` it here, or set {setting} to an image the engine has"),
                false => format!("check that its registry has `{image}` (name and tag), or set {setting} to an image the engine has"),
            }
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

/// The setting that chose an endpoint, to name in a help text.
/// How to give the engine credentials for `registry`.
fn log_in(registry: &str) -> String {
    format!(
        "log in with `docker login {registry}` (or set DOCKER_CONFIG to a directory whose config.json has credentials for it)"
    )
}

fn configured_by(found: &Found) -> String {
    match found {
        Found::Context { name, .. } => {
            format!("the context `{name}` (`docker context inspect {name}`), or choose another")
        }
        Found::DockerHost | Found::DefaultSocket | Found::Podman { .. } => "DOCKER_HOST".into(),
    }
}

/// What caused `error`, one line per cause, in plain words: the connection's own failure
/// (refused, reset, timed out, a TLS alert) rather than the HTTP client's layers around it
/// (`client error (Connect)`, `tcp connect error`, `connection error`), which say nothing the
/// cause below them does not. The detail is kept: the OS error's number, the alert's name.
pub fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cause = error.source();
    while let Some(mut c) = cause {
        // bollard's io variant is transparent: its `source` skips the io::Error itself.
        if let Some(bollard::errors::Error::IOError { err }) = c.downcast_ref::<bollard::errors::Error>() {
            c = err;
        }
        let io = c.downcast_ref::<std::io::Error>();
        let below = match io.and_then(std::io::Error::get_ref) {
            // An io::Error's `source` skips the error it wraps (hyper-rustls wraps rustls' so).
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
        let line = if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            Some(tls_words(tls))
        } else if let Some(io) = io {
            // An io::Error that only carries another error says it again: the line below does.
            (io.get_ref().is_none()).then(|| io_words(io))
        } else if matches!(
            c.downcast_ref::<bollard::errors::Error>(),
            Some(bollard::errors::Error::RequestTimeoutError)
        ) {
            Some("no answer within the time allowed".to_owned())
        } else {
            let text = c.to_string();
            (below.is_none() || !is_client_layer(&text)).then_some(text)
        };
        if let Some(line) = line
            && lines.last() != Some(&line)
        {
            lines.push(line);
        }
        cause = below;
    }
    lines
}

/// Whether a message is one of the HTTP client's (hyper's) own layers around a cause.
fn is_client_layer(text: &str) -> bool {
    const LAYERS: [&str; 8] = [
        "Error in the hyper legacy client",
        "client error (",
        "tcp connect error",
        "connection error",
        "error trying to connect",
        "error sending request",
        "hyper::Error(",
        "io error",
    ];
    LAYERS.iter().any(|layer| text.starts_with(layer))
}

/// An io error in plain words, with the OS's number for it.
fn io_words(io: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let words = match io.kind() {
        K::ConnectionRefused => "connection refused: nothing listens there",
        K::ConnectionReset => "the connection was reset by the other end",
        K::ConnectionAborted => "the connection was aborted",
        K::TimedOut => "the connection timed out",
        K::BrokenPipe => "the other end closed the connection while this side was sending",
        K::UnexpectedEof => "the other end closed the connection before answering in full",
        K::NotConnected => "the connection was lost",
        K::AddrNotAvailable => "the address is not available here",
        K::HostUnreachable => "the host is unreachable",
        K::NetworkUnreachable => "the network is unreachable",
        _ => return io.to_string(),
    };
    match io.raw_os_error() {
        Some(code) => format!("{words} (os error {code})"),
        None => words.to_owned(),
    }
}

/// A TLS failure in plain words: an alert by its name (`bad certificate`), a certificate by
/// what is wrong with it.
fn tls_words(tls: &rustls::Error) -> String {
    // rustls' names are Rust's (`BadCertificate`): spaced and lower-cased.
    let spaced = |name: String| {
        let mut words = String::new();
        for (i, ch) in name.chars().enumerate() {
            if ch.is_uppercase() && i > 0 {
                words.push(' ');
            }
            words.push(ch.to_ascii_lowercase());
        }
        words
    };
    match tls {
        rustls::Error::AlertReceived(alert) => {
            format!("the other end ended the TLS connection with the alert `{}`", spaced(format!("{alert:?}")))
        }
        rustls::Error::InvalidCertificate(problem) => {
            format!("the other end's TLS certificate is not valid: {}", spaced(format!("{problem:?}")))
        }
        other => format!("TLS: {other}"),
    }
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
    fn an_engine_not_found_or_refusing_tls_is_an_unavailable_engine() {
        let invalid = DiscoveryError::InvalidHost { host: "tcp://h:99999".into(), found: Found::DockerHost };
        let invalid = Error::Engine(invalid.into());
        assert_eq!(invalid.exit_code(), exit::ENGINE);
        assert!(invalid.help().unwrap().starts_with("write it as tcp://HOST:PORT"));
        let ssh = crate::engine::DiscoveryError::Scheme { host: "ssh://h".into(), found: Found::DockerHost };
        assert_eq!(Error::Engine(ssh.into()).exit_code(), exit::ENGINE);
        let endpoint = crate::engine::Endpoint { host: "tcp://h:2376".into(), tls: None, found: Found::DockerHost };
        let refused = EngineError::Certificate { endpoint: Box::new(endpoint), problem: "no".into() };
        let refused = Error::Engine(refused);
        assert_eq!(refused.exit_code(), exit::ENGINE);
        assert!(refused.help().unwrap().ends_with("check DOCKER_CERT_PATH (else $DOCKER_CONFIG, else ~/.docker)"));
        let tls = crate::engine::discovery::Tls { ca: None, cert: "/c/cert.pem".into(), key: "/c/key.pem".into() };
        let endpoint =
            crate::engine::Endpoint { host: "tcp://h:2376".into(), tls: Some(tls), found: Found::DockerHost };
        let refused = Error::Engine(EngineError::Certificate { endpoint: Box::new(endpoint), problem: "no".into() });
        let help = refused.help().unwrap();
        assert!(help.ends_with("check those in /c (DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker)"), "{help}");
        let insecure = Error::Engine(DiscoveryError::TlsWithoutVerify { host: "tcp://h:2376".into() }.into());
        assert_eq!(insecure.exit_code(), exit::ENGINE);
        assert!(insecure.help().unwrap().starts_with("verify the engine's certificate: set DOCKER_TLS_VERIFY=1"));
        let endpoint = crate::engine::Endpoint { host: "unix:///tmp".into(), tls: None, found: Found::DockerHost };
        let directory =
            EngineError::NotASocket { endpoint: Box::new(endpoint), problem: "is a directory, not a socket".into() };
        let directory = Error::Engine(directory);
        assert_eq!(directory.exit_code(), exit::ENGINE);
        assert_eq!(
            directory.to_string(),
            "the engine's socket unix:///tmp (from DOCKER_HOST) is a directory, not a socket"
        );
        assert!(directory.help().unwrap().contains("fix DOCKER_HOST"));
    }

    fn engine(name: &'static str, found: Found) -> crate::engine::EngineInfo {
        crate::engine::EngineInfo {
            name,
            host: "unix:///run/user/1000/podman/podman.sock".into(),
            found,
            version: "4.3.1".into(),
            api_version: "1.41".into(),
            buildkit: false,
            os: "linux".into(),
        }
    }

    #[test]
    fn no_buildkit_names_the_engine_and_podman_never_has_it() {
        let found = Found::Context { name: "podman".into(), by: crate::engine::discovery::ContextChoice::Variable };
        let error = Error::Engine(EngineError::NoBuildKit { engine: Box::new(engine("Podman", found)) });
        assert_eq!(error.exit_code(), exit::ENGINE);
        assert_eq!(
            error.to_string(),
            "Podman 4.3.1 (API 1.41) at unix:///run/user/1000/podman/podman.sock, context `podman` from DOCKER_CONTEXT, does not offer BuildKit: Podman never does"
        );
        assert!(error.help().unwrap().contains("Podman builds with the legacy builder"));
        let docker =
            Error::Engine(EngineError::NoBuildKit { engine: Box::new(engine("Docker", Found::DefaultSocket)) });
        assert!(docker.to_string().ends_with("the default socket, does not offer BuildKit"), "{docker}");
    }

    #[test]
    fn plain_tcp_that_finds_no_engine_suggests_tls() {
        let unreachable = |host: &str, tls: Option<crate::engine::discovery::Tls>| {
            let endpoint = crate::engine::Endpoint { host: host.into(), tls, found: Found::DockerHost };
            let source = bollard::errors::Error::IOError { err: std::io::Error::other("closed") };
            Error::Engine(EngineError::Unreachable { endpoint: Box::new(endpoint), source }).help().unwrap()
        };
        let help = unreachable("tcp://h:2376", None);
        assert!(help.contains("set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"), "{help}");
        let tls = crate::engine::discovery::Tls { ca: Some("c".into()), cert: "c".into(), key: "k".into() };
        assert!(!unreachable("tcp://h:2376", Some(tls)).contains("DOCKER_TLS_VERIFY"));
        assert!(!unreachable("unix:///s", None).contains("DOCKER_TLS_VERIFY"));
    }

    #[test]
    fn a_context_that_skips_verification_is_told_how_to_verify() {
        let skip = |tls_files: Vec<std::path::PathBuf>| {
            let error = DiscoveryError::SkipTlsVerify { name: "lax".into(), host: "tcp://h:2376".into(), tls_files };
            Error::Engine(error.into()).help().unwrap()
        };
        let help = skip(vec!["/t/ca.pem".into(), "/t/cert.pem".into(), "/t/key.pem".into()]);
        assert!(
            help.contains(r#"`docker context update lax --docker "host=tcp://h:2376,ca=/t/ca.pem,cert=/t/cert.pem,key=/t/key.pem,skip-tls-verify=false"`"#),
            "{help}"
        );
        let help = skip(vec![]);
        assert!(help.contains(r#""host=tcp://h:2376,ca=ca.pem,cert=cert.pem,key=key.pem""#), "{help}");
    }

    #[test]
    fn a_broken_context_has_a_way_out() {
        let error = DiscoveryError::BrokenContext { name: "bad".into(), path: "/m".into(), message: "eof".into() };
        let error = Error::Engine(error.into());
        assert_eq!(error.exit_code(), exit::ENGINE);
        let help = error.help().unwrap();
        assert!(help.contains("`docker context inspect bad`") && help.contains("`docker context rm bad`"), "{help}");
        assert!(help.contains("DOCKER_CONTEXT=default"), "{help}");
    }

    #[test]
    fn a_denied_socket_names_its_group_and_what_else_was_tried() {
        let denied = |host: &str, group: Option<&str>, also_tried: Vec<String>| {
            let endpoint = crate::engine::Endpoint { host: host.into(), tls: None, found: Found::DockerHost };
            let group = group.map(str::to_owned);
            Error::Engine(EngineError::PermissionDenied { endpoint: Box::new(endpoint), group, also_tried })
        };
        let podman = denied("unix:///run/podman/podman.sock", Some("root"), vec![]);
        assert_eq!(podman.exit_code(), exit::ENGINE);
        assert_eq!(
            podman.to_string(),
            "permission denied on the socket at unix:///run/podman/podman.sock (from DOCKER_HOST), of group `root`"
        );
        assert!(!podman.help().unwrap().contains("usermod"), "{:?}", podman.help());
        let tried = "no Docker engine answers at unix:///run/user/1000/podman/podman.sock (...)".to_owned();
        let docker = denied("unix:///var/run/docker.sock", Some("docker"), vec![tried.clone()]);
        let help = docker.help().unwrap();
        assert!(help.contains("`sudo usermod -aG docker $USER`"), "{help}");
        assert!(help.ends_with(&format!("(tried too: {tried})")), "{help}");
        assert!(denied("unix:///s", None, vec![]).help().unwrap().contains("usermod -aG docker"));
    }

    #[test]
    fn a_bad_dockerignore_is_a_project_problem() {
        let ignore = crate::dockerignore::DockerIgnore::parse("src/[").unwrap_err();
        assert_eq!(Error::Engine(EngineError::Context(ignore.into())).exit_code(), exit::PROJECT);
    }

    #[test]
    fn each_push_failure_has_its_own_status() {
        let push = |error| Error::Push { error, pushed: vec![] }.exit_code();
        let registry = || "127.0.0.1:5001".to_owned();
        let auth = EngineError::RegistryAuth { registry: registry(), anonymous: false, message: "no".into() };
        assert_eq!(push(auth), exit::PUSH_AUTH);
        assert_eq!(
            push(EngineError::RegistryUnreachable { registry: registry(), message: "".into() }),
            exit::REGISTRY_UNREACHABLE
        );
        assert_eq!(
            push(EngineError::RepositoryInvalid { reference: "a".into(), message: "".into() }),
            exit::REPOSITORY
        );
        assert_eq!(push(EngineError::InsecureRegistry { registry: registry() }), exit::INSECURE_REGISTRY);
        assert_eq!(push(EngineError::PushFailed { reference: "a".into(), message: "".into() }), exit::PUSH);
        let midway = Error::Push {
            error: EngineError::PushFailed { reference: "r/b:1".into(), message: "reset".into() },
            pushed: vec![Pushed { tag: "r/a:1".into(), digest: "sha256:ab".into() }],
        };
        assert!(midway.to_string().ends_with("pushed before it stopped: r/a:1@sha256:ab"), "{midway}");
        let help = Error::Push {
            error: EngineError::RegistryAuth { registry: registry(), anonymous: true, message: "".into() },
            pushed: vec![],
        }
        .help()
        .unwrap();
        assert!(help.contains("docker login 127.0.0.1:5001"), "{help}");
    }

    /// A connection's failure as bollard gives it, through hyper's layers.
    async fn failure_of(host: &str) -> bollard::errors::Error {
        let client = bollard::Docker::connect_with_http(host, 5, bollard::API_DEFAULT_VERSION).unwrap();
        client.version().await.expect_err("nothing answers")
    }

    #[tokio::test]
    async fn causes_say_what_happened_to_the_connection() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let refused = failure_of(&format!("tcp://127.0.0.1:{port}")).await;
        let raw: Vec<String> = std::iter::successors(std::error::Error::source(&refused), |e| e.source())
            .map(ToString::to_string)
            .collect();
        assert!(raw.iter().any(|l| l.contains("client error (Connect)")), "hyper's layers are there: {raw:?}");
        let error = EngineError::Api { action: "ask", phase: Phase::Build, source: refused };
        assert_eq!(causes(&error), ["connection refused: nothing listens there (os error 111)"]);

        // Accepts, reads the request, and resets the connection.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut [0; 1024]).await;
            #[allow(deprecated)] // `set_zero_linger` is newer than the tokio this builds with
            stream.set_linger(Some(std::time::Duration::ZERO)).unwrap();
        });
        let reset = failure_of(&format!("tcp://127.0.0.1:{port}")).await;
        server.await.unwrap();
        let error = EngineError::Api { action: "ask", phase: Phase::Build, source: reset };
        assert_eq!(causes(&error), ["the connection was reset by the other end (os error 104)"]);
    }

    #[test]
    fn tls_and_timeouts_are_said_in_plain_words() {
        let alert = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate),
        ));
        let error = EngineError::Api {
            action: "ask",
            phase: Phase::Build,
            source: bollard::errors::Error::IOError { err: alert },
        };
        assert_eq!(causes(&error), ["the other end ended the TLS connection with the alert `bad certificate`"]);
        let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(tls_words(&untrusted), "the other end's TLS certificate is not valid: unknown issuer");
        let timeout = EngineError::Api {
            action: "ask",
            phase: Phase::Build,
            source: bollard::errors::Error::RequestTimeoutError,
        };
        assert_eq!(causes(&timeout), ["no answer within the time allowed"]);
        // A message of the engine's own stays as it is.
        let refused = EngineError::Api {
            action: "tag",
            phase: Phase::Build,
            source: bollard::errors::Error::DockerResponseServerError { status_code: 409, message: "conflict".into() },
        };
        assert_eq!(causes(&refused), ["Docker responded with status code 409: conflict"]);
    }

    #[test]
    fn every_documented_status_is_distinct() {
        let mut codes: Vec<u8> = exit::STATUSES.iter().map(|(code, _)| *code).collect();
        codes.dedup();
        assert_eq!(codes.len(), exit::STATUSES.len());
    }
}
