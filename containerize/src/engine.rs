//! The container engine: the only async module, and the only one that talks to Docker.
//!
//! [`Engine`] is small on purpose: what a build, a tag, an inspection and a smoke run need.
//! [`Docker`] implements it with bollard; tests use a recording fake.

use crate::context::ContextError;
use crate::interrupt::Interruption;
use bollard::errors::Error as BollardError;
use bollard::models::BuildInfoAux;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CreateContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder, WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::BTreeMap;
use std::time::Duration;

/// The oldest engine API that builds multi-stage Dockerfiles with `COPY --from` (Docker 17.06).
pub const MINIMUM_API: (u32, u32) = (1, 30);
/// The oldest engine API with BuildKit (Docker 18.09).
pub const BUILDKIT_API: (u32, u32) = (1, 39);

/// What the engine says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    /// Where it was reached.
    pub host: String,
    /// Its version, e.g. `20.10.24`.
    pub version: String,
    /// Its API version, e.g. `1.41`.
    pub api_version: String,
    /// Whether it builds with BuildKit through the API (Docker 18.09 and later; not Podman).
    pub buildkit: bool,
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
    /// Nothing answers where the engine should be.
    #[error("no Docker engine answers at {host}")]
    Unreachable {
        /// Where we looked.
        host: String,
        /// What the connection said.
        #[source]
        source: BollardError,
    },
    /// The socket is there but not ours to use.
    #[error("permission denied on the Docker socket at {host}")]
    PermissionDenied {
        /// Where we looked.
        host: String,
    },
    /// `--buildkit always`, but the engine has no BuildKit.
    #[error("the engine {version} (API {api}) does not offer BuildKit")]
    NoBuildKit {
        /// Its version.
        version: String,
        /// Its API version.
        api: String,
    },
    /// The engine is too old.
    #[error("the Docker engine {version} (API {api}) is too old: multi-stage builds need API {}.{} (Docker 17.06) or newer", MINIMUM_API.0, MINIMUM_API.1)]
    TooOld {
        /// Its version.
        version: String,
        /// Its API version.
        api: String,
    },
    /// A base image is neither on the engine nor pullable.
    #[error("base image `{image}` is not on the engine and could not be pulled")]
    BaseImageMissing {
        /// The image.
        image: String,
        /// What the engine said.
        message: String,
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
    /// A run (with no port to probe) was still going when the time ran out.
    #[error("`{image}` was still running after {}s, so it was stopped", .waited.as_secs())]
    RunTimedOut {
        /// The image.
        image: String,
        /// How long we waited.
        waited: Duration,
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

impl EngineError {
    /// How to fix it.
    pub fn help(&self) -> Option<String> {
        Some(match self {
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
    /// Describes an image.
    fn inspect(&self, reference: &str) -> impl Future<Output = Result<ImageInfo, EngineError>> + Send;
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

/// The Docker engine, through bollard.
pub struct Docker {
    client: bollard::Docker,
    /// What the engine said about itself.
    pub info: EngineInfo,
}

fn api_error(action: &'static str) -> impl FnOnce(BollardError) -> EngineError {
    move |source| EngineError::Api { action, phase: Phase::Build, source }
}

fn run_error(action: &'static str) -> impl FnOnce(BollardError) -> EngineError {
    move |source| EngineError::Api { action, phase: Phase::Run, source }
}

impl Docker {
    /// Connects as the docker CLI would (`DOCKER_HOST`, else the local socket), negotiates the
    /// API version and checks the engine is new enough.
    pub async fn connect() -> Result<Docker, EngineError> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned());
        let unreachable = |source: BollardError| classify(source, &host);
        // Builds stream for a long time; the timeout covers sending the context, too.
        let client =
            bollard::Docker::connect_with_defaults().map_err(unreachable)?.with_timeout(Duration::from_secs(3600));
        let client = client.negotiate_version().await.map_err(unreachable)?;
        let version = client.version().await.map_err(unreachable)?;
        let podman = version.components.iter().flatten().any(|c| c.name.contains("Podman"));
        let api_version = version.api_version.unwrap_or_default();
        let info = EngineInfo {
            host: host.clone(),
            version: version.version.unwrap_or_default(),
            // Podman serves the API but not BuildKit's session endpoints.
            buildkit: !podman && api(&api_version).is_some_and(|api| api >= BUILDKIT_API),
            api_version,
        };
        check_api(&info)?;
        Ok(Docker { client, info })
    }
}

/// Refuses an engine whose API predates multi-stage builds (or says no version at all).
/// `1.41` as `(1, 41)`.
fn api(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn check_api(info: &EngineInfo) -> Result<(), EngineError> {
    if api(&info.api_version).is_none_or(|api| api < MINIMUM_API) {
        return Err(EngineError::TooOld { version: info.version.clone(), api: info.api_version.clone() });
    }
    Ok(())
}

/// A failed connection, told apart by its cause: no socket, a refused connection, or no right
/// to use the socket.
fn classify(error: BollardError, host: &str) -> EngineError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied) {
            return EngineError::PermissionDenied { host: host.to_owned() };
        }
        source = e.source();
    }
    EngineError::Unreachable { host: host.to_owned(), source: error }
}

/// The events in one item of the build stream: the legacy builder's text, BuildKit's status.
pub fn stream_events(info: bollard::models::BuildInfo, buildkit: &mut BuildKitProgress) -> Vec<BuildEvent> {
    let mut events = Vec::new();
    if let Some(text) = info.stream {
        // The daemon colours a step's stderr for terminals; the step's text is what matters.
        let text = text.replace("\u{1b}[91m", "").replace("\u{1b}[0m", "");
        for line in text.split_inclusive('\n') {
            let step = line.strip_prefix("Step ").and_then(|rest| {
                let (numbers, instruction) = rest.split_once(" : ")?;
                let (number, total) = numbers.split_once('/')?;
                Some(BuildEvent::Step {
                    stage: None,
                    number: number.parse().ok()?,
                    total: total.parse().ok()?,
                    instruction: instruction.trim_end().to_owned(),
                })
            });
            events.push(step.unwrap_or_else(|| BuildEvent::Output(line.to_owned())));
        }
    }
    if let Some(status) = info.status {
        events.push(BuildEvent::Status(status));
    }
    match info.aux {
        Some(BuildInfoAux::Default(image)) => events.extend(image.id.map(BuildEvent::ImageId)),
        Some(BuildInfoAux::BuildKit(status)) => events.extend(buildkit.events(status)),
        None => {}
    }
    events
}

/// What BuildKit has reported so far: its status messages repeat each vertex as it goes.
#[derive(Default)]
pub struct BuildKitProgress {
    started: std::collections::HashSet<String>,
    cached: std::collections::HashSet<String>,
}

impl BuildKitProgress {
    /// The new events in one status message.
    pub fn events(&mut self, status: bollard::moby::buildkit::v1::StatusResponse) -> Vec<BuildEvent> {
        let mut events = Vec::new();
        for vertex in status.vertexes {
            if vertex.started.is_some() && self.started.insert(vertex.digest.clone()) {
                events.push(buildkit_step(&vertex.name));
            }
            if vertex.completed.is_some() && vertex.cached && self.cached.insert(vertex.digest.clone()) {
                events.push(BuildEvent::Output("CACHED\n".to_owned()));
            }
        }
        for log in status.logs {
            events.push(BuildEvent::Output(String::from_utf8_lossy(&log.msg).into_owned()));
        }
        events
    }
}

/// A BuildKit vertex name, `[builder 3/12] RUN ...`, as a step; other vertices
/// (`[internal] load build context`) as status.
fn buildkit_step(name: &str) -> BuildEvent {
    let parsed = name.strip_prefix('[').and_then(|rest| {
        let (bracket, instruction) = rest.split_once("] ")?;
        let mut words = bracket.split_whitespace().rev();
        let (number, total) = words.next()?.split_once('/')?;
        Some(BuildEvent::Step {
            stage: words.next().map(str::to_owned),
            number: number.parse().ok()?,
            total: total.parse().ok()?,
            // The cache mounts say nothing about the step; its command does.
            instruction: instruction
                .split_whitespace()
                .filter(|w| !w.starts_with("--mount="))
                .collect::<Vec<_>>()
                .join(" "),
        })
    });
    parsed.unwrap_or_else(|| BuildEvent::Status(format!("{name}\n")))
}

impl Engine for Docker {
    fn build(
        &self,
        request: &BuildRequest,
        context: BoxStream<'static, Result<Bytes, std::io::Error>>,
    ) -> BoxStream<'_, Result<BuildEvent, EngineError>> {
        // No `t`: tags are applied once the build has succeeded, so a failed or interrupted
        // build leaves none behind. `forcerm` removes intermediate containers even then.
        let mut options = BuildImageOptionsBuilder::default()
            .dockerfile(&request.dockerfile)
            .target(&request.target)
            .rm(true)
            .forcerm(true);
        if request.buildkit {
            // BuildKit serves the build through a session of its own, named uniquely.
            let session = format!("containerize-{}-{:?}", std::process::id(), std::time::SystemTime::now());
            options = options.version(BuilderVersion::BuilderBuildKit).session(&session);
        }
        let mut buildkit = BuildKitProgress::default();
        self.client
            .build_image(options.build(), None, Some(bollard::body_try_stream(context)))
            .flat_map(move |item| {
                let events: Vec<Result<BuildEvent, EngineError>> = match item {
                    Ok(info) => stream_events(info, &mut buildkit).into_iter().map(Ok).collect(),
                    Err(BollardError::DockerStreamError { error }) => {
                        vec![Err(EngineError::BuildFailed(error))]
                    }
                    Err(source) => vec![Err(api_error("build the image")(source))],
                };
                futures_util::stream::iter(events)
            })
            .boxed()
    }

    async fn tag(&self, id: &str, reference: &str) -> Result<(), EngineError> {
        let (repo, tag, _) = containerize_build::validate::image::split(reference);
        let options = TagImageOptionsBuilder::default().repo(repo).tag(tag.unwrap_or("latest")).build();
        self.client.tag_image(id, Some(options)).await.map_err(api_error("tag the image"))
    }

    async fn untag(&self, reference: &str) -> Result<(), EngineError> {
        let options = RemoveImageOptionsBuilder::default().noprune(true).build();
        self.client.remove_image(reference, Some(options), None).await.map(drop).map_err(api_error("remove a tag"))
    }

    async fn inspect(&self, reference: &str) -> Result<ImageInfo, EngineError> {
        let image = self.client.inspect_image(reference).await.map_err(api_error("inspect the image"))?;
        let config = image.config.unwrap_or_default();
        Ok(ImageInfo {
            id: image.id.unwrap_or_default(),
            size: image.size.unwrap_or_default().max(0).unsigned_abs(),
            tags: image.repo_tags.unwrap_or_default(),
            user: config.user.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            exposed: config.exposed_ports.unwrap_or_default().into_iter().collect(),
        })
    }

    async fn run_once(
        &self,
        image: &str,
        args: &[String],
        probe: Option<&Probe>,
        timeout: Duration,
        interruption: &Interruption,
    ) -> Result<RunOutcome, EngineError> {
        let name = format!("containerize-run-{}", std::process::id());
        let mut host_config = bollard::models::HostConfig::default();
        if let Some(probe) = probe {
            // Published on loopback only, on a port the engine picks.
            let binding =
                bollard::models::PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(String::new()) };
            host_config.port_bindings =
                Some([(format!("{}/tcp", probe.port), Some(vec![binding]))].into_iter().collect());
        }
        let body = bollard::models::ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: (!args.is_empty()).then(|| args.to_vec()),
            host_config: Some(host_config),
            ..Default::default()
        };
        if interruption.happened() {
            return Err(EngineError::Interrupted);
        }
        // Not abandoned midway, or the container could be made unseen: Ctrl-C is heeded after.
        let create = CreateContainerOptionsBuilder::default().name(&name).build();
        self.client.create_container(Some(create), body).await.map_err(run_error("create the smoke-run container"))?;
        // Whatever happens next, the container goes.
        let outcome = tokio::select! {
            biased;
            () = interruption.wait() => Err(EngineError::Interrupted),
            outcome = self.run_created(&name, probe, timeout) => outcome,
        };
        let remove = RemoveContainerOptionsBuilder::default().force(true).build();
        let removed = self
            .client
            .remove_container(&name, Some(remove))
            .await
            .map_err(run_error("remove the smoke-run container"));
        let outcome = outcome?;
        removed?;
        Ok(outcome)
    }
}

