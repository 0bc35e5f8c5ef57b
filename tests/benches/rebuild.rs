//! How fast images build and rebuild, against hand-written Dockerfiles and the host's own
//! `cargo build --release`: `cargo bench -p containerize-tests --bench rebuild [-- linkcheck]`.
//!
//! On a fresh copy of a project, renamed so that no cache from an earlier run applies, it times
//! for each way of building: a cold build, a rebuild after a one-line source edit, and a rebuild
//! after a version bump; then it prints the image and context sizes. Every way builds the same
//! sources, on the same engine, in turn. The project is ripgrep 14.1.1 as published on crates.io
//! (a real application: 32 dependencies, 12,000 lines of its own), or with `linkcheck`,
//! `examples/linkcheck` (28 dependencies, a 51-line application: there the engine's fixed cost
//! per build shows).

use containerize_tests::{binary, docker, edit_file, repo};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const RUST_IMAGE: &str = "rust:1.95.0-slim-trixie";

/// A project to build, and the edits the benchmark makes to it.
struct Project {
    /// The package's name, replaced in its manifest and lockfile by a name unique to this run.
    package: &'static str,
    /// The binary's name when it is not the package's.
    binary: Option<&'static str>,
    /// A one-line source edit: the file, and what is replaced by what.
    edit: (&'static str, &'static str, &'static str),
    /// The package's version, and the next one.
    bump: (&'static str, &'static str),
    /// Where it comes from, for the table's title.
    origin: &'static str,
    /// Puts the project's sources in the directory.
    fetch: fn(&Path),
}

const RIPGREP: Project = Project {
    package: "ripgrep",
    binary: Some("rg"),
    edit: ("crates/core/main.rs", "No files were searched,", "No file was searched,"),
    bump: ("14.1.1", "14.1.2"),
    origin: "ripgrep 14.1.1 from crates.io",
    fetch: fetch_ripgrep,
};

const LINKCHECK: Project = Project {
    package: "linkcheck",
    binary: None,
    edit: ("src/main.rs", "\"-\".to_owned()", "\"<stdin>\".to_owned()"),
    bump: ("0.1.0", "0.1.1"),
    origin: "examples/linkcheck",
    fetch: copy_linkcheck,
};

/// One way of building, and what it gave.
struct Way {
    name: &'static str,
    times: Vec<f64>,
    image_bytes: Option<u64>,
    context_bytes: Option<u64>,
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

fn timed(command: &mut Command) -> (f64, String) {
    let start = Instant::now();
    let output = run(command);
    (start.elapsed().as_secs_f64(), output)
}

/// The published package, checked against the checksum crates.io's index gives for it.
fn fetch_ripgrep(to: &Path) {
    const URL: &str = "https://static.crates.io/crates/ripgrep/ripgrep-14.1.1.crate";
    const SHA256: &str = "f77b8032dc584527975f34aa5a897d0ef5a785573fda778771a614ff9da501d9";
    let parent = to.parent().unwrap();
    let archive = parent.join("ripgrep.crate");
    run(Command::new("curl").args(["-sSfL", "-o"]).arg(&archive).arg(URL));
    run(Command::new("sh").arg("-c").arg(format!("echo '{SHA256}  ripgrep.crate' | sha256sum -c")).current_dir(parent));
    run(Command::new("tar").arg("xzf").arg(&archive).current_dir(parent));
    std::fs::rename(parent.join("ripgrep-14.1.1"), to).unwrap();
}

fn copy_linkcheck(to: &Path) {
    let from = repo().join("examples/linkcheck");
    for file in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        std::fs::create_dir_all(to.join(file).parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
}

/// The Dockerfiles people write by hand: one stage, and two as the docs teach.
fn hand_written(binary: &str) -> [(&'static str, String); 2] {
    let build = format!("FROM {RUST_IMAGE} AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n");
    [
        ("single-stage Dockerfile", format!("{build}CMD [\"/app/target/release/{binary}\"]\n")),
        (
            "multi-stage Dockerfile",
            format!(
                "{build}\nFROM debian:trixie-slim\nCOPY --from=build /app/target/release/{binary} /usr/local/bin/{binary}\nCMD [\"{binary}\"]\n"
            ),
        ),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; the one other argument names the project.
    let project = match std::env::args().skip(1).find(|a| !a.starts_with('-')).as_deref() {
        None | Some("ripgrep") => RIPGREP,
        Some("linkcheck") => LINKCHECK,
        Some(other) => panic!("no project {other}: ripgrep (the default) or linkcheck"),
    };
    let nonce = format!("{}{}", std::process::id(), Instant::now().elapsed().subsec_nanos());
    let name = format!("{}-bench-{nonce}", project.package);
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("project");
    (project.fetch)(&project_dir);
    for file in ["Cargo.toml", "Cargo.lock"] {
        edit_file(&project_dir.join(file), &format!("name = \"{}\"", project.package), &format!("name = \"{name}\""));
    }
    std::fs::write(project_dir.join(".dockerignore"), "target\n").unwrap();
    let binary_name = project.binary.unwrap_or(&name);
    let host_target = dir.path().join("host-target");
    let tool = binary();

    let hand = hand_written(binary_name);
    for (i, (_, dockerfile)) in hand.iter().enumerate() {
        std::fs::write(dir.path().join(format!("Dockerfile.{i}")), dockerfile).unwrap();
    }
    let mut ways: Vec<Way> =
        ["host cargo build --release", hand[0].0, hand[1].0, "containerize, legacy builder", "containerize, BuildKit"]
            .into_iter()
            .map(|name| Way { name, times: Vec::new(), image_bytes: None, context_bytes: None })
            .collect();

    for phase in ["cold", "edit", "bump"] {
        match phase {
            "edit" => {
                let (file, from, to) = project.edit;
                edit_file(&project_dir.join(file), from, to);
            }
            "bump" => {
                let (from, to) = project.bump;
                edit_file(
                    &project_dir.join("Cargo.toml"),
                    &format!("version = \"{from}\""),
                    &format!("version = \"{to}\""),
                );
            }
            _ => {}
        }
        eprintln!("phase {phase}");
        // The host first: it also brings Cargo.lock up to date for the others.
        let (seconds, _) = timed(
            Command::new("cargo")
                .args(["build", "--release", "-q"])
                .env("CARGO_TARGET_DIR", &host_target)
                .current_dir(&project_dir),
        );
        ways[0].times.push(seconds);
        for (i, _) in hand.iter().enumerate() {
            let tag = format!("{name}-hand{i}:bench");
            let dockerfile = dir.path().join(format!("Dockerfile.{i}"));
            let mut command = Command::new("docker");
            command
                .args(["build", "-t", &tag, "-f"])
                .arg(&dockerfile)
                .arg(".")
                .env("DOCKER_BUILDKIT", "0")
                .current_dir(&project_dir);
            let (seconds, output) = timed(&mut command);
            ways[i + 1].times.push(seconds);
            ways[i + 1].context_bytes = output
                .lines()
                .find_map(|l| l.strip_prefix("Sending build context to Docker daemon"))
                .map(|s| parse_size(s.trim()));
            ways[i + 1].image_bytes = docker(&["image", "inspect", &tag, "--format", "{{.Size}}"]).parse().ok();
        }
        for (i, builder) in [(3, "never"), (4, "always")] {
            let tag = format!("{name}-{builder}:bench");
            let mut command = Command::new(tool);
            command.args(["-q", "--json", "-t", &tag, "--buildkit", builder]).current_dir(&project_dir);
            let (seconds, output) = timed(&mut command);
            ways[i].times.push(seconds);
            let json = &output[output.find('[').expect("the JSON report")..];
            let report: serde_json::Value = serde_json::from_str(json.trim()).expect("the JSON report");
            ways[i].image_bytes = report[0]["size"].as_u64();
            ways[i].context_bytes = report[0]["context_bytes"].as_u64();
        }
    }

    print_table(&format!("{name} ({})", project.origin), &ways);
    for image in
        docker(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).lines().filter(|l| l.starts_with(&name))
    {
        let _ = Command::new("docker").args(["rmi", image]).output();
    }
}

/// `11.26kB` as bytes.
fn parse_size(text: &str) -> u64 {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => 1.0,
    };
    (number.parse::<f64>().unwrap_or(0.0) * factor) as u64
}

fn human(bytes: Option<u64>) -> String {
    match bytes {
        None => "-".to_owned(),
        Some(b) if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        Some(b) => format!("{:.1} kB", b as f64 / 1e3),
    }
}

fn print_table(title: &str, ways: &[Way]) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!("\nrebuild benchmark: {title}, {cores} cores, seconds");
    println!(
        "| way of building | cold build | after a one-line edit | after a version bump | image size | context size |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for way in ways {
        let [cold, edit, bump] = [0, 1, 2].map(|i| way.times.get(i).map_or("-".to_owned(), |t| format!("{t:.1}")));
        println!(
            "| {} | {cold} | {edit} | {bump} | {} | {} |",
            way.name,
            human(way.image_bytes),
            human(way.context_bytes)
        );
    }
    let host = &ways[0].times;
    for way in &ways[3..] {
        let ratio = |i: usize| way.times[i] / host[i];
        println!(
            "{}: cold {:.2}x the host's (goal <= 1.3x), one-line edit {:.2}x (goal <= 1.25x), version bump {:.2}x",
            way.name,
            ratio(0),
            ratio(1),
            ratio(2)
        );
    }
}
