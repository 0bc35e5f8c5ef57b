//! Property tests of what the CLI runs before the engine: settings reader, validator, planner
//! and renderer, driven through the same public functions, with hostile strings in every
//! string-valued setting (in `Cargo.toml`, in `#[containerize::main(...)]`, in Cargo's package
//! metadata) and flag. A value may be refused; it may never add an instruction, a stage or a
//! line to the Dockerfile, nor start a heredoc, and no input may panic.

use containerize::cli::args::Cargo;
use containerize::cli::flag_settings;
use containerize_build::project::{About, Binary, LocalPackage, PackageFiles, TargetFile, TargetRole};
use containerize_build::toolchain::Toolchain;
use containerize_build::{Options, Project, Selection, SourceFile, dockerfile, keys::KEYS, plan_image, resolve};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::sync::LazyLock;

const ROOT: &str = "/home/dev/app";

/// A setting in `[package.metadata.containerize]`: the TOML with `VALUE` where the string goes,
/// and a value it accepts.
const MANIFEST_SLOTS: &[(&str, &str)] = &[
    ("name = VALUE", "registry.example.com/team/app"),
    ("registry = VALUE", "registry.example.com/team"),
    ("tags = [VALUE]", "edge"),
    ("tags = [VALUE]", "v{version}"),
    ("base = VALUE", "registry.example.com/base/runtime:2024"),
    ("builder = VALUE", "rust:1.95.0-slim-trixie"),
    ("suite = VALUE", "bookworm"),
    ("linkage = VALUE", "dynamic"),
    ("bins = [VALUE]", "app"),
    ("features = [VALUE]", "tls"),
    ("profile = VALUE", "dist"),
    ("expose = [VALUE]", "9090/udp"),
    ("env = { VALUE = \"x\" }", "RUST_LOG"),
    ("env = { A = VALUE }", "info"),
    ("workdir = VALUE", "/data"),
    ("user = VALUE", "10001:10001"),
    ("entrypoint = [VALUE]", "/usr/local/bin/app"),
    ("args = [VALUE]", "serve"),
    ("labels = { VALUE = \"x\" }", "com.example.team"),
    ("labels = { l = VALUE }", "platform"),
    ("volumes = [VALUE]", "/data"),
    ("stop-signal = VALUE", "SIGINT"),
    ("expose = [8080]\nhealthcheck = { path = VALUE }", "/healthz"),
    ("expose = [8080]\nhealthcheck = { path = \"/\", port = VALUE }", "8080"),
    ("expose = [8080]\nhealthcheck = { interval = VALUE }", "10s"),
    ("expose = [8080]\nhealthcheck = { timeout = VALUE }", "2s"),
    ("expose = [8080]\nhealthcheck = { start-period = VALUE }", "5s"),
    ("include = [{ src = VALUE, dest = \"/etc/app.toml\" }]", "config/app.toml"),
    ("include = [{ src = \"config/app.toml\", dest = VALUE }]", "/etc/app.toml"),
    ("include = [{ src = \"config/app.toml\", dest = \"/etc/app.toml\", mode = VALUE }]", "0644"),
    ("include = [{ from = VALUE, src = \"/etc/debian_version\", dest = \"/etc/v\" }]", "debian:trixie-slim"),
    ("include = [{ from = \"debian:trixie-slim\", src = VALUE, dest = \"/etc/v\" }]", "/etc/debian_version"),
    ("strip = VALUE", "symbols"),
    ("build-include = [VALUE]", "migrations"),
    ("build-packages = [VALUE]", "libssl-dev"),
    ("base = \"debian-slim\"\nruntime-packages = [VALUE]", "libssl3t64"),
    ("build-args = { VALUE = \"x\" }", "GIT_SHA"),
    ("build-args = { B = VALUE }", "unknown"),
    ("[package.metadata.containerize.bin.app]\nworkdir = VALUE", "/srv"),
];

/// Keys that take no string anywhere.
const NOT_STRINGS: &[&str] = &["all-features", "no-default-features", "cache-mounts", "bin"];

