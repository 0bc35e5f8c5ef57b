//! The smoke run (`--run`) and interruptions, against the real engine: a run passes only when
//! the program exits 0 or its service answers from outside the container; it ends at
//! `--run-timeout`; Ctrl-C (a real SIGINT) at any step stops with 130, leaving no partial tag
//! set and no `containerize-run-*` container; every error exits with its documented status.

use containerize_tests::{
    Example, HeldRequest, TestTag, binary, docker, edit_file, engine_available, example, fixture,
};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// One copy of each project for every test here, so that each build after the first is the
/// engine's cached image.
/// The engine, for one test at a time: the tests of this file build the same few projects,
/// whose images are identical, and a test that removes its tag at its end removes the image
/// when no other tag is left, maybe just before another test tags that very image (its build
/// then fails at tagging). `None` when no engine answers (outside CI).
fn engine(test: &str) -> Option<std::sync::MutexGuard<'static, ()>> {
    static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    engine_available(test).then(|| ENGINE.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

fn shared(name: &'static str) -> &'static Path {
    static HELLO: OnceLock<Example> = OnceLock::new();
    static WEB: OnceLock<Example> = OnceLock::new();
    static SLEEPER: OnceLock<Example> = OnceLock::new();
    match name {
        "hello" => HELLO.get_or_init(|| example("hello")).path(),
        "web" => WEB.get_or_init(|| example("web")).path(),
        "sleeper" => SLEEPER.get_or_init(|| fixture("sleeper")).path(),
        _ => unreachable!("no shared copy of {name}"),
    }
}

/// `cargo-containerize -q -t <tag> <flags>` in `dir`, run to its end; what it printed, and
/// the smoke-run container it left, if any.
fn run(dir: &Path, tag: &TestTag, flags: &[&str]) -> (Output, String, Option<String>) {
    let child = Command::new(binary())
        .args(["-q", "-t", &tag.0])
        .args(flags)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr, container_left_by(pid))
}

/// The smoke-run container that the process `pid` left, if any (its name is the tool's).
fn container_left_by(pid: u32) -> Option<String> {
    let name = format!("containerize-run-{pid}");
    let names = docker(&["ps", "-a", "--filter", &format!("name={name}"), "--format", "{{.Names}}"]);
    names.lines().find(|n| *n == name).map(str::to_owned)
}

fn image_exists(reference: &str) -> bool {
    Command::new("docker").args(["image", "inspect", reference]).output().unwrap().status.success()
}

#[test]
fn a_program_runs_to_its_exit_status() {
    let Some(_one_at_a_time) = engine("a_program_runs_to_its_exit_status") else {
        return;
    };
    let tag = TestTag::new("run-hello");
    let (output, stderr, left) = run(shared("hello"), &tag, &["--run", "--", "smoke"]);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Hello, smoke!") && stderr.contains("exited with status 0"), "{stderr}");
    assert_eq!(left, None, "the smoke-run container is removed");
}

#[test]
fn a_service_passes_when_it_answers_over_http_from_outside() {
    let Some(_one_at_a_time) = engine("a_service_passes_when_it_answers_over_http_from_outside") else {
        return;
    };
    let tag = TestTag::new("run-web");
    // With arguments too: a service is probed, not waited on.
    for args in [&[][..], &["--", "--any-argument"]] {
        let flags: Vec<&str> = ["--run"].into_iter().chain(args.iter().copied()).collect();
        let (output, stderr, left) = run(shared("web"), &tag, &flags);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stderr.contains("answered from outside the container: HTTP/1.1 200 OK to GET /healthz"),
            "the healthcheck's path is asked: {stderr}"
        );
        assert_eq!(left, None, "the smoke-run container is removed");
    }
}

