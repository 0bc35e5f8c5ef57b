//! The image's software bill of materials: an SPDX 2.3 JSON document listing the crates compiled
//! into one binary, made from cargo's resolve graph for the image's target and features and the
//! checksums `Cargo.lock` records. A pure function of its inputs.
//!
//! What it lists: the binary's package and every crate it reaches through normal and build
//! dependencies, as `cargo metadata --filter-platform <target>` resolves them with the image's
//! features (so `cfg(windows)` dependencies and unselected optional ones are out: an edge to an
//! optional dependency counts only when the dependent's features turn it on, as cargo's metadata
//! also lists optional edges that path packages' dev-dependencies ask for); never
//! dev-dependencies. Crates only the build runs (build-dependencies, proc macros, and what
//! only they depend on) are listed too, since they shape the binary, but are marked: the
//! relationship is `BUILD_DEPENDENCY_OF` rather than `DEPENDS_ON`, and the package's
//! `comment` says it is not in the binary.
//!
//! Each package has its version, its `license` as an SPDX expression (`NOASSERTION` when the
//! package has none, names only a `license-file`, or writes something SPDX can't read), a
//! `pkg:cargo` package URL (registry and git crates; a local package's name means nothing on
//! crates.io, so it gets none), the SHA-256 `Cargo.lock` records for registry crates, and
//! where it is downloaded from.
//!
//! Reproducible: the time is the build's (`SOURCE_DATE_EPOCH` or the commit's), the namespace
//! is derived from the rest of the document, and no path from the machine appears, so the same
//! inputs give the same bytes in any clone.

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId, TargetKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Where crates.io's index is, as cargo names the source of its crates.
const CRATES_IO: [&str; 2] =
    ["registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/"];

/// Why no document could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The metadata has no resolve graph, or the package is not in it.
    #[error("cargo's resolve graph has no package `{0}`")]
    NotResolved(String),
}

/// What the document describes.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The binary's package (a workspace member).
    pub package: &'a str,
    /// The binary.
    pub binary: &'a str,
    /// The build's time in RFC 3339 (`SOURCE_DATE_EPOCH`, else the commit's).
    pub created: &'a str,
    /// The tool that makes the document, `name version`.
    pub tool: &'a str,
}

