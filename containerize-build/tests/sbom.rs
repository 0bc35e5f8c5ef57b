//! The SBOM of a small fixture (`tests/fixtures/sbom` at the repository's root, its metadata
//! resolved for x86_64 Linux with the feature `float`, paths replaced): every kind of
//! dependency, each license form, and the same bytes wherever the checkout is.

use containerize_build::sbom::{self, Subject};
use serde_json::Value;

const METADATA: &str = include_str!("data/sbom/metadata.json");
const LOCKFILE: &str = include_str!("data/sbom/Cargo.lock");
const SUBJECT: Subject<'static> =
    Subject { package: "bill", binary: "bill", created: "2025-11-13T02:13:20Z", tool: "cargo-containerize 0.1.0" };

fn document(metadata: &str) -> String {
    let metadata = serde_json::from_str(metadata).unwrap();
    sbom::document(&metadata, Some(LOCKFILE), SUBJECT).unwrap()
}

#[test]
fn the_document_lists_what_the_binary_compiles_and_marks_what_only_the_build_runs() {
    let text = document(METADATA);
    insta::assert_snapshot!(text);
    let json: Value = serde_json::from_str(&text).unwrap();
    let mut names: Vec<&str> =
        json["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    // Not memchr (a dev-dependency) nor fnv (Windows only).
    assert_eq!(names, ["bill", "cfg-if", "itoa", "macros", "ryu"]);
}

#[test]
fn the_same_inputs_give_the_same_bytes_in_any_clone_and_other_inputs_another_namespace() {
    let here = document(METADATA);
    assert_eq!(document(&METADATA.replace("/home/dev/bill", "/srv/ci/clone-2/bill")), here);
    let later = serde_json::from_str(METADATA).unwrap();
    let later = sbom::document(&later, Some(LOCKFILE), Subject { created: "2025-11-13T02:13:21Z", ..SUBJECT }).unwrap();
    let namespace = |text: &str| serde_json::from_str::<Value>(text).unwrap()["documentNamespace"].clone();
    assert_ne!(namespace(&later), namespace(&here));
    assert_eq!(sbom::digest(&here), sbom::digest(&here.clone()));
    assert!(sbom::digest(&here).starts_with("sha256:") && sbom::digest(&here).len() == 71);
}

#[test]
fn licenses_become_spdx_expressions_or_noassertion_and_git_crates_say_their_commit() {
    let mut metadata: Value = serde_json::from_str(METADATA).unwrap();
    for package in metadata["packages"].as_array_mut().unwrap() {
        match package["name"].as_str().unwrap() {
            "itoa" => package["license"] = "GPL-2.0+ WITH Classpath-exception-2.0".into(),
            "cfg-if" => package["license"] = "Custom License".into(),
            "ryu" => {
                package["license"] = "LicenseRef-Proprietary".into();
                package["source"] = "git+https://github.com/dtolnay/ryu?branch=master#0123abc".into();
            }
            _ => {}
        }
    }
    let json: Value = serde_json::from_str(&document(&metadata.to_string())).unwrap();
    let package = |name: &str| json["packages"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(package("itoa")["licenseDeclared"], "GPL-2.0-or-later WITH Classpath-exception-2.0");
    assert_eq!(package("cfg-if")["licenseDeclared"], "NOASSERTION");
    assert_eq!(package("bill")["licenseDeclared"], "MIT OR Apache-2.0", "`/` is read as OR");
    assert_eq!(package("macros")["licenseDeclared"], "NOASSERTION", "a license file only");
    let ryu = package("ryu");
    assert_eq!(ryu["licenseDeclared"], "NOASSERTION", "no text for the LicenseRef");
    assert_eq!(ryu["downloadLocation"], "git+https://github.com/dtolnay/ryu@0123abc");
    assert_eq!(
        ryu["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/ryu@1.0.23?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fdtolnay%2Fryu%400123abc"
    );
    assert!(ryu.get("checksums").is_none(), "Cargo.lock has checksums for registry crates only");
}

#[test]
fn one_name_and_version_from_two_sources_are_two_packages() {
    let mut metadata: Value = serde_json::from_str(METADATA).unwrap();
    let id = "git+https://example.com/itoa#itoa@1.0.19";
    let packages = metadata["packages"].as_array_mut().unwrap();
    let mut fork = packages.iter().find(|p| p["name"] == "itoa").unwrap().clone();
    fork["id"] = id.into();
    fork["source"] = "git+https://example.com/itoa#fedcba9".into();
    packages.push(fork);
    let nodes = metadata["resolve"]["nodes"].as_array_mut().unwrap();
    nodes.push(serde_json::json!({ "id": id, "dependencies": [], "deps": [], "features": [] }));
    let bill = nodes.iter_mut().find(|n| n["id"].as_str().unwrap().contains("bill")).unwrap();
    let dep = serde_json::json!({ "name": "itoa_fork", "pkg": id, "dep_kinds": [{ "kind": null, "target": null }] });
    bill["deps"].as_array_mut().unwrap().push(dep);
    let json: Value = serde_json::from_str(&document(&metadata.to_string())).unwrap();
    let ids: Vec<&str> = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "itoa")
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let depends = json["relationships"].as_array().unwrap().iter().filter(|r| r["relationshipType"] == "DEPENDS_ON");
    let targets: Vec<&str> = depends.map(|r| r["relatedSpdxElement"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|id| targets.contains(id)), "{targets:?}");
}

#[test]
fn an_optional_dependency_is_listed_only_when_the_built_features_turn_it_on() {
    // As cargo's metadata shows it when a path package's dev-dependency asks for a feature:
    // an edge to an optional dependency that the node's own features leave off.
    let with = |float: &[&str]| {
        let mut metadata: Value = serde_json::from_str(METADATA).unwrap();
        let memchr_id = "registry+https://github.com/rust-lang/crates.io-index#memchr@2.8.3";
        let bill = metadata["packages"].as_array_mut().unwrap().iter_mut().find(|p| p["name"] == "bill").unwrap();
        let declarations = bill["dependencies"].as_array_mut().unwrap();
        let mut optional = declarations.iter().find(|d| d["name"] == "memchr").unwrap().clone();
        optional["kind"] = Value::Null;
        optional["optional"] = true.into();
        declarations.push(optional);
        bill["features"]["float"] = serde_json::json!(float);
        let nodes = metadata["resolve"]["nodes"].as_array_mut().unwrap();
        let node = nodes.iter_mut().find(|n| n["id"].as_str().unwrap().contains("bill")).unwrap();
        let deps = node["deps"].as_array_mut().unwrap();
        let dev = deps.iter_mut().find(|d| d["pkg"] == memchr_id).unwrap();
        dev["dep_kinds"].as_array_mut().unwrap().push(serde_json::json!({ "kind": null, "target": null }));
        let json: Value = serde_json::from_str(&document(&metadata.to_string())).unwrap();
        json["packages"].as_array().unwrap().iter().any(|p| p["name"] == "memchr")
    };
    assert!(!with(&["dep:ryu"]), "no feature turns it on");
    assert!(!with(&["dep:ryu", "memchr?/std"]), "a weak feature does not turn it on");
    assert!(with(&["dep:ryu", "memchr/std"]));
    assert!(with(&["dep:ryu", "dep:memchr"]));
}
