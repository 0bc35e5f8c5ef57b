//! The SBOM every image carries, read back out of a built image: valid SPDX by an independent
//! validator (`pyspdxtools`, from the `spdx-tools` package on PyPI, which `.ci/run` installs),
//! the very crates `cargo tree` lists for the same target and features, its digest in the
//! label, and the same bytes as `--sbom` writes on the host.

use containerize_tests::{TestTag, build, containerize, docker, engine_available, example, fixture, repo};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pyspdxtools` on the `PATH`, else in the virtual environment `.ci/run` makes in
/// `target/spdx-tools`. In CI (`CI` set) a missing validator fails the test that asks.
fn validator(test: &str) -> Option<PathBuf> {
    let local = repo().join("target/spdx-tools/bin/pyspdxtools");
    let found = ["pyspdxtools".into(), local]
        .into_iter()
        .find(|tool: &PathBuf| Command::new(tool).arg("--help").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{test}: pyspdxtools is missing, and CI requires it");
        eprintln!(
            "SKIPPED {test}: no pyspdxtools (python3 -m venv target/spdx-tools && target/spdx-tools/bin/pip install spdx-tools)"
        );
    }
    found
}

/// The file at `path` in the image, copied out to `to` (`docker create`, `docker cp`).
fn read_out(tag: &TestTag, path: &str, to: &Path) -> Vec<u8> {
    let container = docker(&["create", &tag.0]);
    let copied = Command::new("docker").args(["cp", &format!("{container}:{path}")]).arg(to).output();
    docker(&["rm", &container]);
    assert!(copied.unwrap().status.success(), "{} has {path}", tag.0);
    std::fs::read(to).unwrap()
}

/// `name version` of each crate `cargo tree` prints with these arguments.
fn cargo_tree(dir: &Path, args: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(dir)
        .args(["tree", "--locked", "--prefix", "none", "--format", "{p}"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines()
        .filter_map(|line| {
            let mut words = line.split(' ');
            Some(format!("{} {}", words.next()?, words.next()?.strip_prefix('v')?))
        })
        .collect()
}

#[test]
fn the_image_carries_a_valid_sbom_of_the_crates_cargo_tree_lists() {
    let test = "the_image_carries_a_valid_sbom_of_the_crates_cargo_tree_lists";
    if !engine_available(test) {
        return;
    }
    let Some(validator) = validator(test) else { return };
    let dir = fixture("sbom");
    let tag = TestTag::new("sbom");
    // Beside the project, not in it: the next build's context would take it.
    let on_host = dir.path().with_file_name("bill.spdx.json");
    let report = build(dir.path(), &tag, &["--sbom", on_host.to_str().unwrap()]);
    let sbom = &report["plan"]["runtime"]["sbom"];
    let path = sbom["path"].as_str().unwrap();
    assert_eq!(path, "/var/lib/db/sbom/bill.spdx.json");

    let from_image = dir.path().with_file_name("from-image.spdx.json");
    let bytes = read_out(&tag, path, &from_image);
    assert_eq!(bytes, std::fs::read(&on_host).unwrap(), "--sbom writes what the image carries");
    // An image the tool assembles itself carries the same document.
    let assembled = TestTag::new("sbom-assembled");
    build(dir.path(), &assembled, &["--reproducible"]);
    assert_eq!(read_out(&assembled, path, &dir.path().with_file_name("assembled.spdx.json")), bytes);

    let digest = format!("sha256:{}", Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>());
    assert_eq!(sbom["digest"], digest.as_str());
    let labels: Value =
        serde_json::from_str(&docker(&["image", "inspect", &tag.0, "--format", "{{json .Config.Labels}}"])).unwrap();
    assert_eq!(labels["io.github.containerize-rs.sbom.digest"], digest.as_str());
    assert_eq!(labels["io.github.containerize-rs.sbom.path"], path);

    let validation = Command::new(&validator).arg("-i").arg(&from_image).output().unwrap();
    assert!(
        validation.status.success(),
        "pyspdxtools refuses the document: {}{}",
        String::from_utf8_lossy(&validation.stdout),
        String::from_utf8_lossy(&validation.stderr)
    );

    // The target and features the image was built with, as the plan says.
    let plan = &report["plan"]["builder"];
    let target = plan["target"].as_str().unwrap();
    let features: Vec<&str> =
        plan["features"]["names"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(features, ["float"], "the fixture's settings turn it on");
    let build_only = same_crates_as_cargo_tree(dir.path(), &bytes, &["--target", target, "--features", "float"]);
    assert_eq!(build_only, BTreeSet::from(["cfg-if 1.0.5".to_owned(), "macros 0.1.0".to_owned()]));
    let all = cargo_tree(dir.path(), &["-e", "normal,build", "--target", target, "--features", "float"]);
    assert!(
        !all.iter().any(|p| p.starts_with("memchr ") || p.starts_with("fnv ")),
        "no dev or Windows crates: {all:?}"
    );
}

/// Checks that the document lists what `cargo tree` lists with `selection` (target and
/// features): all of `-e normal,build`, and as in the binary, those of `-e normal,no-proc-macro`.
/// Gives the crates marked build-time only.
fn same_crates_as_cargo_tree(dir: &Path, document: &[u8], selection: &[&str]) -> BTreeSet<String> {
    let document: Value = serde_json::from_slice(document).unwrap();
    let packages = document["packages"].as_array().unwrap();
    let listed = |build_only: bool| -> BTreeSet<String> {
        packages
            .iter()
            .filter(|p| p.get("comment").is_some() == build_only)
            .map(|p| format!("{} {}", p["name"].as_str().unwrap(), p["versionInfo"].as_str().unwrap()))
            .collect()
    };
    let all = cargo_tree(dir, &[&["-e", "normal,build"][..], selection].concat());
    let linked = cargo_tree(dir, &[&["-e", "normal,no-proc-macro"][..], selection].concat());
    assert_eq!(listed(false), linked, "what the binary links");
    assert_eq!(listed(false).union(&listed(true)).cloned().collect::<BTreeSet<_>>(), all, "with the build's crates");
    listed(true)
}

#[test]
fn the_web_examples_sbom_lists_what_cargo_tree_lists_and_validates() {
    // Its path dependencies' dev-dependencies turn on optional crates in cargo's metadata
    // (indexmap under toml) that the build does not compile.
    let test = "the_web_examples_sbom_lists_what_cargo_tree_lists_and_validates";
    let Some(validator) = validator(test) else { return };
    let web = example("web");
    let file = web.path().with_file_name("web.spdx.json");
    containerize(web.path()).args(["--print-plan", "--sbom"]).arg(&file).assert().success();
    let validation = Command::new(&validator).arg("-i").arg(&file).output().unwrap();
    assert!(validation.status.success(), "{}", String::from_utf8_lossy(&validation.stderr));
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let build_only = same_crates_as_cargo_tree(web.path(), &std::fs::read(&file).unwrap(), &["--target", &target]);
    assert!(build_only.iter().any(|p| p.starts_with("containerize-build ")), "{build_only:?}");
}
