//! Every settings key, described once: its name, where it may appear, what it means with an
//! example, and how its value is read.
//!
//! One table serves the reader (dispatch, unknown-key suggestions, scope checks), `--help`, and
//! the README's reference, whose TOML examples a test parses with the real reader.

use super::{Base, Linkage, Reader, Settings, Signals, Strip, Suite};
use crate::node::Node;
use crate::validate::{self, image};

/// Where a key may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `[workspace.metadata.containerize]`: defaults for every package.
    Workspace,
    /// `[package.metadata.containerize]`.
    Package,
    /// `[package.metadata.containerize.bin.<name>]`: one binary's image.
    Binary,
    /// `#[containerize::main(...)]` on a binary's `main`.
    Attribute,
}

/// One key.
#[derive(Clone, Copy)]
pub struct SettingKey {
    /// The key as written in TOML.
    pub name: &'static str,
    /// What it does, in one sentence.
    pub summary: &'static str,
    /// A TOML line (or table) showing it in use.
    pub example: &'static str,
    /// Whether it may appear in the workspace table.
    pub in_workspace: bool,
    /// Whether it may appear in `Cargo.toml` at all (package and binary tables; `bins` and
    /// `bin` only in package tables).
    pub in_manifest: bool,
    /// Whether `#[containerize::main(...)]` takes it: settings that belong to one binary.
    pub in_attribute: bool,
    /// Reads the key's value into its field of a settings layer; problems become diagnostics.
    pub(crate) read: ReadValue,
}

