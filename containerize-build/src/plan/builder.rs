//! The builder stage's decisions: toolchain, Debian suite, linkage, cargo's command lines.

use super::*;

/// The first Rust release with Debian trixie builder images.
pub(super) const FIRST_TRIXIE_RUST: (u64, u64) = (1, 88);

pub(super) fn suite_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Bookworm => "bookworm",
        Suite::Trixie => "trixie",
    }
}

/// `X.Y[.Z]` as a comparable triple.
pub(super) fn version_triple(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next()?.ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// The byte span of the first line starting with `key` in a manifest, for pointing at it.
pub(super) fn find(text: &str, key: &str) -> std::ops::Range<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with(key) {
            let start = offset + line.len() - line.trim_start().len();
            return start..start + key.len();
        }
        offset += line.len();
    }
    0..0
}

pub(super) fn toolchain(project: &Project, s: &Settings) -> Result<(String, String), Diagnostic> {
    if let Some(builder) = &s.builder {
        let (_, tag, _) = validate::image::split(&builder.value);
        let version = tag.and_then(|t| t.split('-').next()).filter(|v| version_triple(v).is_some());
        return Ok((version.unwrap_or("unknown").to_owned(), format!("the `builder` set at {}", builder.origin)));
    }
    let local = project.toolchain.local.clone();
    match &project.toolchain.pinned {
        Some(pinned) if version_triple(&pinned.channel).is_some() => {
            Ok((pinned.channel.clone(), format!("pinned in {}", pinned.file)))
        }
        Some(pinned) if pinned.channel != "stable" => Err(Diagnostic::error(
            Origin::Derived,
            format!("{} pins the `{}` channel, which has no official builder image", pinned.file, pinned.channel),
            "",
        )
        .with_help("pin a version such as `1.95.0`, or set `builder` to an image with that toolchain")),
        pinned => local
            .map(|version| {
                let why = if pinned.is_some() { "the local stable toolchain" } else { "the local toolchain" };
                (version, why.to_owned())
            })
            .ok_or_else(|| {
                Diagnostic::error(
                    Origin::Derived,
                    "could not tell which Rust version to build with: `rustc -vV` failed",
                    "",
                )
                .with_help("pin a version in rust-toolchain.toml, or set `builder`")
            }),
    }
}

pub(super) fn suite(s: &Settings, toolchain: &str) -> Result<Suite, Diagnostic> {
    let before_trixie = version_triple(toolchain).is_some_and(|(major, minor, _)| (major, minor) < FIRST_TRIXIE_RUST);
    match &s.suite {
        Some(Set { value: Suite::Trixie, origin, .. }) if before_trixie && s.builder.is_none() => {
            Err(Diagnostic::error(
                origin.clone(),
                format!("there are no trixie builder images for Rust {toolchain} (they start at 1.88)"),
                "not available",
            )
            .with_help("use `suite = \"bookworm\"`, or a newer toolchain"))
        }
        Some(set) => Ok(set.value),
        None if before_trixie => Ok(Suite::Bookworm),
        None => Ok(Suite::Trixie),
    }
}

pub(super) fn linkage(s: &Settings, base: &Base) -> Result<Linkage, Diagnostic> {
    let libc_less = matches!(base, Base::Scratch | Base::DistrolessStatic);
    match value(&s.linkage).unwrap_or(Linkage::Auto) {
        Linkage::Auto if libc_less => Ok(Linkage::Static),
        Linkage::Auto => Ok(Linkage::Dynamic),
        Linkage::Dynamic if libc_less => Err(Diagnostic::error(
            origin(&s.linkage),
            "a dynamically linked binary cannot run on a base without a C library",
            "conflicts with `base`",
        )
        .with_help("use `linkage = \"static\"` (or `auto`), or `base = \"distroless-cc\"`")),
        other => Ok(other),
    }
}

pub(super) fn features(package: &LocalPackage, image: &ImageSpec) -> Features {
    let s = &image.settings;
    let mut names = value(&s.features).unwrap_or_default();
    let required = package.binaries.iter().find(|b| b.name == image.binary).map(|b| b.required_features.clone());
    for feature in required.unwrap_or_default() {
        if !names.contains(&feature) {
            names.push(feature);
        }
    }
    Features {
        names,
        all: value(&s.all_features) == Some(true),
        no_default: value(&s.no_default_features) == Some(true),
    }
}

/// Cargo's command line for `build` (the image's binary) or `test` (the package's tests), with
/// the same features and profile settings, so both use the same dependency artifacts.
#[allow(clippy::too_many_arguments)]
pub(super) fn cargo_command(
    project: &Project,
    package: &LocalPackage,
    image: &ImageSpec,
    profile: &str,
    target: &str,
    linkage: Linkage,
    options: &Options,
    subcommand: &str,
) -> Vec<String> {
    let mut args: Vec<String> =
        ["cargo", subcommand, "--profile", profile, "--package", &package.name].map(str::to_owned).to_vec();
    if subcommand == "build" {
        args.extend(["--bin".to_owned(), image.binary.clone()]);
    }
    args.extend(features(package, image).flags(None));
    args.extend(["--target".to_owned(), target.to_owned()]);
    if linkage == Linkage::Static {
        // Through --config, into the table the project's own .cargo/config.toml uses, so cargo
        // merges the two: it ignores `build.rustflags` once any `target` rustflags exist. A
        // list merges into a list; flags written as one string are replaced by that string
        // with ours added (cargo can't merge a list into a string).
        let table = if project.config_has_target_rustflags { format!("target.{target}") } else { "build".to_owned() };
        let flags = match project.config_string_rustflags.get(&table) {
            Some(theirs) => toml::Value::String(format!("{theirs} -C target-feature=+crt-static")).to_string(),
            None => "[\"-C\", \"target-feature=+crt-static\"]".to_owned(),
        };
        args.push(format!("--config={table}.rustflags={flags}"));
    }
    // Cargo never strips, whatever the profile says: the build step strips the runtime's copy
    // (`strip_command`), so the debug image gets the same compile whole.
    args.push(format!("--config=profile.{profile}.strip=false"));
    let locked = project.root_files.iter().any(|f| f == "Cargo.lock") && options.cargo_flags.is_empty();
    if locked {
        args.push("--locked".to_owned());
    }
    args.extend(options.cargo_flags.iter().cloned());
    args
}

