//! The container engine: the only async module, and the only one that talks to Docker.
//!
//! [`Engine`] is small on purpose: what a build, a tag, an inspection and a smoke run need, and
//! what `--output` (copy out, remove) and `--reproducible` (pull, save, load) add.
//! [`Docker`] implements it with bollard; tests use a recording fake.
//!
//! Here the port: the trait, what goes through it, and its errors. `discovery` finds where the
//! engine is (pure); `docker` is the bollard adapter; `stream` reads the engine's build stream
//! into [`BuildEvent`]s.

use crate::context::ContextError;
use crate::interrupt::Interruption;
use bollard::errors::Error as BollardError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::collections::BTreeMap;
use std::time::Duration;

pub mod discovery;
mod docker;
mod push;
mod stream;

pub use discovery::{DiscoveryError, Endpoint, Found};
pub use docker::Docker;
pub use push::{classify_registry_error, credential_for, is_refusal, is_unreachable, push_events, registry_of};
pub use stream::{BuildKitProgress, stream_events};

/// The oldest engine API that builds multi-stage Dockerfiles with `COPY --from` (Docker 17.06).
pub const MINIMUM_API: (u32, u32) = (1, 30);
/// The oldest engine API with BuildKit (Docker 18.09).
pub const BUILDKIT_API: (u32, u32) = (1, 39);

/// What the engine says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    /// Its name: `Docker`, or `Podman`.
    pub name: &'static str,
    /// Where it was reached.
    pub host: String,
    /// How it was found.
    pub found: Found,
    /// Its version, e.g. `20.10.24`.
    pub version: String,
    /// Its API version, e.g. `1.41`.
    pub api_version: String,
    /// Whether it builds with BuildKit through the API (Docker 18.09 and later; not Podman).
    pub buildkit: bool,
    /// The operating system its containers run (`linux`, `windows`).
    pub os: String,
}

impl std::fmt::Display for EngineInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (API {}) at {}, {}",
            self.name,
            discovery::shown(&self.version),
            discovery::shown(&self.api_version),
            discovery::shown(&self.host),
            self.found
        )
    }
}

/// What a build is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRequest {
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    /// The stage to stop at.
    pub target: String,
    /// BuildKit, or the legacy builder.
    pub buildkit: bool,
    /// Build every step anew: no step's result is taken from the engine's cache (BuildKit's
    /// cache mounts are still mounted).
    pub no_cache: bool,
    /// BuildKit only: send the target stage's files to this host file, as a tar (its `tar`
    /// exporter, served by our session), instead of making an image.
    pub export_to: Option<std::path::PathBuf>,
    /// Labels for the resulting image, past the Dockerfile's: the legacy builder adds them in
    /// a step of their own, so a value unique to the build makes an image no other build shares.
    pub labels: BTreeMap<String, String>,
    /// Credentials for the registries the base images come from, to pull private ones.
    pub credentials: Vec<Credential>,
}

/// A user's credentials for one registry, as `docker login` stored them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The registry, as the engine names it: `docker.io`, `ghcr.io`, `localhost:5000`.
    pub registry: String,
    /// The server address the docker CLI files them under (`https://index.docker.io/v1/`
    /// for Docker Hub, else the registry).
    pub server: String,
    /// A user name and password, or an identity token (OAuth refresh token).
    pub secret: Secret,
}

/// What proves who the user is.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// A user name and password (or access token).
    Password {
        /// The user.
        username: String,
        /// The password.
        password: String,
    },
    /// An identity token.
    IdentityToken(String),
}

// Never printed: a debug log or a panic message must not show a password.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("registry", &self.registry).finish_non_exhaustive()
    }
}

