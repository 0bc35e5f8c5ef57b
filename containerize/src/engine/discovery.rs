//! Where the engine is, found as the docker CLI finds it: a pure function of the environment
//! and the docker CLI's configuration files, tested without an engine. Connecting to what it
//! finds is `docker.rs`'s concern.
//!
//! In order: `DOCKER_HOST`; else the context `DOCKER_CONTEXT` names; else the `currentContext`
//! of `$DOCKER_CONFIG/config.json` (`~/.docker` by default); else the default socket, then
//! Podman's sockets (rootless, then rootful) when the default socket does not answer.

use std::fmt;
use std::path::{Path, PathBuf};

/// The docker CLI's default socket.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// Rootful Podman's socket (`systemctl start podman.socket`).
pub const PODMAN_ROOTFUL_SOCKET: &str = "unix:///run/podman/podman.sock";

/// The environment variables discovery reads, empty ones counted as unset (as the docker CLI
/// does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `DOCKER_CONTEXT`.
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the docker CLI's configuration directory.
    pub docker_config: Option<PathBuf>,
    /// `DOCKER_TLS_VERIFY`: TLS, verified both ways, for a `tcp://` `DOCKER_HOST`.
    pub docker_tls_verify: bool,
    /// `DOCKER_TLS`: the docker CLI's TLS without verifying the engine's certificate (unless
    /// `DOCKER_TLS_VERIFY` is set too), which is refused.
    pub docker_tls: bool,
    /// `DOCKER_CERT_PATH`: where `ca.pem`, `cert.pem` and `key.pem` are.
    pub docker_cert_path: Option<PathBuf>,
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR`: where rootless engines put their sockets.
    pub xdg_runtime_dir: Option<PathBuf>,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            docker_tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            docker_tls: var("DOCKER_TLS").is_some(),
            docker_cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
        }
    }

    /// The docker CLI's configuration directory.
    fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config.clone().or_else(|| self.home.as_ref().map(|home| home.join(".docker")))
    }
}

/// The files discovery reads: the real ones, or a test's.
pub trait Files {
    /// The file's text, or `None` if it is not there.
    fn read(&self, path: &Path) -> Result<Option<String>, std::io::Error>;
    /// Whether the file is there.
    fn exists(&self, path: &Path) -> bool;
}

/// The machine's own files.
pub struct HostFiles;

impl Files for HostFiles {
    fn read(&self, path: &Path) -> Result<Option<String>, std::io::Error> {
        match read_capped(path) {
            // As Go's JSON decoder, which the docker CLI reads these with, takes bytes that are
            // no UTF-8 as U+FFFD.
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// The most read of a configuration file or a certificate: a few KiB each in practice.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// A regular file's bytes, refused past [`MAX_FILE_BYTES`]: a configuration or certificate
/// linked to `/dev/zero`, a FIFO or a huge file would otherwise be read until memory runs out,
/// or forever.
pub fn read_capped(path: &Path) -> Result<Vec<u8>, std::io::Error> {
    use std::io::Read;
    // Checked before opening: opening a FIFO waits for a writer.
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = vec![];
    std::fs::File::open(path)?.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!("it is larger than {} MiB", MAX_FILE_BYTES >> 20)));
    }
    Ok(bytes)
}

/// One place to reach an engine, and how it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix:///path` or `tcp://host:port` (a port is always given).
    pub host: String,
    /// The certificates of a TLS connection; none for a plain one.
    pub tls: Option<Tls>,
    /// How it was found.
    pub found: Found,
}

/// A TLS connection's files, as the docker CLI names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    /// The authority the engine's certificate must be signed by; `None` for the system's
    /// authorities (a context made with a client certificate and no CA).
    pub ca: Option<PathBuf>,
    /// This client's certificate.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
}

