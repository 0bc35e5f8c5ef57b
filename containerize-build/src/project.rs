//! What is there: the workspace, its local packages and binaries, the toolchain and the
//! checkout, gathered from Cargo metadata and the files beside it. The core's I/O is here and
//! in `pipeline`, which asks cargo for each image's dependency graph.

use crate::diagnostic::SourceFile;
use crate::toolchain::{self, Toolchain};
use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{DependencyKind, Metadata, TargetKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A Cargo project as containerize sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The workspace root directory.
    pub workspace_root: Utf8PathBuf,
    /// Cargo's target directory (never sent to the engine).
    pub target_directory: Utf8PathBuf,
    /// The workspace's `Cargo.toml`.
    pub root_manifest: Arc<SourceFile>,
    /// Every local package cargo must see to load the workspace: the members and every path
    /// dependency, inside the workspace root or not. Sorted by directory.
    pub packages: Vec<LocalPackage>,
    /// Files at the workspace root that the build reads, relative to it (`Cargo.lock`,
    /// `.cargo/config.toml`, `rust-toolchain.toml`), and the directories of vendored sources
    /// that cargo's configuration names.
    pub root_files: Vec<String>,
    /// `Cargo.lock`, if there is one.
    pub lockfile: Option<String>,
    /// Whether the project's `.cargo/config.toml` sets `target.<...>.rustflags`, which makes
    /// cargo ignore `build.rustflags`.
    pub config_has_target_rustflags: bool,
    /// `rustflags` the project's cargo configuration writes as one string, not a list, by
    /// table (`build`, `target.<triple>`).
    pub config_string_rustflags: BTreeMap<String, String>,
    /// The `profile` tables of the project's cargo configuration (`.cargo/config.toml`), which
    /// override the manifest's `[profile]`: the first file's table of a profile wins.
    pub config_profiles: toml::Table,
    /// The toolchain.
    pub toolchain: Toolchain,
    /// The git checkout, if the workspace is in one.
    pub vcs: Option<Vcs>,
    /// `SOURCE_DATE_EPOCH`, when set: the build's reproducible creation time.
    pub source_date_epoch: Option<i64>,
    /// Names this checkout's target directory for as long as it lives: the engine's cached
    /// target directory is this one's, as on the host (`freshness::target_cache_id`).
    pub checkout_key: String,
}

/// A package whose sources are on this machine.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalPackage {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Whether it is a workspace member (else a path dependency, or a `[patch]`).
    pub member: bool,
    /// Whether cargo reaches it only through `[patch]`: no local manifest names it by path,
    /// so its dependents require it by version, which the skeleton must keep.
    pub patch: bool,
    /// The package directory.
    pub dir: Utf8PathBuf,
    /// Its `Cargo.toml`.
    pub manifest: Arc<SourceFile>,
    /// Descriptive fields that become OCI labels.
    pub about: About,
    /// `rust-version`, if declared.
    pub rust_version: Option<String>,
    /// Its binaries.
    pub binaries: Vec<Binary>,
    /// Every target's source file, relative to `dir`, with what kind of crate it roots.
    pub targets: Vec<TargetFile>,
    /// The directories of the local packages it depends on to build (normal and build
    /// dependencies, optional ones included; not dev-dependencies).
    pub local_dependencies: Vec<Utf8PathBuf>,
    /// The directories of the local packages only its tests need (dev-dependencies).
    pub local_dev_dependencies: Vec<Utf8PathBuf>,
    /// Its files as `cargo package` chooses them: `package.include` and `package.exclude`.
    pub files: PackageFiles,
}

/// The `include` and `exclude` patterns of a manifest's `[package]` (gitignore syntax,
/// relative to the package directory). With `include`, `exclude` is not used, as in cargo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PackageFiles {
    /// Only these files (and the manifest), when not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Not these files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// The root source file of a target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetFile {
    /// Path relative to the package directory.
    pub path: String,
    /// What it roots.
    pub role: TargetRole,
}

/// What a target's root file must contain to compile as a placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetRole {
    /// A library of any crate type: may be empty.
    Library,
    /// A binary, example, test or bench: needs `main`.
    Executable,
    /// A build script: needs `main`.
    BuildScript,
}

