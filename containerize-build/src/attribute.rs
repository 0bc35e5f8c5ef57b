//! `#[containerize::main(...)]` arguments as a spanned [`Node`] tree, so the settings reader
//! that reads `Cargo.toml` reads them too.
//!
//! The grammar: `key = value` or `key(...)` (a nested table), comma separated; a value is a
//! string, integer or boolean literal, or `[...]` of values; a key is an identifier or, where
//! identifiers can't say it (label keys), a string. The macro calls [`arguments`] with spans of
//! its own; the CLI calls [`settings_in_source`] on a binary's source, without compiling it.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::keys::Scope;
use crate::node::{Key, Node, Value};
use crate::settings::{Settings, read_table};
use proc_macro2::{Span, TokenStream};
use std::ops::Range;
use std::sync::Arc;
use syn::parse::{ParseStream, Parser};
use syn::{Lit, Token};

/// Maps the first and last span of a piece of syntax to the byte range nodes carry.
pub type SpanMap<'a> = dyn FnMut(Span, Span) -> Range<usize> + 'a;

/// Parses attribute arguments into a table node.
pub fn arguments(tokens: TokenStream, span_of: &mut SpanMap<'_>) -> syn::Result<Node> {
    let whole = tokens.clone().into_iter().fold(None, |acc: Option<(Span, Span)>, t| {
        Some(acc.map_or((t.span(), t.span()), |(first, _)| (first, t.span())))
    });
    let parser = |input: ParseStream<'_>| entries(input, span_of);
    let entries = parser.parse2(tokens)?;
    let span = whole.map_or(0..0, |(first, last)| span_of(first, last));
    Ok(Node { span, value: Value::Table(entries) })
}

fn entries(input: ParseStream<'_>, span_of: &mut SpanMap<'_>) -> syn::Result<Vec<(Key, Node)>> {
    let mut table = Vec::new();
    while !input.is_empty() {
        let (name, key_span) = if input.peek(syn::LitStr) {
            let literal: syn::LitStr = input.parse()?;
            (literal.value(), literal.span())
        } else {
            let ident: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
            (ident.to_string(), ident.span())
        };
        let key = Key { name, span: span_of(key_span, key_span) };
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            value(input, span_of)?
        } else if input.peek(syn::token::Paren) {
            let content;
            let parens = syn::parenthesized!(content in input);
            let nested = entries(&content, span_of)?;
            Node { span: span_of(parens.span.open(), parens.span.close()), value: Value::Table(nested) }
        } else {
            return Err(input.error(format!("expected `=` or `(...)` after `{}`", key.name)));
        };
        // As TOML refuses a key written twice: the last one silently winning would hide a mistake.
        let same = |k: &Key| k.name.replace('_', "-") == key.name.replace('_', "-");
        if table.iter().any(|(k, _)| same(k)) {
            return Err(syn::Error::new(key_span, format!("`{}` is given twice", key.name)));
        }
        table.push((key, value));
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(table)
}

fn value(input: ParseStream<'_>, span_of: &mut SpanMap<'_>) -> syn::Result<Node> {
    if input.peek(syn::token::Bracket) {
        let content;
        let brackets = syn::bracketed!(content in input);
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(value(&content, span_of)?);
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        return Ok(Node { span: span_of(brackets.span.open(), brackets.span.close()), value: Value::Array(items) });
    }
    let literal: Lit = input.parse()?;
    let span = span_of(literal.span(), literal.span());
    let value = match &literal {
        Lit::Str(s) => Value::String(s.value()),
        Lit::Int(i) => i.base10_parse::<i64>().map_or(Value::Other("an integer out of range"), Value::Integer),
        Lit::Bool(b) => Value::Bool(b.value),
        Lit::Float(_) => Value::Other("a float"),
        _ => Value::Other("a literal of another kind"),
    };
    Ok(Node { span, value })
}

/// Whether an attribute is `#[containerize::main]` (or `#[containerize::main(...)]`).
pub fn is_containerize_main(attribute: &syn::Attribute) -> bool {
    let segments: Vec<String> = attribute.path().segments.iter().map(|s| s.ident.to_string()).collect();
    segments == ["containerize", "main"]
}