/// A setting in the attribute, with `VALUE` where the Rust string literal goes.
const ATTRIBUTE_SLOTS: &[(&str, &str)] = &[
    ("expose = [VALUE]", "9090/udp"),
    ("env(A = VALUE)", "info"),
    ("env(VALUE = \"x\")", "RUST_LOG"),
    ("workdir = VALUE", "/data"),
    ("user = VALUE", "10001"),
    ("args = [VALUE]", "serve"),
    ("labels(VALUE = \"x\")", "com.example.team"),
    ("labels(l = VALUE)", "platform"),
    ("volumes = [VALUE]", "/data"),
    ("stop_signal = VALUE", "SIGTERM"),
    ("expose = [8080], healthcheck(path = VALUE)", "/healthz"),
    ("expose = [8080], healthcheck(path = \"/\", interval = VALUE)", "10s"),
    ("signals = VALUE", "app"),
];

/// Package metadata Cargo hands over as it was written.
const METADATA_SLOTS: &[(&str, &str)] = &[
    ("version", "1.2.3"),
    ("description", "A service"),
    ("license", "MIT"),
    ("authors", "Dev <dev@example.com>"),
    ("repository", "https://example.com/app"),
    ("homepage", "https://example.com"),
    ("documentation", "https://docs.example.com"),
    ("rust-version", "1.85"),
];

/// Flags whose value is a string, each given as `--flag=value`.
const FLAG_SLOTS: &[(&str, &str)] = &[
    ("--profile", "dist"),
    ("--base", "registry.example.com/base/runtime:2024"),
    ("--linkage", "static"),
    ("--features", "tls"),
    ("--tag", "registry.example.com/app:edge"),
    ("--stage", "debug"),
    ("--platform", "windows/amd64"),
    ("--bin", "app"),
    ("--package", "app"),
];

fn project(settings: &str, attribute: Option<&str>, metadata: Option<(&str, &str)>) -> Project {
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"1.2.3\"\n\n[features]\ntls = []\n\n[package.metadata.containerize]\n{settings}\n"
    );
    // The binary uses the attribute, as a healthcheck needs.
    let main = format!("#[containerize::main({})]\nfn main() {{}}\n", attribute.unwrap_or_default());
    let source = Some(SourceFile::new(format!("{ROOT}/src/main.rs"), main));
    let mut about = About { description: Some("A service".into()), ..About::default() };
    let (mut version, mut rust_version) = ("1.2.3".to_owned(), None);
    if let Some((field, value)) = metadata {
        let value = value.to_owned();
        match field {
            "version" => version = value,
            "description" => about.description = Some(value),
            "license" => about.license = Some(value),
            "authors" => about.authors = vec![value],
            "repository" => about.repository = Some(value),
            "homepage" => about.homepage = Some(value),
            "documentation" => about.documentation = Some(value),
            "rust-version" => rust_version = Some(value),
            other => unreachable!("no metadata field {other}"),
        }
    }
    let package = LocalPackage {
        name: "app".into(),
        version,
        member: true,
        patch: false,
        dir: ROOT.into(),
        manifest: SourceFile::new(format!("{ROOT}/Cargo.toml"), manifest),
        about,
        rust_version,
        binaries: vec![Binary { name: "app".into(), required_features: vec![], source }],
        local_dependencies: vec![],
        local_dev_dependencies: vec![],
        files: PackageFiles::default(),
        targets: vec![TargetFile { path: "src/main.rs".into(), role: TargetRole::Executable }],
    };
    Project {
        workspace_root: ROOT.into(),
        target_directory: format!("{ROOT}/target").into(),
        root_manifest: package.manifest.clone(),
        packages: vec![package],
        root_files: vec!["Cargo.lock".into()],
        lockfile: Some("version = 4\n".into()),
        config_has_target_rustflags: false,
        config_string_rustflags: Default::default(),
        config_profiles: Default::default(),
        checkout_key: "0123456789abcdef".into(),
        toolchain: Toolchain { pinned: None, local: Some("1.95.0".into()) },
        vcs: None,
        source_date_epoch: None,
    }
}

