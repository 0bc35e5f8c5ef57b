//! Reads the `containerize` tables of a `Cargo.toml`, keeping spans for diagnostics.
//!
//! `cargo metadata` hands out `package.metadata` as JSON, which has no spans; so the manifest
//! text is parsed again here, once, and both tables are read from it.

use crate::diagnostic::{Diagnostic, Origin, SourceFile};
use crate::keys::Scope;
use crate::node::Node;
use crate::settings::{Settings, read_table};
use std::sync::Arc;

/// The settings tables found in one manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManifestSettings {
    /// `[package.metadata.containerize]`.
    pub package: Option<Settings>,
    /// `[workspace.metadata.containerize]`.
    pub workspace: Option<Settings>,
}

/// Reads both tables of a manifest; problems are pushed to `diagnostics`.
pub fn read(file: &Arc<SourceFile>, diagnostics: &mut Vec<Diagnostic>) -> ManifestSettings {
    let document = match toml::de::DeTable::parse(&file.text) {
        Ok(document) => Node::from_toml(&document),
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            let origin = Origin::File { file: file.clone(), span };
            diagnostics.push(Diagnostic::error(origin, format!("invalid TOML: {}", error.message()), "here"));
            return ManifestSettings::default();
        }
    };
    let table = |path: &[&str], scope| document.get_path(path).map(|node| (node, scope));
    let mut read_one =
        |found: Option<(&Node, Scope)>| found.map(|(node, scope)| read_table(node, file, scope, diagnostics));
    ManifestSettings {
        package: read_one(table(&["package", "metadata", "containerize"], Scope::Package)),
        workspace: read_one(table(&["workspace", "metadata", "containerize"], Scope::Workspace)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostics_of(toml: &str) -> (ManifestSettings, Vec<String>) {
        let file = SourceFile::new("Cargo.toml", toml);
        let mut diagnostics = Vec::new();
        let settings = read(&file, &mut diagnostics);
        (settings, diagnostics.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn unknown_keys_warn_with_position_and_suggestion() {
        let (settings, diagnostics) = diagnostics_of(
            "[package]\nname = \"a\"\n\n[package.metadata.containerize]\nbinn = [\"x\"]\nexpose = [8080]\n",
        );
        insta::assert_snapshot!(diagnostics.join("\n"), @r"
        warning: unknown key `binn` in [package.metadata.containerize]
          --> Cargo.toml:5:1
          = help: did you mean `bins`?
        ");
        assert_eq!(settings.package.unwrap().expose.unwrap().value[0].number, 8080);
    }

    #[test]
    fn wrong_types_and_bad_values_are_errors_at_the_value() {
        let (_, diagnostics) = diagnostics_of(
            "[workspace.metadata.containerize]\nexpose = true\nuser = \"a b\"\nenv = { \"1X\" = \"v\", OK = 3 }\nbins = [\"a\"]\n",
        );
        insta::assert_snapshot!(diagnostics.join("\n"), @r"
        error: `expose`: expected a string or an integer, found a boolean
          --> Cargo.toml:2:10
        error: `user`: `a b` is not a user
          --> Cargo.toml:3:8
          = help: write `65532`, `65532:65532` or `app:app`
        error: `env.1X`: `1X` is not a valid variable name
          --> Cargo.toml:4:9
          = help: use letters, digits and `_`, not starting with a digit, e.g. `RUST_LOG`
        error: `env.OK`: expected a string, found an integer
          --> Cargo.toml:4:26
        warning: `bins` has no effect in [workspace.metadata.containerize]
          --> Cargo.toml:5:1
          = help: write it in the package's [package.metadata.containerize] table
        ");
    }

    #[test]
    fn durations_and_signals_the_engine_cannot_use_are_errors() {
        let (_, diagnostics) = diagnostics_of(
            "[package.metadata.containerize]\nhealthcheck = { timeout = \"0s\", interval = \"6000000000000h\", start-period = \"500us\" }\nstop-signal = \"SIGFOO\"\n",
        );
        insta::assert_snapshot!(diagnostics.join("\n"), @r"
        error: `healthcheck.timeout`: `0s` is no time at all
          --> Cargo.toml:2:27
          = help: write e.g. `10s` or `500ms`
        error: `healthcheck.interval`: `6000000000000h` is longer than the engine can count
          --> Cargo.toml:2:44
          = help: durations go up to 2562047h, some 292 years
        error: `healthcheck.start-period`: `500us` is less than a millisecond
          --> Cargo.toml:2:77
          = help: the engine counts these times in milliseconds: write `1ms` or more
        error: `stop-signal`: `SIGFOO` is not a signal
          --> Cargo.toml:3:15
          = help: write a name such as `SIGTERM` or `SIGQUIT`, or a number from 1 to 64
        ");
    }

    #[test]
    fn per_binary_tables_override_the_package() {
        let (settings, diagnostics) = diagnostics_of(
            "[package.metadata.containerize]\nbase = \"scratch\"\nenv = { A = \"1\" }\n[package.metadata.containerize.bin.admin]\nbase = \"debian-slim\"\nenv = { B = \"2\" }\ninclude = [{ src = \"c.toml\", dest = \"/etc/c.toml\", mode = 0o600 }]\n",
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let package = settings.package.unwrap();
        let admin = package.for_binary("admin");
        assert_eq!(admin.base.unwrap().value, crate::settings::Base::DebianSlim);
        assert_eq!(admin.env.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(admin.include.unwrap().value[0].mode, Some(0o600));
        assert_eq!(package.for_binary("other").base.unwrap().value, crate::settings::Base::Scratch);
    }
}
