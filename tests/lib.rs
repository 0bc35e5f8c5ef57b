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

/// The `io.containerize.export` label of every image `--output` and `--reproducible` builds
/// label (`<pid>-<nanos>`): each names the run that made it. (`docker images --format
/// {{.Labels}}` is not in Docker 20.10.)
pub fn export_image_labels() -> Vec<String> {
    let ids = docker(&["images", "-a", "-q", "--filter", "label=io.containerize.export"]);
    ids.lines()
        .map(|id| docker(&["image", "inspect", "--format", "{{index .Config.Labels \"io.containerize.export\"}}", id]))
        .collect()
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
        TestTag(TestTag::reference(name))
    }

    /// The reference [`TestTag::new`] makes, for an engine other than the docker CLI's.
    pub fn reference(name: &str) -> String {
        format!("containerize-test/{name}:{}", std::process::id())
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

/// Whether this process runs as root (else `sudo -n` gives what needs root).
fn is_root() -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        let id = Command::new("id").arg("-u").output().expect("id runs");
        String::from_utf8_lossy(&id.stdout).trim() == "0"
    })
}

/// `program` with `args`, as root: directly when this process is root, else through `sudo -n`.
pub fn as_root(program: &str, args: &[&str]) -> Command {
    let mut command = if is_root() { Command::new(program) } else { Command::new("sudo") };
    if !is_root() {
        command.args(["-n", program]);
    }
    command.args(args);
    command
}

/// Runs `command`; its stdout, or a panic with its stderr.
pub fn output_of(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Whether a tool the test needs is installed. In CI (`CI` set, where `.ci/run` installs it) a
/// missing one fails the test; elsewhere the test says it was skipped.
pub fn tool_available(test: &str, tool: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{test}: {tool} is not installed, and CI requires it");
        eprintln!("SKIPPED {test}: {tool} is not installed (.ci/run installs it)");
    }
    found
}

/// Podman's Docker-compatible service on a socket of its own, `<dir>/podman/podman.sock` (so
/// that `<dir>` can be a user's `XDG_RUNTIME_DIR`), stopped when dropped with the tags the test
/// made. Rootful, on the image store `seed-images --podman` filled.
pub struct Podman {
    dir: tempfile::TempDir,
    service: std::process::Child,
    tags: std::sync::Mutex<Vec<String>>,
}

impl Podman {
    /// Starts the service, once it answers; `None` (the test is skipped) without Podman.
    pub fn start(test: &str) -> Option<Podman> {
        if !engine_available(test) || !tool_available(test, "podman") {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("containerize-podman-").tempdir().unwrap();
        std::fs::create_dir(dir.path().join("podman")).unwrap();
        // Podman asks runc for more processes and open files than it may give here (its own
        // process limit is capped at pid_max): the service gets this machine's limits.
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let hard = |name: &str| {
            let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
            line[name.len()..].split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX)
        };
        let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap().trim().parse().unwrap();
        let (files, processes) = (hard("Max open files"), hard("Max processes").min(pid_max));
        let conf = dir.path().join("containers.conf");
        std::fs::write(
            &conf,
            format!(
                "[containers]\ndefault_ulimits = [\"nofile={files}:{files}\", \"nproc={processes}:{processes}\"]\n"
            ),
        )
        .unwrap();
        let socket = dir.path().join("podman/podman.sock");
        let conf_variable = format!("CONTAINERS_CONF={}", conf.display());
        let url = format!("unix://{}", socket.display());
        let service = as_root("env", &[&conf_variable, "podman", "system", "service", "--time=0", &url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("podman starts");
        let podman = Podman { dir, service, tags: std::sync::Mutex::new(Vec::new()) };
        poll(std::time::Duration::from_secs(60), || socket.exists().then_some(()), || format!("{url} never appeared"));
        podman.give_to(&whoami());
        let answers = || {
            use std::io::{Read, Write};
            let mut stream = std::os::unix::net::UnixStream::connect(&socket).ok()?;
            stream.write_all(b"GET /_ping HTTP/1.0\r\n\r\n").ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).ok()?;
            answer.ends_with("OK").then_some(())
        };
        poll(std::time::Duration::from_secs(60), answers, || format!("Podman never answered at {url}"));
        Some(podman)
    }

    /// Where the service listens, as `DOCKER_HOST` names it.
    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("podman/podman.sock").display())
    }

    /// The directory that holds `podman/podman.sock`.
    pub fn runtime_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Makes `user` the socket's owner, so that they (and only they) may use it.
    pub fn give_to(&self, user: &str) {
        let socket = self.dir.path().join("podman/podman.sock");
        output_of(&mut as_root("chown", &[user, &socket.to_string_lossy()]));
        for dir in [self.dir.path().to_owned(), self.dir.path().join("podman")] {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
    }

    /// A tag unique to this test run, removed from Podman's store when the service stops.
    pub fn tag(&self, name: &str) -> String {
        let reference = TestTag::reference(name);
        self.tags.lock().unwrap().push(reference.clone());
        reference
    }

    /// `<registry>/containerize-test/<name>:<pid>`, removed from Podman's store when the service
    /// stops.
    pub fn registry_tag(&self, registry: &str, name: &str) -> String {
        let reference = format!("{registry}/{}", TestTag::reference(name));
        self.tags.lock().unwrap().push(reference.clone());
        reference
    }

    /// `podman` with arguments, on the service's store and with its configuration; its
    /// stdout, or a panic.
    pub fn podman(&self, args: &[&str]) -> String {
        output_of(&mut self.command(args))
    }

    /// The `podman` command, as root, with the service's configuration.
    pub fn command(&self, args: &[&str]) -> Command {
        let conf = format!("CONTAINERS_CONF={}", self.dir.path().join("containers.conf").display());
        let args: Vec<&str> = [conf.as_str(), "podman"].into_iter().chain(args.iter().copied()).collect();
        as_root("env", &args)
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let tags = self.tags.lock().unwrap().clone();
        if !tags.is_empty() {
            let args: Vec<&str> = ["rmi", "--ignore"].into_iter().chain(tags.iter().map(String::as_str)).collect();
            let _ = self.command(&args).output();
        }
        // sudo passes the signal on to the service.
        let _ = as_root("kill", &["-TERM", &self.service.id().to_string()]).output();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.service.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.service.kill();
        let _ = self.service.wait();
        // The socket is the service's (root's): the directory goes with root's help.
        let _ = as_root("rm", &["-rf", &self.dir.path().to_string_lossy()]).output();
    }
}