/// The Dockerfiles the CLI would print for these flags, or `None` if anything is refused.
fn dockerfiles(project: &Project, flags: &[String]) -> Option<Vec<String>> {
    let command_line = ["cargo", "containerize"].iter().map(ToString::to_string).chain(flags.iter().cloned());
    let Cargo::Containerize(args) = <Cargo as clap::Parser>::try_parse_from(command_line).ok()?;
    let selection = Selection {
        packages: args.workspace.package.clone(),
        bins: args.bins.clone(),
        current_package: Some("app".into()),
        ..Selection::default()
    };
    let spec = resolve(project, &selection, &flag_settings(&args).ok()?).ok()?;
    let options = Options {
        arch: "x86_64".into(),
        tags: args.tags.clone(),
        stage: args.stage.clone(),
        platform: args.platform.clone(),
        ..Options::default()
    };
    spec.images.iter().map(|image| plan_image(project, image, &options).ok().map(|plan| dockerfile(&plan))).collect()
}

/// What each line of a Dockerfile is, as Docker's parser splits it (on `\n`): an instruction's
/// keyword, a continuation, a comment or a blank line. Heredoc openers (`<<`) in the
/// instructions that take them are counted too.
fn shape(dockerfile: &str) -> Vec<String> {
    let mut shape = Vec::new();
    let mut continued = false;
    let mut keyword = String::new();
    for line in dockerfile.split('\n') {
        let kind = if continued {
            "+".to_owned()
        } else if line.trim().is_empty() {
            String::new()
        } else if line.starts_with('#') {
            "#".to_owned()
        } else {
            keyword = line.split_whitespace().next().unwrap_or_default().to_uppercase();
            keyword.clone()
        };
        let heredocs = if ["RUN", "COPY", "ADD"].contains(&keyword.as_str()) { line.matches("<<").count() } else { 0 };
        shape.push(format!("{kind} {heredocs}"));
        continued = !line.starts_with('#') && line.ends_with('\\');
    }
    shape
}

/// The hostile render has the tame one's shape, and no character other tools take for a line
/// break.
fn assert_same_shape(hostile: &[String], tame: &[String]) -> Result<(), TestCaseError> {
    prop_assert_eq!(hostile.len(), tame.len(), "a value changed the number of images");
    for (hostile, tame) in hostile.iter().zip(tame) {
        prop_assert_eq!(shape(hostile), shape(tame), "{}", hostile);
        let breaks = ['\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}'];
        prop_assert!(!hostile.contains(breaks), "a line break in {:?}", hostile);
    }
    Ok(())
}

/// Strings made to break out of a Dockerfile line: quotes, escapes, `$`, heredoc markers, every
/// kind of line break, control characters, arbitrary Unicode, next to plausible text.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z0-9]{1,6}",
        2 => "[A-Za-z0-9._/:@+=,~-]{1,8}",
        2 => prop::sample::select(vec![
            "\n", "\r", "\r\n", "\u{2028}", "\u{2029}", "\u{85}", "\u{b}", "\u{c}", "\0", "\t", " ", "\"", "'",
            "\\", "\\\n", "$", "${HOME}", "$(id)", "`id`", "<<EOF", "<<-EOF", "EOF", "\nRUN id", "\nFROM scratch",
            "#", "/", ":", "@", "=", ",", "[", "]", "{", "}", "\u{feff}", "\u{202e}", "é", "\u{1f600}",
        ]).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop_oneof![prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat()), any::<String>(),]
}

