//! End to end against the real engine: build each example, run it, check what it prints or
//! serves, its user, labels and size; and the failures users meet.

use containerize_tests::{
    BUILDERS, TestTag, build, containerize, docker, edit_file, engine_available, example, fixture, http_get, poll,
};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The host port the engine published for the container's `port` (`8080/tcp`).
fn published_port(container: &str, port: &str) -> u16 {
    docker(&["port", container, port]).rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn hello_is_a_small_static_non_root_image_that_greets() {
    if !engine_available("hello_is_a_small_static_non_root_image_that_greets") {
        return;
    }
    let dir = example("hello");
    let tag = TestTag::new("hello");
    let report = build(dir.path(), &tag, &[]);
    assert_eq!(report["tags"][0], tag.0);
    assert!(report["size"].as_u64().unwrap() < 5_000_000, "a static hello on scratch stays small: {report}");
    assert_eq!(docker(&["run", "--rm", &tag.0, "tests"]), "Hello, tests! (from a static container)");
    assert_eq!(docker(&["image", "inspect", &tag.0, "--format", "{{.Config.User}}"]), "65532:65532");
    let labels: serde_json::Value =
        serde_json::from_str(&docker(&["image", "inspect", &tag.0, "--format", "{{json .Config.Labels}}"])).unwrap();
    assert_eq!(labels["org.opencontainers.image.title"], "hello");
    assert_eq!(labels["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(labels["org.opencontainers.image.licenses"], "MIT OR Apache-2.0");
}

#[test]
fn web_serves_its_pages_as_non_root() {
    if !engine_available("web_serves_its_pages_as_non_root") {
        return;
    }
    let dir = example("web");
    let tag = TestTag::new("web");
    let report = build(dir.path(), &tag, &[]);
    assert!(report["size"].as_u64().unwrap() < 60_000_000, "{report}");
    let container = docker(&["run", "-d", "--rm", "-p", "127.0.0.1::8080", &tag.0]);
    let port = published_port(&container, "8080/tcp");
    let root = http_get(port, "/");
    let health = http_get(port, "/healthz");
    docker(&["kill", &container]);
    assert!(root.starts_with("HTTP/1.1 200") && root.ends_with("Hello from containerize\n"), "{root}");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    assert_eq!(
        docker(&["image", "inspect", &tag.0, "--format", "{{.Config.User}} {{json .Config.ExposedPorts}}"]),
        "65532:65532 {\"8080/tcp\":{}}"
    );
}

#[test]
fn the_workspace_gives_one_image_per_binary() {
    if !engine_available("the_workspace_gives_one_image_per_binary") {
        return;
    }
    let dir = example("workspace");
    let greet = TestTag::new("greet");
    let server = TestTag::new("server");
    build(dir.path(), &greet, &["--bin", "greet"]);
    build(dir.path(), &server, &["--bin", "server"]);
    assert_eq!(docker(&["run", "--rm", &greet.0, "you", "all"]), "Hello, you all!");
    let container = docker(&["run", "-d", "--rm", "-p", "127.0.0.1::7070", &server.0]);
    let port = published_port(&container, "7070/tcp");
    let answer = http_get(port, "/");
    docker(&["kill", &container]);
    assert_eq!(answer, "Hello, network!\n");
    let env = docker(&["image", "inspect", &server.0, "--format", "{{json .Config.Env}} {{.Config.Labels}}"]);
    assert!(
        env.contains("RUST_LOG=info") && env.contains("org.example.team:examples"),
        "workspace defaults apply: {env}"
    );
}

#[test]
fn the_printed_dockerfile_builds_with_the_tools_context() {
    if !engine_available("the_printed_dockerfile_builds_with_the_tools_context") {
        return;
    }
    // A workspace with several binaries prints one Dockerfile per image; --bin picks one. The
    // docker CLI here has no BuildKit, so the Dockerfiles are the legacy builder's.
    for (name, flags) in [("hello", &[][..]), ("web", &[]), ("workspace", &["--bin", "server"])] {
        let dir = example(name);
        let tag = TestTag::new(&format!("{name}-printed"));
        let flags: Vec<&str> = flags.iter().copied().chain(["--buildkit", "never"]).collect();
        let printed = containerize(dir.path()).arg("--print").args(&flags).output().unwrap().stdout;
        let tar = dir.path().join("context.tar");
        containerize(dir.path()).arg("--print-context").arg(&tar).args(&flags).assert().success();
        assert_eq!(dockerfile_in(&tar), printed, "the context holds the printed Dockerfile");
        let output = Command::new("docker")
            .args(["build", "-q", "-t", &tag.0, "-f", ".containerize/Dockerfile", "-"])
            .env("DOCKER_BUILDKIT", "0")
            .stdin(std::fs::File::open(&tar).unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "docker build of the printed {name} Dockerfile: {stderr}");
        assert_eq!(docker(&["image", "inspect", &tag.0, "--format", "{{.Config.User}}"]), "65532:65532");
    }
}

fn dockerfile_in(tar: &std::path::Path) -> Vec<u8> {
    let mut archive = tar::Archive::new(std::fs::File::open(tar).unwrap());
    let mut dockerfile = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(".containerize/Dockerfile") {
            entry.read_to_end(&mut dockerfile).unwrap();
        }
    }
    dockerfile
}

#[test]
fn the_same_dockerfile_builds_under_buildkit_and_the_legacy_builder() {
    if !engine_available("the_same_dockerfile_builds_under_buildkit_and_the_legacy_builder") {
        return;
    }
    let dir = example("hello");
    edit_file(&dir.path().join("Cargo.toml"), "base = \"scratch\"", "base = \"scratch\"\ncache-mounts = false");
    let print =
        |builder: &str| containerize(dir.path()).args(["--print", "--buildkit", builder]).output().unwrap().stdout;
    assert_eq!(print("always"), print("never"), "one Dockerfile for both builders");
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("hello-both-{builder}"));
        build(dir.path(), &tag, &["--buildkit", builder]);
        assert_eq!(docker(&["run", "--rm", &tag.0, builder]), format!("Hello, {builder}! (from a static container)"));
    }
}