#[test]
fn a_service_on_the_containers_loopback_fails_and_says_what_to_fix() {
    let Some(_one_at_a_time) = engine("a_service_on_the_containers_loopback_fails_and_says_what_to_fix") else {
        return;
    };
    let web = example("web");
    edit_file(
        &web.path().join("Cargo.toml"),
        "env = { WEB_GREETING = \"Hello from containerize\" }",
        "env = { WEB_GREETING = \"Hello from containerize\", WEB_ADDRESS = \"127.0.0.1:8080\" }",
    );
    let tag = TestTag::new("run-web-loopback");
    let (output, stderr, left) = run(web.path(), &tag, &["--run", "--run-timeout", "5s"]);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("listening on 127.0.0.1:8080"), "the app's output is shown: {stderr}");
    assert!(
        stderr.contains("did not answer GET /healthz on port 8080 from outside the container within 5s"),
        "{stderr}"
    );
    assert!(stderr.contains("listen on 0.0.0.0:8080"), "the help says what to fix: {stderr}");
    assert_eq!(left, None);
}

#[test]
fn a_tcp_service_must_take_the_connection_itself() {
    let Some(_one_at_a_time) = engine("a_tcp_service_must_take_the_connection_itself") else {
        return;
    };
    // No healthcheck: the app must take a connection, which the engine's port proxy alone
    // (accepting, then closing) does not count as.
    let workspace = example("workspace");
    let tag = TestTag::new("run-tcp");
    let (output, stderr, left) = run(workspace.path(), &tag, &["--bin", "server", "--run"]);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("answered from outside the container: accepted a connection and sent data"), "{stderr}");
    assert_eq!(left, None);
    edit_file(&workspace.path().join("server/src/main.rs"), "0.0.0.0:7070", "127.0.0.1:7070");
    let (output, stderr, left) = run(workspace.path(), &tag, &["--bin", "server", "--run", "--run-timeout", "5s"]);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("did not answer a connection on port 7070 from outside the container"), "{stderr}");
    assert!(stderr.contains("listen on 0.0.0.0:7070"), "{stderr}");
    assert_eq!(left, None);
}

#[test]
fn a_run_that_never_ends_is_stopped_at_the_timeout() {
    let Some(_one_at_a_time) = engine("a_run_that_never_ends_is_stopped_at_the_timeout") else {
        return;
    };
    let tag = TestTag::new("run-sleeper");
    let (output, stderr, left) = run(shared("sleeper"), &tag, &["--run", "--run-timeout", "2s", "--", "forever"]);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("sleeping until stopped"), "its output is shown: {stderr}");
    assert!(stderr.contains("was still running after 2s, so it was stopped"), "{stderr}");
    assert!(stderr.contains("--run-timeout"), "the help names the flag: {stderr}");
    assert_eq!(left, None);
}

#[test]
fn a_container_the_engine_cannot_start_is_a_failed_run() {
    let Some(_one_at_a_time) = engine("a_container_the_engine_cannot_start_is_a_failed_run") else {
        return;
    };
    let hello = example("hello");
    edit_file(
        &hello.path().join("Cargo.toml"),
        "base = \"scratch\"",
        "base = \"scratch\"\nentrypoint = [\"/no/such/binary\"]",
    );
    let tag = TestTag::new("run-unstartable");
    let (output, stderr, left) = run(hello.path(), &tag, &["--run"]);
    assert_eq!(output.status.code(), Some(6), "not an unavailable engine: {stderr}");
    assert!(stderr.contains("failed to start the smoke-run container"), "{stderr}");
    assert_eq!(left, None);
}

#[test]
fn a_bad_dockerignore_is_a_project_problem() {
    let Some(_one_at_a_time) = engine("a_bad_dockerignore_is_a_project_problem") else {
        return;
    };
    let hello = example("hello");
    std::fs::write(hello.path().join(".dockerignore"), "target\nsrc/[\n").unwrap();
    let tag = TestTag::new("bad-dockerignore");
    let (output, stderr, _) = run(hello.path(), &tag, &[]);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("line 2 of .dockerignore"), "{stderr}");
}

/// Runs `cargo-containerize` with `flags` through `held`; once the held request is under way,
/// presses Ctrl-C, waits for the tool to take note, then lets the request go on. Gives the
/// exit status, all it printed on stderr, and the smoke-run container it left, if any.
fn interrupt_at(dir: &Path, held: &HeldRequest, flags: &[&str]) -> (Option<i32>, String, Option<String>) {
    signal_at("-INT", dir, held, flags)
}