/// A tame value with hostile text before or after it, or the hostile text alone, so that
/// some cases pass validation and reach the renderer.
fn around(tame: &str, hostile: String, place: &prop::sample::Index) -> String {
    match place.index(3) {
        0 => format!("{tame}{hostile}"),
        1 => format!("{hostile}{tame}"),
        _ => hostile,
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[test]
fn every_string_setting_has_a_slot() {
    for key in KEYS.iter().filter(|k| !NOT_STRINGS.contains(&k.name)) {
        let name = key.name;
        let in_manifest = MANIFEST_SLOTS.iter().any(|(toml, _)| toml.contains(&format!("{name} =")));
        assert!(!key.in_manifest || in_manifest, "`{name}` takes strings but no property test puts one there");
        let in_attribute = ATTRIBUTE_SLOTS.iter().any(|(rust, _)| rust.contains(&name.replace('-', "_")));
        assert!(
            !key.in_attribute || in_attribute,
            "the attribute's `{name}` takes strings but no property test puts one there"
        );
    }
}

#[test]
fn tame_values_are_accepted() {
    for renders in [&MANIFEST_TAME, &ATTRIBUTE_TAME, &METADATA_TAME, &FLAG_TAME] {
        LazyLock::force(renders);
    }
}

/// The Dockerfiles of each slot's tame value, rendered once.
fn tame_renders(slots: usize, render_slot: impl Fn(usize) -> Option<Vec<String>>) -> Vec<Vec<String>> {
    (0..slots).map(|slot| render_slot(slot).expect("the tame value is accepted")).collect()
}

static MANIFEST_TAME: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    tame_renders(MANIFEST_SLOTS.len(), |slot| {
        let (toml, tame) = MANIFEST_SLOTS[slot];
        dockerfiles(&project(&toml.replace("VALUE", &toml_string(tame)), None, None), &[])
    })
});
static ATTRIBUTE_TAME: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    tame_renders(ATTRIBUTE_SLOTS.len(), |slot| {
        let (rust, tame) = ATTRIBUTE_SLOTS[slot];
        dockerfiles(&project("", Some(&rust.replace("VALUE", &format!("{tame:?}"))), None), &[])
    })
});
static METADATA_TAME: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    tame_renders(METADATA_SLOTS.len(), |slot| dockerfiles(&project("", None, Some(METADATA_SLOTS[slot])), &[]))
});
static FLAG_TAME: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    tame_renders(FLAG_SLOTS.len(), |slot| {
        let (flag, tame) = FLAG_SLOTS[slot];
        dockerfiles(&project("", None, None), &[format!("{flag}={tame}")])
    })
});

fn cases(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(cases(2048))]
    #[test]
    fn manifest_values_cannot_shape_the_dockerfile(slot in 0..MANIFEST_SLOTS.len(), place in any::<prop::sample::Index>(), value in hostile()) {
        let (toml, tame) = MANIFEST_SLOTS[slot];
        let value = around(tame, value, &place);
        if let Some(rendered) = dockerfiles(&project(&toml.replace("VALUE", &toml_string(&value)), None, None), &[]) {
            assert_same_shape(&rendered, &MANIFEST_TAME[slot])?;
        }
    }
}

proptest! {
    #![proptest_config(cases(1024))]
    #[test]
    fn attribute_values_cannot_shape_the_dockerfile(slot in 0..ATTRIBUTE_SLOTS.len(), place in any::<prop::sample::Index>(), value in hostile()) {
        let (rust, tame) = ATTRIBUTE_SLOTS[slot];
        let value = around(tame, value, &place);
        // Debug formatting is a valid Rust string literal for any string.
        if let Some(rendered) = dockerfiles(&project("", Some(&rust.replace("VALUE", &format!("{value:?}"))), None), &[]) {
            assert_same_shape(&rendered, &ATTRIBUTE_TAME[slot])?;
        }
    }

    #[test]
    fn flag_values_cannot_shape_the_dockerfile(slot in 0..FLAG_SLOTS.len(), place in any::<prop::sample::Index>(), value in hostile()) {
        let (flag, tame) = FLAG_SLOTS[slot];
        let value = around(tame, value, &place);
        if let Some(rendered) = dockerfiles(&project("", None, None), &[format!("{flag}={value}")]) {
            assert_same_shape(&rendered, &FLAG_TAME[slot])?;
        }
    }
}

proptest! {
    #![proptest_config(cases(512))]
    #[test]
    fn package_metadata_cannot_shape_the_dockerfile(slot in 0..METADATA_SLOTS.len(), place in any::<prop::sample::Index>(), value in hostile()) {
        let (field, tame) = METADATA_SLOTS[slot];
        let value = around(tame, value, &place);
        if let Some(rendered) = dockerfiles(&project("", None, Some((field, &value))), &[]) {
            assert_same_shape(&rendered, &METADATA_TAME[slot])?;
        }
    }
}