pub(super) fn clean_command(project: &Project, profile: &str, target: Option<&str>, options: &Options) -> Vec<String> {
    let mut args: Vec<String> = ["cargo", "clean", "--profile", profile].map(str::to_owned).to_vec();
    if let Some(target) = target {
        args.extend(["--target".to_owned(), target.to_owned()]);
    }
    let mut names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        args.extend(["--package".to_owned(), name.to_owned()]);
    }
    args.extend(options.cargo_flags.iter().cloned());
    args
}

/// Copies the built binary to where the runtime takes it, stripped as `strip` says, with the
/// `objcopy` of its target's binutils (mingw-w64's for a Windows binary).
pub(super) fn strip_command(strip: Strip, objcopy: &str, from: &str, to: &str) -> Vec<String> {
    let command: &[&str] = match strip {
        Strip::Debuginfo => &[objcopy, "--strip-debug"],
        Strip::Symbols => &[objcopy, "--strip-all"],
        Strip::None => &["cp"],
    };
    command.iter().copied().chain([from, to]).map(str::to_owned).collect()
}

/// `apt-get install` of Debian packages, as a `sh -c` command; none for no packages.
pub(super) fn apt_install(packages: &[String]) -> Option<Vec<String>> {
    (!packages.is_empty()).then(|| {
        let install = format!(
            "apt-get update && apt-get install --yes --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
            shell_words(packages)
        );
        ["sh", "-c", &install].map(str::to_owned).to_vec()
    })
}

/// Words for `sh -c`: each single-quoted unless it is plainly safe.
pub(super) fn shell_words(words: &[String]) -> String {
    let word = |w: &String| {
        if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c)) {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(word).collect::<Vec<_>>().join(" ")
}

/// Each `include` entry's place in the builder's staging directory, and the command that sets
/// its mode on every file under it.
pub(super) fn staged_includes(include: &[Include]) -> Vec<StagedInclude> {
    include
        .iter()
        .map(|include| {
            let staged = format!("{STAGING}{}", include.dest);
            let chmod = include.mode.map(|mode| {
                ["find", &staged, "-type", "f", "-exec", "chmod", &format!("{mode:o}"), "{}", "+"]
                    .map(str::to_owned)
                    .to_vec()
            });
            StagedInclude { include: include.clone(), staged, chmod }
        })
        .collect()
}

/// The debug info profile `profile` gives package `package`'s binary, as cargo resolves it from
/// the manifest's `[profile]` and the project's cargo configuration (which wins), a package's
/// own override first, following `inherits` to `dev` (which keeps debug info) or `release`
/// (which does not): the `debug` value when it keeps any, and whether `split-debuginfo =
/// "packed"` puts the DWARF in a package (`<bin>.dwp`) beside the binary. Cargo ignores
/// `split-debuginfo` without debug info.
pub(super) fn profile_debug_info(project: &Project, package: &str, profile: &str) -> Option<(String, bool)> {
    let manifest: toml::Table = toml::from_str(&project.root_manifest.text).unwrap_or_default();
    let manifest = manifest.get("profile").and_then(toml::Value::as_table).cloned().unwrap_or_default();
    let sources = [&project.config_profiles, &manifest];
    let lookup = |key: &str| {
        let mut name = profile.to_owned();
        for _ in 0..16 {
            let tables: Vec<&toml::Table> = sources.iter().filter_map(|s| s.get(&name)?.as_table()).collect();
            let own = tables.iter().find_map(|t| t.get("package")?.get(package)?.get(key));
            if let Some(value) = own.or_else(|| tables.iter().find_map(|t| t.get(key))) {
                return (Some(value.clone()), name);
            }
            let inherits = tables.iter().find_map(|t| t.get("inherits")?.as_str()).map(str::to_owned);
            name = match (inherits, name.as_str()) {
                (Some(parent), _) => parent,
                (None, "test") => "dev".to_owned(),
                (None, "bench") => "release".to_owned(),
                (None, _) => break,
            };
        }
        (None, name)
    };
    let level = match lookup("debug") {
        (Some(toml::Value::Boolean(false)), _) => return None,
        (Some(toml::Value::Integer(0)), _) => return None,
        (Some(toml::Value::String(s)), _) if s == "none" => return None,
        (Some(toml::Value::String(s)), _) => s,
        (Some(value), _) => value.to_string(),
        (None, root) if root == "dev" => "true".to_owned(),
        (None, _) => return None,
    };
    let packed = matches!(lookup("split-debuginfo").0, Some(toml::Value::String(s)) if s == "packed");
    Some((level, packed))
}
