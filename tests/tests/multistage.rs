//! Stages beyond builder and runtime, against the real engine: files copied from another
//! image, a Windows image refused by a Linux engine, and ejected Dockerfiles built with the
//! engine's plain `docker build`, with no context made by the tool.

use containerize_tests::{TestTag, build, containerize, docker, edit_file, engine_available, example};
use std::process::Command;

/// A file's contents in an image, read through a created (never started) container.
fn file_in(image: &str, path: &str) -> String {
    let container = docker(&["create", image]);
    let output = Command::new("docker").args(["cp", &format!("{container}:{path}"), "-"]).output().unwrap();
    docker(&["rm", &container]);
    assert!(output.status.success(), "{path} in {image}: {}", String::from_utf8_lossy(&output.stderr));
    let mut archive = tar::Archive::new(output.stdout.as_slice());
    let mut entry = archive.entries().unwrap().next().expect("one file").unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    text
}

#[test]
fn a_file_is_copied_from_a_debian_image() {
    if !engine_available("a_file_is_copied_from_a_debian_image") {
        return;
    }
    let dir = example("hello");
    let include = r#"include = [{ from = "debian:trixie-slim", src = "/etc/debian_version", dest = "/etc/debian_version", mode = "0600" }]"#;
    edit_file(&dir.path().join("Cargo.toml"), "base = \"scratch\"", &format!("base = \"scratch\"\n{include}"));
    let tag = TestTag::new("from-image");
    build(dir.path(), &tag, &[]);
    let version = file_in(&tag.0, "/etc/debian_version");
    assert_eq!(version, file_in("debian:trixie-slim", "/etc/debian_version"));
    assert!(version.starts_with("13"), "trixie is Debian 13: {version}");
    assert_eq!(docker(&["run", "--rm", &tag.0]), "Hello, world! (from a static container)");
}

#[test]
fn an_include_image_that_is_nowhere_is_reported_as_the_one_include_copies_from() {
    if !engine_available("an_include_image_that_is_nowhere_is_reported_as_the_one_include_copies_from") {
        return;
    }
    let dir = example("hello");
    let image = "containerize-test/nowhere:none";
    let include = format!(r#"include = [{{ from = "{image}", src = "/x", dest = "/x" }}]"#);
    edit_file(&dir.path().join("Cargo.toml"), "base = \"scratch\"", &format!("base = \"scratch\"\n{include}"));
    let tag = TestTag::new("from-nowhere");
    let output = containerize(dir.path()).args(["-q", "-t", &tag.0]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(&format!("the image `include` copies from, `{image}` is not on the engine")), "{stderr}");
    assert!(stderr.contains("set the `include` entry's `from` to an image the engine has"), "{stderr}");
}

#[test]
fn a_linux_engine_refuses_a_windows_image_before_sending_anything() {
    if !engine_available("a_linux_engine_refuses_a_windows_image_before_sending_anything") {
        return;
    }
    let dir = example("workspace");
    let tag = TestTag::new("windows");
    let flags = ["--bin", "server", "--platform", "windows/amd64", "--base", "nanoserver", "-t", &tag.0];
    let output = containerize(dir.path()).args(flags).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).replace("\n  | ", " ");
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("the engine runs linux containers, so it can't build the windows/amd64 image of `server`"),
        "{stderr}"
    );
    assert!(stderr.contains("--print --eject"), "the help says what to do instead: {stderr}");
    let tagged = Command::new("docker").args(["image", "inspect", &tag.0]).output().unwrap();
    assert!(!tagged.status.success(), "nothing tagged");
}

/// Ejects `binary`'s Dockerfile into the workspace root, builds it there with a plain `docker
/// build` and the tag, and returns what the image prints when run with `args`.
fn eject_and_build(example_name: &str, binary: &str, tag: &TestTag, args: &[&str]) -> String {
    let dir = example(example_name);
    let output = containerize(dir.path()).args(["--print", "--eject", "--bin", binary]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::write(dir.path().join("Dockerfile"), &output.stdout).unwrap();
    // The engine's own build, as CI elsewhere would run it: the docker CLI, no tool-made context.
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &tag.0, "."])
        .env_remove("DOCKER_BUILDKIT")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "docker build failed: {}", String::from_utf8_lossy(&built.stderr));
    let checked =
        containerize(dir.path()).args(["--eject", "--bin", binary, "--check", "Dockerfile"]).output().unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", String::from_utf8_lossy(&checked.stderr));
    let mut run = vec!["run", "--rm", tag.0.as_str()];
    run.extend(args);
    docker(&run)
}

#[test]
fn an_ejected_hello_builds_with_a_plain_docker_build() {
    if !engine_available("an_ejected_hello_builds_with_a_plain_docker_build") {
        return;
    }
    let tag = TestTag::new("ejected-hello");
    assert_eq!(eject_and_build("hello", "hello", &tag, &["eject"]), "Hello, eject! (from a static container)");
    assert_eq!(docker(&["image", "inspect", &tag.0, "--format", "{{.Config.User}}"]), "65532:65532");
}

#[test]
fn an_ejected_workspace_member_builds_with_a_plain_docker_build() {
    if !engine_available("an_ejected_workspace_member_builds_with_a_plain_docker_build") {
        return;
    }
    let tag = TestTag::new("ejected-greet");
    assert_eq!(eject_and_build("workspace", "greet", &tag, &["you", "all"]), "Hello, you all!");
}