/// How long a probe waits for the app to answer or close a connection it accepted: the
/// engine's port proxy closes at once when nothing in the container takes it.
const PROBE_HOLD: Duration = Duration::from_millis(500);
/// How long between two probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);

impl Docker {
    async fn run_created(
        &self,
        name: &str,
        probe: Option<&Probe>,
        timeout: Duration,
    ) -> Result<RunOutcome, EngineError> {
        self.client.start_container(name, None).await.map_err(run_error("start the smoke-run container"))?;
        let ending = tokio::select! {
            status = self.wait(name) => Ending::Exited(status?),
            answered = self.probe_until_answered(name, probe, timeout) => answered?,
        };
        let mut logs = String::new();
        let options = LogsOptionsBuilder::default().stdout(true).stderr(true).build();
        let mut stream = self.client.logs(name, Some(options));
        while let Some(chunk) = stream.next().await {
            logs.push_str(&chunk.map_err(run_error("read the container's output"))?.to_string());
        }
        Ok(RunOutcome { ending, logs })
    }

    async fn wait(&self, name: &str) -> Result<i64, EngineError> {
        let options = WaitContainerOptionsBuilder::default().condition("not-running").build();
        let mut waits = self.client.wait_container(name, Some(options));
        let mut status = 0;
        while let Some(result) = waits.next().await {
            status = match result {
                Ok(response) => response.status_code,
                // bollard reports a non-zero exit as this error.
                Err(BollardError::DockerContainerWaitError { code, .. }) => code,
                Err(source) => return Err(run_error("wait for the container")(source)),
            };
        }
        Ok(status)
    }

