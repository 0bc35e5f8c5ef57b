//! `#[containerize::main]` as the CLI sees it, and what it costs an app.

use containerize_tests::{containerize, edit_file, example, repo};
use std::process::Command;

#[test]
fn an_app_using_the_attribute_compiles_no_async_runtime_nor_docker_client() {
    let manifest = repo().join("examples/web/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-e", "normal", "--prefix", "none", "--format", "{p}", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("containerize ")), "{tree}");
    for heavy in ["tokio", "bollard", "hyper", "futures-util"] {
        assert!(!tree.lines().any(|l| l.starts_with(&format!("{heavy} "))), "{heavy} is in the tree:\n{tree}");
    }
}

#[test]
fn the_cli_reads_the_attribute_and_cargo_toml_overrides_it() {
    let web = example("web");
    let print = || String::from_utf8(containerize(web.path()).arg("--print").output().unwrap().stdout).unwrap();
    let dockerfile = print();
    assert!(dockerfile.contains("EXPOSE 8080/tcp"), "{dockerfile}");
    assert!(
        dockerfile.contains("HEALTHCHECK --interval=1s --timeout=1s --start-period=10s --retries=2 CMD"),
        "{dockerfile}"
    );

    let table = "[package.metadata.containerize]\n";
    let overridden = format!("{table}expose = [9090]\nhealthcheck = {{ path = \"/healthz\", interval = \"30s\" }}\n");
    edit_file(&web.path().join("Cargo.toml"), table, &overridden);
    let dockerfile = print();
    assert!(dockerfile.contains("EXPOSE 9090/tcp"), "{dockerfile}");
    // The healthcheck merges field by field: what Cargo.toml leaves unset stays as in the code.
    assert!(
        dockerfile.contains("HEALTHCHECK --interval=30s --timeout=1s --start-period=10s --retries=2 CMD")
            && dockerfile.contains("http://127.0.0.1:9090/healthz"),
        "{dockerfile}"
    );
}

#[test]
fn a_mistake_in_the_attribute_points_into_the_source() {
    let web = example("web");
    edit_file(&web.path().join("src/main.rs"), "expose = 8080", "expose = \"eighty\"");
    let output = containerize(web.path()).arg("--print").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("src/main.rs:") && stderr.contains("`expose`: `eighty` is not a port number"), "{stderr}");
}

#[test]
#[cfg(unix)]
fn arguments_that_are_not_utf8_reach_main() {
    use std::os::unix::ffi::OsStrExt;
    let fixture = repo().join("tests/fixtures/pid1");
    let built = escargot::CargoBuild::new()
        .manifest_path(fixture.join("Cargo.toml"))
        .target_dir(repo().join("target/fixtures"))
        .run()
        .expect("the fixture builds");
    let output = built.command().arg(std::ffi::OsStr::from_bytes(b"caf\xe9")).arg("au lait").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "[\"caf\\xE9\", \"au lait\"]\n");
}