/// One thing that happened while pushing a tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushEvent {
    /// A layer is being considered (`Preparing`): one such event per layer.
    LayerFound,
    /// A layer is uploading: `current` of `total` bytes (the engine tells layers apart only
    /// by their size here; bollard's model drops their ids).
    LayerProgress {
        /// Bytes sent.
        current: u64,
        /// The layer's size.
        total: u64,
    },
    /// A layer is in the registry: sent now, or already there (`already`).
    LayerDone {
        /// It was there before (or mounted from another repository).
        already: bool,
    },
    /// The manifest was pushed: its digest.
    Digest(String),
}

/// One thing that happened during a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildEvent {
    /// A step began: `Step 3/12 : RUN ...`, or BuildKit's `[builder 3/12] RUN ...`.
    Step {
        /// The stage, where the builder names it (BuildKit does).
        stage: Option<String>,
        /// Its number.
        number: u32,
        /// How many there are.
        total: u32,
        /// The instruction.
        instruction: String,
    },
    /// Output of the current step.
    Output(String),
    /// Progress of a pull.
    Status(String),
    /// The id of an image a stage produced; the last one is the result.
    ImageId(String),
}

/// An image on the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Its id.
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its tags.
    pub tags: Vec<String>,
    /// The user it runs as.
    pub user: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its exposed ports, as `8080/tcp`.
    pub exposed: Vec<String>,
}

/// How a smoke run checks that a service answers: from outside the container, through the
/// port the engine publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The container's port.
    pub port: u16,
    /// An HTTP path to GET (the healthcheck's), else a TCP connection the app must accept.
    pub http_path: Option<String>,
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.http_path {
            Some(path) => write!(f, "GET {path} on port {}", self.port),
            None => write!(f, "a connection on port {}", self.port),
        }
    }
}

/// How a smoke run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The container exited with this status.
    Exited(i64),
    /// The service answered the probe (and was then stopped): how.
    Answered(String),
    /// The time ran out (the container was then stopped); the probe's last failure, if any.
    TimedOut(Option<String>),
}

/// A smoke run: how it ended, and what the container printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// How it ended.
    pub ending: Ending,
    /// What it printed, stdout and stderr interleaved.
    pub logs: String,
}

/// When an engine call failed: while making the image, or while running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Building, inspecting or tagging.
    Build,
    /// The smoke run.
    Run,
}

