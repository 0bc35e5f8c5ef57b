//! `#[containerize::main]` as the container's PID 1, on the real engine: the configured stop
//! signal ends the app, orphans are reaped while the app keeps its own children's statuses, and
//! the container ends with the app's status. One image (tests/fixtures/pid1) serves them all.

use containerize_tests::{Example, TestTag, build, docker, engine_available, fixture, poll};
use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::{Duration, Instant};

/// The fixture's image, built by the first test that asks and removed when the last one
/// running lets go of it.
struct Image {
    tag: TestTag,
    _sources: Example,
}

fn image() -> Arc<Image> {
    static SHARED: Mutex<Weak<Image>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(image) = shared.upgrade() {
        return image;
    }
    let sources = fixture("pid1");
    let tag = TestTag::new("pid1");
    build(sources.path(), &tag, &[]);
    let image = Arc::new(Image { tag, _sources: sources });
    *shared = Arc::downgrade(&image);
    image
}

/// A container of the image, removed when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Starts the app with `docker run` flags and `args`, and waits until it says it is ready;
/// gives it and its output.
fn ready(image: &Image, flags: &[&str], args: &[&str]) -> (Container, String) {
    let container = Container(docker(&[&["run", "-d"], flags, &[&image.tag.0], args].concat()));
    let (logs, _) = poll(
        Duration::from_secs(30),
        || Some(docker(&["logs", &container.0])).filter(|logs| logs.ends_with("ready")),
        || format!("the app never got ready: {}", docker(&["logs", &container.0])),
    );
    (container, logs)
}

fn exit_code(container: &Container) -> String {
    docker(&["inspect", "--format", "{{.State.ExitCode}}", &container.0])
}

#[test]
fn docker_stop_ends_the_app_with_the_configured_signal() {
    if !engine_available("docker_stop_ends_the_app_with_the_configured_signal") {
        return;
    }
    let image = image();
    assert_eq!(docker(&["image", "inspect", "--format", "{{.Config.StopSignal}}", &image.tag.0]), "SIGQUIT");
    let (stopped, _) = ready(&image, &[], &["serve"]);
    // Unhandled, SIGQUIT would leave PID 1 running until the grace period ends in SIGKILL (137).
    docker(&["stop", "--time", "60", &stopped.0]);
    assert_eq!(exit_code(&stopped), "131", "128 + SIGQUIT");

    // With a terminal, which the app is given.
    let (with_terminal, _) = ready(&image, &["--tty"], &["serve"]);
    docker(&["stop", "--time", "60", &with_terminal.0]);
    assert_eq!(exit_code(&with_terminal), "131", "128 + SIGQUIT, with a terminal");

    // Any other signal reaches the app too, and ends it as the signal's default action does.
    let (hung_up, _) = ready(&image, &[], &["serve"]);
    docker(&["kill", "--signal", "SIGHUP", &hung_up.0]);
    docker(&["wait", &hung_up.0]);
    assert_eq!(exit_code(&hung_up), "129", "128 + SIGHUP");
}

#[test]
fn orphans_are_reaped_and_the_app_keeps_its_childrens_statuses() {
    if !engine_available("orphans_are_reaped_and_the_app_keeps_its_childrens_statuses") {
        return;
    }
    let image = image();
    let (container, logs) = ready(&image, &[], &["serve"]);
    let statuses: Vec<String> = (1..=20).map(|code| format!("Some({code})")).collect();
    assert!(logs.contains(&format!("children: [{}]", statuses.join(", "))), "{logs}");
    // The orphan the app left ends at once; once reaped, only PID 1 and the app remain.
    let processes = || docker(&["top", &container.0, "-o", "pid,stat,args"]);
    poll(
        Duration::from_secs(20),
        || {
            let rows: Vec<String> = processes().lines().skip(1).map(str::to_owned).collect();
            let zombie = rows.iter().any(|row| row.split_whitespace().nth(1).is_some_and(|stat| stat.starts_with('Z')));
            (rows.len() == 2 && !zombie).then_some(())
        },
        || format!("an orphan was not reaped:\n{}", processes()),
    );
}

#[test]
fn the_container_ends_with_the_apps_status() {
    if !engine_available("the_container_ends_with_the_apps_status") {
        return;
    }
    let image = image();
    let output =
        std::process::Command::new("docker").args(["run", "--rm", &image.tag.0, "exit", "3"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", String::from_utf8_lossy(&output.stderr));
}

/// `docker run -it` as a user at a terminal runs it: the client gets a pseudo-terminal of its
/// own (portable-pty; util-linux `script` can spin forever once its child ends when its output
/// is a pipe, util-linux#2562). Every wait has a deadline, after which the client is killed and
/// the test fails with what the terminal showed.
struct Terminal {
    client: Box<dyn portable_pty::Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    screen: mpsc::Receiver<Vec<u8>>,
    shown: String,
    _container: Container,
}

const TERMINAL_DEADLINE: Duration = Duration::from_secs(60);

impl Terminal {
    fn run(image: &Image, name: &str, args: &str) -> Terminal {
        let container = Container(format!("containerize-test-pid1-{name}-{}", std::process::id()));
        let pair = portable_pty::native_pty_system().openpty(portable_pty::PtySize::default()).expect("a terminal");
        let mut command = portable_pty::CommandBuilder::new("docker");
        command.args(["run", "--rm", "-it", "--name", &container.0, &image.tag.0, args]);
        let client = pair.slave.spawn_command(command).expect("docker runs");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("the terminal's output");
        let (show, screen) = mpsc::channel();
        std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            // Ends when the client and every process it shares the terminal with are gone.
            while let Ok(read @ 1..) = reader.read(&mut chunk) {
                if show.send(chunk[..read].to_vec()).is_err() {
                    break;
                }
            }
        });
        let keys = pair.master.take_writer().expect("the terminal's input");
        Terminal { client, keys, screen, shown: String::new(), _container: container }
    }

    fn type_keys(&mut self, keys: &[u8]) {
        self.keys.write_all(keys).and_then(|()| self.keys.flush()).expect("keys reach the terminal");
    }

    /// Waits until the terminal shows `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + TERMINAL_DEADLINE;
        while !self.shown.contains(text) {
            match self.screen.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(chunk) => self.shown.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("the terminal never showed {text:?}; it shows: {:?}", self.shown),
            }
        }
    }

    /// Waits for the client to end; gives its exit status.
    fn exit_code(&mut self) -> u32 {
        let (status, _) = poll(
            TERMINAL_DEADLINE,
            || self.client.try_wait().expect("the client's status"),
            || format!("the client did not end; the terminal shows: {:?}", self.shown),
        );
        status.exit_code()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.client.kill();
    }
}

#[test]
fn at_a_terminal_the_app_reads_it_and_ctrl_c_ends_it() {
    if !engine_available("at_a_terminal_the_app_reads_it_and_ctrl_c_ends_it") {
        return;
    }
    let image = image();
    // PID 1 gives the app the terminal: reading it, the app is not stopped as a background job.
    let mut reading = Terminal::run(&image, "read", "read");
    reading.type_keys(b"hello\r");
    reading.wait_for("read: hello");
    assert_eq!(reading.exit_code(), 0, "{:?}", reading.shown);

    // Ctrl-C, from the terminal, ends it as SIGINT does.
    let mut serving = Terminal::run(&image, "serve", "serve");
    serving.wait_for("ready");
    serving.type_keys(b"\x03");
    assert_eq!(serving.exit_code(), 130, "128 + SIGINT; the terminal shows: {:?}", serving.shown);
}
