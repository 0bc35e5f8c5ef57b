//! The bollard adapter: connects as the docker CLI does, builds, tags, inspects, copies files
//! out of an image, pulls, saves and loads images, and runs and probes a smoke-run container.

use super::*;
use crate::interrupt::Interruption;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    DownloadFromContainerOptionsBuilder, ImageBuildOutput, ImportImageOptionsBuilder, ListImagesOptionsBuilder,
    LogsOptionsBuilder, PushImageOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder, WaitContainerOptionsBuilder,
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

/// How long a request may take to be answered: builds stream for a long time, and the
/// timeout covers sending the context, too.
const TIMEOUT_SECS: u64 = 3600;
/// How long an engine may take to tell its version: one that accepts the connection and says
/// nothing (a hung engine, another service) would otherwise be waited for silently, for an hour.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

impl Docker {
    /// Connects as the docker CLI would (see [`discovery`]): to the first endpoint found that
    /// answers, negotiating the API version and checking that the engine is new enough.
    /// `warn` is given what discovery ignored, before connecting.
    pub async fn connect(warn: impl Fn(&DiscoveryError)) -> Result<Docker, EngineError> {
        let discovery = discovery::discover(&discovery::Environment::current(), &discovery::HostFiles)?;
        discovery.warnings.iter().for_each(warn);
        let mut first_failure = None;
        for mut endpoint in discovery.endpoints {
            if let Found::Podman { default_denied } = &mut endpoint.found {
                *default_denied = matches!(first_failure, Some(EngineError::PermissionDenied { .. }));
            }
            match Docker::connect_to(endpoint).await {
                Ok(docker) => return Ok(docker),
                // Only a silent, forbidden or misplaced socket gives way to the next; the first failure
                // is the one to report, as the one the user most likely meant.
                Err(
                    error @ (EngineError::Unreachable { .. }
                    | EngineError::PermissionDenied { .. }
                    | EngineError::NotASocket { .. }),
                ) => match &mut first_failure {
                    Some(EngineError::PermissionDenied { also_tried, .. }) => also_tried.push(error.to_string()),
                    Some(_) => {}
                    None => first_failure = Some(error),
                },
                Err(error) => return Err(error),
            }
        }
        Err(first_failure.expect("discovery names at least one endpoint"))
    }

