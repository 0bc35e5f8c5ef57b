//! The bollard adapter: connects as the docker CLI does, builds, tags, inspects, copies files
//! out of an image, pulls, saves and loads images, and runs and probes a smoke-run container.

use super::*;
use crate::interrupt::Interruption;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    DownloadFromContainerOptionsBuilder, ImageBuildOutput, ImportImageOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder, WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use std::time::Duration;

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
            .forcerm(true)
            .nocache(request.no_cache);
        if !request.labels.is_empty() {
            options = options.labels(&request.labels.clone().into_iter().collect());
        }
        if request.buildkit {
            // BuildKit serves the build through a session of its own, named uniquely, in one word:
            // the engine finds the session an exporter sends to by this name.
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            let session = format!("containerize-{}-{nanos}", std::process::id());
            options = options.version(BuilderVersion::BuilderBuildKit).session(&session);
            if let Some(file) = &request.export_to {
                // `tar` rather than `local`: bollard's `local` receiver drops file modes.
                options = options.outputs(ImageBuildOutput::Tar(file.to_string_lossy().into_owned()));
            }
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

    async fn pull(&self, image: &str) -> Result<(), EngineError> {
        // A digest goes with the name; a tag apart (the engine pulls every tag without one).
        let (repo, tag, digest) = containerize_build::validate::image::split(image);
        let options = match digest {
            Some(digest) => CreateImageOptionsBuilder::default().from_image(&format!("{repo}@{digest}")).build(),
            None => CreateImageOptionsBuilder::default().from_image(repo).tag(tag.unwrap_or("latest")).build(),
        };
        let mut stream = self.client.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            if let Err(error) = item {
                return Err(EngineError::BaseImageMissing { image: image.to_owned(), message: error.to_string() });
            }
        }
        Ok(())
    }

    async fn save(&self, image: &str) -> Result<Vec<u8>, EngineError> {
        let mut stream = self.client.export_image(image);
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            archive.extend_from_slice(&chunk.map_err(api_error("read the base image's layers"))?);
        }
        Ok(archive)
    }

    async fn load(&self, archive: Vec<u8>) -> Result<(), EngineError> {
        let options = ImportImageOptionsBuilder::default().quiet(true).build();
        let mut stream = self.client.import_image(options, bollard::body_full(archive.into()), None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(_) => {}
                Err(BollardError::DockerStreamError { error }) => return Err(EngineError::BuildFailed(error)),
                Err(source) => return Err(api_error("load the assembled image")(source)),
            }
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), EngineError> {
        let options = RemoveImageOptionsBuilder::default().build();
        self.client.remove_image(id, Some(options), None).await.map(drop).map_err(api_error("remove the export image"))
    }

    async fn copy_out(&self, image: &str, path: &str, interruption: &Interruption) -> Result<Vec<u8>, EngineError> {
        let name = format!("containerize-export-{}", std::process::id());
        // Never started: the command only has to be there (an image `FROM scratch` has none).
        let body = bollard::models::ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: Some(vec![path.to_owned()]),
            ..Default::default()
        };
        if interruption.happened() {
            return Err(EngineError::Interrupted);
        }
        // Not abandoned midway, or the container could be made unseen: Ctrl-C is heeded after.
        let create = CreateContainerOptionsBuilder::default().name(&name).build();
        self.client.create_container(Some(create), body).await.map_err(api_error("create the export container"))?;
        let read = async {
            let options = DownloadFromContainerOptionsBuilder::default().path(path).build();
            let mut stream = self.client.download_from_container(&name, Some(options));
            let mut tar = Vec::new();
            while let Some(chunk) = stream.next().await {
                tar.extend_from_slice(&chunk.map_err(api_error("copy the artifacts out of the export container"))?);
            }
            Ok(tar)
        };
        let tar = tokio::select! {
            biased;
            () = interruption.wait() => Err(EngineError::Interrupted),
            tar = read => tar,
        };
        let remove = RemoveContainerOptionsBuilder::default().force(true).build();
        let removed =
            self.client.remove_container(&name, Some(remove)).await.map_err(api_error("remove the export container"));
        let tar = tar?;
        removed?;
        Ok(tar)
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
}
