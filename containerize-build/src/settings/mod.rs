//! Container settings: one typed layer per source, read from a spanned [`Node`](crate::node::Node) tree by one
//! reader, then overlaid in precedence order.
//!
//! Every front end feeds this module: `Cargo.toml` tables (see [`crate::manifest`]), the CLI's
//! flags, and `#[containerize::main(...)]` arguments, so they can never disagree.

pub mod keys;
mod read;

use crate::diagnostic::Origin;
use crate::validate::{self, Checked, Port, image};
use keys::Scope;
pub(crate) use read::Reader;
pub use read::{read_table, scope_header};
use serde::Serialize;
use std::collections::BTreeMap;

/// A value together with where it was set.
#[derive(Clone, Debug, PartialEq)]
pub struct Set<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub origin: Origin,
    /// The layer that set it.
    pub layer: Layer,
}

impl<T> Set<T> {
    /// A value given by a command-line flag.
    pub fn flag(value: T, flag: &'static str) -> Self {
        Self { value, origin: Origin::Flag(flag), layer: Layer::Flags }
    }
}

/// The layers settings come from, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// `[workspace.metadata.containerize]`.
    Workspace,
    /// `#[containerize::main(...)]`.
    Attribute,
    /// `[package.metadata.containerize]`.
    Package,
    /// `[package.metadata.containerize.bin.<name>]`.
    Binary,
    /// The command line.
    Flags,
}

impl From<Scope> for Layer {
    fn from(scope: Scope) -> Layer {
        match scope {
            Scope::Workspace => Layer::Workspace,
            Scope::Attribute => Layer::Attribute,
            Scope::Package => Layer::Package,
            Scope::Binary => Layer::Binary,
        }
    }
}

/// The higher layer's value where it has one, else the lower's.
fn over<T: Clone>(lower: &Option<Set<T>>, higher: &Option<Set<T>>) -> Option<Set<T>> {
    higher.clone().or_else(|| lower.clone())
}

/// The runtime base image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Base {
    /// An empty image: the binary must be static.
    Scratch,
    /// Distroless static: CA certificates, tzdata and passwd, no libc.
    DistrolessStatic,
    /// Distroless cc: glibc, libgcc and libssl.
    DistrolessCc,
    /// Debian slim: a package manager for runtime packages.
    DebianSlim,
    /// Windows Nano Server, the default for Windows images.
    Nanoserver,
    /// Windows Server Core: larger, with more of the Windows API.
    Servercore,
    /// Any image reference.
    Image(String),
}

impl Base {
    /// Reads a `base` value.
    pub fn parse(s: &str) -> Checked<Base> {
        Ok(match s {
            "scratch" => Base::Scratch,
            "distroless-static" => Base::DistrolessStatic,
            "distroless-cc" => Base::DistrolessCc,
            "debian-slim" => Base::DebianSlim,
            "nanoserver" => Base::Nanoserver,
            "servercore" => Base::Servercore,
            other => Base::Image(image::reference(other).map_err(|mut e| {
                e.help = Some(
                    "use `scratch`, `distroless-static`, `distroless-cc`, `debian-slim`, `nanoserver`, `servercore` or an image reference".into(),
                );
                e
            })?),
        })
    }
}

/// A Debian release, shared by builder and runtime so that glibc matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// Debian 12.
    Bookworm,
    /// Debian 13.
    Trixie,
}

impl Suite {
    /// Reads a `suite` value.
    pub fn parse(s: &str) -> Checked<Suite> {
        keyword(s, "Debian suite", &[("trixie", Suite::Trixie), ("bookworm", Suite::Bookworm)])
    }
}

/// How the binary links the C library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// Static for bases without a libc, dynamic otherwise.
    Auto,
    /// A static binary (glibc with `+crt-static`).
    Static,
    /// A dynamically linked binary.
    Dynamic,
}

impl Linkage {
    /// Reads a `linkage` value.
    pub fn parse(s: &str) -> Checked<Linkage> {
        keyword(s, "linkage", &[("auto", Linkage::Auto), ("static", Linkage::Static), ("dynamic", Linkage::Dynamic)])
    }
}

/// What the runtime image's binary keeps of what the compiler wrote; the debug image always
/// gets it all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strip {
    /// Debug info removed, symbols kept (function names in backtraces).
    #[default]
    Debuginfo,
    /// Debug info and symbols removed.
    Symbols,
    /// Nothing removed.
    None,
}

impl Strip {
    /// Reads a `strip` value.
    pub fn parse(s: &str) -> Checked<Strip> {
        keyword(s, "strip", &[("debuginfo", Strip::Debuginfo), ("symbols", Strip::Symbols), ("none", Strip::None)])
    }
}