    async fn connect_to(endpoint: Endpoint) -> Result<Docker, EngineError> {
        match Docker::connect_within(endpoint.clone(), HANDSHAKE_TIMEOUT).await {
            // Under TLS 1.3 the engine refuses a client certificate after the handshake, with an
            // alert; when the connection closes before hyper reads it, the request only sees
            // itself canceled (hyper drops the connection's own error). A connection of our own
            // reads on to the alert, which names the true cause. An engine that never answered
            // is not asked again: that would double the wait.
            Err(error) => match (&error, endpoint.tls.clone()) {
                (EngineError::Unreachable { source, .. }, Some(tls))
                    if !matches!(source, BollardError::RequestTimeoutError) =>
                {
                    let host = endpoint.host.clone();
                    let asked = tokio::task::spawn_blocking(move || tls_refusal(&host, &tls));
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, asked).await {
                        Ok(Ok(Some(refusal))) => Err(certificate_error(&endpoint, tls_problem(&refusal, &endpoint))),
                        _ => Err(error),
                    }
                }
                _ => Err(error),
            },
            ok => ok,
        }
    }

    /// Connects to `endpoint`, which must answer within `timeout`.
    async fn connect_within(endpoint: Endpoint, timeout: Duration) -> Result<Docker, EngineError> {
        let failed = |source: BollardError| classify(source, &endpoint);
        let version = bollard::API_DEFAULT_VERSION;
        let client = match &endpoint.tls {
            None if endpoint.host.starts_with("unix://") => {
                if let Some(problem) = socket_problem(std::path::Path::new(&endpoint.host["unix://".len()..])) {
                    return Err(EngineError::NotASocket { endpoint: Box::new(endpoint), problem });
                }
                bollard::Docker::connect_with_unix(&endpoint.host, TIMEOUT_SECS, version)
            }
            None => bollard::Docker::connect_with_http(&endpoint.host, TIMEOUT_SECS, version),
            Some(tls) => {
                if let Some(problem) = tls_files_problem(tls, discovery::read_capped) {
                    return Err(certificate_error(&endpoint, problem));
                }
                // bollard trusts the system's authorities and those of a CA file it must be
                // given: an empty one when the context has none.
                let ca = tls.ca.as_deref().unwrap_or(std::path::Path::new("/dev/null"));
                bollard::Docker::connect_with_ssl(&endpoint.host, &tls.key, &tls.cert, ca, TIMEOUT_SECS, version)
            }
        }
        .map_err(failed)?;
        let handshake = async {
            let client = client.negotiate_version().await?;
            let answer = client.version().await?;
            Ok::<_, BollardError>((client, answer))
        };
        let (client, answer) = match tokio::time::timeout(timeout, handshake).await {
            Ok(answered) => answered.map_err(failed)?,
            Err(_) => return Err(failed(BollardError::RequestTimeoutError)),
        };
        let podman = answer.components.iter().flatten().any(|c| c.name.contains("Podman"));
        let api_version = answer.api_version.unwrap_or_default();
        let info = EngineInfo {
            name: if podman { "Podman" } else { "Docker" },
            host: endpoint.host,
            found: endpoint.found,
            version: answer.version.unwrap_or_default(),
            // Podman serves the API but not BuildKit's session endpoints.
            buildkit: !podman && api(&api_version).is_some_and(|api| api >= BUILDKIT_API),
            api_version,
            os: answer.os.unwrap_or_default(),
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

/// What is wrong with a socket's path, if anything but its absence (which is a silent engine,
/// as the fallback to Podman's socket needs): connecting would only say "Connection refused"
/// for a file or a directory, and "not found" for a loop of links.
fn socket_problem(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => None,
        Ok(meta) if meta.is_dir() => Some("is a directory, not a socket".into()),
        Ok(meta) if meta.is_file() => Some("is a regular file, not a socket".into()),
        Ok(_) => Some("is not a socket".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(format!("can't be reached: {e}")),
    }
}

/// What is wrong with a TLS connection's files, if anything. Each is read and parsed before
/// connecting: bollard quietly sends no client certificate when it can't read or parse one,
/// and the engine's refusal (or its certificate found untrusted) would not say why. As the
/// docker CLI, a client without a certificate of its own is let try (the engine may not ask
/// for one), but half a pair is a mistake, and so is a key that is not the certificate's
/// (which the engine would only answer with an alert that seems to blame it).
fn tls_files_problem(
    tls: &discovery::Tls,
    read: impl Fn(&std::path::Path) -> std::io::Result<Vec<u8>>,
) -> Option<String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let load = |path: &std::path::Path| match read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    };
    let missing = |path: &std::path::Path| format!("{} is missing", path.display());
    let holds_certificate = |pem: &[u8]| CertificateDer::pem_slice_iter(pem).next().is_some_and(|c| c.is_ok());
    let check = || -> Result<(), String> {
        let ca = tls.ca.as_deref().map(|path| load(path).map(|ca| (path, ca))).transpose()?;
        let (cert, key) = (load(&tls.cert)?, load(&tls.key)?);
        // No CA at all is a context's choice of the system's authorities.
        match ca {
            Some((path, None)) => return Err(missing(path)),
            Some((path, Some(ca))) if !holds_certificate(&ca) => {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
            _ => {}
        }
        let (cert, key) = match (cert, key) {
            (None, None) => return Ok(()),
            (Some(_), None) => return Err(missing(&tls.key)),
            (None, Some(_)) => return Err(missing(&tls.cert)),
            (Some(cert), Some(key)) => (cert, key),
        };
        if !holds_certificate(&cert) {
            return Err(format!("{} holds no PEM certificate (are cert.pem and key.pem swapped?)", tls.cert.display()));
        }
        // PKCS#8's encrypted form, and OpenSSL's older one (a header in an RSA or EC key).
        let text = String::from_utf8_lossy(&key);
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            let key = tls.key.display();
            return Err(format!(
                "{key} is encrypted, and encrypted keys are not supported: decrypt it (`openssl pkey -in {key} -out key-plain.pem` asks for its passphrase), and put the result in its place"
            ));
        }
        let Ok(key) = PrivateKeyDer::from_pem_slice(&key) else {
            return Err(format!("{} holds no PEM private key", tls.key.display()));
        };
        let chain: Vec<_> = CertificateDer::pem_slice_iter(&cert).flatten().collect();
        let signer = rustls::crypto::ring::sign::any_supported_type(&key)
            .map_err(|e| format!("{} holds a private key that can't be used ({e})", tls.key.display()))?;
        match rustls::sign::CertifiedKey::new(chain, signer).keys_match() {
            // A key whose public half can't be told is let try, as rustls does.
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
            Err(rustls::Error::InconsistentKeys(_)) => Err(format!(
                "{} is not the private key of the certificate in {}: they must be a pair",
                tls.key.display(),
                tls.cert.display()
            )),
            Err(e) => Err(format!("{} holds a certificate that can't be read ({e})", tls.cert.display())),
        }
    };
    check().err()
}

