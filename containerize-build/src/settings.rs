//! Container settings: one typed layer per source, read from a spanned [`Node`] tree by one
//! reader, then overlaid in precedence order.
//!
//! Every front end feeds this module: `Cargo.toml` tables (see [`crate::manifest`]), the CLI's
//! flags, and `#[containerize::main(...)]` arguments, so they can never disagree.

use crate::diagnostic::{Diagnostic, Origin, SourceFile};
use crate::keys::{self, KEYS, Scope};
use crate::node::{Key, Node, Value};
use crate::validate::{self, Checked, Port, image};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// Reads one settings table. Problems go to `diagnostics`; what could be read is returned.
pub fn read_table(table: &Node, file: &Arc<SourceFile>, scope: Scope, diagnostics: &mut Vec<Diagnostic>) -> Settings {
    let attribute = scope == Scope::Attribute;
    let mut reader = Reader { file, attribute, diagnostics, key: String::new(), layer: scope.into() };
    reader.table(table, scope)
}

/// The TOML header a scope's table is written under, for messages.
pub fn scope_header(scope: Scope) -> &'static str {
    match scope {
        Scope::Workspace => "[workspace.metadata.containerize]",
        Scope::Package => "[package.metadata.containerize]",
        Scope::Binary => "[package.metadata.containerize.bin.<name>]",
        Scope::Attribute => "#[containerize::main(...)]",
    }
}

/// Reads settings tables; each key's reader (see [`keys::KEYS`]) uses its methods.
pub(crate) struct Reader<'a> {
    file: &'a Arc<SourceFile>,
    /// Reading an attribute, where names are written `stop_signal` for `stop-signal`.
    attribute: bool,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// The key being read (`user`, `bin.admin.env`), which every message names.
    key: String,
    /// The layer of the table being read, which every value remembers.
    layer: Layer,
}