/// A `HEALTHCHECK` that runs the binary's built-in probe. Each field keeps its own origin:
/// layers merge the table field by field, as cargo merges profile overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Healthcheck {
    /// HTTP path to GET; a TCP connect when unset.
    pub path: Option<Set<String>>,
    /// Port on loopback; the first exposed port when unset.
    pub port: Option<Set<u16>>,
    /// Time between probes (`10s`).
    pub interval: Option<Set<String>>,
    /// Time a probe may take.
    pub timeout: Option<Set<String>>,
    /// Grace time after start, when failures don't count.
    pub start_period: Option<Set<String>>,
    /// Failures in a row that make the container unhealthy.
    pub retries: Option<Set<u32>>,
}

impl Healthcheck {
    /// This table with `higher` laid over it, field by field.
    fn overlay(&self, higher: &Healthcheck) -> Healthcheck {
        Healthcheck {
            path: over(&self.path, &higher.path),
            port: over(&self.port, &higher.port),
            interval: over(&self.interval, &higher.interval),
            timeout: over(&self.timeout, &higher.timeout),
            start_period: over(&self.start_period, &higher.start_period),
            retries: over(&self.retries, &higher.retries),
        }
    }

    /// Where each set field came from, by key.
    fn origins<'a>(&'a self, into: &mut BTreeMap<String, (Layer, &'a Origin)>) {
        let fields = [
            ("path", provenance(&self.path)),
            ("port", provenance(&self.port)),
            ("interval", provenance(&self.interval)),
            ("timeout", provenance(&self.timeout)),
            ("start-period", provenance(&self.start_period)),
            ("retries", provenance(&self.retries)),
        ];
        for (name, origin) in fields {
            if let Some(origin) = origin {
                into.insert(format!("healthcheck.{name}"), origin);
            }
        }
    }
}

/// The layer and origin of a value, if it was set.
fn provenance<T>(set: &Option<Set<T>>) -> Option<(Layer, &Origin)> {
    set.as_ref().map(|s| (s.layer, &s.origin))
}

/// Who handles the image's stop signal in a binary with `#[containerize::main]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signals {
    /// The runtime support: exit at once, with status 128 + the signal.
    #[default]
    Exit,
    /// The app itself.
    App,
}

impl Signals {
    /// Reads a `signals` value.
    pub fn parse(s: &str) -> Checked<Signals> {
        keyword(s, "signal handling", &[("exit", Signals::Exit), ("app", Signals::App)])
    }
}

/// One of a few keywords, or an error naming them in order.
fn keyword<T: Copy>(s: &str, what: &str, choices: &[(&str, T)]) -> Checked<T> {
    if let Some((_, value)) = choices.iter().find(|(word, _)| *word == s) {
        return Ok(*value);
    }
    let words: Vec<String> = choices.iter().map(|(word, _)| format!("`{word}`")).collect();
    let (last, rest) = words.split_last().expect("keywords to choose from");
    let help = if rest.is_empty() { format!("use {last}") } else { format!("use {} or {last}", rest.join(", ")) };
    Err(validate::Invalid { message: format!("unknown {what} `{s}`"), help: Some(help) })
}

/// A file or directory copied into the runtime image: from the package, or from another image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Include {
    /// The image to take it from; none for the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Path relative to the package directory, or absolute in the image `from` names.
    pub src: String,
    /// Absolute destination in the image.
    pub dest: String,
    /// Mode to set, if any.
    pub mode: Option<u32>,
}

macro_rules! settings {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)*) => {
        /// One layer of settings (a table, an attribute or the flags); unset values are `None`.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Settings {
            $($(#[$doc])* pub $field: Option<Set<$ty>>,)*
            /// Environment variables, merged key by key across layers.
            pub env: BTreeMap<String, Set<String>>,
            /// Labels, merged key by key across layers.
            pub labels: BTreeMap<String, Set<String>>,
            /// Build arguments, merged key by key across layers.
            pub build_args: BTreeMap<String, Set<String>>,
            /// Healthcheck, merged field by field across layers; its origin is the highest
            /// layer's table.
            pub healthcheck: Option<Set<Healthcheck>>,
            /// Per-binary layers (package tables only).
            pub bin: BTreeMap<String, Set<Settings>>,
        }

        impl Settings {
            /// This layer with `higher` laid over it: set values of `higher` win; maps merge
            /// key by key, the healthcheck field by field. Per-binary tables are not carried
            /// over; see [`Settings::for_binary`].
            pub fn overlay(&self, higher: &Settings) -> Settings {
                let healthcheck = match (&self.healthcheck, &higher.healthcheck) {
                    (Some(low), Some(high)) => Some(Set { value: low.value.overlay(&high.value), ..high.clone() }),
                    (low, high) => over(low, high),
                };
                let mut merged = Settings {
                    $($field: over(&self.$field, &higher.$field),)*
                    env: self.env.clone(),
                    labels: self.labels.clone(),
                    build_args: self.build_args.clone(),
                    healthcheck,
                    bin: BTreeMap::new(),
                };
                merged.env.extend(higher.env.clone());
                merged.labels.extend(higher.labels.clone());
                merged.build_args.extend(higher.build_args.clone());
                merged
            }

            /// Where each set value came from, by key as written in `Cargo.toml` (`user`,
            /// `env.RUST_LOG`, `healthcheck.timeout`).
            pub fn origins(&self) -> BTreeMap<String, (Layer, &Origin)> {
                let mut origins = BTreeMap::new();
                $(if let Some(origin) = provenance(&self.$field) {
                    origins.insert(stringify!($field).replace('_', "-"), origin);
                })*
                let maps = [("env", &self.env), ("labels", &self.labels), ("build-args", &self.build_args)];
                for (map, entries) in maps {
                    for (key, set) in entries {
                        origins.insert(format!("{map}.{key}"), (set.layer, &set.origin));
                    }
                }
                if let Some(set) = &self.healthcheck {
                    set.value.origins(&mut origins);
                }
                origins
            }
        }
    };
}

