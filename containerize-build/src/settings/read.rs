//! The settings reader: one table (of `Cargo.toml` or the attribute) into one typed layer,
//! every problem a diagnostic with its position, each key read by its descriptor's reader
//! ([`keys::KEYS`]).

use super::keys::{self, KEYS, Scope};
use super::{Healthcheck, Include, Layer, Set, Settings};
use crate::diagnostic::{Diagnostic, Origin, SourceFile};
use crate::node::{Key, Node, Value};
use crate::validate::{self, Checked, Port, image};
use std::collections::BTreeMap;
use std::sync::Arc;

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

    /// A list of tags, which must hold one at least.
    pub(crate) fn tags<T>(&mut self, node: &Node, check: fn(&str) -> Checked<T>) -> Option<Set<Vec<T>>> {
        let list = self.strings(node, check)?;
        if list.value.is_empty() {
            let invalid = validate::Invalid {
                message: "an empty list would leave the image with no tag".into(),
                help: Some("give at least one, or leave the key out for its default".into()),
            };
            self.invalid(node, invalid);
            return None;
        }
        Some(list)
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