impl Reader<'_> {
    fn origin(&self, span: &std::ops::Range<usize>) -> Origin {
        Origin::File { file: self.file.clone(), span: span.clone() }
    }

    pub(crate) fn set<T>(&self, node: &Node, value: T) -> Set<T> {
        Set { value, origin: self.origin(&node.span), layer: self.layer }
    }

    fn wrong_type(&mut self, node: &Node, expected: &str) {
        let found = node.value.type_name();
        let diagnostic = Diagnostic::error(
            self.origin(&node.span),
            format!("`{}`: expected {expected}, found {found}", self.key),
            format!("expected {expected}"),
        );
        self.diagnostics.push(diagnostic);
    }

    fn invalid(&mut self, node: &Node, invalid: validate::Invalid) {
        let message = format!("`{}`: {}", self.key, invalid.message);
        let mut diagnostic = Diagnostic::error(self.origin(&node.span), message, "invalid value");
        diagnostic.help = invalid.help;
        self.diagnostics.push(diagnostic);
    }

    fn checked<T>(&mut self, node: &Node, checked: Checked<T>) -> Option<T> {
        checked.map_err(|e| self.invalid(node, e)).ok()
    }

    /// A string, validated. Integers are accepted where `integers` is set (ports, modes).
    fn string_with<T>(&mut self, node: &Node, integers: bool, check: fn(&str) -> Checked<T>) -> Option<T> {
        match &node.value {
            Value::String(s) => self.checked(node, check(s)),
            Value::Integer(i) if integers => self.checked(node, check(&i.to_string())),
            _ => {
                self.wrong_type(node, if integers { "a string or an integer" } else { "a string" });
                None
            }
        }
    }

    pub(crate) fn one<T>(&mut self, node: &Node, check: fn(&str) -> Checked<T>) -> Option<Set<T>> {
        self.string_with(node, false, check).map(|v| self.set(node, v))
    }

    pub(crate) fn string_or_number<T>(&mut self, node: &Node, check: fn(&str) -> Checked<T>) -> Option<Set<T>> {
        self.string_with(node, true, check).map(|v| self.set(node, v))
    }

    pub(crate) fn boolean(&mut self, node: &Node) -> Option<Set<bool>> {
        match node.value {
            Value::Bool(b) => Some(self.set(node, b)),
            _ => {
                self.wrong_type(node, "`true` or `false`");
                None
            }
        }
    }

    fn array<'n>(&mut self, node: &'n Node) -> Option<&'n [Node]> {
        match &node.value {
            Value::Array(items) => Some(items),
            _ => {
                self.wrong_type(node, "an array");
                None
            }
        }
    }

    /// An array whose items each pass `item`; `None` if any fails, so no half list is used.
    pub(crate) fn list<T>(&mut self, node: &Node, item: impl Fn(&mut Self, &Node) -> Option<T>) -> Option<Set<Vec<T>>> {
        let items = self.array(node)?;
        let values: Vec<Option<T>> = items.iter().map(|n| item(self, n)).collect();
        let values: Option<Vec<T>> = values.into_iter().collect();
        values.map(|v| self.set(node, v))
    }

    pub(crate) fn strings<T>(&mut self, node: &Node, check: fn(&str) -> Checked<T>) -> Option<Set<Vec<T>>> {
        self.list(node, |r, n| r.string_with(n, false, check))
    }

    fn entries<'n>(&mut self, node: &'n Node) -> Option<&'n [(Key, Node)]> {
        match &node.value {
            Value::Table(entries) => Some(entries),
            _ => {
                self.wrong_type(node, "a table");
                None
            }
        }
    }

    pub(crate) fn map(
        &mut self,
        node: &Node,
        check_key: fn(&str) -> Checked<String>,
        into: &mut BTreeMap<String, Set<String>>,
    ) {
        let parent = self.key.clone();
        for (key, value) in self.entries(node).unwrap_or_default() {
            self.key = format!("{parent}.{}", key.name);
            let key_node = Node { span: key.span.clone(), value: Value::String(key.name.clone()) };
            let key_ok = self.checked(&key_node, check_key(&key.name));
            if let (Some(name), Some(value)) = (key_ok, self.one(value, validate::text)) {
                into.insert(name, value);
            }
        }
        self.key = parent;
    }

    pub(crate) fn healthcheck(&mut self, node: &Node) -> Option<Healthcheck> {
        let entries = self.entries(node)?;
        let parent = self.key.clone();
        let (mut check, mut valid) = (Healthcheck::default(), true);
        for (key, value) in entries {
            self.key = format!("{parent}.{}", key.name);
            let read = match self.name(key).as_str() {
                "path" => self.one(value, validate::http_path).map(|v| check.path = Some(v)),
                "port" => self.string_or_number(value, validate::port_number).map(|v| check.port = Some(v)),
                "interval" => self.one(value, validate::probe_time).map(|v| check.interval = Some(v)),
                "timeout" => self.one(value, validate::probe_time).map(|v| check.timeout = Some(v)),
                "start-period" => self.one(value, validate::duration).map(|v| check.start_period = Some(v)),
                "retries" => self.string_or_number(value, validate::retries).map(|v| check.retries = Some(v)),
                _ => {
                    let known = ["path", "port", "interval", "timeout", "start-period", "retries"];
                    self.unknown_key(key, "`healthcheck`", &known);
                    Some(())
                }
            };
            valid &= read.is_some();
        }
        self.key = parent;
        valid.then_some(check)
    }

    pub(crate) fn include(&mut self, node: &Node) -> Option<Include> {
        let entries = self.entries(node)?;
        // `from` decides what `src` is, wherever it is written in the entry.
        let from_node = entries.iter().find(|(k, _)| k.name == "from").map(|(_, v)| v);
        let from = from_node.map(|n| self.string_with(n, false, image::reference));
        let src_path = if from.is_some() { validate::image_path } else { validate::project_path };
        let (mut src, mut dest, mut mode, mut complete) = (None, None, None, from.as_ref().is_none_or(Option::is_some));
        for (key, value) in entries {
            match key.name.as_str() {
                "from" => {}
                "src" => src = self.string_with(value, false, src_path),
                "dest" => dest = self.string_with(value, false, validate::image_path),
                "mode" => {
                    // A TOML integer such as 0o755 arrives as its value; show it in octal.
                    let octal = match value.value {
                        Value::Integer(i) => Node { span: value.span.clone(), value: Value::String(format!("{i:o}")) },
                        _ => value.clone(),
                    };
                    mode = self.string_with(&octal, false, validate::mode);
                    complete &= mode.is_some();
                }
                _ => self.unknown_key(key, "an `include` entry", &["from", "src", "dest", "mode"]),
            }
        }
        for (field, missing) in [("src", src.is_none()), ("dest", dest.is_none())] {
            if missing && !entries.iter().any(|(k, _)| k.name == field) {
                let diagnostic = Diagnostic::error(
                    self.origin(&node.span),
                    format!("this `include` entry has no `{field}`"),
                    "incomplete entry",
                )
                .with_help(r#"write it as { src = "config/app.toml", dest = "/etc/app/app.toml" }, or { from = "debian:trixie-slim", src = "/usr/share/zoneinfo", dest = "/usr/share/zoneinfo" }"#);
                self.diagnostics.push(diagnostic);
            }
        }
        match (src, dest, complete) {
            (Some(src), Some(dest), true) => Some(Include { from: from.flatten(), src, dest, mode }),
            _ => None,
        }
    }

    /// A key as the reader matches it: attribute names are Rust identifiers, `stop_signal`.
    fn name(&self, key: &Key) -> String {
        if self.attribute { key.name.replace('_', "-") } else { key.name.clone() }
    }

    /// A key as the user writes it in the source being read.
    fn written(&self, name: &str) -> String {
        if self.attribute { name.replace('-', "_") } else { name.to_owned() }
    }

    fn unknown_key(&mut self, key: &Key, place: &str, known: &[&'static str]) {
        let name = self.name(key);
        let suggestion =
            if known.is_empty() { keys::suggest(&name) } else { keys::nearest(&name, known.iter().copied()) };
        let suggestion = suggestion.map(|s| self.written(s));
        let mut diagnostic = Diagnostic::warning(
            self.origin(&key.span),
            format!("unknown key `{}` in {place}", key.name),
            "not a containerize setting",
        );
        diagnostic.help = Some(match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "see the settings reference: `cargo containerize --help`".to_owned(),
        });
        self.diagnostics.push(diagnostic);
    }

    /// `expose`: a list of ports, or one port standing alone (`expose = 8080`).
    pub(crate) fn ports(&mut self, node: &Node) -> Option<Set<Vec<Port>>> {
        match node.value {
            Value::Array(_) => self.list(node, |r, n| r.string_with(n, true, validate::port)),
            _ => self.string_with(node, true, validate::port).map(|port| self.set(node, vec![port])),
        }
    }

    /// `bin`: one settings table per binary.
    pub(crate) fn binary_tables(&mut self, node: &Node, into: &mut BTreeMap<String, Set<Settings>>) {
        for (name, table) in self.entries(node).unwrap_or_default() {
            self.key = format!("bin.{}", name.name);
            let layer = self.table(table, Scope::Binary);
            let origin = self.origin(&name.span);
            into.insert(name.name.clone(), Set { value: layer, origin, layer: Layer::Binary });
        }
    }

    fn table(&mut self, table: &Node, scope: Scope) -> Settings {
        let mut s = Settings::default();
        let parent = self.key.clone();
        let outer_layer = std::mem::replace(&mut self.layer, scope.into());
        for (key, node) in self.entries(table).unwrap_or_default() {
            let name = self.name(key);
            self.key = if parent.is_empty() { key.name.clone() } else { format!("{parent}.{}", key.name) };
            let documented = KEYS.iter().find(|k| k.name == name);
            if let Some(documented) = documented.filter(|k| !k.allowed_in(scope)) {
                let origin = self.origin(&key.span);
                let diagnostic = match scope {
                    // In code, every mistake stops the build.
                    Scope::Attribute => Diagnostic::error(
                        origin,
                        format!("`{}` can't be set in {}", key.name, scope_header(scope)),
                        "not here",
                    )
                    .with_help("set it in [package.metadata.containerize] in Cargo.toml"),
                    _ if !documented.in_manifest => Diagnostic::warning(
                        origin,
                        format!("`{}` is only read from #[containerize::main(...)]", key.name),
                        "ignored here",
                    )
                    .with_help("write it in the attribute on the binary's `fn main`"),
                    _ => Diagnostic::warning(
                        origin,
                        format!("`{}` has no effect in {}", key.name, scope_header(scope)),
                        "ignored here",
                    )
                    .with_help("write it in the package's [package.metadata.containerize] table"),
                };
                self.diagnostics.push(diagnostic);
                continue;
            }
            match documented {
                Some(documented) => (documented.read)(self, node, &mut s),
                None => self.unknown_key(key, scope_header(scope), &[]),
            }
        }
        self.layer = outer_layer;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