/// The SPDX document of `subject`, as pretty JSON with a final newline. `metadata` is resolved
/// for the image's target and features (`--filter-platform`, `--features`); `lockfile` is
/// `Cargo.lock`'s text, for checksums.
pub fn document(metadata: &Metadata, lockfile: Option<&str>, subject: Subject<'_>) -> Result<String, SbomError> {
    let not_resolved = || SbomError::NotResolved(subject.package.to_owned());
    let resolve = metadata.resolve.as_ref().ok_or_else(not_resolved)?;
    let root = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == subject.package && metadata.workspace_members.contains(&p.id))
        .ok_or_else(not_resolved)?;
    let packages: BTreeMap<&PackageId, &Package> = metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let nodes: BTreeMap<&PackageId, &cargo_metadata::Node> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();

    // Every edge that is not a dev-dependency, with whether it links the dependency into its
    // dependent (a normal dependency that is not a proc macro) or only runs it at build time.
    let mut edges: Vec<(&PackageId, &PackageId, Edge)> = Vec::new();
    let mut reached = BTreeSet::from([&root.id]);
    let mut linked = BTreeSet::from([&root.id]);
    let mut queue = vec![&root.id];
    while let Some(id) = queue.pop() {
        let (Some(node), Some(dependent)) = (nodes.get(id), packages.get(id)) else { continue };
        let on = optional_on(dependent, &node.features);
        for dep in &node.deps {
            let Some(package) = packages.get(&dep.pkg) else { continue };
            if !declared_on(dependent, package, &on) {
                continue;
            }
            let kinds = || dep.dep_kinds.iter().map(|k| k.kind);
            let proc_macro = package.targets.iter().any(|t| t.kind.contains(&TargetKind::ProcMacro));
            if kinds().any(|k| k == DependencyKind::Normal) {
                edges.push((id, &dep.pkg, if proc_macro { Edge::Build } else { Edge::Links }));
            }
            if kinds().any(|k| k == DependencyKind::Build) {
                edges.push((id, &dep.pkg, Edge::Build));
            }
            if kinds().any(|k| k != DependencyKind::Development) && reached.insert(&dep.pkg) {
                queue.push(&dep.pkg);
            }
        }
    }
    // Linked into the binary: reached from it through linking edges alone.
    let mut queue = vec![&root.id];
    while let Some(id) = queue.pop() {
        for (_, to, _) in edges.iter().filter(|(from, _, edge)| *from == id && *edge == Edge::Links) {
            if linked.insert(*to) {
                queue.push(*to);
            }
        }
    }

    let checksums = lock_checksums(lockfile.unwrap_or_default());
    let mut listed: Vec<&Package> = reached.iter().filter_map(|id| packages.get(id).copied()).collect();
    listed.sort_by_key(|p| (p.name.as_str(), &p.version, source(p)));
    let mut ids: BTreeMap<&PackageId, String> = BTreeMap::new();
    let mut spdx_packages = Vec::new();
    for package in listed {
        let mut id = spdx_id(&format!("Package-{}-{}", package.name, package.version));
        if ids.values().any(|taken| *taken == id) {
            // The same name and version from two sources: told apart by the source.
            id = spdx_id(&format!("{id}-{}", &hex(&Sha256::digest(source(package)))[..12]));
        }
        ids.insert(&package.id, id.clone());
        let is_root = package.id == root.id;
        spdx_packages.push(SpdxPackage {
            id,
            name: package.name.to_string(),
            version: package.version.to_string(),
            download_location: download_location(package),
            files_analyzed: false,
            license_concluded: license(package),
            license_declared: license(package),
            copyright_text: NOASSERTION,
            checksums: checksums
                .get(&(package.name.to_string(), package.version.to_string(), source(package)))
                .filter(|_| is_registry(package))
                .map(|sum| vec![Checksum { algorithm: "SHA256", value: sum.clone() }])
                .unwrap_or_default(),
            external_refs: purl(package)
                .map(|locator| vec![ExternalRef { category: "PACKAGE-MANAGER", kind: "purl", locator }])
                .unwrap_or_default(),
            purpose: if is_root { "APPLICATION" } else { "LIBRARY" },
            comment: (!linked.contains(&package.id)).then_some(
                "Build-time only (a build dependency, a proc macro, or used only by them): not in the binary.",
            ),
        });
    }

    let mut relationships = BTreeSet::new();
    for (from, to, edge) in &edges {
        let (from, to) = (ids[from].clone(), ids[to].clone());
        relationships.insert(match edge {
            Edge::Links => Relationship { element: from, kind: "DEPENDS_ON", related: to },
            Edge::Build => Relationship { element: to, kind: "BUILD_DEPENDENCY_OF", related: from },
        });
    }
    let describes =
        Relationship { element: "SPDXRef-DOCUMENT".to_owned(), kind: "DESCRIBES", related: ids[&root.id].clone() };
    let mut document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        id: "SPDXRef-DOCUMENT",
        name: format!("{} {} ({})", subject.binary, root.version, root.name),
        namespace: String::new(),
        creation_info: CreationInfo {
            created: subject.created.to_owned(),
            creators: vec![format!("Tool: {}", subject.tool.replace(' ', "-"))],
        },
        packages: spdx_packages,
        relationships: std::iter::once(describes).chain(relationships).collect(),
    };
    // Named by its own content: the same inputs give the same name, different ones another.
    let digest = hex(&Sha256::digest(serde_json::to_vec(&document).expect("the document serializes")));
    document.namespace = format!("https://spdx.org/spdxdocs/cargo-containerize/{}-{digest}", plain(subject.binary));
    Ok(serde_json::to_string_pretty(&document).expect("the document serializes") + "\n")
}

/// The optional dependencies a package's enabled features turn on, by the name its manifest
/// gives them: `dep:name`, a strong `name/feature`, or the implicit feature `name`.
///
/// Cargo's metadata lists an edge to every dependency the lockfile's resolution activated,
/// which counts the features the dev-dependencies of path packages ask for; the node's
/// features are those the build has, and decide which optional edges the binary has.
fn optional_on(package: &Package, features: &[cargo_metadata::FeatureName]) -> BTreeSet<String> {
    let mut on: BTreeSet<String> = features.iter().map(ToString::to_string).collect();
    for feature in features {
        for entry in package.features.get(feature.as_str()).into_iter().flatten() {
            if let Some(dependency) = entry.strip_prefix("dep:") {
                on.insert(dependency.to_owned());
            } else if let Some((dependency, _)) = entry.split_once('/')
                && !dependency.ends_with('?')
            {
                on.insert(dependency.to_owned());
            }
        }
    }
    on
}

/// Whether `package` depends on `dependency` with these optional dependencies on: through a
/// declaration that is not a dev-dependency, and is not optional or is on. One cargo can't
/// match to a declaration (a `[patch]` under another name) counts.
fn declared_on(package: &Package, dependency: &Package, on: &BTreeSet<String>) -> bool {
    let mut declarations = package.dependencies.iter().filter(|d| d.name == dependency.name.as_str()).peekable();
    declarations.peek().is_none()
        || declarations.any(|d| {
            d.kind != DependencyKind::Development
                && (!d.optional || on.contains(d.rename.as_deref().unwrap_or(&d.name)))
        })
}

/// `sha256:<hex>` of a document, as the image's label carries it.
pub fn digest(document: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(document.as_bytes())))
}