settings! {
    /// Image repository.
    name: String,
    /// Registry prefix of the image name.
    registry: String,
    /// Tags.
    tags: Vec<String>,
    /// Runtime base.
    base: Base,
    /// Builder image.
    builder: String,
    /// Debian suite.
    suite: Suite,
    /// Linkage.
    linkage: Linkage,
    /// Binaries that get an image.
    bins: Vec<String>,
    /// Features.
    features: Vec<String>,
    /// `--all-features`.
    all_features: bool,
    /// `--no-default-features`.
    no_default_features: bool,
    /// Cargo profile.
    profile: String,
    /// What the runtime's binary keeps.
    strip: Strip,
    /// Exposed ports.
    expose: Vec<Port>,
    /// Working directory.
    workdir: String,
    /// User.
    user: String,
    /// Entrypoint.
    entrypoint: Vec<String>,
    /// Default arguments.
    args: Vec<String>,
    /// Volumes.
    volumes: Vec<String>,
    /// Stop signal.
    stop_signal: String,
    /// Runtime files.
    include: Vec<Include>,
    /// Extra build inputs.
    build_include: Vec<String>,
    /// Builder packages.
    build_packages: Vec<String>,
    /// BuildKit cache mounts.
    cache_mounts: bool,
    /// Signal handling (attribute only).
    signals: Signals,
    /// Runtime packages.
    runtime_packages: Vec<String>,
}

impl Settings {
    /// The layers for one binary: this (package-level) layer with that binary's table over it.
    pub fn for_binary(&self, bin: &str) -> Settings {
        match self.bin.get(bin) {
            Some(table) => self.overlay(&table.value),
            None => self.overlay(&Settings::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use crate::{attribute, manifest};

    #[test]
    fn a_healthcheck_merges_field_by_field_across_layers() {
        let mut diagnostics = Vec::new();
        let source = "#[containerize::main(expose = 8080, healthcheck(path = \"/healthz\", interval = \"1s\", timeout = \"1s\", start_period = \"10s\", retries = 2))]\nfn main() {}\n";
        let attribute = attribute::settings_in_source(&SourceFile::new("src/main.rs", source), &mut diagnostics);
        let toml = "[package.metadata.containerize]\nhealthcheck = { timeout = \"3s\" }\n\n[package.metadata.containerize.bin.web]\nhealthcheck = { retries = 5 }\n";
        let package = manifest::read(&SourceFile::new("Cargo.toml", toml), &mut diagnostics).package.unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let settings = attribute.unwrap().overlay(&package.for_binary("web"));

        let check = settings.healthcheck.as_ref().unwrap();
        let field = |set: &Option<Set<String>>| set.as_ref().map(|s| (s.value.clone(), s.layer));
        assert_eq!(field(&check.value.path), Some(("/healthz".into(), Layer::Attribute)));
        assert_eq!(field(&check.value.interval), Some(("1s".into(), Layer::Attribute)));
        assert_eq!(field(&check.value.start_period), Some(("10s".into(), Layer::Attribute)));
        assert_eq!(field(&check.value.timeout), Some(("3s".into(), Layer::Package)));
        assert_eq!(check.value.retries.as_ref().map(|s| (s.value, s.layer)), Some((5, Layer::Binary)));
        // The table as a whole is the highest layer's, where a message about it points.
        assert_eq!((check.layer, check.origin.to_string()), (Layer::Binary, "Cargo.toml:5:15".to_owned()));

        let origins: Vec<String> =
            settings.origins().into_iter().map(|(key, (layer, at))| format!("{key}: {layer:?} at {at}")).collect();
        insta::assert_snapshot!(origins.join("\n"), @r"
        expose: Attribute at src/main.rs:1:31
        healthcheck.interval: Attribute at src/main.rs:1:79
        healthcheck.path: Attribute at src/main.rs:1:56
        healthcheck.retries: Binary at Cargo.toml:5:27
        healthcheck.start-period: Attribute at src/main.rs:1:116
        healthcheck.timeout: Package at Cargo.toml:2:27
        ");
    }
}