/// How an endpoint was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// `DOCKER_HOST`.
    DockerHost,
    /// A docker CLI context.
    Context {
        /// Its name.
        name: String,
        /// What selected it.
        by: ContextChoice,
    },
    /// Nothing was configured: the docker CLI's default socket.
    DefaultSocket,
    /// Nothing was configured and the default socket did not answer: Podman's socket.
    Podman {
        /// The default socket was there but denied us, rather than silent.
        default_denied: bool,
    },
}

/// What selected a context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextChoice {
    /// `DOCKER_CONTEXT`.
    Variable,
    /// `currentContext` in this `config.json` (`docker context use`).
    Config(PathBuf),
}

impl fmt::Display for ContextChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextChoice::Variable => write!(f, "from DOCKER_CONTEXT"),
            ContextChoice::Config(path) => write!(f, "from currentContext in {}", path.display()),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::DockerHost => write!(f, "from DOCKER_HOST"),
            Found::Context { name, by } => write!(f, "context `{}` {by}", shown(name)),
            Found::DefaultSocket => write!(f, "the default socket"),
            Found::Podman { default_denied: false } => {
                write!(f, "Podman's socket, as the default socket did not answer")
            }
            Found::Podman { default_denied: true } => write!(f, "Podman's socket, as the default socket was denied"),
        }
    }
}

/// Why no endpoint could be named.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A host whose scheme we do not speak (`ssh://`, `npipe://`, ...).
    #[error("the engine's host `{}` ({found}) is not supported: only unix:// and tcp:// hosts are", shown(.host))]
    Scheme {
        /// The host.
        host: String,
        /// How it was found.
        found: Found,
    },
    /// A `tcp://` host that is no address.
    #[error("the engine's host `{}` ({found}) is not a valid address: tcp://HOST or tcp://HOST:PORT is expected", shown(.host))]
    InvalidHost {
        /// The host, as given.
        host: String,
        /// How it was found.
        found: Found,
    },
    /// A context that is not in the store.
    #[error("Docker context `{}` ({by}) is not in {}", shown(.name), .store.display())]
    UnknownContext {
        /// Its name.
        name: String,
        /// What selected it.
        by: ContextChoice,
        /// Where contexts are kept.
        store: PathBuf,
    },
    /// A context with no Docker endpoint (a Kubernetes-only one).
    #[error("Docker context `{}` has no Docker endpoint ({})", shown(.name), .meta.display())]
    NoDockerEndpoint {
        /// Its name.
        name: String,
        /// Its metadata file.
        meta: PathBuf,
    },
    /// `DOCKER_TLS` without `DOCKER_TLS_VERIFY`: TLS without verifying the engine's certificate.
    #[error("DOCKER_TLS asks for TLS without verifying the engine's certificate (for `{}`), which containerize does not do", shown(.host))]
    TlsWithoutVerify {
        /// The host, as given.
        host: String,
    },
    /// A context that asks for TLS without verifying the engine's certificate.
    #[error("Docker context `{}` skips verifying the engine's TLS certificate, which containerize does not do", shown(.name))]
    SkipTlsVerify {
        /// Its name.
        name: String,
        /// Its host.
        host: String,
        /// The TLS files it holds (`ca.pem`, `cert.pem`, `key.pem`), to keep when updating it.
        tls_files: Vec<PathBuf>,
    },
    /// A context whose metadata can't be read or parsed.
    #[error("cannot read Docker context `{}` ({}): {message}", shown(.name), .path.display())]
    BrokenContext {
        /// Its name.
        name: String,
        /// Its metadata file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A configuration file that can't be read or parsed.
    #[error("cannot read {}: {message}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Neither `DOCKER_CONFIG` nor `HOME` is set, yet a context must be read.
    #[error("cannot find the Docker configuration directory: neither DOCKER_CONFIG nor HOME is set")]
    NoConfigDir,
}

/// What discovery found: the endpoints to try, in order, and what was ignored on the way.
#[derive(Debug)]
pub struct Discovery {
    /// One when the user chose (`DOCKER_HOST`, a context); the default socket and then
    /// Podman's when nobody did.
    pub endpoints: Vec<Endpoint>,
    /// Problems the docker CLI only warns about (a broken `config.json`), to show as warnings.
    pub warnings: Vec<DiscoveryError>,
}

