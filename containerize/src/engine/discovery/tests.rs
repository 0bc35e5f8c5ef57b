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
        Some(Tls { ca: Some(expected.join("ca.pem")), cert: expected.join("cert.pem"), key: expected.join("key.pem") })
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
    assert_eq!(only(&env, &Fake::default()).tls.unwrap().ca, Some(PathBuf::from("/home/u/.docker/ca.pem")));
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

#[test]
fn config_keys_match_whatever_their_case_as_gos_json_does() {
    let pod = |config: &str| {
        let files = Fake::default().context("pod", "unix:///pod.sock").with("/home/u/.docker/config.json", config);
        let discovery = discover(&env(), &files).unwrap();
        (discovery.endpoints[0].host.clone(), discovery.warnings.len())
    };
    let used = ("unix:///pod.sock".to_owned(), 0);
    assert_eq!(pod(r#"{"currentcontext":"pod"}"#), used);
    assert_eq!(pod(r#"{"CURRENTCONTEXT":"pod"}"#), used);
    // The last of several wins; `null` changes nothing; `\u` escapes are read first.
    assert_eq!(pod(r#"{"currentContext":"pod","currentcontext":"default"}"#).0, DEFAULT_SOCKET);
    assert_eq!(pod(r#"{"currentContext":"default","currentcontext":"pod"}"#), used);
    assert_eq!(pod(r#"{"currentContext":"pod","currentContext":null}"#), used);
    assert_eq!(pod(r#"{"current\u0043ontext":"pod"}"#), used);
    // A value of the wrong type is warned about, and what was read is used (docker 28.2).
    assert_eq!(pod(r#"{"currentContext":"pod","currentcontext":5}"#), ("unix:///pod.sock".to_owned(), 1));
    // Not the same name: no current context.
    assert_eq!(pod(r#"{"current_context":"pod"}"#), (DEFAULT_SOCKET.to_owned(), 0));
    // An empty file or `null` is no configuration, and no warning, as to the docker CLI.
    assert_eq!(pod(""), (DEFAULT_SOCKET.to_owned(), 0));
    assert_eq!(pod(" \n"), (DEFAULT_SOCKET.to_owned(), 0));
    assert_eq!(pod("null"), (DEFAULT_SOCKET.to_owned(), 0));
    assert_eq!(pod("[]"), (DEFAULT_SOCKET.to_owned(), 1));
}

#[test]
fn go_folds_the_kelvin_sign_and_the_long_s_into_ascii() {
    assert!(go_field_matches("\u{212A}EY", "key"));
    assert!(go_field_matches("ho\u{17F}t", "Host"));
    assert!(go_field_matches("HOST", "Host"));
    assert!(!go_field_matches("Hos", "Host"));
    assert!(!go_field_matches("Hoşt", "Host"));
    assert!(!go_field_matches("\u{130}d", "id"), "a dotted capital I is no i to Go");
}

#[test]
fn context_keys_match_whatever_their_case_but_the_endpoints_name() {
    let meta = |text: &str| {
        let files =
            Fake::default().with(&format!("/home/u/.docker/contexts/meta/{}/meta.json", context_id("pod")), text);
        let env = Environment { docker_context: Some("pod".into()), ..env() };
        discover(&env, &files).map(|d| d.endpoints[0].host.clone())
    };
    assert_eq!(
        meta(r#"{"name":"pod","endpoints":{"docker":{"host":"unix:///lower.sock"}}}"#).unwrap(),
        "unix:///lower.sock"
    );
    assert_eq!(meta(r#"{"Endpoints":{"docker":{"ho\u017ft":"unix:///s.sock"}}}"#).unwrap(), "unix:///s.sock");
    // The endpoint's name is a map key, matched exactly (docker 28.2: "cannot find docker endpoint").
    assert!(matches!(
        meta(r#"{"Endpoints":{"Docker":{"Host":"unix:///d.sock"}}}"#),
        Err(DiscoveryError::NoDockerEndpoint { .. })
    ));
    // The last `docker` wins; several `Endpoints` merge into one map.
    let last = r#"{"Endpoints":{"docker":{"Host":"unix:///a.sock"},"docker":{"Host":"unix:///b.sock"}}}"#;
    assert_eq!(meta(last).unwrap(), "unix:///b.sock");
    let merged = r#"{"Endpoints":{"docker":{"Host":"unix:///a.sock"}},"endpoints":{"kubernetes":{}}}"#;
    assert_eq!(meta(merged).unwrap(), "unix:///a.sock");
    // Skipping verification is found whatever the case.
    let lax = r#"{"endpoints":{"docker":{"host":"tcp://h:2376","skiptlsverify":true}}}"#;
    assert!(matches!(meta(lax), Err(DiscoveryError::SkipTlsVerify { .. })));
    // A value of the wrong type anywhere it is read breaks the context, as for the docker CLI.
    for broken in [
        r#"{"Endpoints":{"docker":{"Ho\u017ft":"unix:///s.sock","host":5}}}"#,
        r#"{"Endpoints":{"docker":{"Host":"unix:///s.sock","SkipTLSVerify":"no"}}}"#,
        r#"{"Endpoints":{"docker":null}}"#,
        r#"{"Endpoints":5}"#,
    ] {
        assert!(matches!(meta(broken), Err(DiscoveryError::BrokenContext { .. })), "{broken}");
    }
}

#[test]
fn docker_tls_without_verification_is_refused() {
    let env = Environment { docker_host: Some("tcp://h:2376".into()), docker_tls: true, ..env() };
    let error = discover(&env, &Fake::default()).unwrap_err();
    assert!(matches!(&error, DiscoveryError::TlsWithoutVerify { host } if host == "tcp://h:2376"));
    assert_eq!(
        error.to_string(),
        "DOCKER_TLS asks for TLS without verifying the engine's certificate (for `tcp://h:2376`), which containerize does not do"
    );
    // With DOCKER_TLS_VERIFY too, verified TLS, as the docker CLI.
    let verified = Environment { docker_tls_verify: true, ..env.clone() };
    assert!(only(&verified, &Fake::default()).tls.is_some());
    // A socket takes no TLS either way.
    let socket = Environment { docker_host: Some("unix:///s.sock".into()), ..env };
    assert_eq!(only(&socket, &Fake::default()).tls, None);
}

#[test]
fn a_context_with_a_client_certificate_and_no_ca_trusts_the_systems_authorities() {
    let tls = format!("/home/u/.docker/contexts/tls/{}/docker", context_id("ci"));
    let files = Fake::default()
        .context("ci", "tcp://build.example:2376")
        .with(&format!("{tls}/cert.pem"), "")
        .with(&format!("{tls}/key.pem"), "");
    let env = Environment { docker_context: Some("ci".into()), ..env() };
    let endpoint = only(&env, &files);
    let tls = PathBuf::from(tls);
    assert_eq!(endpoint.tls, Some(Tls { ca: None, cert: tls.join("cert.pem"), key: tls.join("key.pem") }));
}

#[test]
fn files_are_read_up_to_a_cap_and_only_when_regular() {
    let too_much = read_capped(Path::new("/dev/zero")).unwrap_err().to_string();
    assert_eq!(too_much, "it is not a regular file");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    assert_eq!(read_capped(&fifo).unwrap_err().to_string(), "it is not a regular file", "read without waiting");
    let big = dir.path().join("meta.json");
    std::fs::File::create(&big).unwrap().set_len(MAX_FILE_BYTES + 1).unwrap();
    assert_eq!(read_capped(&big).unwrap_err().to_string(), "it is larger than 4 MiB");
    std::fs::File::create(&big).unwrap().set_len(MAX_FILE_BYTES).unwrap();
    assert_eq!(read_capped(&big).unwrap().len() as u64, MAX_FILE_BYTES);
    // Through discovery: a warning for config.json, a broken context for its metadata.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", home.join(".docker/config.json")).unwrap();
    let env = Environment { home: Some(home.clone()), ..Environment::default() };
    let warnings = discover(&env, &HostFiles).unwrap().warnings;
    assert!(
        matches!(&warnings[..], [DiscoveryError::File { message, .. }] if message == "it is not a regular file"),
        "{warnings:?}"
    );
    let meta = home.join(".docker/contexts/meta").join(context_id("zero"));
    std::fs::create_dir_all(&meta).unwrap();
    std::os::unix::fs::symlink("/dev/zero", meta.join("meta.json")).unwrap();
    let env = Environment { docker_context: Some("zero".into()), ..env };
    let error = discover(&env, &HostFiles).unwrap_err().to_string();
    assert!(
        error.starts_with("cannot read Docker context `zero` (") && error.ends_with("): it is not a regular file"),
        "{error}"
    );
}