/// A failed connection, told apart by its cause: no right to use the socket, a certificate
/// problem, or nothing answering.
fn classify(error: BollardError, endpoint: &Endpoint) -> EngineError {
    match &error {
        BollardError::CertPathError { path } => {
            return certificate_error(endpoint, format!("{} cannot be read", path.display()));
        }
        BollardError::CertParseError { path } | BollardError::CertMultipleKeys { path, .. } => {
            return certificate_error(endpoint, format!("{} is not a single PEM certificate or key", path.display()));
        }
        _ => {}
    }
    // bollard's own io variant is transparent: its `source` skips the io::Error itself.
    let mut source: Option<&(dyn std::error::Error + 'static)> = match &error {
        BollardError::IOError { err } => Some(err),
        other => Some(other),
    };
    while let Some(e) = source {
        let io = e.downcast_ref::<std::io::Error>();
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied) {
            let group = endpoint.host.strip_prefix("unix://").and_then(|path| {
                use std::os::unix::fs::MetadataExt;
                let gid = std::fs::metadata(path).ok()?.gid();
                group_name(&std::fs::read_to_string("/etc/group").ok()?, gid)
            });
            return EngineError::PermissionDenied { endpoint: Box::new(endpoint.clone()), group, also_tried: vec![] };
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return certificate_error(endpoint, tls_problem(tls, endpoint));
        }
        // An io::Error's `source` skips the error it wraps (hyper-rustls wraps rustls' twice).
        source = match io.and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => e.source(),
        };
    }
    match error {
        BollardError::DockerResponseServerError { .. }
        | BollardError::JsonDataError { .. }
        | BollardError::JsonSerdeError { .. } => {
            EngineError::NotAnEngine { endpoint: Box::new(endpoint.clone()), source: error }
        }
        error => EngineError::Unreachable { endpoint: Box::new(endpoint.clone()), source: error },
    }
}

/// What a TLS error says of the certificates, in the user's words.
fn tls_problem(tls: &rustls::Error, endpoint: &Endpoint) -> String {
    match tls {
        rustls::Error::InvalidCertificate(_) => format!("the engine's certificate is not trusted ({tls})"),
        rustls::Error::AlertReceived(_) if endpoint.tls.as_ref().is_some_and(|t| !t.cert.is_file()) => {
            format!("the engine wants a client certificate, and there is none ({tls})")
        }
        rustls::Error::AlertReceived(_) => format!("the engine refused this client's certificate ({tls})"),
        _ => tls.to_string(),
    }
}