/// Cargo metadata that describes the package to people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct About {
    /// `description`.
    pub description: Option<String>,
    /// `license`.
    pub license: Option<String>,
    /// `authors`.
    pub authors: Vec<String>,
    /// `repository`.
    pub repository: Option<String>,
    /// `homepage`.
    pub homepage: Option<String>,
    /// `documentation`.
    pub documentation: Option<String>,
}

/// A binary target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binary {
    /// Its name.
    pub name: String,
    /// Features it needs to be built at all.
    pub required_features: Vec<String>,
    /// Its root source file, where `#[containerize::main(...)]` may be; `None` if unreadable.
    #[serde(skip)]
    pub source: Option<Arc<SourceFile>>,
}

/// The checkout the project is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vcs {
    /// `HEAD`'s commit.
    pub revision: String,
    /// `HEAD`'s commit time, seconds since the epoch.
    pub commit_time: i64,
    /// Whether the workspace has changes `HEAD` does not hold (edited, staged, or new files
    /// git does not ignore): the image is then not that commit's, and says so.
    pub dirty: bool,
}

/// Why a project can't be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// A file could not be read.
    #[error("failed to read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A path the build needs can't be written in a Dockerfile.
    #[error(
        "the path `{0}` has a character a Dockerfile cannot carry (`$`, a quote, a backslash or a control character)"
    )]
    UnsupportedPath(String),
    /// A manifest names a local package by an absolute path, which the builder, holding the
    /// project under another root, would not find.
    #[error("{} names `{dependency}` by the absolute path `{path}`, which does not exist in the builder (it holds the project under /build)", .manifest.display())]
    AbsolutePath {
        /// The manifest.
        manifest: std::path::PathBuf,
        /// The dependency's key.
        dependency: String,
        /// The path as written.
        path: String,
    },
    /// `SOURCE_DATE_EPOCH` is set to something that is not a time it can stand for.
    #[error("SOURCE_DATE_EPOCH `{0}` is not a whole number of seconds since 1970 up to the year 9999 (253402300799)")]
    SourceDateEpoch(String),
}

/// The latest time RFC 3339 can write (9999-12-31T23:59:59Z), which labels and configs carry.
const LAST_RFC3339_SECOND: i64 = 253_402_300_799;

/// `SOURCE_DATE_EPOCH`, when set (and not empty, which reproducible-builds.org reads as
/// unset); a value that is not a time is refused rather than quietly replaced by another.
fn source_date_epoch() -> Result<Option<i64>, ProjectError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        // Digits only, as reproducible-builds.org defines it: no sign, no spaces.
        Ok(value) if !value.is_empty() => match value.parse::<i64>() {
            Ok(seconds) if value.bytes().all(|b| b.is_ascii_digit()) && seconds <= LAST_RFC3339_SECOND => {
                Ok(Some(seconds))
            }
            _ => Err(ProjectError::SourceDateEpoch(value)),
        },
        _ => Ok(None),
    }
}

/// Refuses a workspace member, a dependency (or `[patch]`, or `[workspace.dependencies]`
/// entry) that names a local package by an absolute path: the context keeps the packages' places relative to one
/// another, so only a relative path still leads there in the builder.
fn absolute_path_dependency(manifest: &SourceFile) -> Result<(), ProjectError> {
    let Ok(table) = manifest.text.parse::<toml::Table>() else { return Ok(()) };
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables: Vec<&toml::Table> = kinds.iter().filter_map(|k| table.get(*k)?.as_table()).collect();
    let nested = |key: &str| table.get(key).and_then(toml::Value::as_table).into_iter().flat_map(|t| t.values());
    for target in nested("target") {
        tables.extend(kinds.iter().filter_map(|k| target.get(*k)?.as_table()));
    }
    tables.extend(nested("patch").filter_map(toml::Value::as_table));
    if let Some(workspace) = table.get("workspace").and_then(|w| w.get("dependencies")).and_then(toml::Value::as_table)
    {
        tables.push(workspace);
    }
    let members = table.get("workspace").and_then(|w| w.get("members")).and_then(toml::Value::as_array);
    for member in members.into_iter().flatten().filter_map(toml::Value::as_str) {
        if std::path::Path::new(member).is_absolute() {
            let (manifest, dependency, path) = (manifest.path.clone(), "workspace.members".into(), member.to_owned());
            return Err(ProjectError::AbsolutePath { manifest, dependency, path });
        }
    }
    for (dependency, spec) in tables.into_iter().flatten() {
        if let Some(path) = spec.get("path").and_then(toml::Value::as_str)
            && std::path::Path::new(path).is_absolute()
        {
            return Err(ProjectError::AbsolutePath {
                manifest: manifest.path.clone(),
                dependency: dependency.clone(),
                path: path.to_owned(),
            });
        }
    }
    Ok(())
}

