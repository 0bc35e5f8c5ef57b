//! A spanned value tree: the common input of the settings reader.
//!
//! TOML tables (from `Cargo.toml`) and `#[containerize::main(...)]` arguments both become a
//! [`Node`], so one reader and one validator serve the CLI, the build script and the macro,
//! and every value keeps the span an error should point at.

use std::ops::Range;

/// A value with the byte range it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Byte range of the value in its source.
    pub span: Range<usize>,
    /// The value.
    pub value: Value,
}

/// A key of a table, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key as written.
    pub name: String,
    /// Byte range of the key in its source.
    pub span: Range<usize>,
}

/// The kinds of value settings can hold.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// An array.
    Array(Vec<Node>),
    /// A table, in source order.
    Table(Vec<(Key, Node)>),
    /// Something no setting takes (a float, a date), by its TOML type name.
    Other(&'static str),
}

impl Value {
    /// The name of the value's type, as an error shows it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
            Value::Other(name) => name,
        }
    }
}

impl Node {
    /// Finds `path` (e.g. `["package", "metadata", "containerize"]`) in a table tree.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, segment| match &node.value {
            Value::Table(entries) => entries.iter().find(|(k, _)| k.name == *segment).map(|(_, v)| v),
            _ => None,
        })
    }

    /// Converts a parsed TOML document.
    pub fn from_toml(table: &toml::Spanned<toml::de::DeTable<'_>>) -> Node {
        Node { span: table.span(), value: table_value(table.get_ref()) }
    }
}

fn table_value(table: &toml::de::DeTable<'_>) -> Value {
    let mut entries: Vec<(Key, Node)> = table
        .iter()
        .map(|(key, value)| (Key { name: key.get_ref().to_string(), span: key.span() }, from_de_value(value)))
        .collect();
    // The parser's map is sorted by key; diagnostics read best in the order of the source.
    entries.sort_by_key(|(key, _)| key.span.start);
    Value::Table(entries)
}

fn from_de_value(value: &toml::Spanned<toml::de::DeValue<'_>>) -> Node {
    use toml::de::DeValue;
    let converted = match value.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            i64::from_str_radix(i.as_str(), i.radix()).map_or(Value::Other("an integer out of range"), Value::Integer)
        }
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Array(items) => Value::Array(items.iter().map(from_de_value).collect()),
        DeValue::Table(table) => table_value(table),
        DeValue::Float(_) => Value::Other("a float"),
        DeValue::Datetime(_) => Value::Other("a date-time"),
    };
    Node { span: value.span(), value: converted }
}