/// The verbose output of the dependency step (the first `cargo build`), up to the next step.
fn dependency_step(output: &str) -> &str {
    let start = output.find("RUN [").expect("a cargo build step");
    let rest = &output[start..];
    let end = rest[1..].find("\n  [builder").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// The two builders, as `--buildkit` names them.

#[test]
fn dependencies_stay_cached_across_a_member_edit_and_a_version_bump() {
    if !engine_available("dependencies_stay_cached_across_a_member_edit_and_a_version_bump") {
        return;
    }
    for builder in BUILDERS {
        dependency_tiers(builder);
    }
}

fn dependency_tiers(builder: &str) {
    let dir = example("workspace");
    let root = dir.path();
    let edit = |path: &str, from: &str, to: &str| edit_file(&root.join(path), from, to);
    edit("cli/Cargo.toml", "[dependencies]\n", "[dependencies]\nitoa = \"1\"\n");
    edit(
        "cli/src/main.rs",
        "println!(\"{}\", greeter::greeting(&name));",
        "println!(\"{} #{}\", greeter::greeting(&name), itoa::Buffer::new().format(1));",
    );
    // Sources unique to this run, so their layers can't come from an earlier run's cache.
    let run = format!("{}-{:?}", std::process::id(), Instant::now());
    edit("greeter/src/lib.rs", "//! The greeting", &format!("// run {run}\n//! The greeting"));
    assert!(Command::new("cargo").args(["generate-lockfile", "-q"]).current_dir(root).status().unwrap().success());
    let tag = TestTag::new(&format!("tiers-{builder}"));
    let build = || {
        let output =
            containerize(root).args(["-v", "--bin", "greet", "-t", &tag.0, "--buildkit", builder]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    build();
    assert_eq!(docker(&["run", "--rm", &tag.0, "x"]), "Hello, x! #1");

    // Another member's source, its docs (sent: the package goes whole) and the workspace
    // version change; the lockfile follows.
    edit("greeter/src/lib.rs", "Hello, {name}!", "Howdy, {name}!");
    std::fs::write(root.join("greeter/README.md"), format!("The greeter, run {run}.\n")).unwrap();
    edit("Cargo.toml", "version = \"0.2.0\"", "version = \"0.2.1\"");
    assert!(
        Command::new("cargo")
            .args(["metadata", "-q", "--format-version", "1"])
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    let second = build();
    let step = dependency_step(&second);
    let cached = step.contains("Using cache") || step.contains("CACHED");
    assert!(cached && !step.contains("Compiling"), "the dependency layer is reused: {step}");
    assert!(!second.contains("Compiling itoa"), "{second}");
    assert!(second.contains("Compiling greeter v0.2.1"), "local crates are rebuilt: {second}");
    assert_eq!(docker(&["run", "--rm", &tag.0, "x"]), "Howdy, x! #1", "the image runs the new code");
}

#[test]
fn a_failed_step_shows_its_output_and_tags_nothing() {
    if !engine_available("a_failed_step_shows_its_output_and_tags_nothing") {
        return;
    }
    let dir = example("hello");
    std::fs::write(dir.path().join("src/main.rs"), "fn main() { let n: u32 = \"not a number\"; }\n").unwrap();
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("broken-{builder}"));
        let output = containerize(dir.path()).args(["-t", &tag.0, "--buildkit", builder]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{stderr}");
        assert!(stderr.contains("error[E0308]"), "the step's output is shown: {stderr}");
        assert!(stderr.contains("failed at `RUN") && stderr.contains("cargo"), "the step is named: {stderr}");
        let inspect = Command::new("docker").args(["image", "inspect", &tag.0]).output().unwrap();
        assert!(!inspect.status.success(), "a failed build leaves no tag");
    }
}

#[test]
fn a_missing_base_image_is_named() {
    if !engine_available("a_missing_base_image_is_named") {
        return;
    }
    let dir = example("hello");
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("nobase-{builder}"));
        let flags = ["-t", &tag.0, "--base", "registry.invalid/no/such-image:1", "--buildkit", builder];
        let output = containerize(dir.path()).args(flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{stderr}");
        assert!(stderr.contains("base image `registry.invalid/no/such-image:1` is not on the engine"), "{stderr}");
        // With the engine's reason (a name that no DNS resolves), and the help for it.
        assert!(stderr.contains("no such host"), "{stderr}");
        assert!(stderr.contains("help: no registry answered"), "{stderr}");
    }
}

#[test]
fn no_engine_is_a_clear_error() {
    let dir = example("hello");
    let output = containerize(dir.path()).env("DOCKER_HOST", "unix:///nonexistent/docker.sock").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no Docker engine answers at unix:///nonexistent/docker.sock"), "{stderr}");
    assert!(stderr.contains("DOCKER_HOST"), "the help says what to set: {stderr}");
}

#[test]
fn ctrl_c_stops_the_build_and_leaves_no_tag_nor_container() {
    if !engine_available("ctrl_c_stops_the_build_and_leaves_no_tag_nor_container") {
        return;
    }
    let dir = example("hello");
    edit_file(&dir.path().join("Cargo.toml"), "name = \"hello\"", "name = \"interrupted-build\"");
    // Unique to this run, so no step can come from an earlier run's cache.
    let build_script = format!(
        "// run {} {:?}\nfn main() {{ std::thread::sleep(std::time::Duration::from_secs(120)); }}\n",
        std::process::id(),
        Instant::now()
    );
    std::fs::write(dir.path().join("build.rs"), build_script).unwrap();
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("interrupted-{builder}"));
        let mut child = std::process::Command::new(containerize_tests::binary())
            .args(["-t", &tag.0, "--buildkit", builder])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        // The real sources' step, where the build script sleeps.
        while !seen.contains("COPY [\".containerize/sources/") && !seen.contains("COPY [.containerize/sources/") {
            let mut line = String::new();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the build ended early: {seen}");
            seen.push_str(&line);
        }
        std::thread::sleep(Duration::from_secs(5));
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        let status = child.wait().unwrap();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert_eq!(status.code(), Some(130), "{seen}{rest}");
        assert!(rest.contains("interrupted; nothing was tagged"), "{rest}");
        assert!(!Command::new("docker").args(["image", "inspect", &tag.0]).output().unwrap().status.success());
        // The engine stops the step once it sees the request gone: no build container (legacy)
        // and no build process (BuildKit runs steps without containers) may be left.
        let containers = || docker(&["ps", "-a", "--no-trunc", "--format", "{{.Command}}"]);
        let processes =
            || String::from_utf8(Command::new("ps").args(["-eo", "args"]).output().unwrap().stdout).unwrap();
        let gone = || {
            (!containers().contains("interrupted-build") && !processes().contains("interrupted-build-")).then_some(())
        };
        poll(Duration::from_secs(30), gone, || {
            format!("the interrupted build goes on: {}\n{}", containers(), processes())
        });
    }
}