impl Project {
    /// Gathers the project from full `cargo metadata` output (with dependencies, so path
    /// dependencies are seen).
    pub fn load(metadata: &Metadata) -> Result<Project, ProjectError> {
        let root = &metadata.workspace_root;
        let mut packages = metadata
            .packages
            .iter()
            .filter(|p| p.source.is_none())
            .map(|p| LocalPackage::load(p, metadata.workspace_members.contains(&p.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let root_manifest = read_source(&root.join("Cargo.toml"))?;
        let local: Vec<&cargo_metadata::Package> = metadata.packages.iter().filter(|p| p.source.is_none()).collect();
        let by_path: Vec<&Utf8PathBuf> =
            local.iter().flat_map(|p| &p.dependencies).filter_map(|d| d.path.as_ref()).collect();
        // The root manifest once, whether or not it is a package's too.
        let root_is_a_package = packages.iter().any(|p| p.manifest.path == root_manifest.path);
        let mut manifests = packages.iter().map(|p| &p.manifest).chain((!root_is_a_package).then_some(&root_manifest));
        manifests.try_for_each(|manifest| absolute_path_dependency(manifest))?;
        for package in &mut packages {
            package.files = PackageFiles::of(&package.manifest.text, &root_manifest.text);
            package.patch = !package.member && !by_path.contains(&&package.dir);
            // What cargo resolved, not what manifests name by path: a `[patch]` replaces a
            // registry dependency with a local package that no `path` names.
            let node = metadata.resolve.as_ref().and_then(|r| {
                let id = &local.iter().find(|p| p.manifest_path.parent() == Some(&package.dir))?.id;
                r.nodes.iter().find(|n| &n.id == id)
            });
            for dependency in node.into_iter().flat_map(|n| &n.deps) {
                let dir = local.iter().find(|p| p.id == dependency.pkg).and_then(|p| p.manifest_path.parent());
                let only_for_tests = dependency.dep_kinds.iter().all(|k| k.kind == DependencyKind::Development);
                let list =
                    if only_for_tests { &mut package.local_dev_dependencies } else { &mut package.local_dependencies };
                if let Some(dir) = dir
                    && !list.iter().any(|d| d == dir)
                {
                    list.push(dir.to_owned());
                }
            }
        }
        packages.sort_by(|a, b| a.dir.cmp(&b.dir));
        let configs: Vec<toml::Table> = [".cargo/config.toml", ".cargo/config"]
            .iter()
            .filter_map(|f| toml::from_str(&std::fs::read_to_string(root.join(f)).ok()?).ok())
            .collect();
        let config_has_target_rustflags = configs.iter().any(|config| {
            let targets = config.get("target").and_then(toml::Value::as_table);
            targets.is_some_and(|t| t.values().any(|v| v.get("rustflags").is_some()))
        });
        let mut config_string_rustflags = BTreeMap::new();
        for config in &configs {
            let build = config.get("build").map(|b| ("build".to_owned(), b));
            let targets = config.get("target").and_then(toml::Value::as_table).into_iter().flatten();
            let tables = build.into_iter().chain(targets.map(|(triple, t)| (format!("target.{triple}"), t)));
            for (table, value) in tables {
                if let Some(flags) = value.get("rustflags").and_then(toml::Value::as_str) {
                    config_string_rustflags.entry(table).or_insert_with(|| flags.to_owned());
                }
            }
        }
        let mut config_profiles = toml::Table::new();
        for profiles in configs.iter().filter_map(|config| config.get("profile")?.as_table()) {
            for (name, table) in profiles {
                config_profiles.entry(name.clone()).or_insert_with(|| table.clone());
            }
        }
        // Vendored sources (`cargo vendor`): directories of packages, so a package walk would
        // leave them out as nested packages, yet the build reads them.
        let vendored = configs
            .iter()
            .filter_map(|config| config.get("source")?.as_table())
            .flat_map(|sources| sources.values())
            .filter_map(|source| source.get("directory")?.as_str())
            .filter(|dir| root.join(dir).is_dir())
            .map(str::to_owned);
        let mut root_files: Vec<String> =
            ["Cargo.lock", ".cargo/config.toml", ".cargo/config", "rust-toolchain.toml", "rust-toolchain"]
                .into_iter()
                .filter(|f| root.join(f).is_file())
                .map(str::to_owned)
                .chain(vendored)
                .collect();
        root_files.dedup();
        let toolchain = Toolchain {
            pinned: toolchain::pinned_channel(root.as_std_path(), root.as_std_path()),
            local: toolchain::local_version(root.as_std_path()),
        };
        let source_date_epoch = source_date_epoch()?;
        Ok(Project {
            workspace_root: root.clone(),
            target_directory: metadata.target_directory.clone(),
            root_manifest,
            packages,
            lockfile: std::fs::read_to_string(root.join("Cargo.lock")).ok(),
            root_files,
            config_has_target_rustflags,
            config_string_rustflags,
            config_profiles,
            toolchain,
            vcs: Vcs::of(root, &metadata.target_directory),
            source_date_epoch,
            checkout_key: checkout_key(metadata.target_directory.as_std_path()),
        })
    }

    /// When the build happened, for labels and the SBOM: `SOURCE_DATE_EPOCH`, else the
    /// commit's time; seconds since the epoch.
    pub fn created(&self) -> Option<i64> {
        self.source_date_epoch.or(self.vcs.as_ref().map(|v| v.commit_time))
    }

    /// The workspace members.
    pub fn members(&self) -> impl Iterator<Item = &LocalPackage> {
        self.packages.iter().filter(|p| p.member)
    }

    /// A member by name.
    pub fn member(&self, name: &str) -> Option<&LocalPackage> {
        self.members().find(|p| p.name == name)
    }

    /// The local packages `package` needs to build (with `tests`, to build its tests): itself
    /// and the local packages it depends on, directly or not, in directory order.
    pub fn needed_by<'p>(&'p self, package: &'p LocalPackage, tests: bool) -> Vec<&'p LocalPackage> {
        let mut needed = vec![package];
        // Its tests need its dev-dependencies too (not theirs), and what those need.
        if tests {
            for dir in &package.local_dev_dependencies {
                if let Some(dependency) = self.packages.iter().find(|p| &p.dir == dir)
                    && !needed.contains(&dependency)
                {
                    needed.push(dependency);
                }
            }
        }
        let mut next = 0;
        while let Some(current) = needed.get(next) {
            next += 1;
            for dir in &current.local_dependencies {
                if let Some(dependency) = self.packages.iter().find(|p| &p.dir == dir)
                    && !needed.contains(&dependency)
                {
                    needed.push(dependency);
                }
            }
        }
        needed.sort_by(|a, b| a.dir.cmp(&b.dir));
        needed
    }
}

impl PackageFiles {
    /// The patterns of a manifest, with `include.workspace = true` (or `exclude`) taken from
    /// the workspace's `[workspace.package]`. A manifest that does not parse has none (cargo
    /// read it, so it parses).
    fn of(manifest: &str, root_manifest: &str) -> PackageFiles {
        let table = |text: &str| toml::from_str::<toml::Table>(text).unwrap_or_default();
        let manifest = table(manifest);
        let workspace = table(root_manifest);
        let patterns = |key: &str| -> Vec<String> {
            let value = manifest.get("package").and_then(|p| p.get(key));
            let inherited = value.and_then(|v| v.get("workspace")).and_then(toml::Value::as_bool) == Some(true);
            let value = if inherited {
                workspace.get("workspace").and_then(|w| w.get("package")).and_then(|p| p.get(key))
            } else {
                value
            };
            let list = value.and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
            list.iter().filter_map(toml::Value::as_str).map(str::to_owned).collect()
        };
        let include = patterns("include");
        let exclude = if include.is_empty() { patterns("exclude") } else { Vec::new() };
        PackageFiles { include, exclude }
    }
}

fn read_source(path: &Utf8Path) -> Result<Arc<SourceFile>, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Read { path: path.to_owned(), source })?;
    Ok(SourceFile::new(path.as_std_path(), text))
}

/// `path` relative to `dir`, climbing out with `..` where it is not under it; `/`-separated.
fn relative_path(dir: &Utf8Path, path: &Utf8Path) -> String {
    if let Ok(inside) = path.strip_prefix(dir) {
        return inside.to_string();
    }
    let common = dir.ancestors().find(|a| path.starts_with(a)).unwrap_or(Utf8Path::new("/"));
    let up = dir.strip_prefix(common).map_or(0, |rest| rest.components().count());
    let down = path.strip_prefix(common).unwrap_or(path);
    std::iter::repeat_n("..", up).chain(down.components().map(|c| c.as_str())).collect::<Vec<_>>().join("/")
}

/// Whether a path can go into a Dockerfile as it is.
fn check_path(path: &str) -> Result<(), ProjectError> {
    if path.chars().any(|c| c.is_control() || "$\"\\".contains(c)) {
        return Err(ProjectError::UnsupportedPath(path.to_owned()));
    }
    Ok(())
}

impl LocalPackage {
    fn load(package: &cargo_metadata::Package, member: bool) -> Result<LocalPackage, ProjectError> {
        let dir = package.manifest_path.parent().expect("a manifest is in a directory").to_owned();
        let mut targets = Vec::new();
        for target in &package.targets {
            let role = if target.kind.contains(&TargetKind::CustomBuild) {
                TargetRole::BuildScript
            } else if target
                .kind
                .iter()
                .any(|k| matches!(k, TargetKind::Bin | TargetKind::Example | TargetKind::Test | TargetKind::Bench))
            {
                TargetRole::Executable
            } else {
                TargetRole::Library
            };
            // Relative to the package, `..` and all, so that a target outside it is seen as such.
            let relative = relative_path(&dir, &target.src_path);
            check_path(&relative)?;
            targets.push(TargetFile { path: relative, role });
        }
        targets.sort_by(|a, b| a.path.cmp(&b.path));
        targets.dedup_by(|a, b| a.path == b.path);
        let binaries = package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&TargetKind::Bin))
            .map(|t| Binary {
                name: t.name.clone(),
                required_features: t.required_features.clone(),
                source: read_source(&t.src_path).ok(),
            })
            .collect();
        Ok(LocalPackage {
            name: package.name.to_string(),
            version: package.version.to_string(),
            member,
            manifest: read_source(&package.manifest_path)?,
            about: About {
                description: package.description.clone(),
                license: package.license.clone(),
                authors: package.authors.clone(),
                repository: package.repository.clone(),
                homepage: package.homepage.clone(),
                documentation: package.documentation.clone(),
            },
            rust_version: package.rust_version.as_ref().map(ToString::to_string),
            binaries,
            targets,
            patch: false,
            local_dependencies: package
                .dependencies
                .iter()
                .filter(|d| d.kind != DependencyKind::Development)
                .filter_map(|d| d.path.clone())
                .collect(),
            local_dev_dependencies: package
                .dependencies
                .iter()
                .filter(|d| d.kind == DependencyKind::Development)
                .filter_map(|d| d.path.clone())
                .collect(),
            files: PackageFiles::default(),
            dir,
        })
    }
}