/// Any TOML value, nested a little: the wrong type, the wrong shape, out-of-range numbers.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        hostile().prop_map(toml::Value::String),
        prop::sample::select(vec![
            "0s",
            "1s",
            "18446744073709551615s",
            "99999999999999999999h",
            "1ns",
            "-1s",
            "1.5s",
            "0"
        ])
        .prop_map(|s| toml::Value::String(s.to_owned())),
        any::<i64>().prop_map(toml::Value::Integer),
        prop::sample::select(vec![0i64, -1, 1, 65535, 65536, i64::MAX, i64::MIN]).prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| toml::Value::Table(entries.into_iter().collect())),
        ]
    })
}

/// A settings key, a nested key (healthcheck, include) or a misspelling of one.
fn key() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = KEYS.iter().map(|k| k.name.to_owned()).collect();
    names.extend(
        ["path", "port", "interval", "timeout", "start-period", "retries", "from", "src", "dest", "mode", "app"]
            .map(String::from),
    );
    prop_oneof![4 => prop::sample::select(names), 1 => hostile()]
}

/// A `#[containerize::main(...)]` argument list made of the tokens its grammar uses, in any order.
fn attribute_tokens() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        key().prop_map(|k| k.replace('-', "_")),
        prop::sample::select(vec![
            "=",
            ",",
            "(",
            ")",
            "[",
            "]",
            "true",
            "1",
            "-1",
            "99999999999999999999",
            "1.5",
            "'c'",
            "b\"x\"",
            "r#\"x\"#",
            "\"18446744073709551615s\"",
            "\"0s\"",
            "::",
            "#",
            "{",
            "}",
        ])
        .prop_map(str::to_owned),
        hostile().prop_map(|s| format!("{s:?}")),
    ];
    prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #![proptest_config(cases(1024))]
    /// Any table under the package's settings: the reader reports what is wrong, nothing panics.
    #[test]
    fn no_settings_table_panics(entries in prop::collection::vec((key(), toml_value()), 0..6), flags in prop::collection::vec((0..FLAG_SLOTS.len(), hostile()), 0..3)) {
        // Quoted keys, inline values: one line each, whatever they hold.
        let settings: Vec<String> = entries.iter().map(|(key, value)| format!("{} = {value}", toml_string(key))).collect();
        let flags: Vec<String> = flags.into_iter().map(|(slot, value)| format!("{}={value}", FLAG_SLOTS[slot].0)).collect();
        dockerfiles(&project(&settings.join("\n"), None, None), &flags);
    }

    /// Durations of any size, in the manifest and in the attribute.
    #[test]
    fn no_duration_panics(
        key in prop::sample::select(vec!["interval", "timeout", "start-period"]),
        parts in prop::collection::vec((any::<u64>(), prop::sample::select(vec!["ns", "us", "ms", "s", "m", "h"])), 1..4),
    ) {
        let duration: String = parts.iter().map(|(number, unit)| format!("{number}{unit}")).collect();
        let healthcheck = format!("path = \"/\", {key} = \"{duration}\"");
        dockerfiles(&project(&format!("expose = [8080]\nhealthcheck = {{ {healthcheck} }}"), None, None), &[]);
        let attribute = format!("expose = [8080], healthcheck({})", healthcheck.replace('-', "_"));
        dockerfiles(&project("", Some(&attribute), None), &[]);
    }

    /// Any text as the manifest's settings, TOML or not.
    #[test]
    fn no_manifest_text_panics(text in hostile()) {
        dockerfiles(&project(&text, None, None), &[]);
    }

    /// Any arguments to the attribute, well-formed or not.
    #[test]
    fn no_attribute_panics(arguments in attribute_tokens()) {
        dockerfiles(&project("", Some(&arguments), None), &[]);
    }

    /// Any text as the binary's source, where the CLI looks for the attribute.
    #[test]
    fn no_source_panics(prefix in attribute_tokens(), text in hostile()) {
        let file = SourceFile::new("src/main.rs", format!("#[containerize::main({prefix}{text}"));
        containerize_build::attribute::settings_in_source(&file, &mut Vec::new());
    }
}