    /// Probes until the service answers, or `timeout` passes (forever, without a probe).
    async fn probe_until_answered(
        &self,
        name: &str,
        probe: Option<&Probe>,
        timeout: Duration,
    ) -> Result<Ending, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let Some(probe) = probe else {
            tokio::time::sleep_until(deadline).await;
            return Ok(Ending::TimedOut(None));
        };
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            let container =
                self.client.inspect_container(name, None).await.map_err(run_error("inspect the container"))?;
            let published = container
                .network_settings
                .and_then(|n| n.ports)
                .and_then(|ports| ports.get(&format!("{}/tcp", probe.port)).cloned().flatten())
                .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port?.parse::<u16>().ok()));
            if let Some(host_port) = published {
                match tokio::time::timeout_at(deadline, ask(host_port, probe)).await {
                    Ok(Ok(answer)) => return Ok(Ending::Answered(answer)),
                    Ok(Err(failure)) => last = Some(failure),
                    Err(_) => break,
                }
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
        Ok(Ending::TimedOut(last))
    }
}

/// Asks the service once, through the published `host_port`: how it answered, or why that
/// was no answer. The engine's port proxy accepts every connection, then closes it when
/// nothing in the container takes it on: only what comes back (or a connection kept open)
/// shows that the app itself is listening where the outside reaches it.
async fn ask(host_port: u16, probe: &Probe) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream =
        tokio::net::TcpStream::connect(("127.0.0.1", host_port)).await.map_err(|e| format!("connecting: {e}"))?;
    let closed = "the connection was closed without an answer".to_owned();
    match &probe.http_path {
        Some(path) => {
            let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nconnection: close\r\n\r\n", probe.port);
            stream.write_all(request.as_bytes()).await.map_err(|_| closed.clone())?;
            // The status line is the answer: a server that keeps the connection open after it
            // (ignoring `connection: close`) has answered all the same.
            let mut status_line = Vec::new();
            let mut reader = tokio::io::BufReader::new(stream);
            let _ = tokio::io::AsyncBufReadExt::read_until(&mut reader, b'\n', &mut status_line).await;
            let response = String::from_utf8_lossy(&status_line);
            let status = response.trim_end();
            let code = status.strip_prefix("HTTP/").and_then(|s| s.split_whitespace().nth(1));
            match code {
                Some(code) if code.starts_with('2') || code.starts_with('3') => Ok(format!("{status} to GET {path}")),
                Some(_) => Err(format!("the last answer was {status}")),
                None => Err(closed),
            }
        }
        None => {
            let mut byte = [0u8; 1];
            match tokio::time::timeout(PROBE_HOLD, stream.read(&mut byte)).await {
                Err(_) => Ok("accepted a connection and kept it open".to_owned()),
                Ok(Ok(read)) if read > 0 => Ok("accepted a connection and sent data".to_owned()),
                Ok(_) => Err(closed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_engines_are_refused() {
        let engine =
            |api: &str| EngineInfo { host: "h".into(), version: "v".into(), api_version: api.into(), buildkit: false };
        assert!(check_api(&engine("1.41")).is_ok());
        assert!(check_api(&engine("1.30")).is_ok());
        assert!(matches!(check_api(&engine("1.29")), Err(EngineError::TooOld { .. })));
        assert!(matches!(check_api(&engine("")), Err(EngineError::TooOld { .. })));
    }

    #[test]
    fn buildkit_vertices_become_steps() {
        assert_eq!(
            buildkit_step("[builder  5/14] RUN [\"cargo\", \"build\"]"),
            BuildEvent::Step {
                stage: Some("builder".into()),
                number: 5,
                total: 14,
                instruction: "RUN [\"cargo\", \"build\"]".into()
            }
        );
        assert_eq!(
            buildkit_step(
                "[builder 7/7] RUN --mount=type=cache,id=x,target=/t --mount=type=cache,id=y,target=/u [cargo build]"
            ),
            BuildEvent::Step {
                stage: Some("builder".into()),
                number: 7,
                total: 7,
                instruction: "RUN [cargo build]".into()
            }
        );
        assert_eq!(
            buildkit_step("[ 2/3] COPY a b"),
            BuildEvent::Step { stage: None, number: 2, total: 3, instruction: "COPY a b".into() }
        );
        assert_eq!(
            buildkit_step("[internal] load build context"),
            BuildEvent::Status("[internal] load build context\n".into())
        );
    }

    #[test]
    fn legacy_stream_lines_become_events() {
        let info = bollard::models::BuildInfo {
            stream: Some("Step 3/12 : RUN [\"cargo\", \"build\"]\n ---> Running in 1a2b\n".into()),
            ..Default::default()
        };
        assert_eq!(
            stream_events(info, &mut BuildKitProgress::default()),
            [
                BuildEvent::Step {
                    stage: None,
                    number: 3,
                    total: 12,
                    instruction: "RUN [\"cargo\", \"build\"]".into()
                },
                BuildEvent::Output(" ---> Running in 1a2b\n".into()),
            ]
        );
        let aux = bollard::models::BuildInfo {
            aux: Some(BuildInfoAux::Default(bollard::models::ImageId { id: Some("sha256:ab".into()) })),
            ..Default::default()
        };
        assert_eq!(stream_events(aux, &mut BuildKitProgress::default()), [BuildEvent::ImageId("sha256:ab".into())]);
    }
}