/// As [`interrupt_at`], with another signal (`-TERM`, `-HUP`).
fn signal_at(signal: &str, dir: &Path, held: &HeldRequest, flags: &[&str]) -> (Option<i32>, String, Option<String>) {
    let mut child = Command::new(binary())
        .args(["--buildkit", "never"])
        .args(flags)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("DOCKER_HOST", held.docker_host())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let request = match held.arrived_from(&mut child) {
        Ok(request) => request,
        Err(status) => {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the tool ended ({status}) before the request to hold:\n{stderr}");
        }
    };
    Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    let (lines, stderr) = std::sync::mpsc::channel();
    let child_stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(child_stderr).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let mut seen = format!("(held: {request})\n");
    // A Ctrl-C the tool swallows would leave it waiting on the held request for ever: after a
    // generous while, the request goes on anyway, and the assertions tell what happened.
    while let Ok(line) = stderr.recv_timeout(Duration::from_secs(120)) {
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("interrupted: stopping") {
            break;
        }
    }
    held.release();
    let status = child.wait().unwrap().code();
    seen.extend(stderr.iter().map(|line| format!("{line}\n")));
    (status, seen, container_left_by(child.id()))
}

fn is_tag(line: &str) -> bool {
    line.starts_with("POST ") && line.contains("/tag?")
}

#[test]
fn ctrl_c_while_tagging_leaves_no_tag() {
    let Some(_one_at_a_time) = engine("ctrl_c_while_tagging_leaves_no_tag") else {
        return;
    };
    let (first, second) = (TestTag::new("ctrl-c-tagging-1"), TestTag::new("ctrl-c-tagging-2"));
    let held = HeldRequest::new(1, is_tag);
    let (status, stderr, left) = interrupt_at(shared("hello"), &held, &["-t", &first.0, "-t", &second.0]);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; nothing was tagged"), "{stderr}");
    assert!(!image_exists(&first.0) && !image_exists(&second.0), "the tag under way is taken back");
    assert_eq!(left, None);
}

#[test]
fn ctrl_c_while_inspecting_leaves_no_tag() {
    let Some(_one_at_a_time) = engine("ctrl_c_while_inspecting_leaves_no_tag") else {
        return;
    };
    let tag = TestTag::new("ctrl-c-inspecting");
    let held = HeldRequest::new(1, |line| line.starts_with("GET ") && line.contains("/images/sha256:"));
    let (status, stderr, left) = interrupt_at(shared("hello"), &held, &["-t", &tag.0]);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; nothing was tagged"), "{stderr}");
    assert!(!image_exists(&tag.0));
    assert_eq!(left, None);
}

#[test]
fn ctrl_c_between_two_images_keeps_the_first_whole_and_says_so() {
    let Some(_one_at_a_time) = engine("ctrl_c_between_two_images_keeps_the_first_whole_and_says_so") else {
        return;
    };
    let workspace = example("workspace");
    let name = |binary: &str| format!("containerize-test/{binary}-between-{}", std::process::id());
    edit_file(
        &workspace.path().join("cli/Cargo.toml"),
        "[dependencies]",
        &format!("[package.metadata.containerize]\nname = \"{}\"\n\n[dependencies]", name("greet")),
    );
    edit_file(
        &workspace.path().join("server/Cargo.toml"),
        "expose = [7070]",
        &format!("expose = [7070]\nname = \"{}\"", name("server")),
    );
    let tags: Vec<TestTag> = ["greet", "server"]
        .iter()
        .flat_map(|binary| ["0.2.0", "latest"].map(|version| TestTag(format!("{}:{version}", name(binary)))))
        .collect();
    // The first image's last tag: it completes, and the run stops before the second image.
    let held = HeldRequest::new(2, is_tag);
    let (status, stderr, left) = interrupt_at(workspace.path(), &held, &["--bin", "greet", "--bin", "server"]);
    assert_eq!(status, Some(130), "{stderr}");
    let exists: Vec<bool> = tags.iter().map(|tag| image_exists(&tag.0)).collect();
    let (done, not_built) = if exists[0] { (&tags[..2], &tags[2..]) } else { (&tags[2..], &tags[..2]) };
    assert!(done.iter().all(|t| image_exists(&t.0)), "the first image keeps its whole tag set: {stderr}");
    assert!(not_built.iter().all(|t| !image_exists(&t.0)), "the second is not built: {stderr}");
    let listed = format!("interrupted; tagged before the interruption: {}, {}", done[0].0, done[1].0);
    assert!(stderr.contains(&listed), "the message says what was tagged: {stderr}");
    assert_eq!(left, None);
}