/// `text` (a host, a context's name) as safe to print: control characters escaped, as a value
/// from the environment or a context could move the cursor or fake a line, and the password of
/// `scheme://user:password@host` hidden.
pub fn shown(text: &str) -> String {
    let redacted = text.split_once("://").and_then(|(scheme, rest)| {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        let (userinfo, _) = authority.rsplit_once('@')?;
        let (user, _) = userinfo.split_once(':')?;
        Some(format!("{scheme}://{user}:***{}", &rest[userinfo.len()..]))
    });
    let text = redacted.as_deref().unwrap_or(text);
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// The endpoints to try, and the warnings to show.
pub fn discover(env: &Environment, files: &impl Files) -> Result<Discovery, DiscoveryError> {
    if let Some(host) = &env.docker_host {
        // The docker CLI's `DOCKER_TLS` alone is TLS that trusts any certificate: refused, as
        // a context that skips verification is. A socket takes no TLS, either way.
        if env.docker_tls && !env.docker_tls_verify && host.starts_with("tcp://") {
            return Err(DiscoveryError::TlsWithoutVerify { host: host.clone() });
        }
        let tls = env.docker_tls_verify.then(|| {
            // The docker CLI requires the CA here (but not a client certificate).
            let dir = env.docker_cert_path.clone().or_else(|| env.config_dir()).unwrap_or_default();
            Tls { ca: Some(dir.join("ca.pem")), cert: dir.join("cert.pem"), key: dir.join("key.pem") }
        });
        return Ok(Discovery { endpoints: vec![endpoint(host, tls, Found::DockerHost)?], warnings: vec![] });
    }
    let mut warnings = vec![];
    let chosen = match &env.docker_context {
        Some(name) => Some((name.clone(), ContextChoice::Variable)),
        // As the docker CLI, a config.json that can't be read is warned about and ignored: it
        // only matters for pushing, where the credentials' reading reports it.
        None => current_context(env, files, &mut warnings).unwrap_or_else(|error| {
            warnings.push(error);
            None
        }),
    };
    let endpoints = match chosen {
        // `default` is the docker CLI's name for "no context": the environment, else the socket.
        Some((name, by)) if name != "default" => match context(env, files, name, by)? {
            Some(endpoint) => vec![endpoint],
            None => default_endpoints(env),
        },
        _ => default_endpoints(env),
    };
    Ok(Discovery { endpoints, warnings })
}

/// Nothing configured: the default socket, then Podman's.
fn default_endpoints(env: &Environment) -> Vec<Endpoint> {
    let rootless = env.xdg_runtime_dir.iter().map(|dir| format!("unix://{}", dir.join("podman/podman.sock").display()));
    let mut endpoints = vec![Endpoint { host: DEFAULT_SOCKET.into(), tls: None, found: Found::DefaultSocket }];
    endpoints.extend(rootless.chain([PODMAN_ROOTFUL_SOCKET.to_owned()]).map(|host| Endpoint {
        host,
        tls: None,
        found: Found::Podman { default_denied: false },
    }));
    endpoints
}

/// The context `config.json` names as current, if any.
/// A value of the wrong type is warned about, as by the docker CLI, which goes on with what it
/// read.
fn current_context(
    env: &Environment,
    files: &impl Files,
    warnings: &mut Vec<DiscoveryError>,
) -> Result<Option<(String, ContextChoice)>, DiscoveryError> {
    let Some(dir) = env.config_dir() else { return Ok(None) };
    let path = dir.join("config.json");
    let Some(text) = read(files, &path)? else { return Ok(None) };
    // An empty file is no configuration, as the docker CLI takes it.
    if text.trim().is_empty() {
        return Ok(None);
    }
    let broken = |message: String| DiscoveryError::File { path: path.clone(), message };
    let config: GoObject = serde_json::from_str(&text).map_err(|e| broken(e.to_string()))?;
    let (name, error) = config.string("currentContext");
    warnings.extend(error.map(broken));
    Ok(name.filter(|name| !name.is_empty()).map(|name| (name, ContextChoice::Config(path.clone()))))
}

/// A JSON object's members in the order written, read as Go's `encoding/json` reads them into
/// a struct, as the docker CLI does: a key names a field whatever its case (`currentcontext`
/// is `currentContext`), the last of several wins, and `null` leaves a field as it was.
#[derive(Default)]
struct GoObject(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for GoObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = GoObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_unit<E>(self) -> Result<GoObject, E> {
                Ok(GoObject::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<GoObject, A::Error> {
                let mut members = vec![];
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(GoObject(members))
            }
        }
        deserializer.deserialize_any(Members)
    }
}

impl GoObject {
    /// The values of the members that are field `name` to Go, in order.
    fn field<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
        self.0.iter().filter(move |(key, _)| go_field_matches(key, name)).map(|(_, value)| value)
    }

    /// String field `name`, and the first value of another type, which Go reports once done.
    fn string(&self, name: &str) -> (Option<String>, Option<String>) {
        let (mut found, mut error) = (None, None);
        for value in self.field(name) {
            match value {
                serde_json::Value::String(text) => found = Some(text.clone()),
                serde_json::Value::Null => {}
                _ => {
                    error.get_or_insert_with(|| format!("`{name}` is not a string"));
                }
            }
        }
        (found, error)
    }
}