#[test]
fn path_dependencies_outside_the_workspace_are_sent_and_built() {
    if !engine_available("path_dependencies_outside_the_workspace_are_sent_and_built") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nshout = { path = \"../libs/shout\" }\n\n[workspace]\n\n[package.metadata.containerize]\nbase = \"scratch\"\n",
        ),
        ("app/src/main.rs", "fn main() { println!(\"{}\", shout::shout(\"from outside\")); }\n"),
        ("app/.cargo/config.toml", "[build]\nrustflags = [\"--cfg\", \"from_config\"]\n"),
        ("libs/shout/Cargo.toml", "[package]\nname = \"shout\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        (
            "libs/shout/src/lib.rs",
            "pub fn shout(s: &str) -> String { format!(\"{}{}\", s.to_uppercase(), if cfg!(from_config) { \"!\" } else { \"\" }) }\n",
        ),
    ];
    for (path, text) in files {
        std::fs::create_dir_all(dir.path().join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    let app = dir.path().join("app");
    assert!(Command::new("cargo").arg("generate-lockfile").current_dir(&app).status().unwrap().success());
    let tag = TestTag::new("outside");
    build(&app, &tag, &[]);
    // Static (scratch), the library from outside the workspace, .cargo/config.toml applied.
    assert_eq!(docker(&["run", "--rm", &tag.0]), "FROM OUTSIDE!");
}

#[test]
fn an_unconventional_layout_builds_as_cargo_builds_it_on_the_host() {
    if !engine_available("an_unconventional_layout_builds_as_cargo_builds_it_on_the_host") {
        return;
    }
    let dir = fixture("layout");
    // What cargo builds from the settings (profile `ship`, feature `fancy`, and `extra`,
    // which the binary requires), run on the host.
    let host = Command::new("cargo")
        .args(["run", "-q", "--locked", "--profile", "ship", "--features", "app/fancy,app/extra", "--bin", "report"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(host.status.success(), "{}", String::from_utf8_lossy(&host.stderr));
    let expected = String::from_utf8(host.stdout).unwrap();
    assert_eq!(
        expected.trim(),
        "generated at opt-level 1 | extra true | fancy true | debug-assertions true | version 1.2.3 | helper 1.2.3 | itoa 42"
    );
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("layout-{builder}"));
        build(&dir.path().join("app"), &tag, &["--buildkit", builder]);
        assert_eq!(docker(&["run", "--rm", &tag.0]), expected.trim(), "under --buildkit {builder}");
    }
}

fn health(container: &str) -> String {
    docker(&["inspect", container, "--format", "{{.State.Health.Status}}"])
}

/// Polls until the container's health is `status`; how long it took.
fn wait_for_health(container: &str, status: &str, limit: Duration) -> Duration {
    let reached = || (health(container) == status).then_some(());
    poll(limit, reached, || format!("{container} not {status} within {limit:?}: {}", health(container))).1
}

#[test]
fn web_reports_its_health_without_a_shell_and_stops_promptly() {
    if !engine_available("web_reports_its_health_without_a_shell_and_stops_promptly") {
        return;
    }
    let dir = example("web");
    let tag = TestTag::new("web-health");
    build(dir.path(), &tag, &[]);

    // No shell and no curl: the healthcheck runs the binary itself.
    let created = docker(&["create", &tag.0]);
    let export = Command::new("docker").args(["export", &created]).output().unwrap();
    docker(&["rm", &created]);
    let mut files = Vec::new();
    for entry in tar::Archive::new(export.stdout.as_slice()).entries().unwrap() {
        files.push(entry.unwrap().path().unwrap().display().to_string());
    }
    for tool in ["bin/sh", "usr/bin/sh", "bin/bash", "bin/busybox", "usr/bin/curl", "usr/bin/wget"] {
        assert!(!files.iter().any(|f| f == tool), "{tool} is in the image");
    }
    let healthcheck = docker(&["image", "inspect", &tag.0, "--format", "{{json .Config.Healthcheck.Test}}"]);
    assert!(healthcheck.contains("--containerize-healthcheck"), "{healthcheck}");

    let container = docker(&["run", "-d", "-p", "127.0.0.1::8080", &tag.0]);
    let start_period = Duration::from_secs(10);
    let became_healthy = wait_for_health(&container, "healthy", start_period);
    eprintln!("healthy after {became_healthy:?}");
    let port = published_port(&container, "8080/tcp");
    assert!(http_get(port, "/fail").starts_with("HTTP/1.1 200"));
    wait_for_health(&container, "unhealthy", Duration::from_secs(10));

    // PID 1 ends on SIGTERM at once, well inside a 10-second grace period.
    let stopping = Instant::now();
    docker(&["stop", "-t", "10", &container]);
    let stopped_in = stopping.elapsed();
    let status = docker(&["inspect", &container, "--format", "{{.State.ExitCode}}"]);
    docker(&["rm", &container]);
    assert!(stopped_in < Duration::from_secs(2), "docker stop took {stopped_in:?}");
    assert_eq!(status, "143", "exit status after SIGTERM");
}

/// The engine's images and containers that an `--output` run of the process `pid` left.
fn export_leftovers(pid: u32) -> String {
    let images = containerize_tests::export_image_labels();
    let containers =
        docker(&["ps", "-a", "--filter", &format!("name=containerize-export-{pid}"), "--format", "{{.Names}}"]);
    let mine = format!("{pid}-");
    images
        .iter()
        .map(String::as_str)
        .filter(|label| label.starts_with(&mine))
        .chain(containers.lines())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn output_writes_the_images_binary_which_runs_on_the_host_and_tags_nothing() {
    if !engine_available("output_writes_the_images_binary_which_runs_on_the_host_and_tags_nothing") {
        return;
    }
    let dir = example("hello");
    let tag = TestTag::new("hello-output");
    build(dir.path(), &tag, &[]);
    let container = docker(&["create", &tag.0]);
    let from_image = tempfile::tempdir().unwrap();
    docker(&["cp", &format!("{container}:/usr/local/bin/hello"), from_image.path().to_str().unwrap()]);
    docker(&["cp", &format!("{container}:/var/lib/db/sbom/hello.spdx.json"), from_image.path().to_str().unwrap()]);
    docker(&["rm", &container]);
    let in_image = std::fs::read(from_image.path().join("hello")).unwrap();
    let sbom_in_image = std::fs::read(from_image.path().join("hello.spdx.json")).unwrap();
    for builder in BUILDERS {
        let out = tempfile::tempdir().unwrap();
        let dist = out.path().join("dist");
        let child = Command::new(containerize_tests::binary())
            .args(["-q", "--buildkit", builder, "--output", dist.to_str().unwrap()])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{builder}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with(&format!("hello  {}", dist.join("hello").display())), "{builder}: {stdout}");
        let mut names: Vec<_> = std::fs::read_dir(&dist).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, [".gitignore", "hello", "hello.spdx.json"], "{builder}: nothing staged left");
        assert!(std::fs::read(dist.join("hello")).unwrap() == in_image, "{builder}: the very binary of the image");
        assert!(std::fs::read(dist.join("hello.spdx.json")).unwrap() == sbom_in_image, "{builder}: the image's SBOM");
        // Static on scratch: it runs here as well.
        let ran = Command::new(dist.join("hello")).arg("host").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), "Hello, host! (from a static container)");
        assert_eq!(export_leftovers(pid), "", "{builder}: no image or container left on the engine");
    }
}
