//! The dependency skeleton: the workspace reduced to what decides which third-party crates are
//! built, so the layer that builds them stays cached while sources and versions change.
//!
//! Every local manifest keeps what cargo resolves and builds with (dependencies, features,
//! profiles, targets) and loses what it does not (descriptions, metadata); local versions
//! are masked to [`MASKED_VERSION`] in the manifests and the lockfile, and every target's root
//! file is a placeholder. The placeholders never reach the image: their artifacts are cleaned
//! right after the dependency build, and the real build differs in version besides (cargo
//! keeps artifacts of different versions apart), even for a package that omits its version.

use crate::project::{Project, TargetRole};
use serde::Serialize;
use toml::{Table, Value};

/// The version local packages get in the skeleton: a pre-release no real package uses, so a
/// placeholder's artifacts never share a name with the real build's (`0.0.0`, the version of
/// a package that omits it, would).
pub const MASKED_VERSION: &str = "0.0.0-containerize-skeleton";

/// Where the skeleton sits in the build context.
pub const SKELETON_DIR: &str = ".containerize/skeleton";

/// One file of the skeleton.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkeletonFile {
    /// Its path, relative to the context root.
    pub path: String,
    /// Its contents (left out of the printed plan).
    #[serde(skip)]
    pub contents: String,
}

/// Package fields that change no build: dropping them keeps the skeleton (and its layer) the
/// same when they change.
const DESCRIPTIVE: &[&str] = &[
    "authors",
    "badges",
    "categories",
    "description",
    "documentation",
    "exclude",
    "homepage",
    "include",
    "keywords",
    "license",
    "license-file",
    "metadata",
    "publish",
    "readme",
    "repository",
];

/// The skeleton of a project; `in_context` maps a package directory and a path in it to a
/// path in the context.
pub fn skeleton(project: &Project, in_context: impl Fn(&str, &str) -> String) -> Vec<SkeletonFile> {
    let mut files = vec![SkeletonFile {
        path: in_context(project.workspace_root.as_str(), "Cargo.toml"),
        contents: mask_manifest(&project.root_manifest.text),
    }];
    if let Some(lockfile) = &project.lockfile {
        let masked = project.packages.iter().filter(|p| !p.patch);
        let local: Vec<(&str, &str)> = masked.map(|p| (p.name.as_str(), p.version.as_str())).collect();
        files.push(SkeletonFile {
            path: in_context(project.workspace_root.as_str(), "Cargo.lock"),
            contents: mask_lockfile(lockfile, &local),
        });
    }
    for package in &project.packages {
        let dir = package.dir.as_str();
        if package.manifest != project.root_manifest {
            // A `[patch]` keeps its version: its dependents require it by version.
            let contents =
                if package.patch { package.manifest.text.clone() } else { mask_manifest(&package.manifest.text) };
            files.push(SkeletonFile { path: in_context(dir, "Cargo.toml"), contents });
        }
        for target in &package.targets {
            let contents = match target.role {
                TargetRole::Library => "",
                TargetRole::Executable | TargetRole::BuildScript => "fn main() {}\n",
            };
            files.push(SkeletonFile { path: in_context(dir, &target.path), contents: contents.to_owned() });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

fn table_mut<'t>(table: &'t mut Table, key: &str) -> Option<&'t mut Table> {
    table.get_mut(key).and_then(Value::as_table_mut)
}

/// A manifest with local versions masked and descriptive fields dropped. A manifest that does
/// not parse (cargo read it, so it should) is kept as it is: a layer cached less often, but a
/// correct build.
pub fn mask_manifest(text: &str) -> String {
    let Ok(mut manifest) = toml::from_str::<Table>(text) else {
        return text.to_owned();
    };
    if let Some(package) = table_mut(&mut manifest, "package") {
        // An omitted version is `0.0.0`: masked too.
        if !package.contains_key("version") {
            package.insert("version".to_owned(), Value::String(MASKED_VERSION.to_owned()));
        }
        mask_package(package);
    }
    if let Some(workspace) = table_mut(&mut manifest, "workspace") {
        workspace.remove("metadata");
        if let Some(package) = table_mut(workspace, "package") {
            mask_package(package);
        }
        if let Some(dependencies) = table_mut(workspace, "dependencies") {
            unversion_paths(dependencies);
        }
    }
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(dependencies) = table_mut(&mut manifest, key) {
            unversion_paths(dependencies);
        }
    }
    if let Some(targets) = table_mut(&mut manifest, "target") {
        for target in targets.iter_mut().filter_map(|(_, t)| t.as_table_mut()) {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(dependencies) = table_mut(target, key) {
                    unversion_paths(dependencies);
                }
            }
        }
    }
    toml::to_string(&manifest).unwrap_or_else(|_| text.to_owned())
}