impl Vcs {
    /// The git checkout `dir` is in, if any; no git, or no checkout, is not an error. Cargo's
    /// `target` directory, wherever it is, is never a change, even where git does not ignore it.
    pub fn of(dir: &Utf8Path, target: &Utf8Path) -> Option<Vcs> {
        let git = |args: &[&str]| {
            let output = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
            output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        };
        Some(Vcs {
            revision: git(&["rev-parse", "HEAD"])?,
            commit_time: git(&["log", "-1", "--format=%ct"])?.parse().ok()?,
            // Only the workspace's own directory: a monorepo's other changes are not its.
            dirty: {
                let mut status = vec!["status".to_owned(), "--porcelain".into(), "--".into(), ".".into()];
                if let Ok(inside) = target.strip_prefix(dir) {
                    status.push(format!(":(exclude){inside}"));
                }
                !git(&status.iter().map(String::as_str).collect::<Vec<_>>())?.is_empty()
            },
        })
    }

    /// The revision as labels and build scripts get it: the commit, with `-dirty` after it
    /// when the workspace has changes (as `git describe --dirty` writes it).
    pub fn described(&self) -> String {
        self.mark(&self.revision)
    }

    /// The revision as a tag's `{revision}` gets it: 7 hex digits, `-dirty` after them when
    /// the workspace has changes.
    pub fn short(&self) -> String {
        self.mark(&self.revision[..self.revision.len().min(7)])
    }

