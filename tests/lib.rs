//! Helpers shared by the CLI and end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repository").to_owned()
}

/// A fresh copy of `examples/<name>` (without `target/`) in a temporary directory, so tests
/// can change it and build in parallel. The crates the examples depend on by path are copied
/// beside it, where those paths lead.
pub fn example(name: &str) -> Example {
    with_crates(copy_of("examples", name))
}

/// A fresh copy of the test project `tests/fixtures/<name>`, with the crates it may depend on
/// by path, as [`example`] makes.
pub fn fixture(name: &str) -> Example {
    with_crates(copy_of("tests/fixtures", name))
}

fn with_crates(copy: Example) -> Example {
    let root = copy.root.path();
    let crates = ["containerize", "containerize-build", "containerize-macros"];
    for (krate, part) in crates.iter().flat_map(|c| [(c, "Cargo.toml"), (c, "src")]) {
        let from = repo().join(krate).join(part);
        let to = root.join(krate).join(part);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if from.is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    copy
}

/// A copy of `<dir>/<name>` at the same relative place in a temporary directory.
fn copy_of(dir: &str, name: &str) -> Example {
    let root =
        tempfile::Builder::new().prefix(&format!("containerize-{name}-")).tempdir().expect("a temporary directory");
    let path = root.path().join(dir).join(name);
    copy_dir(&repo().join(dir).join(name), &path);
    Example { path, root }
}

/// Replaces the first `from` in the file with `to`. `from` must be there: an edit that finds
/// nothing would leave a test passing for the wrong reason.
pub fn edit_file(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(from), "{} has no {from}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Calls `attempt` four times a second until it gives a value; panics with `failure`'s message
/// once `limit` has passed. Gives the value and how long it took.
pub fn poll<T>(
    limit: std::time::Duration,
    mut attempt: impl FnMut() -> Option<T>,
    failure: impl Fn() -> String,
) -> (T, std::time::Duration) {
    let start = std::time::Instant::now();
    loop {
        if let Some(value) = attempt() {
            return (value, start.elapsed());
        }
        assert!(start.elapsed() < limit, "{}", failure());
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The response to `GET path` on a loopback port, once something answers there.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let answer = || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        // The engine's port proxy accepts before the app listens, then drops the connection:
        // a failed write means "not yet", as an empty answer does.
        write!(stream, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").ok()?;
        let mut response = String::new();
        (stream.read_to_string(&mut response).is_ok() && !response.is_empty()).then_some(response)
    };
    poll(std::time::Duration::from_secs(20), answer, || format!("nothing answered on port {port}")).0
}

/// A copy of an example, removed when dropped.
pub struct Example {
    path: PathBuf,
    root: tempfile::TempDir,
}

impl Example {
    /// The example's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `cargo-containerize` binary, built once per test process (it is another package's).
pub fn binary() -> &'static Path {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| {
        let build = escargot::CargoBuild::new()
            .package("containerize")
            .bin("cargo-containerize")
            .manifest_path(repo().join("Cargo.toml"));
        build.run().expect("cargo-containerize builds").path().to_owned()
    })
}

/// `cargo-containerize`, run in `dir`.
pub fn containerize(dir: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(binary());
    command.current_dir(dir).env("NO_COLOR", "1").env_remove("SOURCE_DATE_EPOCH");
    command
}

/// Whether an engine answers. In CI (`CI` set) a missing engine fails the test that asks;
/// elsewhere such tests say they were skipped.
pub fn engine_available(test: &str) -> bool {
    let answers = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !answers {
        assert!(std::env::var_os("CI").is_none(), "{test}: no Docker engine answers, and CI requires one");
        eprintln!("SKIPPED {test}: no Docker engine answers (set DOCKER_HOST, or start one)");
    }
    answers
}

/// `docker` with arguments; its stdout, or a panic with its stderr.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker runs");
    assert!(output.status.success(), "docker {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A tag unique to this test run, and removed when dropped.
pub struct TestTag(pub String);

impl TestTag {
    /// `containerize-test/<name>:<pid>`.
    pub fn new(name: &str) -> TestTag {
        TestTag(format!("containerize-test/{name}:{}", std::process::id()))
    }
}

impl Drop for TestTag {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "--no-prune", &self.0]).output();
    }
}

/// Both builders, as `--buildkit` names them: the legacy one, then BuildKit.
pub const BUILDERS: [&str; 2] = ["never", "always"];

/// Builds `dir` with `tag` and the given flags; returns the `--json` report of the one image.
pub fn build(dir: &Path, tag: &TestTag, flags: &[&str]) -> serde_json::Value {
    let output = containerize(dir).args(["-q", "--json", "-t", &tag.0]).args(flags).output().unwrap();
    assert!(output.status.success(), "build failed: {}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report[0].clone()
}

/// A socket in front of the engine's that passes every byte through both ways, but holds one
/// request, the `nth` (from 1) whose first line `matches`, until the test lets it go: the test
/// can act (press Ctrl-C) while that very request is under way.
pub struct HeldRequest {
    dir: tempfile::TempDir,
    arrived: std::sync::mpsc::Receiver<String>,
    release: std::sync::mpsc::Sender<()>,
}

impl HeldRequest {
    /// Starts passing requests through.
    pub fn new(nth: usize, matches: fn(&str) -> bool) -> HeldRequest {
        use std::os::unix::net::{UnixListener, UnixStream};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex, mpsc};
        let engine = match std::env::var("DOCKER_HOST") {
            Ok(host) => host.strip_prefix("unix://").expect("a unix DOCKER_HOST").to_owned(),
            Err(_) => "/var/run/docker.sock".to_owned(),
        };
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
        let (arrived_sender, arrived) = mpsc::channel();
        let (release, released) = mpsc::channel();
        let released = Arc::new(Mutex::new(released));
        let seen = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let mut upstream = UnixStream::connect(&engine).unwrap();
                let (mut from_engine, mut to_client) = (upstream.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_engine, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                let (arrived, released, seen) = (arrived_sender.clone(), Arc::clone(&released), Arc::clone(&seen));
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(read) = client.read(&mut buffer)
                        && read > 0
                    {
                        let chunk = &buffer[..read];
                        let first_line = String::from_utf8_lossy(chunk).lines().next().unwrap_or_default().to_owned();
                        let is_request =
                            ["GET ", "POST ", "DELETE ", "HEAD "].iter().any(|m| first_line.starts_with(m));
                        if is_request && matches(&first_line) && seen.fetch_add(1, Ordering::SeqCst) + 1 == nth {
                            arrived.send(first_line).unwrap();
                            let _ = released.lock().unwrap().recv();
                        }
                        if upstream.write_all(chunk).is_err() {
                            break;
                        }
                    }
                    let _ = upstream.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        HeldRequest { dir, arrived, release }
    }

    /// The `DOCKER_HOST` that leads through this socket.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// Waits for the request to arrive while `child`, which should send it, runs: its first
    /// line, or, if the child ended first, how it ended (so a test fails with the reason rather
    /// than waiting out the timeout).
    pub fn arrived_from(&self, child: &mut std::process::Child) -> Result<String, std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        loop {
            match self.arrived.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(line) => return Ok(line),
                Err(_) => {
                    if let Some(status) = child.try_wait().unwrap() {
                        return Err(status);
                    }
                    assert!(std::time::Instant::now() < deadline, "the request to hold never arrived");
                }
            }
        }
    }

    /// Lets the request go on.
    pub fn release(&self) {
        self.release.send(()).unwrap();
    }
}