/// The settings of `#[containerize::main(...)]` on the `fn main` of a binary's source, if it
/// has one, with diagnostics pointing into the file. A file that does not parse is left to the
/// compiler.
pub fn settings_in_source(file: &Arc<SourceFile>, diagnostics: &mut Vec<Diagnostic>) -> Option<Settings> {
    let syntax = syn::parse_file(&file.text).ok()?;
    let main = syntax.items.iter().find_map(|item| match item {
        syn::Item::Fn(function) if function.sig.ident == "main" => Some(function),
        _ => None,
    })?;
    let attribute = main.attrs.iter().find(|a| is_containerize_main(a))?;
    let tokens = match &attribute.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let line_starts: Vec<usize> = std::iter::once(0).chain(file.text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let offset = |at: proc_macro2::LineColumn| {
        let start = line_starts.get(at.line.saturating_sub(1)).copied().unwrap_or(0);
        let line = &file.text[start..];
        start + line.char_indices().nth(at.column).map_or(line.len(), |(i, _)| i)
    };
    let mut span_of = |first: Span, last: Span| offset(first.start())..offset(last.end());
    match arguments(tokens, &mut span_of) {
        Ok(node) => Some(read_table(&node, file, Scope::Attribute, diagnostics)),
        // The compiler refuses it too, but only once the build gets there: planning without the
        // attribute's settings meanwhile would build an image that is not the one asked for.
        Err(error) => {
            let span = span_of(error.span(), error.span());
            let origin = crate::diagnostic::Origin::File { file: file.clone(), span };
            diagnostics.push(Diagnostic::error(origin, error.to_string(), "here"));
            Some(Settings::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(source: &str) -> (Option<Settings>, Vec<String>) {
        let file = SourceFile::new("src/main.rs", source);
        let mut diagnostics = Vec::new();
        let settings = settings_in_source(&file, &mut diagnostics);
        (settings, diagnostics.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_the_attribute_of_main() {
        let (settings, diagnostics) = read(
            "use std::io;\n\n#[containerize::main(expose = [8080], stop_signal = \"SIGINT\", env(RUST_LOG = \"info\"),\n    healthcheck(path = \"/healthz\", start_period = \"5s\", retries = 2), labels(\"com.example.team\" = \"web\"))]\nfn main() -> io::Result<()> { Ok(()) }\n",
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let settings = settings.unwrap();
        assert_eq!(settings.expose.unwrap().value[0].number, 8080);
        assert_eq!(settings.stop_signal.unwrap().value, "SIGINT");
        assert_eq!(settings.env["RUST_LOG"].value, "info");
        assert_eq!(settings.labels["com.example.team"].value, "web");
        let check = settings.healthcheck.unwrap().value;
        assert_eq!(
            (check.path.unwrap().value, check.start_period.unwrap().value, check.retries.unwrap().value),
            ("/healthz".to_owned(), "5s".to_owned(), 2)
        );
    }

    #[test]
    fn mistakes_point_into_the_source_with_suggestions() {
        let (_, diagnostics) = read(
            "#[containerize::main(expse = 8080, user = \"a b\", base = \"scratch\", healthcheck(path = \"/\", intervl = \"1s\"))]\nfn main() {}\n",
        );
        insta::assert_snapshot!(diagnostics.join("\n"), @r"
        warning: unknown key `expse` in #[containerize::main(...)]
          --> src/main.rs:1:22
          = help: did you mean `expose`?
        error: `user`: `a b` is not a user
          --> src/main.rs:1:43
          = help: write `65532`, `65532:65532` or `app:app`
        error: `base` can't be set in #[containerize::main(...)]
          --> src/main.rs:1:50
          = help: set it in [package.metadata.containerize] in Cargo.toml
        warning: unknown key `intervl` in `healthcheck`
          --> src/main.rs:1:92
          = help: did you mean `interval`?
        ");
    }

    #[test]
    fn an_argument_given_twice_is_refused() {
        // The compiler reports it at the second key (the CLI leaves syntax errors to it).
        for twice in [
            "expose = 8080, expose = 9090",
            "stop_signal = \"SIGINT\", \"stop-signal\" = \"SIGQUIT\"",
            "labels(\"a\" = \"b\", \"a\" = \"c\")",
        ] {
            let tokens: TokenStream = twice.parse().unwrap();
            let error = arguments(tokens, &mut |_, _| 0..0).unwrap_err();
            assert!(error.to_string().contains("is given twice"), "{twice}: {error}");
        }
    }

    #[test]
    fn no_attribute_no_settings() {
        assert_eq!(read("fn main() {}\n").0, None);
        assert_eq!(read("#[tokio::main]\nasync fn main() {}\n").0, None);
        assert!(read("#[containerize::main]\n#[tokio::main]\nasync fn main() {}\n").0.is_some());
    }
}