    fn mark(&self, revision: &str) -> String {
        if self.dirty { format!("{revision}-dirty") } else { revision.to_owned() }
    }
}

/// A key kept in the target directory, made once: a new checkout, even at an old one's path,
/// or a `cargo clean`, gets a new key, and so a target directory of its own in the engine's
/// cache, just as it gets an empty `target/` on the host. Files cargo does not track (read by
/// a build script or a proc macro without `rerun-if-changed`) can then never come from another
/// checkout's build. Where the target directory can't be written, the workspace's path stands
/// in (the same directory is then shared by checkouts at that path).
fn checkout_key(target_directory: &std::path::Path) -> String {
    let file = target_directory.join("containerize").join("checkout-key");
    if let Ok(key) = std::fs::read_to_string(&file)
        && !key.trim().is_empty()
    {
        return key.trim().to_owned();
    }
    // Unique enough for a cache name: the time, the process and std's random hash keys.
    let mut hasher = std::hash::BuildHasher::build_hasher(&std::collections::hash_map::RandomState::new());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    std::hash::Hash::hash(&(now.as_nanos(), std::process::id(), target_directory), &mut hasher);
    let key = format!("{:016x}", std::hash::Hasher::finish(&hasher));
    // Of two first builds at once, one writes its key and both then read it.
    let made = crate::atomic_write::create_new(&file, key.as_bytes());
    match made {
        Ok(()) => key,
        Err(_) => std::fs::read_to_string(&file)
            .ok()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| target_directory.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_key_is_made_once_and_kept_by_every_build_of_the_checkout() {
        let target = tempfile::tempdir().unwrap();
        let keys: Vec<String> = std::thread::scope(|scope| {
            let builds: Vec<_> = (0..8).map(|_| scope.spawn(|| checkout_key(target.path()))).collect();
            builds.into_iter().map(|b| b.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 16), "{keys:?}");
        assert_eq!(checkout_key(target.path()), keys[0]);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(checkout_key(other.path()), keys[0], "another checkout, another key");
        let left: Vec<_> = std::fs::read_dir(target.path().join("containerize")).unwrap().collect();
        assert_eq!(left.len(), 1, "no partial file left");
    }

    #[test]
    fn a_checkout_with_changes_is_described_as_dirty_and_one_without_as_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(root)
                .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
                .args(args)
                .output()
                .unwrap();
            assert!(status.status.success(), "{status:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(root.join(".gitignore"), "/ignored\n").unwrap();
        std::fs::write(root.join("lib.rs"), "").unwrap();
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "one"]);
        std::fs::write(root.join("ignored"), "").unwrap();
        std::fs::create_dir(root.join("target")).unwrap();
        std::fs::write(root.join("target/built"), "").unwrap();
        let target = root.join("target");
        let clean = Vcs::of(root, &target).unwrap();
        assert!(!clean.dirty, "ignored files and cargo's target directory are not changes");
        assert_eq!(clean.described(), clean.revision);
        assert_eq!(clean.short(), clean.revision[..7]);
        std::fs::write(root.join("new.rs"), "").unwrap();
        let dirty = Vcs::of(root, &target).unwrap();
        assert!(dirty.dirty, "a new file is a change");
        assert_eq!(dirty.described(), format!("{}-dirty", clean.revision));
        assert_eq!(dirty.short(), format!("{}-dirty", &clean.revision[..7]));
        std::fs::remove_file(root.join("new.rs")).unwrap();
        std::fs::write(root.join("lib.rs"), "// edited").unwrap();
        assert!(Vcs::of(root, &target).unwrap().dirty, "an edit is a change");
    }
}