#[test]
fn ctrl_c_while_the_run_starts_leaves_no_container() {
    let Some(_one_at_a_time) = engine("ctrl_c_while_the_run_starts_leaves_no_container") else {
        return;
    };
    let tag = TestTag::new("ctrl-c-running");
    let held = HeldRequest::new(1, |line| line.starts_with("POST ") && line.contains("/containers/create"));
    let (status, stderr, left) = interrupt_at(shared("sleeper"), &held, &["-t", &tag.0, "--run", "--", "forever"]);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(stderr.contains(&format!("interrupted; tagged before the interruption: {}", tag.0)), "{stderr}");
    assert!(!stderr.contains("nothing was tagged"), "{stderr}");
    assert_eq!(left, None, "the container made as Ctrl-C came is removed");
}

#[test]
fn ctrl_c_while_the_run_goes_on_leaves_no_container() {
    let Some(_one_at_a_time) = engine("ctrl_c_while_the_run_goes_on_leaves_no_container") else {
        return;
    };
    let tag = TestTag::new("ctrl-c-waiting");
    // The container is running: the tool waits for it to exit.
    let held = HeldRequest::new(1, |line| line.starts_with("POST ") && line.contains("/wait?"));
    let (status, stderr, left) = interrupt_at(shared("sleeper"), &held, &["-t", &tag.0, "--run", "--", "forever"]);
    assert_eq!(status, Some(130), "{stderr}");
    assert!(stderr.contains(&format!("interrupted; tagged before the interruption: {}", tag.0)), "{stderr}");
    assert_eq!(left, None, "the running container is removed");
}

#[test]
fn sigterm_or_sighup_during_the_run_cleans_up_as_ctrl_c_does() {
    let Some(_one_at_a_time) = engine("sigterm_or_sighup_during_the_run_cleans_up_as_ctrl_c_does") else {
        return;
    };
    // A cancelled CI job sends SIGTERM; a closed terminal, SIGHUP.
    for signal in ["-TERM", "-HUP"] {
        let tag = TestTag::new(&format!("signal{}", signal.to_lowercase()));
        let held = HeldRequest::new(1, |line| line.starts_with("POST ") && line.contains("/wait?"));
        let (status, stderr, left) =
            signal_at(signal, shared("sleeper"), &held, &["-t", &tag.0, "--run", "--", "forever"]);
        assert_eq!(status, Some(130), "{signal}: {stderr}");
        assert_eq!(left, None, "{signal}: the running container is removed");
    }
}

#[test]
fn ctrl_c_while_copying_the_output_writes_nothing_and_leaves_nothing_on_the_engine() {
    let Some(_one_at_a_time) =
        engine("ctrl_c_while_copying_the_output_writes_nothing_and_leaves_nothing_on_the_engine")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    // The legacy builder's way out: a file read from a container of the export stage's image.
    let held = HeldRequest::new(1, |line| line.starts_with("GET ") && line.contains("/archive?"));
    let (status, stderr, _) = interrupt_at(shared("hello"), &held, &["--output", out.path().to_str().unwrap()]);
    assert_eq!(status, Some(130), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing half-written, nothing staged: {left:?}");
    // The held request names the container, which names the process.
    let held_line = stderr.lines().next().unwrap_or_default();
    let pid = held_line.split("containerize-export-").nth(1).and_then(|rest| rest.split('/').next());
    let pid = pid.unwrap_or_else(|| panic!("not the export container's request: {stderr}"));
    let containers = docker(&["ps", "-a", "--filter", "name=containerize-export-", "--format", "{{.Names}}"]);
    assert!(!containers.lines().any(|name| name == format!("containerize-export-{pid}")), "{containers}");
    let images = containerize_tests::export_image_labels();
    assert!(
        !images.iter().any(|label| label.starts_with(&format!("{pid}-"))),
        "the export image is removed: {images:?}"
    );
}