/// The TLS error a `tcp://` engine ends a connection with, if any: asked on a connection of
/// our own that sends one request and reads every byte of the answer, so an alert sent after
/// the handshake (TLS 1.3's refusal of a client certificate) is read, never lost to the close.
/// The same files as bollard's connection (whose files were checked before connecting).
fn tls_refusal(host: &str, tls: &discovery::Tls) -> Option<rustls::Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use std::io::{Read, Write};
    let address = host.strip_prefix("tcp://")?.trim_end_matches('/');
    let name = address.rsplit_once(':').map_or(address, |(name, _)| name).trim_matches(['[', ']']);
    let mut roots = rustls::RootCertStore::empty();
    // The system's authorities, as bollard's connection trusts them, and the CA's.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(ca) = &tls.ca {
        let ca = discovery::read_capped(ca).ok()?;
        roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&ca).flatten());
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = match (discovery::read_capped(&tls.cert), discovery::read_capped(&tls.key)) {
        (Ok(cert), Ok(key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(&cert).flatten().collect(),
                PrivateKeyDer::from_pem_slice(&key).ok()?,
            )
            .ok()?,
        _ => builder.with_no_client_auth(),
    };
    let connection =
        rustls::ClientConnection::new(std::sync::Arc::new(config), ServerName::try_from(name.to_owned()).ok()?).ok()?;
    let socket = std::net::TcpStream::connect(address).ok()?;
    socket.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).ok()?;
    socket.set_write_timeout(Some(HANDSHAKE_TIMEOUT)).ok()?;
    let mut stream = rustls::StreamOwned::new(connection, socket);
    let asked = stream.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n");
    let read = asked.and_then(|()| stream.read_to_end(&mut Vec::new()));
    let error = read.err()?;
    error.get_ref()?.downcast_ref::<rustls::Error>().cloned()
}

/// The name of group `gid` in `/etc/group`'s text.
fn group_name(etc_group: &str, gid: u32) -> Option<String> {
    etc_group.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == gid).then(|| name.to_owned())
    })
}