/// Why the engine could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Where the engine is could not be told (a bad context, an unsupported host).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// Nothing answers where the engine should be.
    #[error("no Docker engine answers at {} ({})", discovery::shown(&.endpoint.host), .endpoint.found)]
    Unreachable {
        /// Where we looked, and why there.
        endpoint: Box<Endpoint>,
        /// What the connection said.
        #[source]
        source: BollardError,
    },
    /// Something answers where the engine should be, but not as an engine does (an error
    /// status, or not the API's JSON): that is reported, not passed over for another engine.
    #[error("something answers at {} ({}), but not as a Docker engine", discovery::shown(&.endpoint.host), .endpoint.found)]
    NotAnEngine {
        /// Where, and why there.
        endpoint: Box<Endpoint>,
        /// What it answered.
        #[source]
        source: BollardError,
    },
    /// A `unix://` host whose path is something other than a socket.
    #[error("the engine's socket {} ({}) {problem}", discovery::shown(&.endpoint.host), .endpoint.found)]
    NotASocket {
        /// Where, and why there.
        endpoint: Box<Endpoint>,
        /// What is there instead.
        problem: String,
    },
    /// The socket is there but not ours to use.
    #[error("permission denied on the socket at {} ({}){}", discovery::shown(&.endpoint.host), .endpoint.found, .group.as_ref().map(|g| format!(", of group `{}`", discovery::shown(g))).unwrap_or_default())]
    PermissionDenied {
        /// Where we looked, and why there.
        endpoint: Box<Endpoint>,
        /// The socket's group, where it could be told.
        group: Option<String>,
        /// The endpoints tried after it, each with why it failed (Podman's sockets).
        also_tried: Vec<String>,
    },
    /// A TLS connection failed over certificates: ours missing or refused, or the engine's
    /// not signed by the authority we trust.
    #[error("the TLS connection to {} ({}) failed: {problem}", discovery::shown(&.endpoint.host), .endpoint.found)]
    Certificate {
        /// Where, and why there.
        endpoint: Box<Endpoint>,
        /// What was wrong.
        problem: String,
    },
    /// `--buildkit always`, but the engine has no BuildKit.
    #[error("{engine}, does not offer BuildKit{}", if .engine.name == "Podman" { ": Podman never does" } else { "" })]
    NoBuildKit {
        /// The engine, where it was found and how.
        engine: Box<EngineInfo>,
    },
    /// The image is for a platform whose containers the engine does not run.
    #[error("the engine runs {os} containers, so it can't build the {platform} image of `{binary}`")]
    Platform {
        /// The binary.
        binary: String,
        /// The image's platform.
        platform: String,
        /// The engine's operating system.
        os: String,
    },
    /// The engine is too old.
    #[error("the Docker engine {version} (API {api}) is too old: multi-stage builds need API {}.{} (Docker 17.06) or newer", MINIMUM_API.0, MINIMUM_API.1)]
    TooOld {
        /// Its version.
        version: String,
        /// Its API version.
        api: String,
    },
    /// A base image (or an image `include` copies from) is neither on the engine nor pullable.
    #[error("{} `{image}` is not on the engine and could not be pulled: {message}", if *.included { "the image `include` copies from," } else { "base image" })]
    BaseImageMissing {
        /// The image.
        image: String,
        /// What the engine said.
        message: String,
        /// Whether an `include` entry names it (`from`), rather than `builder` or `base`.
        included: bool,
    },
    /// A step of the build failed.
    #[error("the image build failed at `{step}`: {message}")]
    StepFailed {
        /// The step's instruction.
        step: String,
        /// What the engine said.
        message: String,
        /// What the step printed.
        output: String,
    },
    /// The build stream reported an error (before it is tied to a step).
    #[error("{0}")]
    BuildFailed(String),
    /// The build ended without an image.
    #[error("the engine finished the build without reporting an image")]
    NoImage,
    /// Sending the context failed.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// A smoke run exited non-zero.
    #[error("`{image}` exited with status {status}")]
    RunFailed {
        /// The image.
        image: String,
        /// Its exit status.
        status: i64,
    },
    /// A service never answered from outside its container.
    #[error("`{image}` did not answer {probe} from outside the container within {}s{}", .waited.as_secs(), .last.as_ref().map_or(String::new(), |l| format!(" ({l})")))]
    NotAnswered {
        /// The image.
        image: String,
        /// What was asked of it.
        probe: Probe,
        /// How long we waited.
        waited: Duration,
        /// The last failed attempt, where there was one.
        last: Option<String>,
    },
    /// The build finished without a file it should have made.
    #[error("the build did not produce `{0}`")]
    NotExported(String),
    /// A run (with no port to probe) was still going when the time ran out.
    #[error("`{image}` was still running after {}s, so it was stopped", .waited.as_secs())]
    RunTimedOut {
        /// The image.
        image: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The registry refused the credentials, or wanted some and had none.
    #[error("the registry {registry} refused {}: {message}", if *.anonymous { "a push without credentials" } else { "the credentials" })]
    RegistryAuth {
        /// The registry.
        registry: String,
        /// Whether no credentials were sent.
        anonymous: bool,
        /// What the registry said.
        message: String,
    },
    /// The credentials could not be read (a broken config file or credential helper).
    #[error("could not read the credentials for {registry}: {message}")]
    CredentialsUnreadable {
        /// The registry.
        registry: String,
        /// What went wrong.
        message: String,
    },
    /// The engine could not reach the registry.
    #[error("the registry {registry} is unreachable: {message}")]
    RegistryUnreachable {
        /// The registry.
        registry: String,
        /// What the engine said.
        message: String,
    },
    /// The registry (or the engine) refused the repository's name.
    #[error("`{reference}` can't be pushed: {message}")]
    RepositoryInvalid {
        /// The reference.
        reference: String,
        /// Why.
        message: String,
    },
    /// The registry speaks plain http, and the engine takes that only from registries it is
    /// told are insecure (loopback ones by default).
    #[error(
        "the registry {registry} answers in plain http, which the engine refuses for a registry that is not on this machine"
    )]
    InsecureRegistry {
        /// The registry.
        registry: String,
    },
    /// A push failed for another reason.
    #[error("pushing `{reference}` failed: {message}")]
    PushFailed {
        /// The reference.
        reference: String,
        /// What the engine said.
        message: String,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// Another engine call failed.
    #[error("failed to {action}")]
    Api {
        /// What we were doing.
        action: &'static str,
        /// Building or running.
        phase: Phase,
        /// Why it failed.
        #[source]
        source: BollardError,
    },
}

