//! End to end: every way an engine is found and reached. Podman through its Docker-compatible
//! service, selected by `DOCKER_HOST`, by a context (`DOCKER_CONTEXT`, `currentContext`), and as
//! the fallback when the default socket is closed to the user; the local engine over TLS behind
//! a TLS-terminating proxy, with good and bad certificates; a user without access to the socket;
//! an `ssh://` host.

use containerize_tests::{
    Podman, TestTag, Unprivileged, containerize, docker, engine_available, example, output_of, poll, tool_available,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The line that says which engine was found, and how.
fn engine_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr.lines().next().unwrap_or_default().to_owned()
}

/// `cargo-containerize` in `dir` with none of the engine settings of the test's environment.
fn containerize_clean(dir: &Path) -> assert_cmd::Command {
    let mut command = containerize(dir);
    for variable in
        ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]
    {
        command.env_remove(variable);
    }
    command
}

/// A Docker configuration directory of the test's own, with a context made by the docker CLI.
fn context_store(name: &str, docker_endpoint: &str) -> tempfile::TempDir {
    let config = tempfile::Builder::new().prefix("containerize-docker-config-").tempdir().unwrap();
    output_of(Command::new("docker").env("DOCKER_CONFIG", config.path()).args([
        "context",
        "create",
        name,
        "--docker",
        docker_endpoint,
    ]));
    config
}