fn whoami() -> String {
    output_of(Command::new("id").arg("-un"))
}

/// A user with no right to the Docker socket (not in its group), made once, and a toolchain it
/// can run: the test's own, hard-linked where the user can reach it (homes are private).
pub struct Unprivileged {
    toolchain: tempfile::TempDir,
}

/// The unprivileged user's name.
pub const UNPRIVILEGED: &str = "containerize-nobody";

impl Unprivileged {
    /// Makes the user if missing; `None` (the test is skipped) where root can't be had.
    pub fn new(test: &str) -> Option<Unprivileged> {
        if !is_root() && !Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success()) {
            assert!(std::env::var_os("CI").is_none(), "{test}: CI must give sudo");
            eprintln!("SKIPPED {test}: needs root or sudo to act as another user");
            return None;
        }
        let exists = Command::new("id").arg(UNPRIVILEGED).output().is_ok_and(|o| o.status.success());
        if !exists {
            let made =
                as_root("useradd", &["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", UNPRIVILEGED])
                    .output()
                    .unwrap();
            // Another test may have made it meanwhile.
            assert!(
                made.status.success() || Command::new("id").arg(UNPRIVILEGED).status().unwrap().success(),
                "useradd failed: {}",
                String::from_utf8_lossy(&made.stderr)
            );
        }
        let toolchain = tempfile::Builder::new().prefix("containerize-toolchain-").tempdir().unwrap();
        let sysroot = output_of(Command::new("rustc").args(["--print", "sysroot"]));
        let linked = toolchain.path().join("sysroot");
        let copied = Command::new("cp").args(["-al", &sysroot, &linked.to_string_lossy()]).status().unwrap().success()
            || Command::new("cp").args(["-a", &sysroot, &linked.to_string_lossy()]).status().unwrap().success();
        assert!(copied, "the toolchain could not be copied");
        // Only the directories made here are opened up: the toolchain's files are the
        // original's own (hard links), readable by all already, and must stay as they are.
        let cargo_home = toolchain.path().join("cargo-home");
        std::fs::create_dir(&cargo_home).unwrap();
        let mode = |path: &Path, mode| {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        };
        mode(toolchain.path(), 0o755);
        mode(&cargo_home, 0o777);
        Some(Unprivileged { toolchain })
    }

    /// Lets the user read and write `dir` and reach it: a test's own copy, never hard links
    /// (the modes of linked files are the originals').
    pub fn open_to_all(dir: &Path) {
        output_of(Command::new("chmod").args(["-R", "a+rwX"]).arg(dir));
        let mut parent = dir.parent();
        while let Some(p) = parent.filter(|p| p.starts_with(std::env::temp_dir()) && *p != std::env::temp_dir()) {
            let _ = Command::new("chmod").arg("a+rx").arg(p).status();
            parent = p.parent();
        }
    }

    /// `cargo-containerize` in `dir`, as the user, with nothing of this process's environment
    /// but `vars`.
    pub fn containerize(&self, dir: &Path, vars: &[(&str, &str)]) -> Command {
        let bin = self.toolchain.path().join("sysroot/bin");
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", UNPRIVILEGED, "--"]);
            c
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "-u", UNPRIVILEGED]);
            c
        };
        command.current_dir(dir).arg("env").arg("-i");
        command.arg(format!("PATH={}:/usr/bin:/bin", bin.display()));
        command.arg(format!("CARGO={}", bin.join("cargo").display()));
        command.arg(format!("CARGO_HOME={}", self.toolchain.path().join("cargo-home").display()));
        command.args(["HOME=/nonexistent", "NO_COLOR=1"]);
        command.args(vars.iter().map(|(k, v)| format!("{k}={v}")));
        command.arg(binary()).arg("containerize");
        command
    }
}
