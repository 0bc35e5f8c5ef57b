//! `--push` against a real registry (`shared/fixtures/start-registry` beside the clone: Docker Distribution
//! on 127.0.0.1:5000, and with basic auth on 5001), checked with an independent client, skopeo;
//! through Docker, and through Podman's compatible service.

use containerize_tests::{Podman, TestTag, containerize, edit_file, engine_available, example, poll, repo};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const USER: &str = "tester";
const PASSWORD: &str = "secret";

/// Starts the test registry (with basic auth as `USER:PASSWORD` when `auth`), once it answers;
/// its address.
fn registry(auth: bool) -> String {
    // `../shared` beside the clone, or beside a directory of worktrees.
    let script = repo()
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/fixtures/start-registry"))
        .find(|script| script.exists())
        .expect("../shared/fixtures/start-registry beside the repository");
    let mut command = Command::new(&script);
    if auth {
        command.args(["--auth", &format!("{USER}:{PASSWORD}")]);
    }
    let output = command.output().unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(output.status.success(), "start-registry failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A docker configuration directory whose `config.json` holds `user:password` for
/// `registry`, as `docker login` writes it.
fn docker_config(registry: &str, user: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = base64(format!("{user}:{password}").as_bytes());
    let config = serde_json::json!({ "auths": { registry: { "auth": auth } } });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// The manifest digest the registry serves for `reference`, as skopeo sees it; `None` when
/// the registry has no such tag.
fn skopeo_digest(reference: &str, creds: Option<&str>) -> Option<String> {
    let mut command = Command::new("skopeo");
    command.args(["inspect", "--tls-verify=false"]);
    if let Some(creds) = creds {
        command.args(["--creds", creds]);
    }
    let output = command.arg(format!("docker://{reference}")).output().expect("skopeo runs (apt-get install skopeo)");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("manifest unknown") || stderr.contains("name unknown"), "skopeo: {stderr}");
        return None;
    }
    let inspected: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Some(inspected["Digest"].as_str().unwrap().to_owned())
}

/// Local tags the pushes made, removed when dropped.
fn local_tags(references: &[String]) -> Vec<TestTag> {
    references.iter().cloned().map(TestTag).collect()
}

#[test]
fn a_push_with_a_credentials_file_gives_the_digest_skopeo_sees() {
    if !engine_available("a_push_with_a_credentials_file_gives_the_digest_skopeo_sees") {
        return;
    }
    let registry = registry(true);
    let config = docker_config(&registry, USER, PASSWORD);
    let dir = example("hello");
    let reference = format!("{registry}/containerize-test-hello-{}:1", std::process::id());
    let _tag = local_tags(std::slice::from_ref(&reference));
    let output = containerize(dir.path())
        .env("DOCKER_CONFIG", config.path())
        .args(["-q", "--push", "-t", &reference])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let printed = stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("pushed {reference} ")))
        .unwrap_or_else(|| panic!("no digest printed for {reference}: {stdout}"));
    assert!(printed.starts_with("sha256:") && printed.len() == 71, "{printed}");
    let creds = format!("{USER}:{PASSWORD}");
    assert_eq!(skopeo_digest(&reference, Some(&creds)).as_deref(), Some(printed));
}

/// The workspace example (two binaries) under a registry prefix on the authenticated registry.
fn workspace_under(registry: &str, prefix: &str, tags: &str) -> containerize_tests::Example {
    let dir = example("workspace");
    let manifest = dir.path().join("Cargo.toml");
    let settings = format!("[workspace.metadata.containerize]\nregistry = \"{registry}/{prefix}\"\ntags = {tags}\n");
    edit_file(&manifest, "[workspace.metadata.containerize]\n", &settings);
    dir
}