fn certificate_error(endpoint: &Endpoint, problem: String) -> EngineError {
    EngineError::Certificate { endpoint: Box::new(endpoint.clone()), problem }
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
            // BuildKit serves the build through a session of its own, named uniquely. The name
            // must be one word: the engine looks it up when it asks the session for registry
            // credentials, and a name with spaces is never found there.
            let nanos =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
            let session = format!("containerize-{}-{nanos}", std::process::id());
            options = options.version(BuilderVersion::BuilderBuildKit).session(&session);
            if let Some(file) = &request.export_to {
                // `tar` rather than `local`: bollard's `local` receiver drops file modes.
                options = options.outputs(ImageBuildOutput::Tar(file.to_string_lossy().into_owned()));
            }
        }
        let mut buildkit = BuildKitProgress::default();
        // The legacy builder sends them as X-Registry-Config; BuildKit serves them on its session.
        let credentials = (!request.credentials.is_empty())
            .then(|| request.credentials.iter().map(|c| (c.server.clone(), docker_credentials(c))).collect());
        self.client
            .build_image(options.build(), credentials, Some(bollard::body_try_stream(context)))
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

    fn pulls_bases_first(&self) -> bool {
        self.is_podman()
    }

    async fn pull(&self, image: &str, credential: Option<&Credential>) -> Result<(), EngineError> {
        // A digest goes with the name; a tag apart (the engine pulls every tag without one).
        let (repo, tag, digest) = containerize_build::validate::image::split(image);
        let options = match digest {
            Some(digest) => CreateImageOptionsBuilder::default().from_image(&format!("{repo}@{digest}")).build(),
            None => CreateImageOptionsBuilder::default().from_image(repo).tag(tag.unwrap_or("latest")).build(),
        };
        // Podman, unlike Docker, speaks plain http to a loopback registry only when told, and
        // only its own pull (not the compatible `/images/create`) can be told.
        let plain_http = self.podman_plain_http(image);
        let client = match plain_http {
            true => podman_plain_http_pull(&self.client, &self.info.version, image),
            false => self.client.clone(),
        };
        let missing =
            |message: String| EngineError::BaseImageMissing { image: image.to_owned(), message, included: false };
        let mut stream = client.create_image(Some(options), None, credential.map(docker_credentials));
        while let Some(item) = stream.next().await {
            item.map_err(|error| missing(error.to_string()))?;
        }
        // Podman's own pull says it failed in a field bollard's model of the answer drops.
        if plain_http && self.inspect(image).await.is_err() {
            let why = format!("Podman's pull ended without it (`podman pull --tls-verify=false {image}` says why)");
            return Err(missing(why));
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

    async fn labelled(&self, label: &str, value: &str) -> Result<Vec<String>, EngineError> {
        let filters = std::collections::HashMap::from([("label", vec![format!("{label}={value}")])]);
        let options = ListImagesOptionsBuilder::default().all(true).filters(&filters).build();
        let images = self.client.list_images(Some(options)).await.map_err(api_error("list the export images"))?;
        Ok(images.into_iter().map(|image| image.id).collect())
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

    async fn check_registry(&self, reference: &str, credential: Option<&Credential>) -> Result<(), EngineError> {
        let asked = if self.is_podman() {
            self.podman_check_registry(reference, credential).await
        } else {
            self.client.inspect_registry_image(reference, credential.map(docker_credentials)).await.map(drop)
        };
        match asked {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError { message, .. }) if push::is_absent(&message) => Ok(()),
            Err(BollardError::DockerResponseServerError { message, .. }) => {
                Err(classify_registry_error(reference, credential.is_none(), message))
            }
            Err(source) => Err(api_error("ask the registry")(source)),
        }
    }

    fn push(&self, reference: &str, credential: Option<&Credential>) -> BoxStream<'_, Result<PushEvent, EngineError>> {
        let (name, tag, _) = containerize_build::validate::image::split(reference);
        let options = PushImageOptionsBuilder::default().tag(tag.unwrap_or("latest")).build();
        let reference = reference.to_owned();
        let anonymous = credential.is_none();
        // Podman, unlike Docker, speaks plain http to a loopback registry only when told.
        let client = match self.podman_plain_http(&reference) {
            true => with_request_changed(&self.client, "tlsVerify=false".into(), None),
            false => self.client.clone(),
        };
        client
            .push_image(name, Some(options), credential.map(docker_credentials))
            .flat_map(move |item| {
                let events: Vec<Result<PushEvent, EngineError>> = match item {
                    Ok(info) => push_events(info).into_iter().map(Ok).collect(),
                    Err(BollardError::DockerStreamError { error }) => {
                        vec![Err(classify_registry_error(&reference, anonymous, error))]
                    }
                    Err(source) => vec![Err(api_error("push the image")(source))],
                };
                futures_util::stream::iter(events)
            })
            .boxed()
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

impl Docker {
    fn is_podman(&self) -> bool {
        self.info.name == "Podman"
    }

    /// Whether Podman must be told to speak plain http to `reference`'s registry, as Docker
    /// does unasked to one on this machine.
    fn podman_plain_http(&self, reference: &str) -> bool {
        self.is_podman() && push::is_loopback(registry_of(reference))
    }

    /// Podman's compatible API has no `/distribution/{name}/json` (it answers 404), and its
    /// manifest inspection takes no `tlsVerify` in 4.3; its image search lists a repository's
    /// tags (`listTags`) with both, so it asks the registry the same questions: does it answer,
    /// over plain http where allowed, take the credentials, and the name. The search reads
    /// credentials from `X-Registry-Config` only (a map by registry, as a build's).
    async fn podman_check_registry(
        &self,
        reference: &str,
        credential: Option<&Credential>,
    ) -> Result<(), BollardError> {
        let (repository, _, _) = containerize_build::validate::image::split(reference);
        // A search term without a registry would be looked for in every unqualified-search one.
        let term = match containerize_build::validate::image::domain(repository) {
            Some(_) => repository.to_owned(),
            None => format!("docker.io/{repository}"),
        };
        let mut query = "listTags=true".to_owned();
        if self.podman_plain_http(reference) {
            query.push_str("&tlsVerify=false");
        }
        let header = credential.map(|c| {
            use base64::Engine as _;
            let config = serde_json::json!({ &c.registry: docker_credentials(c) });
            ("X-Registry-Config", base64::engine::general_purpose::URL_SAFE.encode(config.to_string()))
        });
        let client = with_request_changed(&self.client, query, header);
        let options = bollard::query_parameters::SearchImagesOptionsBuilder::default().term(&term).limit(1).build();
        match client.search_images(options).await {
            Ok(_) => Ok(()),
            // Podman's answer is not Docker's model (its `Official` is a string): that the
            // registry answered with the repository's tags is all the check needs.
            Err(BollardError::JsonDataError { .. } | BollardError::JsonSerdeError { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// A client whose `/images/create` requests go to Podman's own pull of `image`, told to speak
/// plain http (`tlsVerify=false`); its answers stream as the compatible one's do. Its own API
/// is reached under its version, `/v4.3.1/libpod/...`.
fn podman_plain_http_pull(client: &bollard::Docker, version: &str, image: &str) -> bollard::Docker {
    let reference = containerize_build::sbom::percent_encode(image);
    let version = version.to_owned();
    client.clone().with_request_modifier(move |mut request| {
        let uri = request.uri().to_string();
        if let Some((before, _)) = uri.split_once("/images/create")
            && let Ok(uri) =
                format!("{before}/v{version}/libpod/images/pull?reference={reference}&tlsVerify=false").parse()
        {
            *request.uri_mut() = uri;
        }
        request
    })
}

/// A client whose requests carry `query` after their own, and `header`: what bollard's
/// options do not name (Podman's own parameters).
fn with_request_changed(
    client: &bollard::Docker,
    query: String,
    header: Option<(&'static str, String)>,
) -> bollard::Docker {
    client.clone().with_request_modifier(move |mut request| {
        let uri = request.uri().to_string();
        let separator = if uri.contains('?') { '&' } else { '?' };
        if let Ok(uri) = format!("{uri}{separator}{query}").parse() {
            *request.uri_mut() = uri;
        }
        if let Some((name, value)) = &header
            && let Ok(value) = value.parse()
        {
            request.headers_mut().insert(*name, value);
        }
        request
    })
}

/// Credentials as the engine takes them.
fn docker_credentials(credential: &Credential) -> bollard::auth::DockerCredentials {
    let (username, password, identitytoken) = match &credential.secret {
        Secret::Password { username, password } => (Some(username.clone()), Some(password.clone()), None),
        Secret::IdentityToken(token) => (None, None, Some(token.clone())),
    };
    bollard::auth::DockerCredentials {
        username,
        password,
        identitytoken,
        serveraddress: Some(credential.server.clone()),
        ..Default::default()
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
    fn connection_failures_are_told_apart() {
        let endpoint = Endpoint { host: "unix:///s".into(), tls: None, found: Found::DefaultSocket };
        let io = |kind| BollardError::IOError { err: std::io::Error::from(kind) };
        assert!(matches!(
            classify(io(std::io::ErrorKind::PermissionDenied), &endpoint),
            EngineError::PermissionDenied { .. }
        ));
        assert!(matches!(classify(io(std::io::ErrorKind::NotFound), &endpoint), EngineError::Unreachable { .. }));
        let unreadable = BollardError::CertPathError { path: "/certs/ca.pem".into() };
        let error = classify(unreadable, &endpoint).to_string();
        assert_eq!(error, "the TLS connection to unix:///s (the default socket) failed: /certs/ca.pem cannot be read");
        // As hyper-rustls reports an engine certificate signed by another authority.
        let untrusted = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let wrapped = BollardError::IOError { err: std::io::Error::other(untrusted) };
        let error = classify(wrapped, &endpoint).to_string();
        assert!(
            error.ends_with("the engine's certificate is not trusted (invalid peer certificate: UnknownIssuer)"),
            "{error}"
        );
    }

    #[test]
    fn tls_files_are_read_and_parsed_before_connecting() {
        use std::collections::BTreeMap;
        use std::path::{Path, PathBuf};
        // A self-signed P-256 certificate and its key, made for this test only
        // (`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes`).
        const CERT: &str = concat!(
            "-----BEGIN CERTIFICATE-----\n",
            "MIIBejCCAR+gAwIBAgIUG31zQEQC8qlyCjz3VeZrQwjemvswCgYIKoZIzj0EAwIw\n",
            "ETEPMA0GA1UEAwwGY2xpZW50MCAXDTI2MTEyNjExMjExNloYDzIxMjYxMTAyMTEy\n",
            "MTE2WjARMQ8wDQYDVQQDDAZjbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n",
            "AARazHnVqAm47Zt9iZrpTs1FAyMqReGxm/RZMDkODQAau/LcSt3qHGdjaiTImxO+\n",
            "NcsqU2U8MyTW0j4wO3Y+VbwNo1MwUTAdBgNVHQ4EFgQUbIKJYleP7yZMLpkpnr1F\n",
            "gorhpEswHwYDVR0jBBgwFoAUbIKJYleP7yZMLpkpnr1FgorhpEswDwYDVR0TAQH/\n",
            "BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAkMFP9CkRWeMFwZV5Iqo4Ez6B1AoE\n",
            "eJd+mPIFsky1EFUCIQCF6onCQg++T1FxdB6AioURKIV1Q4SIOE82QKnff4Omgw==\n",
            "-----END CERTIFICATE-----\n",
        );
        const KEY: &str = concat!(
            "-----BEGIN PRIVATE KEY-----\n",
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRDMDmx5G+6F57Avm\n",
            "yGHFnnm1IfHTcc9ISEFKiIrrz2ahRANCAARazHnVqAm47Zt9iZrpTs1FAyMqReGx\n",
            "m/RZMDkODQAau/LcSt3qHGdjaiTImxO+NcsqU2U8MyTW0j4wO3Y+VbwN\n",
            "-----END PRIVATE KEY-----\n",
        );
        // Another key, of another type (`openssl genpkey -algorithm ed25519`).
        const OTHER_KEY: &str = concat!(
            "-----BEGIN PRIVATE KEY-----\n",
            "MC4CAQAwBQYDK2VwBCIEIECn6mAYmwvteiZ7rjtzuY2bppU15ksKfrWy2hrLCRHp\n",
            "-----END PRIVATE KEY-----\n",
        );
        let tls = discovery::Tls { ca: Some("/d/ca.pem".into()), cert: "/d/cert.pem".into(), key: "/d/key.pem".into() };
        // Each file's content, or an error kind reading it; absent when missing.
        let problem = |files: &[(&str, Result<&str, std::io::ErrorKind>)]| {
            let files: BTreeMap<PathBuf, _> = files.iter().map(|(p, f)| (PathBuf::from(p), *f)).collect();
            tls_files_problem(&tls, |path: &Path| match files.get(path) {
                Some(Ok(text)) => Ok(text.as_bytes().to_vec()),
                Some(Err(kind)) => Err(std::io::Error::from(*kind)),
                None => Err(std::io::ErrorKind::NotFound.into()),
            })
        };
        let good = [("/d/ca.pem", Ok(CERT)), ("/d/cert.pem", Ok(CERT)), ("/d/key.pem", Ok(KEY))];
        assert_eq!(problem(&good), None);
        assert_eq!(problem(&good[..1]), None, "no client certificate: the engine may not ask for one");
        let denied = [good[0], good[1], ("/d/key.pem", Err(std::io::ErrorKind::PermissionDenied))];
        assert_eq!(problem(&denied).unwrap(), "cannot read /d/key.pem: permission denied");
        let swapped = [good[0], ("/d/cert.pem", Ok(KEY)), ("/d/key.pem", Ok(CERT))];
        assert!(problem(&swapped).unwrap().starts_with("/d/cert.pem holds no PEM certificate"));
        let junk = [("/d/ca.pem", Ok("junk")), good[1], good[2]];
        assert_eq!(problem(&junk).unwrap(), "/d/ca.pem holds no PEM certificate");
        // A directory the user may not enter: each file is denied, not missing.
        let unreadable = [("/d/ca.pem", Err(std::io::ErrorKind::PermissionDenied))];
        assert_eq!(problem(&unreadable).unwrap(), "cannot read /d/ca.pem: permission denied");
        assert_eq!(problem(&[]).unwrap(), "/d/ca.pem is missing");
        assert_eq!(problem(&good[..2]).unwrap(), "/d/key.pem is missing");
        assert_eq!(problem(&[good[0], good[2]]).unwrap(), "/d/cert.pem is missing");
        let bad_key = [good[0], good[1], ("/d/key.pem", Ok(CERT))];
        assert_eq!(problem(&bad_key).unwrap(), "/d/key.pem holds no PEM private key");
        // Checked here, as the engine would only answer with an alert (IllegalParameter).
        let mismatched = [good[0], good[1], ("/d/key.pem", Ok(OTHER_KEY))];
        assert_eq!(
            problem(&mismatched).unwrap(),
            "/d/key.pem is not the private key of the certificate in /d/cert.pem: they must be a pair"
        );
        const ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        const LEGACY: &str = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nMAA=\n-----END EC PRIVATE KEY-----\n";
        for encrypted in [ENCRYPTED, LEGACY] {
            let problem = problem(&[good[0], good[1], ("/d/key.pem", Ok(encrypted))]).unwrap();
            assert!(problem.starts_with("/d/key.pem is encrypted, and encrypted keys are not supported: decrypt it (`openssl pkey -in /d/key.pem"), "{problem}");
        }
        // A context's files with no CA: the system's authorities, and the pair still checked.
        let tls = discovery::Tls { ca: None, ..tls.clone() };
        let problem = |files: &[(&str, &str)]| {
            let files: BTreeMap<PathBuf, _> = files.iter().map(|(p, f)| (PathBuf::from(p), *f)).collect();
            tls_files_problem(&tls, |path: &Path| {
                files.get(path).map(|text| text.as_bytes().to_vec()).ok_or_else(|| std::io::ErrorKind::NotFound.into())
            })
        };
        assert_eq!(problem(&[("/d/cert.pem", CERT), ("/d/key.pem", KEY)]), None);
        assert!(problem(&[("/d/cert.pem", CERT), ("/d/key.pem", OTHER_KEY)]).unwrap().contains("they must be a pair"));
    }

    #[test]
    fn a_socket_path_that_is_no_socket_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert_eq!(socket_problem(&file).unwrap(), "is a regular file, not a socket");
        assert_eq!(socket_problem(dir.path()).unwrap(), "is a directory, not a socket");
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(dir.path().join("b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("b")).unwrap();
        let looped = socket_problem(&a).unwrap();
        assert!(looped.starts_with("can't be reached: Too many levels of symbolic links"), "{looped}");
        // Absent: a silent engine, so that the next endpoint is tried.
        assert_eq!(socket_problem(&dir.path().join("none")), None);
        let socket = dir.path().join("engine.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert_eq!(socket_problem(&socket), None);
    }

    #[test]
    fn a_sockets_group_is_named_from_etc_group() {
        let etc_group = "root:x:0:\ndocker:x:998:alice,bob\npodman:x:1001:\n";
        assert_eq!(group_name(etc_group, 998).as_deref(), Some("docker"));
        assert_eq!(group_name(etc_group, 0).as_deref(), Some("root"));
        assert_eq!(group_name(etc_group, 5), None);
    }

    #[tokio::test]
    async fn an_endpoint_that_never_answers_is_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("silent.sock");
        // Accepts (through its backlog) and never replies.
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let host = format!("unix://{}", socket.display());
        let endpoint = Endpoint { host, tls: None, found: Found::DockerHost };
        let Err(error) = Docker::connect_within(endpoint, Duration::from_millis(300)).await else {
            panic!("a silent socket connected");
        };
        assert!(
            matches!(&error, EngineError::Unreachable { source: BollardError::RequestTimeoutError, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn old_engines_are_refused() {
        let engine = |api: &str| EngineInfo {
            name: "Docker",
            host: "h".into(),
            found: Found::DefaultSocket,
            version: "v".into(),
            api_version: api.into(),
            buildkit: false,
            os: "linux".into(),
        };
        assert!(check_api(&engine("1.41")).is_ok());
        assert!(check_api(&engine("1.30")).is_ok());
        assert!(matches!(check_api(&engine("1.29")), Err(EngineError::TooOld { .. })));
        assert!(matches!(check_api(&engine("")), Err(EngineError::TooOld { .. })));
    }
}