/// Whether Go's `encoding/json` decodes member `key` into the field named `name` (ASCII): the
/// same letters, with case folded as `strings.EqualFold` folds it, where the Kelvin sign is
/// `K` and the long s is `S`.
fn go_field_matches(key: &str, name: &str) -> bool {
    let fold = |c: char| match c {
        '\u{212A}' => 'K',
        '\u{17F}' => 'S',
        c => c.to_ascii_uppercase(),
    };
    key.chars().map(fold).eq(name.chars().map(|c| c.to_ascii_uppercase()))
}

/// A context's Docker endpoint, from the docker CLI's store: `contexts/meta/<id>/meta.json`
/// and the TLS files in `contexts/tls/<id>/docker/`, where `<id>` is the SHA-256 of the name.
/// `None` for an endpoint with no host, which the docker CLI takes as the default socket.
fn context(
    env: &Environment,
    files: &impl Files,
    name: String,
    by: ContextChoice,
) -> Result<Option<Endpoint>, DiscoveryError> {
    let store = env.config_dir().ok_or(DiscoveryError::NoConfigDir)?.join("contexts");
    let id = context_id(&name);
    let meta_path = store.join("meta").join(&id).join("meta.json");
    let broken = |name: &str, message: String| DiscoveryError::BrokenContext {
        name: name.to_owned(),
        path: meta_path.clone(),
        message,
    };
    let Some(text) = files.read(&meta_path).map_err(|e| broken(&name, e.to_string()))? else {
        return Err(DiscoveryError::UnknownContext { name, by, store });
    };
    let meta: GoObject = serde_json::from_str(&text).map_err(|e| broken(&name, e.to_string()))?;
    // As the docker CLI reads it: `Endpoints` in any case, into a map (so several merge, and
    // `null` empties it), whose `docker` key is exact.
    let mut docker = None;
    for endpoints in meta.field("Endpoints") {
        match endpoints {
            serde_json::Value::Object(endpoints) => {
                // serde_json's map keeps the last of a repeated key, as Go's does.
                if let Some(endpoint) = endpoints.get("docker") {
                    docker = Some(endpoint.clone());
                }
            }
            serde_json::Value::Null => docker = None,
            _ => return Err(broken(&name, "`Endpoints` is not an object".into())),
        }
    }
    let docker: GoObject = match docker {
        None => return Err(DiscoveryError::NoDockerEndpoint { name, meta: meta_path }),
        Some(value @ serde_json::Value::Object(_)) => {
            serde_json::from_value(value).map_err(|e| broken(&name, e.to_string()))?
        }
        Some(_) => return Err(broken(&name, "its `docker` endpoint is not an object".into())),
    };
    let (host, error) = docker.string("Host");
    let mut skip_tls_verify = false;
    for value in docker.field("SkipTLSVerify") {
        match value {
            serde_json::Value::Bool(skip) => skip_tls_verify = *skip,
            serde_json::Value::Null => {}
            _ => return Err(broken(&name, "`SkipTLSVerify` is not a boolean".into())),
        }
    }
    if let Some(error) = error {
        return Err(broken(&name, error));
    }
    let Some(host) = host.filter(|host| !host.is_empty()) else { return Ok(None) };
    let tls_dir = store.join("tls").join(&id).join("docker");
    let (ca, cert, key) = (tls_dir.join("ca.pem"), tls_dir.join("cert.pem"), tls_dir.join("key.pem"));
    // The docker CLI speaks TLS to a context that holds any of the three files; without a CA
    // (`docker context create --docker host=...,cert=...,key=...`) it trusts the system's.
    let tls_files: Vec<PathBuf> = [&ca, &cert, &key].into_iter().filter(|p| files.exists(p)).cloned().collect();
    let has_tls = !tls_files.is_empty();
    let tls = Tls { ca: files.exists(&ca).then_some(ca), cert, key };
    if skip_tls_verify && host.starts_with("tcp://") {
        return Err(DiscoveryError::SkipTlsVerify { name, host, tls_files });
    }
    endpoint(&host, has_tls.then_some(tls), Found::Context { name, by }).map(Some)
}

