use super::*;
use std::collections::BTreeMap;

/// A test's files, by path.
#[derive(Default)]
struct Fake(BTreeMap<PathBuf, String>);

impl Fake {
    fn with(mut self, path: &str, text: &str) -> Fake {
        self.0.insert(PathBuf::from(path), text.to_owned());
        self
    }

    /// A context as `docker context create` stores it under `/home/u/.docker`.
    fn context(self, name: &str, host: &str) -> Fake {
        let meta = format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        );
        self.with(&format!("/home/u/.docker/contexts/meta/{}/meta.json", context_id(name)), &meta)
    }
}

impl Files for Fake {
    fn read(&self, path: &Path) -> Result<Option<String>, std::io::Error> {
        Ok(self.0.get(path).cloned())
    }

    fn exists(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }
}

fn env() -> Environment {
    Environment { home: Some("/home/u".into()), ..Environment::default() }
}

fn only(env: &Environment, files: &Fake) -> Endpoint {
    let mut endpoints = discover(env, files).unwrap().endpoints;
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    endpoints.remove(0)
}

#[test]
fn context_ids_are_the_docker_clis() {
    // `docker context create colima ...` stores it under this directory (`sha256sum`).
    assert_eq!(context_id("colima"), "f24fd3749c1368328e2b149bec149cb6795619f244c5b584e844961215dadd16");
}

#[test]
fn nothing_configured_tries_the_default_socket_then_podmans() {
    let env = Environment { xdg_runtime_dir: Some("/run/user/1000".into()), ..env() };
    let hosts: Vec<(String, Found)> =
        discover(&env, &Fake::default()).unwrap().endpoints.into_iter().map(|e| (e.host, e.found)).collect();
    assert_eq!(
        hosts,
        [
            ("unix:///var/run/docker.sock".to_owned(), Found::DefaultSocket),
            ("unix:///run/user/1000/podman/podman.sock".to_owned(), Found::Podman { default_denied: false }),
            ("unix:///run/podman/podman.sock".to_owned(), Found::Podman { default_denied: false }),
        ]
    );
}