/// How a key's value is read into a settings layer.
pub(crate) type ReadValue = fn(&mut Reader<'_>, &Node, &mut Settings);

impl std::fmt::Debug for SettingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingKey").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A key for every `Cargo.toml` table.
const fn key(name: &'static str, summary: &'static str, example: &'static str, read: ReadValue) -> SettingKey {
    SettingKey { name, summary, example, in_workspace: true, in_manifest: true, in_attribute: false, read }
}

impl SettingKey {
    /// Also taken by the attribute.
    const fn and_attribute(self) -> SettingKey {
        SettingKey { in_attribute: true, ..self }
    }

    /// Only in package tables.
    const fn package_only(self) -> SettingKey {
        SettingKey { in_workspace: false, ..self }
    }

    /// Only in the attribute: it changes what the binary does at run time.
    const fn attribute_only(self) -> SettingKey {
        SettingKey { in_workspace: false, in_manifest: false, in_attribute: true, ..self }
    }

    /// Whether the key may appear in `scope`.
    pub fn allowed_in(&self, scope: Scope) -> bool {
        match scope {
            Scope::Workspace => self.in_workspace,
            Scope::Package => self.in_manifest,
            Scope::Binary => self.in_manifest && !matches!(self.name, "bin" | "bins"),
            Scope::Attribute => self.in_attribute,
        }
    }
}

/// Every key, in the order the reference lists them.
pub const KEYS: &[SettingKey] = &[
    key(
        "name",
        "Image repository, without tag; defaults to the binary's name. Images of one run that would share a tag are refused, so a workspace-wide or package-wide name suits one binary only.",
        r#"name = "ghcr.io/acme/server""#,
        |r, n, s| s.name = r.one(n, image::repository),
    ),
    key(
        "registry",
        "Registry (and namespace) put before the image name, where `--push` sends it; a `name` that names a registry itself keeps its own.",
        r#"registry = "ghcr.io/acme""#,
        |r, n, s| s.registry = r.one(n, image::registry),
    ),
    key(
        "tags",
        "Tags to apply; defaults to the package version and `latest`. `{version}` stands for the package version and `{revision}` for the git commit (7 hex digits, `-dirty` after them when the workspace has uncommitted changes).",
        r#"tags = ["{version}", "{revision}", "latest"]"#,
        |r, n, s| s.tags = r.tags(n, image::tag_template),
    ),
    key(
        "base",
        "Runtime base: `scratch`, `distroless-static`, `distroless-cc` (default), `debian-slim`, or any image reference; for `--platform windows/amd64`, `nanoserver` (default) or `servercore`.",
        r#"base = "distroless-static""#,
        |r, n, s| s.base = r.one(n, Base::parse),
    ),
    key(
        "builder",
        "Builder image; defaults to `rust:<toolchain>-slim-<suite>`.",
        r#"builder = "rust:1.95.0-slim-trixie""#,
        |r, n, s| s.builder = r.one(n, image::reference),
    ),
    key(
        "suite",
        "Debian release of builder and runtime: `trixie` (default) or `bookworm`.",
        r#"suite = "bookworm""#,
        |r, n, s| s.suite = r.one(n, Suite::parse),
    ),
    key(
        "linkage",
        "`auto` (static for scratch and distroless-static), `static` or `dynamic`.",
        r#"linkage = "static""#,
        |r, n, s| s.linkage = r.one(n, Linkage::parse),
    ),
    key(
        "bins",
        "Binaries of the package that get an image; defaults to all of them.",
        r#"bins = ["server"]"#,
        |r, n, s| s.bins = r.strings(n, validate::cargo_name),
    ).package_only(),
    key(
        "features",
        "Cargo features to enable.",
        r#"features = ["tls", "metrics"]"#,
        |r, n, s| s.features = r.strings(n, validate::feature),
    ),
    key(
        "all-features",
        "Enable every feature.",
        "all-features = true",
        |r, n, s| s.all_features = r.boolean(n),
    ),
    key(
        "no-default-features",
        "Do not enable the `default` feature.",
        "no-default-features = true",
        |r, n, s| s.no_default_features = r.boolean(n),
    ),
    key(
        "profile",
        "Cargo profile to build with; defaults to `release`.",
        r#"profile = "dist""#,
        |r, n, s| s.profile = r.one(n, validate::cargo_name),
    ),
    key(
        "strip",
        "What the runtime image's binary keeps, whatever the profile says: `debuginfo` (default) removes debug info, `symbols` removes symbols too, `none` keeps both. The debug image (`--stage debug`) always gets the binary whole.",
        r#"strip = "symbols""#,
        |r, n, s| s.strip = r.one(n, Strip::parse),
    ),
    key(
        "expose",
        "Ports the container listens on (`EXPOSE`).",
        r#"expose = [8080, "9090/udp"]"#,
        |r, n, s| s.expose = r.ports(n),
    ).and_attribute(),
    key(
        "env",
        "Environment variables of the running container.",
        r#"env = { RUST_LOG = "info" }"#,
        |r, n, s| r.map(n, validate::variable_name, &mut s.env),
    ).and_attribute(),
    key(
        "workdir",
        "Working directory of the running container.",
        r#"workdir = "/data""#,
        |r, n, s| s.workdir = r.one(n, validate::image_path),
    ).and_attribute(),
    key(
        "user",
        "User the container runs as; defaults to `65532:65532` (non-root).",
        r#"user = "10001:10001""#,
        |r, n, s| s.user = r.one(n, validate::user),
    ).and_attribute(),
    key(
        "entrypoint",
        "Command line before the binary's arguments; defaults to the binary.",
        r#"entrypoint = ["/usr/local/bin/server", "--config", "/etc/server.toml"]"#,
        |r, n, s| s.entrypoint = r.strings(n, validate::text),
    ),
    key(
        "args",
        "Default arguments (`CMD`), replaced by those given to `docker run`.",
        r#"args = ["serve", "--port", "8080"]"#,
        |r, n, s| s.args = r.strings(n, validate::text),
    ).and_attribute(),
    key(
        "labels",
        "Extra image labels, added to the OCI labels taken from Cargo metadata.",
        r#"labels = { "com.example.team" = "platform" }"#,
        |r, n, s| r.map(n, validate::label_key, &mut s.labels),
    ).and_attribute(),
    key(
        "volumes",
        "Directories that hold data outside the container (`VOLUME`).",
        r#"volumes = ["/data"]"#,
        |r, n, s| s.volumes = r.strings(n, validate::image_path),
    ).and_attribute(),
    key(
        "stop-signal",
        "Signal `docker stop` sends (`STOPSIGNAL`), as Docker names it (`SIGQUIT`, `SIGRTMIN+3`) or numbers it.",
        r#"stop-signal = "SIGINT""#,
        |r, n, s| s.stop_signal = r.string_or_number(n, validate::signal),
    ).and_attribute(),
    key(
        "healthcheck",
        "A `HEALTHCHECK` that runs the binary's built-in probe (no shell or curl needed): an HTTP `path`, or a TCP connect, on `port` (default: the first exposed), with `interval`, `timeout`, `start-period` and `retries`. Needs `#[containerize::main]` on the binary.",
        r#"healthcheck = { path = "/healthz", port = 8080, interval = "10s", timeout = "2s", start-period = "5s", retries = 3 }"#,
        |r, n, s| s.healthcheck = r.healthcheck(n).map(|h| r.set(n, h)),
    ).and_attribute(),
    key(
        "signals",
        "`exit` (default): end promptly on the stop signal (status 128 + its number); `app`: the app handles signals itself. Only in the attribute.",
        r#"#[containerize::main(signals = "app")]"#,
        |r, n, s| s.signals = r.one(n, Signals::parse),
    ).attribute_only(),
    key(
        "include",
        "Files or directories copied into the runtime image, with destination and optional mode: from the package (`src` relative to it), or from another image (`from`, with `src` absolute in it).",
        r#"include = [{ src = "config/app.toml", dest = "/etc/app/app.toml", mode = "0644" }, { from = "debian:trixie-slim", src = "/usr/share/zoneinfo", dest = "/usr/share/zoneinfo" }]"#,
        |r, n, s| s.include = r.list(n, Reader::include),
    ),
    key(
        "build-include",
        "Extra files or directories the build itself needs (e.g. read by `include_str!`), relative to the package.",
        r#"build-include = ["migrations"]"#,
        |r, n, s| s.build_include = r.strings(n, validate::project_path),
    ),
    key(
        "build-packages",
        "Debian packages installed in the builder, for `-sys` crates.",
        r#"build-packages = ["libssl-dev", "pkg-config"]"#,
        |r, n, s| s.build_packages = r.strings(n, validate::debian_package),
    ),
    key(
        "cache-mounts",
        "Under BuildKit, keep cargo's downloads and target directory in cache mounts between builds (default `true`); `false` keeps all caching in layers, which a registry cache can carry.",
        "cache-mounts = false",
        |r, n, s| s.cache_mounts = r.boolean(n),
    ),
    key(
        "runtime-packages",
        "Debian packages installed in a `debian-slim` runtime.",
        r#"runtime-packages = ["libssl3t64"]"#,
        |r, n, s| s.runtime_packages = r.strings(n, validate::debian_package),
    ),
    key(
        "build-args",
        "Build arguments (`ARG`) with their default values.",
        r#"build-args = { GIT_SHA = "unknown" }"#,
        |r, n, s| r.map(n, validate::variable_name, &mut s.build_args),
    ),
    key(
        "bin",
        "Per-binary tables that override the package's settings for one binary's image.",
        "[package.metadata.containerize.bin.admin]\nbase = \"debian-slim\"",
        |r, n, s| r.binary_tables(n, &mut s.bin),
    ).package_only(),
];

/// The documented key nearest to a misspelled one, if any is near enough to suggest.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    nearest(unknown, KEYS.iter().map(|k| k.name))
}

/// The candidate nearest to `unknown` by edit distance (ties go to the one of the same
/// length), if it is near enough to be a misspelling.
pub fn nearest<'a>(unknown: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (unknown.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(unknown, c), c.len().abs_diff(unknown.len()), c))
        .filter(|(distance, _, _)| *distance <= limit)
        .min()
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions() {
        assert_eq!(super::suggest("binn"), Some("bins"));
        assert_eq!(super::suggest("expse"), Some("expose"));
        assert_eq!(super::suggest("stopsignal"), Some("stop-signal"));
        assert_eq!(super::suggest("zzz"), None);
    }
}