/// The docker CLI's id of a context: the hex SHA-256 of its name.
fn context_id(name: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, name.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn read(files: &impl Files, path: &Path) -> Result<Option<String>, DiscoveryError> {
    files.read(path).map_err(|e| DiscoveryError::File { path: path.to_owned(), message: e.to_string() })
}

/// An endpoint for `host`, refusing the schemes we do not speak and `tcp://` hosts that are
/// no address, with the docker CLI's default ports where a `tcp://` host names none (2376 with
/// TLS, 2375 without).
fn endpoint(host: &str, tls: Option<Tls>, found: Found) -> Result<Endpoint, DiscoveryError> {
    let address = if let Some(address) = host.strip_prefix("tcp://") {
        let port = if tls.is_some() { 2376 } else { 2375 };
        tcp_address(address, port)
            .ok_or_else(|| DiscoveryError::InvalidHost { host: host.to_owned(), found: found.clone() })?
    } else if host.starts_with("unix://") {
        host.to_owned()
    } else {
        return Err(DiscoveryError::Scheme { host: host.to_owned(), found });
    };
    // TLS belongs to tcp:// hosts; a socket ignores it, as the docker CLI does.
    let tls = tls.filter(|_| address.starts_with("tcp://"));
    Ok(Endpoint { host: address, tls, found })
}

/// `tcp://NAME:PORT` for `NAME[:PORT][/]` (`[::1]:2375` for IPv6), or `None` if it is no such
/// address: a port out of range or not a number, no name, a character no host name has.
fn tcp_address(address: &str, default_port: u16) -> Option<String> {
    let address = address.strip_suffix('/').unwrap_or(address);
    let (name, rest) = match address.find(']') {
        Some(end) if address.starts_with('[') => address.split_at(end + 1),
        _ => address.split_at(address.find(':').unwrap_or(address.len())),
    };
    let port = match rest.strip_prefix(':') {
        Some(port) => port.parse::<u16>().ok().filter(|port| *port != 0)?,
        None if rest.is_empty() => default_port,
        None => return None,
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    let valid = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(ip) => !ip.is_empty() && ip.chars().all(|c| c.is_ascii_hexdigit() || ".:".contains(c)),
        None => !name.is_empty() && name.chars().all(valid),
    };
    valid.then(|| format!("tcp://{name}:{port}"))
}

#[cfg(test)]
mod tests;