fn mask_package(package: &mut Table) {
    if package.get("version").is_some_and(Value::is_str) {
        package.insert("version".to_owned(), Value::String(MASKED_VERSION.to_owned()));
    }
    for key in DESCRIPTIVE {
        package.remove(*key);
    }
}

/// A path dependency's `version` requirement would not match a masked version; the path is
/// what cargo builds from anyway.
fn unversion_paths(dependencies: &mut Table) {
    for dependency in dependencies.iter_mut().filter_map(|(_, d)| d.as_table_mut()) {
        if dependency.contains_key("path") {
            dependency.remove("version");
        }
    }
}

/// A lockfile with the versions of `local` packages (name, version) masked, where they are
/// named and where other entries refer to them (`"name version"`). By name and version: a
/// registry crate may share a local package's name.
pub fn mask_lockfile(text: &str, local: &[(&str, &str)]) -> String {
    let Ok(mut lock) = toml::from_str::<Table>(text) else {
        return text.to_owned();
    };
    let packages = lock.get_mut("package").and_then(Value::as_array_mut).into_iter().flatten();
    for package in packages.filter_map(Value::as_table_mut) {
        let name = package.get("name").and_then(Value::as_str).unwrap_or_default();
        let version = package.get("version").and_then(Value::as_str).unwrap_or_default();
        let is_local = !package.contains_key("source") && local.contains(&(name, version));
        if is_local {
            package.insert("version".to_owned(), Value::String(MASKED_VERSION.to_owned()));
        }
        let dependencies = package.get_mut("dependencies").and_then(Value::as_array_mut).into_iter().flatten();
        for dependency in dependencies {
            let Some(entry) = dependency.as_str() else { continue };
            let mut parts = entry.split(' ');
            let (Some(name), Some(version), None) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if local.contains(&(name, version)) {
                *dependency = Value::String(format!("{name} {MASKED_VERSION}"));
            }
        }
    }
    toml::to_string(&lock).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_keep_what_builds_and_mask_the_rest() {
        let masked = mask_manifest(
            r#"[package]
name = "app"
version = "1.4.2"
description = "changes often"
edition = "2024"
build = "build.rs"

[dependencies]
serde = { version = "1", features = ["derive"] }
shared = { path = "../shared", version = "1.4" }

[target.'cfg(unix)'.dependencies]
local-unix = { path = "../unix", version = "0.3" }

[features]
tls = ["serde/std"]

[profile.release]
lto = true

[package.metadata.containerize]
base = "scratch"
"#,
        );
        insta::assert_snapshot!(masked, @r#"
        [dependencies.serde]
        features = ["derive"]
        version = "1"

        [dependencies.shared]
        path = "../shared"

        [features]
        tls = ["serde/std"]

        [package]
        build = "build.rs"
        edition = "2024"
        name = "app"
        version = "0.0.0-containerize-skeleton"

        [profile.release]
        lto = true

        [target."cfg(unix)".dependencies.local-unix]
        path = "../unix"
        "#);
    }

    #[test]
    fn a_version_bump_leaves_the_skeleton_unchanged() {
        let before = "[package]\nname = \"app\"\nversion = \"1.0.0\"\ndescription = \"a\"\n";
        let after = "[package]\nname = \"app\"\nversion = \"1.0.1\"\ndescription = \"b\"\n";
        assert_eq!(mask_manifest(before), mask_manifest(after));
        let lock = |v: &str| {
            format!(
                "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"{v}\"\ndependencies = [\"itoa\", \"lib 2.0.0\"]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.15\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
            )
        };
        let local = |v: &'static str| [("app", v), ("lib", "2.0.0")];
        assert_eq!(mask_lockfile(&lock("1.0.0"), &local("1.0.0")), mask_lockfile(&lock("1.0.1"), &local("1.0.1")));
        assert!(mask_lockfile(&lock("1.0.0"), &local("1.0.0")).contains("\"lib 0.0.0-containerize-skeleton\""));
        assert!(
            mask_lockfile(&lock("1.0.0"), &local("1.0.0")).contains("version = \"1.0.15\""),
            "registry versions stay"
        );
        // A local crate named like a registry one: only the local one is masked.
        let masked = mask_lockfile(&lock("1.0.0"), &[("app", "1.0.0"), ("itoa", "0.9.0")]);
        assert!(masked.contains("version = \"1.0.15\""), "{masked}");
    }

    #[test]
    fn an_omitted_version_is_masked_too() {
        let masked = mask_manifest("[package]\nname = \"app\"\nedition = \"2024\"\n");
        assert!(masked.contains(&format!("version = \"{MASKED_VERSION}\"")), "{masked}");
        let inherited = mask_manifest("[package]\nname = \"app\"\nversion.workspace = true\n");
        assert!(inherited.contains("workspace = true"), "the workspace's version is masked instead: {inherited}");
    }
}
