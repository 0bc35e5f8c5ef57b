//! `containerize-build` in a build script: settings checked on every `cargo build`, the
//! Dockerfile, plan and SBOM written beside the build, values the app can read.

use containerize_tests::{containerize, example, http_get, repo};
use std::process::{Command, Output};

fn cargo_build(dir: &std::path::Path, verbose: bool) -> Output {
    let mut command = Command::new(env!("CARGO"));
    command.arg("build").current_dir(dir);
    if verbose {
        command.arg("-v");
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn settings_are_checked_on_every_build_and_the_outputs_match_the_cli() {
    let web = example("web");
    let dir = web.path();
    let manifest = dir.join("Cargo.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();

    // A bad setting fails the build, naming file, line, column and key.
    let table = "[package.metadata.containerize]\n";
    std::fs::write(&manifest, good.replace(table, &format!("{table}user = \"a b\"\n"))).unwrap();
    let failed = cargo_build(dir, false);
    assert!(!failed.status.success());
    let line = good.lines().position(|l| l == "[package.metadata.containerize]").unwrap() + 2;
    let expected = format!("Cargo.toml:{line}:8: `user`: `a b` is not a user");
    assert!(text(&failed).contains(&expected), "{expected} in: {}", text(&failed));

    // Fixed, it builds; unchanged, the script does not run again.
    std::fs::write(&manifest, &good).unwrap();
    let built = cargo_build(dir, false);
    assert!(built.status.success(), "{}", text(&built));
    let again = text(&cargo_build(dir, true));
    assert!(again.contains("Fresh web"), "{again}");
    assert!(!again.contains("build-script-build`"), "the script ran again: {again}");

    // What it wrote is what the CLI prints, byte for byte.
    let written = dir.join("target/containerize/web/web");
    let printed = containerize(dir).arg("--print").output().unwrap().stdout;
    assert_eq!(std::fs::read(written.join("Dockerfile")).unwrap(), printed);
    let plan = containerize(dir).arg("--print-plan").output().unwrap().stdout;
    assert_eq!(std::fs::read(written.join("plan.json")).unwrap(), plan);
    let sbom = dir.join("target/web.spdx.json");
    containerize(dir).args(["--print-plan", "--sbom"]).arg(&sbom).assert().success();
    assert_eq!(std::fs::read(written.join("sbom.spdx.json")).unwrap(), std::fs::read(sbom).unwrap());

    // The app knows its image: it serves it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server =
        Command::new(dir.join("target/debug/web")).env("WEB_ADDRESS", format!("127.0.0.1:{port}")).spawn().unwrap();
    let answer = http_get(port, "/version");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(answer.contains("image web:0.1.0\nversion 0.1.0\nrevision "), "{answer}");
}

#[test]
fn the_helper_brings_no_async_runtime_nor_docker_client() {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "containerize-build", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let tree = String::from_utf8(output.stdout).unwrap();
    for heavy in ["tokio", "bollard", "hyper", "futures", "mio", "reqwest"] {
        assert!(!tree.lines().any(|l| l.starts_with(&format!("{heavy} "))), "{heavy} is in the tree:\n{tree}");
    }
}

#[test]
fn the_build_script_refuses_what_the_cli_refuses() {
    // A package-wide `name` with two binaries: both images would get the same tags.
    let web = example("web");
    let dir = web.path();
    let table = "[package.metadata.containerize]\n";
    containerize_tests::edit_file(&dir.join("Cargo.toml"), table, &format!("{table}name = \"acme/web\"\n"));
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    std::fs::write(dir.join("src/bin/admin.rs"), "fn main() {}\n").unwrap();
    let failed = cargo_build(dir, false);
    assert!(!failed.status.success());
    let expected = "the images of `admin` (package `web`) and `web` (package `web`) would get the same tags \
                    `acme/web:0.1.0` and `acme/web:latest`";
    assert!(text(&failed).contains(expected), "{expected} in: {}", text(&failed));
    // The CLI refuses the same, for the same reason (its report wraps the message).
    let cli = containerize(dir).arg("--print").output().unwrap();
    assert_eq!(cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("the images of `admin` (package `web`) and `web`"));
}

#[test]
fn the_outputs_match_the_cli_with_a_dependency_for_another_platform() {
    // The script reads cargo's metadata for its build target only (`--filter-platform`), the
    // CLI for every platform: one pipeline must see one project, or the "very bytes" differ.
    let web = example("web");
    let dir = web.path();
    let other = dir.parent().unwrap().join("winonly");
    std::fs::create_dir_all(other.join("src")).unwrap();
    std::fs::write(
        other.join("Cargo.toml"),
        "[package]\nname = \"winonly\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(other.join("src/lib.rs"), "").unwrap();
    let dependency = "[target.'cfg(windows)'.dependencies]\nwinonly = { path = \"../winonly\" }\n\n";
    containerize_tests::edit_file(
        &dir.join("Cargo.toml"),
        "[build-dependencies]",
        &format!("{dependency}[build-dependencies]"),
    );
    let built = cargo_build(dir, false);
    assert!(built.status.success(), "{}", text(&built));
    let written = std::fs::read_to_string(dir.join("target/containerize/web/web/plan.json")).unwrap();
    let printed = String::from_utf8(containerize(dir).arg("--print-plan").output().unwrap().stdout).unwrap();
    assert!(
        written == printed,
        "plan.json and --print-plan differ; winonly in plan.json: {}, in --print-plan: {}",
        written.contains("winonly"),
        printed.contains("winonly")
    );
}