#[test]
fn a_refused_password_pushes_no_image_and_builds_none() {
    if !engine_available("a_refused_password_pushes_no_image_and_builds_none") {
        return;
    }
    let registry = registry(true);
    let config = docker_config(&registry, USER, "wrong");
    let prefix = format!("containerize-test-refused-{}", std::process::id());
    let dir = workspace_under(&registry, &prefix, "[\"1\"]");
    let references = [format!("{registry}/{prefix}/greet:1"), format!("{registry}/{prefix}/server:1")];
    let _tags = local_tags(&references);
    let output = containerize(dir.path()).env("DOCKER_CONFIG", config.path()).args(["--push"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "the documented status of a refused login: {stderr}");
    assert!(stderr.contains(&format!("the registry {registry} refused the credentials")), "{stderr}");
    assert!(stderr.contains(&format!("docker login {registry}")), "{stderr}");
    assert!(stderr.contains("nothing was pushed"), "{stderr}");
    assert!(!stderr.contains("building "), "the registry is asked before anything is built: {stderr}");
    let creds = format!("{USER}:{PASSWORD}");
    for reference in &references {
        assert_eq!(skopeo_digest(reference, Some(&creds)), None, "{reference} is not in the registry");
    }
}

#[test]
fn an_anonymous_push_of_a_workspace_takes_the_registry_prefix_and_tag_templates() {
    if !engine_available("an_anonymous_push_of_a_workspace_takes_the_registry_prefix_and_tag_templates") {
        return;
    }
    let registry = registry(false);
    let prefix = format!("containerize-test-templates-{}", std::process::id());
    let dir = workspace_under(&registry, &prefix, "[\"{version}\", \"v{version}-{revision}\"]");
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).current_dir(dir.path()).output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "fixture"]);
    let revision = git(&["rev-parse", "HEAD"])[..7].to_owned();
    let references: Vec<String> = ["greet", "server"]
        .iter()
        .flat_map(|bin| {
            [format!("{registry}/{prefix}/{bin}:0.2.0"), format!("{registry}/{prefix}/{bin}:v0.2.0-{revision}")]
        })
        .collect();
    let _tags = local_tags(&references);
    // No credentials at all: an empty configuration directory.
    let config = tempfile::tempdir().unwrap();
    let output =
        containerize(dir.path()).env("DOCKER_CONFIG", config.path()).args(["-q", "--push", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut pushed = Vec::new();
    for report in reports.as_array().unwrap() {
        let tags: Vec<&str> = report["pushed"].as_array().unwrap().iter().map(|p| p["tag"].as_str().unwrap()).collect();
        assert_eq!(tags, report["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect::<Vec<_>>());
        for entry in report["pushed"].as_array().unwrap() {
            let (tag, digest) = (entry["tag"].as_str().unwrap(), entry["digest"].as_str().unwrap());
            assert_eq!(skopeo_digest(tag, None).as_deref(), Some(digest), "{tag}");
            pushed.push(tag.to_owned());
        }
    }
    pushed.sort();
    let mut expected = references.clone();
    expected.sort();
    assert_eq!(pushed, expected);

    // An uncommitted file makes the sources another than the commit's: said in tag and label.
    std::fs::write(dir.path().join("NOTES"), "not committed").unwrap();
    let output = containerize(dir.path()).args(["--print-plan"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plans: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let full = git(&["rev-parse", "HEAD"]);
    for plan in plans.as_array().unwrap() {
        let tags: Vec<&str> = plan["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert!(tags.iter().any(|t| t.ends_with(&format!(":v0.2.0-{revision}-dirty"))), "{tags:?}");
        assert_eq!(plan["runtime"]["labels"]["org.opencontainers.image.revision"], format!("{full}-dirty"));
    }
}

/// An address of this machine that is not loopback, where the engine does not take plain http.
fn non_loopback_address() -> Option<String> {
    let output = Command::new("hostname").arg("-I").output().ok()?;
    String::from_utf8(output.stdout)
        .ok()?
        .split_whitespace()
        .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !ip.is_loopback()))
        .map(str::to_owned)
}

/// A registry process, stopped when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_plain_http_registry_off_loopback_is_refused_before_building() {
    if !engine_available("a_plain_http_registry_off_loopback_is_refused_before_building") {
        return;
    }
    registry(false); // installs the registry's server where it is missing
    let Some(address) = non_loopback_address() else {
        eprintln!("SKIPPED: this machine has no IPv4 address besides loopback");
        return;
    };
    let port = std::net::TcpListener::bind((address.as_str(), 0)).unwrap().local_addr().unwrap().port();
    let host = format!("{address}:{port}");
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.yml");
    let storage = data.path().join("data");
    std::fs::write(
        &config,
        format!("version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: {host}}}\n", storage.display()),
    )
    .unwrap();
    let _served = Served(Command::new("docker-registry").arg("serve").arg(&config).spawn().unwrap());
    poll(Duration::from_secs(20), || std::net::TcpStream::connect(&host).ok(), || format!("no registry on {host}"));
    let dir = example("hello");
    let reference = format!("{host}/containerize-test-insecure:1");
    let _tag = local_tags(std::slice::from_ref(&reference));
    let output = containerize(dir.path()).args(["--push", "-t", &reference]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(10), "{stderr}");
    assert!(stderr.contains(&format!("the registry {host} answers in plain http")), "{stderr}");
    assert!(stderr.contains("insecure-registries"), "the fix is named: {stderr}");
    assert!(!stderr.contains("building "), "{stderr}");
    assert!(!Path::new(&storage).join("docker").exists(), "nothing reached the registry");
}

#[test]
fn a_private_base_image_is_pulled_with_the_same_credentials() {
    if !engine_available("a_private_base_image_is_pulled_with_the_same_credentials") {
        return;
    }
    let registry = registry(true);
    let config = docker_config(&registry, USER, PASSWORD);
    let base = format!("{registry}/containerize-test-base-{}:1", std::process::id());
    containerize_tests::docker(&["tag", "gcr.io/distroless/static-debian13:nonroot", &base]);
    let pushed = Command::new("docker").env("DOCKER_CONFIG", config.path()).args(["push", &base]).output().unwrap();
    assert!(pushed.status.success(), "docker push: {}", String::from_utf8_lossy(&pushed.stderr));
    let dir = example("hello");
    let anonymous = tempfile::tempdir().unwrap();
    // Both builders, and the image the tool assembles itself (which pulls the base on its own).
    for (builder, assembled) in [("never", false), ("always", false), ("auto", true)] {
        // Only in the registry: the build must pull it.
        drop(TestTag(base.clone()));
        let tag = TestTag::new(&format!("private-base-{builder}"));
        let mut flags = vec!["-q", "--buildkit", builder, "--base", &base, "-t", &tag.0];
        if assembled {
            flags.push("--reproducible");
        }
        let refused = containerize(dir.path()).env("DOCKER_CONFIG", anonymous.path()).args(&flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(
            refused.status.code(),
            Some(5),
            "without credentials the base can't be pulled ({builder}): {stderr}"
        );
        assert!(stderr.contains(&format!("docker login {registry}")), "{stderr}");
        let output = containerize(dir.path()).env("DOCKER_CONFIG", config.path()).args(&flags).output().unwrap();
        assert!(output.status.success(), "{builder}: {}", String::from_utf8_lossy(&output.stderr));
    }
    drop(TestTag(base));
}

#[test]
fn the_registry_prefix_and_tag_templates_are_planned_and_a_bad_placeholder_refused() {
    // No engine is needed to plan.
    let dir = workspace_under("ghcr.io", "acme", "[\"{version}\", \"latest\"]");
    let output = containerize(dir.path()).args(["--print-plan", "--bin", "greet"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plans: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plans[0]["tags"], serde_json::json!(["ghcr.io/acme/greet:0.2.0", "ghcr.io/acme/greet:latest"]));
    assert!(plans[0]["origins"]["registry"]["at"].as_str().unwrap().starts_with("Cargo.toml:"), "{plans}");

    let dir = workspace_under("ghcr.io", "acme", "[\"{sha}\"]");
    let output = containerize(dir.path()).args(["--print-plan"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tag `{sha}` has the unknown placeholder `{sha}`"), "{stderr}");
    assert!(stderr.contains("Cargo.toml"), "the error points into the manifest: {stderr}");

    // A copy outside git has no revision to tag with.
    let dir = workspace_under("ghcr.io", "acme", "[\"{revision}\"]");
    let output = containerize(dir.path()).args(["--print-plan"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not in a git checkout"), "{stderr}");
}

#[test]
fn ctrl_c_during_a_push_says_exactly_what_was_pushed() {
    if !engine_available("ctrl_c_during_a_push_says_exactly_what_was_pushed") {
        return;
    }
    let registry = registry(false);
    let repository = format!("{registry}/containerize-test-ctrl-c-{}", std::process::id());
    let (first, second) = (format!("{repository}:1"), format!("{repository}:2"));
    let _tags = local_tags(&[first.clone(), second.clone()]);
    let dir = example("hello");
    // The second tag's push: held, so the engine never sees it.
    let held = containerize_tests::HeldRequest::new(2, |line| line.starts_with("POST ") && line.contains("/push?"));
    let config = tempfile::tempdir().unwrap();
    let mut child = Command::new(containerize_tests::binary())
        .args(["-q", "--push", "-t", &first, "-t", &second])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_HOST", held.docker_host())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(status) = held.arrived_from(&mut child) {
        panic!("the tool ended ({status}) before the second push");
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let (status, _) = poll(Duration::from_secs(60), || child.try_wait().unwrap(), || "the tool did not stop".into());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let digest = skopeo_digest(&first, None).expect("the first tag was pushed");
    assert!(stderr.contains(&format!("pushed before it stopped: {first}@{digest}")), "{stderr}");
    assert!(!stderr.contains(&format!("{second}@")), "{stderr}");
    assert_eq!(skopeo_digest(&second, None), None, "the second tag was not pushed");
    held.release();
}

/// Through Podman's service, which differs from Docker where it matters here: it has no
/// `/distribution` endpoint to ask a registry with, speaks plain http to a loopback registry only
/// when told, and reports no layers. One build (Podman's cache serves the rest).
#[test]
fn a_push_through_podman_gives_the_digest_skopeo_sees_and_dockers_exit_statuses() {
    let Some(podman) = Podman::start("a_push_through_podman_gives_the_digest_skopeo_sees_and_dockers_exit_statuses")
    else {
        return;
    };
    let (open, guarded) = (registry(false), registry(true));
    let dir = example("hello");
    let push = |config: &Path, reference: &str| {
        let mut command = containerize(dir.path());
        for variable in ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"] {
            command.env_remove(variable);
        }
        command.env("DOCKER_HOST", podman.host()).env("DOCKER_CONFIG", config).args(["--push", "-t", reference]);
        command.output().unwrap()
    };
    let printed_digest = |output: &std::process::Output, reference: &str| {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.starts_with("engine: Podman "), "{stderr}");
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("pushed {reference} ")))
            .unwrap_or_else(|| panic!("no digest printed for {reference}: {stdout}"))
            .to_owned()
    };

    // Anonymous, to the plain-http registry on loopback, as Docker takes it.
    let anonymous = tempfile::tempdir().unwrap();
    let reference = podman.registry_tag(&open, "podman-push");
    let output = push(anonymous.path(), &reference);
    let digest = printed_digest(&output, &reference);
    assert_eq!(skopeo_digest(&reference, None), Some(digest));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(" 0 layers"), "Podman reports no layers, so none are counted: {stderr}");

    // A base only that registry has: pulled over plain http, as Docker pulls it.
    let base = podman.registry_tag(&open, "podman-pulled-base");
    let copied = Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .args([format!("docker://{reference}"), format!("docker://{base}")])
        .output()
        .unwrap();
    assert!(copied.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&copied.stderr));
    let mut command = containerize(dir.path());
    for variable in ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"] {
        command.env_remove(variable);
    }
    let built = command
        .env("DOCKER_HOST", podman.host())
        .env("DOCKER_CONFIG", anonymous.path())
        .args(["-q", "--base", &base, "-t", &podman.registry_tag(&open, "podman-on-a-pulled-base")])
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));

    // With the credentials of a config.json, to the registry that wants them.
    let config = docker_config(&guarded, USER, PASSWORD);
    let reference = podman.registry_tag(&guarded, "podman-push");
    let digest = printed_digest(&push(config.path(), &reference), &reference);
    let creds = format!("{USER}:{PASSWORD}");
    assert_eq!(skopeo_digest(&reference, Some(&creds)), Some(digest));

    // Refused, with or without credentials: before building, as on Docker.
    let wrong = docker_config(&guarded, USER, "wrong");
    let refused_tag = podman.registry_tag(&guarded, "podman-refused");
    for (config, whose) in [(wrong.path(), "the credentials"), (anonymous.path(), "a push without credentials")] {
        let output = push(config, &refused_tag);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(7), "{stderr}");
        assert!(stderr.contains(&format!("the registry {guarded} refused {whose}")), "{stderr}");
        assert!(stderr.contains("nothing was pushed") && !stderr.contains("building "), "{stderr}");
        assert!(!stderr.contains("error occurred"), "Podman's list of one error is unwrapped: {stderr}");
    }
    assert_eq!(skopeo_digest(&refused_tag, Some(&creds)), None);

    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = podman.registry_tag(&format!("127.0.0.1:{port}"), "podman-unreachable");
    let output = push(anonymous.path(), &unreachable);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains(&format!("the registry 127.0.0.1:{port} is unreachable")), "{stderr}");
    assert!(!stderr.contains("building "), "{stderr}");
}