/// A container engine.
pub trait Engine {
    /// Builds `request` from a tar `context`, reporting what happens.
    fn build(
        &self,
        request: &BuildRequest,
        context: BoxStream<'static, Result<Bytes, std::io::Error>>,
    ) -> BoxStream<'_, Result<BuildEvent, EngineError>>;
    /// Tags image `id` as `reference`.
    fn tag(&self, id: &str, reference: &str) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Removes a tag (or an image).
    fn untag(&self, reference: &str) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Removes an untagged image, and the untagged parents only it used (the legacy builder's
    /// images of each step of a stage).
    fn remove(&self, id: &str) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// The ids of the images labelled `label=value`.
    fn labelled(&self, label: &str, value: &str) -> impl Future<Output = Result<Vec<String>, EngineError>> + Send;
    /// The file or directory `path` of `image`, as a tar: read from a container created from
    /// the image and never started, which is removed whatever happens. Ctrl-C stops the read.
    fn copy_out(
        &self,
        image: &str,
        path: &str,
        interruption: &Interruption,
    ) -> impl Future<Output = Result<Vec<u8>, EngineError>> + Send;
    /// Whether base images are best pulled before a build rather than by it: Podman's build
    /// would speak https to a loopback registry, which its pull is told not to (as Docker
    /// does unasked), and its failure to pull would not say why.
    fn pulls_bases_first(&self) -> bool {
        false
    }
    /// Pulls an image the engine lacks (`docker pull`), with the credentials for its registry.
    fn pull(
        &self,
        image: &str,
        credential: Option<&Credential>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// An image as `docker save` writes it: a docker-archive tar (`manifest.json`, the config,
    /// a tar per layer).
    fn save(&self, image: &str) -> impl Future<Output = Result<Vec<u8>, EngineError>> + Send;
    /// Loads a docker-archive tar (`docker load`).
    fn load(&self, archive: Vec<u8>) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Describes an image.
    fn inspect(&self, reference: &str) -> impl Future<Output = Result<ImageInfo, EngineError>> + Send;
    /// Asks the registry of `reference` about it, with `credential`, changing nothing: fails as
    /// a push would if the registry is unreachable, refuses the credentials or the name.
    fn check_registry(
        &self,
        reference: &str,
        credential: Option<&Credential>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Pushes the tag `reference` to its registry, reporting what happens.
    fn push(&self, reference: &str, credential: Option<&Credential>) -> BoxStream<'_, Result<PushEvent, EngineError>>;
    /// Runs `image` once with `args` until it exits, answers `probe`, or `timeout` passes,
    /// whichever comes first; Ctrl-C stops it too. The container is removed whatever happens.
    fn run_once(
        &self,
        image: &str,
        args: &[String],
        probe: Option<&Probe>,
        timeout: Duration,
        interruption: &Interruption,
    ) -> impl Future<Output = Result<RunOutcome, EngineError>> + Send;
}
