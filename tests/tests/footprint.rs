//! An app that depends on `containerize` for the attribute only compiles the small runtime for
//! its target: none of the core, which runs on the host (in the proc-macro and the CLI).

use containerize_tests::repo;

#[test]
fn an_app_using_only_the_attribute_compiles_none_of_the_core_for_its_target() {
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(repo().join("examples/web"))
        .args(["tree", "--locked", "-e", "normal,no-proc-macro", "--target", "x86_64-unknown-linux-gnu"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let crates: Vec<&str> = tree.lines().filter_map(|line| line.split(' ').next()).collect();
    assert!(crates.contains(&"containerize"), "{tree}");
    for core in ["syn", "toml", "cargo_metadata", "containerize-build", "humantime", "strsim", "serde_json"] {
        assert!(!crates.contains(&core), "{core} is compiled for the app's target:\n{tree}");
    }
}