/// How a dependency reaches its dependent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    /// Compiled into it.
    Links,
    /// Run while building it: a build-dependency or a proc macro.
    Build,
}

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    id: &'static str,
    name: String,
    #[serde(rename = "documentNamespace")]
    namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    id: String,
    name: String,
    #[serde(rename = "versionInfo")]
    version: String,
    download_location: String,
    files_analyzed: bool,
    license_concluded: String,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(rename = "primaryPackagePurpose")]
    purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
struct Checksum {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: String,
}

#[derive(Serialize)]
struct ExternalRef {
    #[serde(rename = "referenceCategory")]
    category: &'static str,
    #[serde(rename = "referenceType")]
    kind: &'static str,
    #[serde(rename = "referenceLocator")]
    locator: String,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Relationship {
    #[serde(rename = "spdxElementId")]
    element: String,
    #[serde(rename = "relationshipType")]
    kind: &'static str,
    #[serde(rename = "relatedSpdxElement")]
    related: String,
}

/// The package's source as cargo writes it (`registry+...`, `git+...#rev`); empty for a local
/// package, whose id would carry a path of this machine.
fn source(package: &Package) -> String {
    package.source.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn is_registry(package: &Package) -> bool {
    package.source.as_ref().is_some_and(|s| s.repr.starts_with("registry+") || s.repr.starts_with("sparse+"))
}

fn is_crates_io(package: &Package) -> bool {
    package.source.as_ref().is_some_and(|s| CRATES_IO.contains(&s.repr.as_str()))
}

/// A git source without its `?branch=` and with its commit: `git+https://host/repo@<rev>`,
/// as SPDX writes a VCS location.
fn git_location(package: &Package) -> Option<String> {
    let repr = &package.source.as_ref()?.repr;
    let rest = repr.strip_prefix("git+")?;
    let (url, rev) = rest.split_once('#')?;
    let url = url.split_once('?').map_or(url, |(url, _)| url);
    Some(format!("git+{url}@{rev}"))
}

fn download_location(package: &Package) -> String {
    if is_crates_io(package) {
        format!("https://crates.io/api/v1/crates/{}/{}/download", package.name, package.version)
    } else {
        git_location(package).unwrap_or_else(|| NOASSERTION.to_owned())
    }
}

/// `pkg:cargo/<name>@<version>`, with where to find it for a git crate or another registry
/// (percent-encoded, as the purl spec asks); none for a local package.
fn purl(package: &Package) -> Option<String> {
    let base = format!("pkg:cargo/{}@{}", package.name, package.version);
    if is_crates_io(package) {
        Some(base)
    } else if let Some(vcs) = git_location(package) {
        Some(format!("{base}?vcs_url={}", percent_encode(&vcs)))
    } else if is_registry(package) {
        let index = &package.source.as_ref()?.repr;
        let url = index.split_once('+').map_or(index.as_str(), |(_, url)| url);
        Some(format!("{base}?repository_url={}", percent_encode(url)))
    } else {
        None
    }
}

/// `text` with every byte but RFC 3986's unreserved ones percent-encoded: a value to put in a
/// URL (a package URL's qualifier, a query parameter).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The package's `license` as a valid SPDX expression (`MIT/Apache-2.0` becomes `MIT OR
/// Apache-2.0`); `NOASSERTION` when there is none, or it names a `LicenseRef` this document
/// has no text for, or SPDX can't read it.
fn license(package: &Package) -> String {
    let Some(text) = package.license.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return NOASSERTION.to_owned();
    };
    let canonical = spdx::Expression::canonicalize(text).ok().map(|c| c.unwrap_or_else(|| text.to_owned()));
    canonical
        .filter(|c| spdx::Expression::parse(c).is_ok() && !c.contains("Ref-"))
        .unwrap_or_else(|| NOASSERTION.to_owned())
}

/// An SPDX identifier: `SPDXRef-` and letters, digits, `.` and `-` only.
fn spdx_id(text: &str) -> String {
    let text = plain(text);
    if text.starts_with("SPDXRef-") { text } else { format!("SPDXRef-{text}") }
}

/// Letters, digits, `.` and `-`, each other character becoming `-`.
fn plain(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `Cargo.lock`'s checksums by name, version and source. A lockfile that does not parse has
/// none (cargo read it, so it parses); version 1 lockfiles keep them elsewhere and give none.
fn lock_checksums(lockfile: &str) -> BTreeMap<(String, String, String), String> {
    let lock = toml::from_str::<toml::Table>(lockfile).unwrap_or_default();
    let entries = lock.get("package").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    entries
        .iter()
        .filter_map(|entry| {
            let field = |key: &str| entry.get(key).and_then(toml::Value::as_str).map(str::to_owned);
            Some(((field("name")?, field("version")?, field("source")?), field("checksum")?))
        })
        .collect()
}