#[test]
fn docker_host_comes_first() {
    let files = Fake::default()
        .context("remote", "tcp://remote:2375")
        .with("/home/u/.docker/config.json", r#"{"currentContext":"remote"}"#);
    let env = Environment {
        docker_host: Some("unix:///tmp/engine.sock".into()),
        docker_context: Some("remote".into()),
        ..env()
    };
    let endpoint = only(&env, &files);
    assert_eq!(endpoint, Endpoint { host: "unix:///tmp/engine.sock".into(), tls: None, found: Found::DockerHost });
    assert_eq!(endpoint.found.to_string(), "from DOCKER_HOST");
}

#[test]
fn docker_context_comes_before_the_current_context() {
    let files = Fake::default()
        .context("colima", "unix:///home/u/.colima/default/docker.sock")
        .context("other", "unix:///other.sock")
        .with("/home/u/.docker/config.json", r#"{"auths":{},"currentContext":"other"}"#);
    let env = Environment { docker_context: Some("colima".into()), ..env() };
    let endpoint = only(&env, &files);
    assert_eq!(endpoint.host, "unix:///home/u/.colima/default/docker.sock");
    assert_eq!(endpoint.found.to_string(), "context `colima` from DOCKER_CONTEXT");
}

#[test]
fn the_current_context_is_read_from_docker_config() {
    let files = Fake::default().with("/cfg/config.json", r#"{"currentContext":"desktop-linux"}"#).with(
        &format!("/cfg/contexts/meta/{}/meta.json", context_id("desktop-linux")),
        r#"{"Name":"desktop-linux","Endpoints":{"docker":{"Host":"unix:///home/u/.docker/desktop/docker.sock"}}}"#,
    );
    let env = Environment { docker_config: Some("/cfg".into()), ..env() };
    let endpoint = only(&env, &files);
    assert_eq!(endpoint.host, "unix:///home/u/.docker/desktop/docker.sock");
    assert_eq!(endpoint.found.to_string(), "context `desktop-linux` from currentContext in /cfg/config.json");
}

#[test]
fn the_default_context_is_no_context() {
    let files = Fake::default().with("/home/u/.docker/config.json", r#"{"currentContext":"default"}"#);
    assert_eq!(discover(&env(), &files).unwrap().endpoints[0].found, Found::DefaultSocket);
    let env = Environment { docker_context: Some("default".into()), ..env() };
    assert_eq!(discover(&env, &Fake::default()).unwrap().endpoints[0].found, Found::DefaultSocket);
    // A config.json without a current context, as `docker login` leaves it.
    let files = Fake::default().with("/home/u/.docker/config.json", r#"{"auths":{"ghcr.io":{}}}"#);
    assert_eq!(discover(&self::env(), &files).unwrap().endpoints[0].found, Found::DefaultSocket);
}

#[test]
fn a_context_with_tls_files_is_reached_over_tls() {
    let tls = format!("/home/u/.docker/contexts/tls/{}/docker", context_id("ci"));
    let files = Fake::default()
        .context("ci", "tcp://build.example:2376")
        .with(&format!("{tls}/ca.pem"), "")
        .with(&format!("{tls}/cert.pem"), "")
        .with(&format!("{tls}/key.pem"), "");
    let env = Environment { docker_context: Some("ci".into()), ..env() };
    let endpoint = only(&env, &files);
    assert_eq!(endpoint.host, "tcp://build.example:2376");
    let expected = PathBuf::from(tls);
    assert_eq!(
        endpoint.tls,
        Some(Tls { ca: expected.join("ca.pem"), cert: expected.join("cert.pem"), key: expected.join("key.pem") })
    );
    // Without the files, the same host is plain TCP.
    let plain = Fake::default().context("ci", "tcp://build.example:2375");
    assert_eq!(only(&env, &plain).tls, None);
}

#[test]
fn docker_tls_verify_takes_the_certificates_from_docker_cert_path() {
    let env = Environment {
        docker_host: Some("tcp://10.0.0.5".into()),
        docker_tls_verify: true,
        docker_cert_path: Some("/certs".into()),
        ..env()
    };
    let endpoint = only(&env, &Fake::default());
    assert_eq!(endpoint.host, "tcp://10.0.0.5:2376", "TLS's default port");
    assert_eq!(endpoint.tls.unwrap().key, PathBuf::from("/certs/key.pem"));
    // Without DOCKER_CERT_PATH, the docker CLI's configuration directory holds them.
    let env = Environment { docker_cert_path: None, ..env };
    assert_eq!(only(&env, &Fake::default()).tls.unwrap().ca, PathBuf::from("/home/u/.docker/ca.pem"));
    // Without DOCKER_TLS_VERIFY, plain TCP on its own default port.
    let env = Environment { docker_tls_verify: false, ..env };
    assert_eq!(
        only(&env, &Fake::default()),
        Endpoint { host: "tcp://10.0.0.5:2375".into(), tls: None, found: Found::DockerHost }
    );
}

#[test]
fn ssh_and_other_schemes_are_refused_by_name() {
    let env = Environment { docker_host: Some("ssh://me@build.example".into()), ..env() };
    let error = discover(&env, &Fake::default()).unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::Scheme { host, found: Found::DockerHost } if host == "ssh://me@build.example")
    );
    let files = Fake::default().context("remote", "ssh://me@build.example");
    let env = Environment { docker_context: Some("remote".into()), ..self::env() };
    let error = discover(&env, &files).unwrap_err().to_string();
    assert!(error.contains("`ssh://me@build.example` (context `remote` from DOCKER_CONTEXT)"), "{error}");
}

#[test]
fn an_unknown_context_is_named_with_what_chose_it() {
    let env = Environment { docker_context: Some("gone".into()), ..env() };
    let error = discover(&env, &Fake::default()).unwrap_err().to_string();
    assert_eq!(error, "Docker context `gone` (from DOCKER_CONTEXT) is not in /home/u/.docker/contexts");
    let files = Fake::default().with("/home/u/.docker/config.json", r#"{"currentContext":"gone"}"#);
    let error = discover(&self::env(), &files).unwrap_err().to_string();
    assert_eq!(
        error,
        "Docker context `gone` (from currentContext in /home/u/.docker/config.json) is not in /home/u/.docker/contexts"
    );
}

#[test]
fn a_broken_config_file_is_a_warning_and_the_default_socket_is_tried() {
    // As the docker CLI: "WARNING: Error parsing config file", then the default socket.
    for text in ["{ not json", r#"{"currentContext":5}"#] {
        let files = Fake::default().with("/home/u/.docker/config.json", text);
        let discovery = discover(&env(), &files).unwrap();
        assert_eq!(discovery.endpoints[0].found, Found::DefaultSocket);
        assert!(
            matches!(&discovery.warnings[..], [DiscoveryError::File { path, .. }] if path == Path::new("/home/u/.docker/config.json")),
            "{:?}",
            discovery.warnings
        );
    }
}

#[test]
fn a_context_with_an_empty_host_is_the_default_socket() {
    let files = Fake::default().context("blank", "");
    let env = Environment { docker_context: Some("blank".into()), ..env() };
    let discovery = discover(&env, &files).unwrap();
    assert_eq!(discovery.endpoints[0].host, DEFAULT_SOCKET);
    assert!(discovery.warnings.is_empty());
}

#[test]
fn malformed_tcp_hosts_are_refused_as_given() {
    for host in
        ["tcp://127.0.0.1:99999", "tcp://host:notaport", "tcp://", "tcp://:2375", "tcp://h:0", "tcp://a\x1b[31m"]
    {
        let env = Environment { docker_host: Some(host.into()), ..env() };
        let error = discover(&env, &Fake::default()).unwrap_err();
        assert!(matches!(&error, DiscoveryError::InvalidHost { host: given, .. } if given == host), "{host}: {error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("the engine's host `{}` (from DOCKER_HOST) is not a valid", shown(host)))
        );
    }
    let host = |given: &str| {
        let env = Environment { docker_host: Some(given.into()), ..env() };
        only(&env, &Fake::default()).host
    };
    assert_eq!(host("tcp://[::1]:2380"), "tcp://[::1]:2380");
    assert_eq!(host("tcp://[::1]"), "tcp://[::1]:2375");
    assert_eq!(host("tcp://build.example/"), "tcp://build.example:2375");
}

#[test]
fn a_context_that_skips_verification_is_refused() {
    let meta = r#"{"Name":"lax","Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}}}"#;
    let files = Fake::default().with(&format!("/home/u/.docker/contexts/meta/{}/meta.json", context_id("lax")), meta);
    let env = Environment { docker_context: Some("lax".into()), ..env() };
    assert!(matches!(discover(&env, &files), Err(DiscoveryError::SkipTlsVerify { .. })));
}

#[test]
fn podmans_socket_says_whether_the_default_socket_was_silent_or_denied() {
    assert_eq!(
        Found::Podman { default_denied: false }.to_string(),
        "Podman's socket, as the default socket did not answer"
    );
    assert_eq!(Found::Podman { default_denied: true }.to_string(), "Podman's socket, as the default socket was denied");
}

#[test]
fn a_broken_context_is_named_with_its_file() {
    let meta = format!("/home/u/.docker/contexts/meta/{}/meta.json", context_id("bad"));
    let files = Fake::default().with(&meta, "{ not json");
    let env = Environment { docker_context: Some("bad".into()), ..env() };
    let error = discover(&env, &files).unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::BrokenContext { name, path, .. } if name == "bad" && path == Path::new(&meta)),
        "{error}"
    );
    assert!(error.to_string().starts_with(&format!("cannot read Docker context `bad` ({meta}): ")), "{error}");
}

#[test]
fn hosts_and_names_are_shown_escaped_and_without_passwords() {
    assert_eq!(shown("tcp://user:pw@build.example:2376/"), "tcp://user:***@build.example:2376/");
    assert_eq!(shown("ssh://me@build.example"), "ssh://me@build.example", "a user alone is no secret");
    assert_eq!(shown("unix:///tmp/a@b:c/docker.sock"), "unix:///tmp/a@b:c/docker.sock");
    assert_eq!(shown("tcp://h\x1b[2J\nfake: line"), "tcp://h\\u{1b}[2J\\nfake: line");
    let env = Environment { docker_host: Some("ssh://me:secret@h\x1b[31m".into()), ..env() };
    let error = discover(&env, &Fake::default()).unwrap_err().to_string();
    assert!(error.starts_with("the engine's host `ssh://me:***@h\\u{1b}[31m` (from DOCKER_HOST)"), "{error}");
    let env = Environment { docker_context: Some("x\ny".into()), ..self::env() };
    let error = discover(&env, &Fake::default()).unwrap_err().to_string();
    assert!(error.starts_with("Docker context `x\\ny` (from DOCKER_CONTEXT)"), "{error}");
}