#[test]
fn hello_builds_runs_and_is_tagged_on_podman_with_dockers_legacy_dockerfile() {
    let Some(podman) = Podman::start("hello_builds_runs_and_is_tagged_on_podman_with_dockers_legacy_dockerfile") else {
        return;
    };
    let dir = example("hello");
    let tag = podman.tag("podman-hello");
    let output = containerize_clean(dir.path())
        .env("DOCKER_HOST", podman.host())
        .args(["--json", "-t", &tag, "--run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = engine_line(&output);
    assert!(first.starts_with("engine: Podman "), "{first}");
    assert!(first.ends_with(&format!("at {}, from DOCKER_HOST, with the legacy builder", podman.host())), "{first}");
    assert!(stderr.contains("Hello, world! (from a static container)"), "--run ran it: {stderr}");
    // Podman's compatible API files a short name under docker.io, as Docker does.
    let inspected = podman.podman(&["image", "inspect", &format!("docker.io/{tag}"), "--format", "{{.Config.User}}"]);
    assert_eq!(inspected, "65532:65532");
    let greeting = podman.podman(&["run", "--rm", &format!("docker.io/{tag}"), "podman"]);
    assert_eq!(greeting, "Hello, podman! (from a static container)");
    // The plan, and so the Dockerfile, is the one Docker's legacy builder gets.
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let printed =
        containerize_clean(dir.path()).args(["--print-plan", "-t", &tag, "--buildkit", "never"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(report[0]["plan"], plan[0], "the plan built on Podman is --buildkit never's");
    // Podman's CLI shows an id without the `sha256:` the API's answers carry.
    let id = podman.podman(&["image", "inspect", &format!("docker.io/{tag}"), "--format", "{{.Id}}"]);
    assert_eq!(report[0]["id"], format!("sha256:{id}"));
    // Podman has no BuildKit to give.
    let always = containerize_clean(dir.path())
        .env("DOCKER_HOST", podman.host())
        .args(["--buildkit", "always"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&always.stderr);
    assert_eq!(always.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("does not offer BuildKit"), "{stderr}");
}

#[test]
fn a_failed_step_on_podman_shows_its_output_and_tags_nothing() {
    let Some(podman) = Podman::start("a_failed_step_on_podman_shows_its_output_and_tags_nothing") else {
        return;
    };
    let dir = example("hello");
    std::fs::write(dir.path().join("src/main.rs"), "fn main() { let n: u32 = \"not a number\"; }\n").unwrap();
    let tag = podman.tag("podman-broken");
    let output = containerize_clean(dir.path()).env("DOCKER_HOST", podman.host()).args(["-t", &tag]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("error[E0308]"), "the step's output is shown: {stderr}");
    assert!(stderr.contains("failed at `RUN") && stderr.contains("cargo"), "the step is named: {stderr}");
    let inspect = podman.command(&["image", "exists", &format!("docker.io/{tag}")]).output().unwrap();
    assert!(!inspect.status.success(), "a failed build leaves no tag");
}

#[test]
fn podman_is_found_through_a_context_named_by_docker_context_or_current() {
    let Some(podman) = Podman::start("podman_is_found_through_a_context_named_by_docker_context_or_current") else {
        return;
    };
    let config = context_store("podman-test", &format!("host={}", podman.host()));
    let dir = example("hello");
    let tag = podman.tag("podman-context");
    let by_variable = containerize_clean(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "podman-test")
        .args(["-t", &tag])
        .output()
        .unwrap();
    assert!(by_variable.status.success(), "{}", String::from_utf8_lossy(&by_variable.stderr));
    let first = engine_line(&by_variable);
    assert!(
        first.starts_with("engine: Podman ") && first.contains("context `podman-test` from DOCKER_CONTEXT"),
        "{first}"
    );
    assert!(podman.podman(&["image", "inspect", &format!("docker.io/{tag}"), "--format", "{{.Id}}"]).len() > 12);

    output_of(Command::new("docker").env("DOCKER_CONFIG", config.path()).args(["context", "use", "podman-test"]));
    let config_json = config.path().join("config.json");
    let by_config =
        containerize_clean(dir.path()).env("DOCKER_CONFIG", config.path()).args(["-t", &tag]).output().unwrap();
    assert!(by_config.status.success(), "{}", String::from_utf8_lossy(&by_config.stderr));
    let first = engine_line(&by_config);
    let expected = format!("context `podman-test` from currentContext in {}", config_json.display());
    assert!(first.starts_with("engine: Podman ") && first.contains(&expected), "{first}");

    // DOCKER_HOST still comes first, as it does for the docker CLI.
    let by_host = containerize_clean(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&by_host.stderr);
    assert_eq!(by_host.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("no Docker engine answers at unix:///nonexistent/docker.sock (from DOCKER_HOST)"),
        "{stderr}"
    );
    let unknown = containerize_clean(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "no-such-context")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("Docker context `no-such-context` (from DOCKER_CONTEXT) is not in"), "{stderr}");
    assert!(stderr.contains("docker context ls"), "{stderr}");
}

#[test]
fn a_user_without_access_to_the_socket_is_told_how_to_get_it() {
    let test = "a_user_without_access_to_the_socket_is_told_how_to_get_it";
    if !engine_available(test) {
        return;
    }
    let Some(user) = Unprivileged::new(test) else { return };
    let dir = example("hello");
    Unprivileged::open_to_all(dir.path());
    let output = user.containerize(dir.path(), &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("permission denied on the socket at unix:///var/run/docker.sock (the default socket)"),
        "{stderr}"
    );
    for way in ["usermod -aG docker", "rootless Docker or Podman", "docker context use", "DOCKER_HOST"] {
        assert!(stderr.contains(way), "the help names `{way}`: {stderr}");
    }
}

#[test]
fn a_user_without_access_to_dockers_socket_falls_back_to_their_podman_socket() {
    let test = "a_user_without_access_to_dockers_socket_falls_back_to_their_podman_socket";
    let Some(podman) = Podman::start(test) else { return };
    let Some(user) = Unprivileged::new(test) else { return };
    podman.give_to(containerize_tests::UNPRIVILEGED);
    let dir = example("hello");
    Unprivileged::open_to_all(dir.path());
    let tag = podman.tag("podman-fallback");
    let runtime_dir = podman.runtime_dir().to_string_lossy().into_owned();
    let output =
        user.containerize(dir.path(), &[("XDG_RUNTIME_DIR", &runtime_dir)]).args(["-t", &tag]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = engine_line(&output);
    assert!(
        first.starts_with("engine: Podman ") && first.contains("Podman's socket, as the default socket was denied"),
        "{first}"
    );
    assert!(podman.podman(&["image", "inspect", &format!("docker.io/{tag}"), "--format", "{{.Id}}"]).len() > 12);
}

/// Certificates made with the openssl CLI: an authority, the proxy's certificate for
/// 127.0.0.1, a client's; and a rogue authority with a client certificate of its own.
struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    fn new() -> Certificates {
        let dir = tempfile::Builder::new().prefix("containerize-certs-").tempdir().unwrap();
        let certs = Certificates { dir };
        for authority in ["ca", "rogue-ca"] {
            certs.openssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=containerize test {authority}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &format!("{authority}-key.pem"),
                "-out",
                &format!("{authority}.pem"),
            ]);
        }
        certs.leaf("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        certs.leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
        certs.leaf("rogue-client", "rogue-ca", "extendedKeyUsage=clientAuth\n");
        certs
    }

    fn openssl(&self, args: &[&str]) {
        output_of(Command::new("openssl").current_dir(self.dir.path()).args(args).stderr(Stdio::piped()));
    }

    fn leaf(&self, name: &str, authority: &str, extensions: &str) {
        std::fs::write(self.dir.path().join(format!("{name}.ext")), extensions).unwrap();
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN=containerize test {name}"),
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{authority}.pem"),
            "-CAkey",
            &format!("{authority}-key.pem"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A DOCKER_CERT_PATH directory: `ca.pem` from `authority`, the `client` certificate and key.
    fn cert_path(&self, authority: &str, client: &str) -> PathBuf {
        let dir = self.dir.path().join(format!("as-{client}-trusting-{authority}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(self.path(&format!("{authority}.pem")), dir.join("ca.pem")).unwrap();
        std::fs::copy(self.path(&format!("{client}.pem")), dir.join("cert.pem")).unwrap();
        std::fs::copy(self.path(&format!("{client}-key.pem")), dir.join("key.pem")).unwrap();
        dir
    }
}

/// stunnel in front of the local engine's socket: TLS on a loopback port, requiring a client
/// certificate signed by the test's authority.
struct TlsProxy {
    stunnel: std::process::Child,
    port: u16,
    _config: tempfile::TempDir,
}

impl TlsProxy {
    fn start(certs: &Certificates) -> TlsProxy {
        let engine = match std::env::var("DOCKER_HOST") {
            Ok(host) => host.strip_prefix("unix://").expect("a unix DOCKER_HOST").to_owned(),
            Err(_) => "/var/run/docker.sock".to_owned(),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = tempfile::tempdir().unwrap();
        let conf = config.path().join("stunnel.conf");
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\n[engine]\naccept = 127.0.0.1:{port}\nconnect = {engine}\ncert = {}\nkey = {}\nCAfile = {}\nverify = 2\n",
                certs.path("server.pem").display(),
                certs.path("server-key.pem").display(),
                certs.path("ca.pem").display()
            ),
        )
        .unwrap();
        let stunnel = Command::new("stunnel4")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stunnel starts");
        let proxy = TlsProxy { stunnel, port, _config: config };
        poll(
            std::time::Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(drop),
            || format!("stunnel never listened on {port}"),
        );
        proxy
    }

    fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.stunnel.kill();
        let _ = self.stunnel.wait();
    }
}

fn tls_ready(test: &str) -> bool {
    engine_available(test) && tool_available(test, "stunnel4") && tool_available(test, "openssl")
}

#[test]
fn hello_builds_over_tls_from_docker_tls_verify_and_from_a_context() {
    let test = "hello_builds_over_tls_from_docker_tls_verify_and_from_a_context";
    if !tls_ready(test) {
        return;
    }
    let certs = Certificates::new();
    let proxy = TlsProxy::start(&certs);
    let dir = example("hello");
    let tag = TestTag::new("tls-hello");
    let good = certs.cert_path("ca", "client");
    let output = containerize_clean(dir.path())
        .env("DOCKER_HOST", proxy.host())
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &good)
        .args(["-t", &tag.0, "--run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = engine_line(&output);
    assert!(
        first.starts_with("engine: Docker ") && first.contains(&format!("at {}, from DOCKER_HOST", proxy.host())),
        "{first}"
    );
    assert!(stderr.contains("Hello, world!"), "--run ran it over TLS: {stderr}");
    assert_eq!(docker(&["image", "inspect", &tag.0, "--format", "{{.Config.User}}"]), "65532:65532");

    let endpoint = format!(
        "host={},ca={},cert={},key={}",
        proxy.host(),
        good.join("ca.pem").display(),
        good.join("cert.pem").display(),
        good.join("key.pem").display()
    );
    let config = context_store("tls-test", &endpoint);
    let through_context = containerize_clean(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "tls-test")
        .args(["-t", &tag.0, "--buildkit", "never"])
        .output()
        .unwrap();
    assert!(through_context.status.success(), "{}", String::from_utf8_lossy(&through_context.stderr));
    let first = engine_line(&through_context);
    assert!(first.contains(&format!("at {}, context `tls-test` from DOCKER_CONTEXT", proxy.host())), "{first}");
}

#[test]
fn certificate_problems_are_named_with_exit_4() {
    let test = "certificate_problems_are_named_with_exit_4";
    if !tls_ready(test) {
        return;
    }
    let certs = Certificates::new();
    let proxy = TlsProxy::start(&certs);
    let dir = example("hello");
    let missing_key = certs.cert_path("ca", "client");
    let missing_key = missing_key.parent().unwrap().join("missing-key");
    std::fs::create_dir_all(&missing_key).unwrap();
    for file in ["ca.pem", "cert.pem"] {
        std::fs::copy(certs.cert_path("ca", "client").join(file), missing_key.join(file)).unwrap();
    }
    let anonymous = missing_key.parent().unwrap().join("no-client-certificate");
    std::fs::create_dir_all(&anonymous).unwrap();
    std::fs::copy(certs.path("ca.pem"), anonymous.join("ca.pem")).unwrap();
    // cert.pem and key.pem swapped: named before connecting, not taken for the engine's refusal.
    let swapped = missing_key.parent().unwrap().join("swapped");
    std::fs::create_dir_all(&swapped).unwrap();
    let client = certs.cert_path("ca", "client");
    std::fs::copy(client.join("ca.pem"), swapped.join("ca.pem")).unwrap();
    std::fs::copy(client.join("key.pem"), swapped.join("cert.pem")).unwrap();
    std::fs::copy(client.join("cert.pem"), swapped.join("key.pem")).unwrap();
    // The client's certificate with the rogue client's key: named before connecting, where the
    // engine would only answer "IllegalParameter".
    let mismatched = missing_key.parent().unwrap().join("mismatched");
    std::fs::create_dir_all(&mismatched).unwrap();
    std::fs::copy(client.join("ca.pem"), mismatched.join("ca.pem")).unwrap();
    std::fs::copy(client.join("cert.pem"), mismatched.join("cert.pem")).unwrap();
    std::fs::copy(certs.path("rogue-client-key.pem"), mismatched.join("key.pem")).unwrap();
    let cases = [
        (swapped.clone(), format!("{} holds no PEM certificate", swapped.join("cert.pem").display())),
        (
            mismatched.clone(),
            format!(
                "{} is not the private key of the certificate in {}",
                mismatched.join("key.pem").display(),
                mismatched.join("cert.pem").display()
            ),
        ),
        (anonymous, "the engine wants a client certificate, and there is none".to_owned()),
        (certs.cert_path("ca", "rogue-client"), "the engine refused this client's certificate".to_owned()),
        (certs.cert_path("rogue-ca", "client"), "the engine's certificate is not trusted".to_owned()),
        (missing_key.clone(), format!("{} is missing", missing_key.join("key.pem").display())),
    ];
    for (cert_path, problem) in cases {
        let output = containerize_clean(dir.path())
            .env("DOCKER_HOST", proxy.host())
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &cert_path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains(&format!("the TLS connection to {} (from DOCKER_HOST) failed", proxy.host())),
            "{stderr}"
        );
        assert!(stderr.contains(&problem), "{}: {stderr}", cert_path.display());
        assert!(stderr.contains("DOCKER_CERT_PATH"), "the help says where the files are looked for: {stderr}");
    }

    // A context with a client certificate and no CA trusts the system's authorities, as the
    // docker CLI's does: the test's authority is none of them.
    let endpoint = format!(
        "host={},cert={},key={}",
        proxy.host(),
        client.join("cert.pem").display(),
        client.join("key.pem").display()
    );
    let config = context_store("tls-no-ca", &endpoint);
    let output = containerize_clean(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "tls-no-ca")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("the engine's certificate is not trusted"), "{stderr}");

    // DOCKER_TLS alone (TLS that trusts any certificate) is refused, before connecting.
    let output =
        containerize_clean(dir.path()).env("DOCKER_HOST", proxy.host()).env("DOCKER_TLS", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("DOCKER_TLS asks for TLS without verifying the engine's certificate"), "{stderr}");
    assert!(stderr.contains("set DOCKER_TLS_VERIFY=1"), "{stderr}");
}

#[test]
fn ssh_hosts_are_refused_with_what_to_do_instead() {
    let dir = example("hello");
    let output = containerize_clean(dir.path()).env("DOCKER_HOST", "ssh://builder@build.example").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("`ssh://builder@build.example` (from DOCKER_HOST) is not supported"), "{stderr}");
    assert!(stderr.contains("ssh -NL") && stderr.contains("tcp://"), "the help says what works: {stderr}");
}
