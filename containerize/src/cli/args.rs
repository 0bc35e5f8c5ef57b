//! The command line: cargo's own flag conventions, and help that teaches.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  cargo containerize --release                  build and tag an image of each binary
  cargo containerize --print                    print the Dockerfile; touch no engine
  cargo containerize --print-plan               print every decision as JSON
  cargo containerize -p api --bin server -t ghcr.io/acme/server:dev
  cargo containerize --push -t 127.0.0.1:5000/hello:1
                                                build, then push with your docker login
  cargo containerize --base scratch --run -- --version
                                                build a static image, run it once
  cargo containerize --print --eject > Dockerfile
                                                a Dockerfile for a plain `docker build .`
  cargo containerize --eject --check Dockerfile fail (with a diff) when it is stale
  cargo containerize --platform windows/amd64 --print
                                                a Windows image's Dockerfile
  cargo containerize --output dist              write the binary into dist/; make no image
  cargo containerize --stage debug              also a <tag>-debug image with a shell, debug info
  cargo containerize --stage test               run the package's tests in the builder; tag nothing

Settings live in Cargo.toml; the flags above override them:

  [package.metadata.containerize]
  base = \"distroless-static\"   # scratch | distroless-static | distroless-cc | debian-slim | <image>
  expose = [8080]
  env = { RUST_LOG = \"info\" }

  [workspace.metadata.containerize]  # defaults for every member
  suite = \"trixie\"

Every key, with an example: cargo containerize --help-settings";

/// The examples, then every exit status and its meaning.
fn after_long_help() -> String {
    let statuses: Vec<String> =
        crate::error::exit::STATUSES.iter().map(|(code, meaning)| format!("  {code:>3}  {meaning}")).collect();
    format!("{EXAMPLES}\n\nExit status:\n{}", statuses.join("\n"))
}

/// `cargo containerize`, as cargo runs it: `cargo-containerize containerize ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo::style::CLAP_STYLING)]
pub enum Cargo {
    /// Build a small, non-root container image of a Rust package, with no Dockerfile to write.
    Containerize(Args),
}

/// The options of `cargo containerize`.
#[derive(Debug, clap::Args)]
#[command(
    version,
    about = "Build a small, non-root container image of a Rust package, with no Dockerfile to write.",
    long_about = "Build a small, non-root container image of a Rust package, with no Dockerfile to write.\n\n\
        Reads Cargo metadata and the [package.metadata.containerize] settings, writes a multi-stage \
        Dockerfile (a builder stage with the project's toolchain, a minimal runtime stage), sends \
        the engine only the files cargo needs, then builds, tags and reports one image per binary.",
    after_long_help = after_long_help(),
    group(clap::ArgGroup::new("printed").args(["print", "check", "print_plan"])),
)]
pub struct Args {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub manifest: clap_cargo::Manifest,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: clap_cargo::Workspace,
    /// Build an image of this binary only (repeatable)
    #[arg(long = "bin", value_name = "NAME", help_heading = "Package Selection")]
    pub bins: Vec<String>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub features: clap_cargo::Features,

    /// Build with the release profile (the default for images; accepted as cargo does)
    #[arg(long, conflicts_with = "profile", help_heading = "Compilation Options")]
    pub release: bool,
    /// Build with this Cargo profile, e.g. `dev` for a debug image
    #[arg(long, value_name = "PROFILE-NAME", help_heading = "Compilation Options")]
    pub profile: Option<String>,
    /// Require Cargo.lock to be up to date (here and in the builder)
    #[arg(long, help_heading = "Manifest Options")]
    pub locked: bool,
    /// Require Cargo.lock and the cache to be up to date
    #[arg(long, help_heading = "Manifest Options")]
    pub frozen: bool,
    /// Run without accessing the network (here and in the builder)
    #[arg(long, help_heading = "Manifest Options")]
    pub offline: bool,

    /// Runtime base: scratch, distroless-static, distroless-cc, debian-slim or an image
    #[arg(long, value_name = "BASE", help_heading = "Image Options")]
    pub base: Option<String>,
    /// How the binary links libc: auto (static for scratch and distroless-static), static, dynamic
    #[arg(long, value_name = "LINKAGE", help_heading = "Image Options")]
    pub linkage: Option<String>,
    /// Tag the image with this reference instead of the configured ones (repeatable)
    #[arg(short = 't', long = "tag", value_name = "IMAGE[:TAG]", help_heading = "Image Options")]
    pub tags: Vec<String>,
    /// The stage to build, like `docker build --target`: `runtime` (the default); `debug`, the
    /// runtime image and next to it the same with a busybox shell at /busybox/sh and the binary's
    /// debug info, tagged `<tag>-debug`; `test`, the package's tests run with `cargo test` in the
    /// builder, nothing tagged (a failing test exits with status 13); `builder`, the builder stage
    #[arg(long, value_name = "NAME", help_heading = "Image Options")]
    pub stage: Option<String>,
    /// Push every tag of every image once all are built (and, with --run, have run), with the
    /// credentials `docker login` stored; the registries are asked first, so a refused login
    /// or an unreachable registry stops the run before anything is built or pushed
    #[arg(long, conflicts_with_all = ["print", "print_plan", "print_context", "output"], help_heading = "Image Options")]
    pub push: bool,
    /// The image's platform: linux/<this host's architecture> (the default), or windows/amd64
    /// (cross-compiled in a Linux builder onto nanoserver; printed and planned anywhere, but a
    /// Linux engine can't build it)
    #[arg(long, value_name = "OS/ARCH", help_heading = "Image Options")]
    pub platform: Option<String>,

    /// Assemble the runtime image reproducibly: the base's layers, one layer of the runtime
    /// stage's files and a config written by the tool, every time SOURCE_DATE_EPOCH (default:
    /// the commit's time), so one commit gives one image id wherever it is built
    #[arg(long, conflicts_with_all = ["stage", "output"], help_heading = "Image Options")]
    pub reproducible: bool,

    /// Print the Dockerfile on stdout and exit; no engine is used
    #[arg(long, conflicts_with = "print_plan", help_heading = "Output")]
    pub print: bool,
    /// With --eject: exit 0 if FILE is the Dockerfile `--print --eject` writes (with the same
    /// flags), else show the difference and exit with the status for a stale Dockerfile; no
    /// engine is used. Only an ejected Dockerfile can be committed and checked: the tool's own
    /// names the commit it was made from
    #[arg(long, value_name = "FILE", requires = "eject", conflicts_with_all = ["print_plan", "print_context", "json", "run"], help_heading = "Output")]
    pub check: Option<PathBuf>,
    /// With --print, --check or --print-plan: a Dockerfile to commit and build with a plain
    /// `docker build .` from the workspace root, with no context made by this tool (it copies
    /// the manifests and makes placeholder sources itself; no cache mounts, so dependencies
    /// rebuild on a version bump)
    #[arg(long, requires = "printed", help_heading = "Output")]
    pub eject: bool,
    /// Print the plan (every decision) as JSON on stdout and exit; no engine is used
    #[arg(long, help_heading = "Output")]
    pub print_plan: bool,
    /// Write the build context (the tar the engine gets, Dockerfile included) to FILE (`-` for
    /// stdout) and exit; build it with `docker build -f .containerize/Dockerfile - < FILE`
    #[arg(long, value_name = "FILE", conflicts_with_all = ["print", "print_plan"], help_heading = "Output")]
    pub print_context: Option<PathBuf>,
    /// Write the built binary into DIR instead of making an image, and tag nothing: the very
    /// binary the image would hold, which runs on the host when its linkage allows (static, or
    /// the same glibc); beside it its SBOM (`<bin>.spdx.json`, the image's), and when the profile
    /// keeps debug info, the whole binary as `<bin>.debug` (`gdb dist/hello.debug`, or `gdb -e
    /// dist/hello -s dist/hello.debug`) and, with split-debuginfo = "packed", its DWARF package
    /// as `<bin>.debug.dwp`, where gdb looks. DIR is checked first (made if missing, with a
    /// .gitignore that keeps it out of later contexts; a bad one exits 2). A file of the same
    /// name is replaced once the new one is whole
    #[arg(long, value_name = "DIR", conflicts_with_all = ["stage", "run", "tags", "json", "print_context"], help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Also write the image's SBOM (SPDX 2.3 JSON, the document the image carries) to FILE:
    /// once the image is built, or at once with --print, --print-plan or --print-context. One
    /// image only; FILE is replaced only once whole
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub sbom: Option<PathBuf>,
    /// Print the built images as JSON on stdout, each with the plan it was built from (the one
    /// `--print-plan` shows for the same flags and builder) and, with --push, each tag's digest
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// After building, run the image once and show its output; arguments after `--` are
    /// passed to it. It runs until it exits or, if it exposes a port, until it answers there
    /// from outside the container (GET on the healthcheck's path, else a connection the app
    /// itself takes): a service reachable only on the container's loopback fails. With
    /// --stage debug, the runtime image runs, then the debug image
    #[arg(long, help_heading = "Output")]
    pub run: bool,
    /// How long `--run` waits for the image to exit or answer before it stops it and fails
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration, requires = "run", help_heading = "Output")]
    pub run_timeout: std::time::Duration,
    /// Arguments for `--run`
    #[arg(last = true, value_name = "ARGS", requires = "run")]
    pub run_args: Vec<String>,
    /// Print every settings key, with an example, and exit
    #[arg(long, help_heading = "Output")]
    pub help_settings: bool,
    /// Print less: no progress, only the result
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Output")]
    pub quiet: bool,
    /// Print more: the engine's full build output
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// When to use color
    #[arg(long, value_name = "WHEN", default_value = "auto", help_heading = "Output")]
    pub color: Color,

    /// Build with BuildKit and its cache mounts (cargo's downloads and target directory kept
    /// between builds): auto when the engine offers it, always, or never (the legacy builder)
    #[arg(long, value_name = "WHEN", default_value = "auto", help_heading = "Engine")]
    pub buildkit: BuildKit,
    /// Build every step anew, taking nothing from the engine's cache (like `docker build
    /// --no-cache`; BuildKit's cache mounts stay)
    #[arg(long, help_heading = "Engine")]
    pub no_cache: bool,
}

/// A duration as the settings write it (`90s`, `2m`, `1m30s`), at least a second.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    // The validator's own words, so an overflow is told as such, not as a misspelling.
    let invalid = |e: containerize_build::validate::Invalid| match e.help {
        Some(help) => format!("{}: {help}", e.message),
        None => e.message,
    };
    let checked = containerize_build::validate::duration(text).map_err(invalid)?;
    let millis = containerize_build::validate::millis(&checked).expect("a checked duration has milliseconds");
    if millis < 1000 {
        return Err(format!("`{text}` is too short for a container to start: give at least 1s"));
    }
    Ok(std::time::Duration::from_millis(millis))
}

/// Whether to build with BuildKit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BuildKit {
    /// When the engine offers it (Docker 18.09 and later; not Podman).
    Auto,
    /// Always; an engine without it is an error.
    Always,
    /// Never: the legacy builder, and a Dockerfile without cache mounts.
    Never,
}

/// When to color output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Args {
    /// Parses the process's arguments, as `cargo containerize ...` or `cargo-containerize ...`.
    pub fn from_env() -> Args {
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        // Run directly, the subcommand's name is missing; add it so both forms parse alike.
        if args.get(1).is_none_or(|a| a != "containerize") {
            args.insert(1, "containerize".into());
        }
        let Cargo::Containerize(args) = Cargo::parse_from(args);
        args
    }

    /// The manifest path, if one was given.
    pub fn manifest_path(&self) -> Option<&PathBuf> {
        self.manifest.manifest_path.as_ref()
    }

    /// `--locked`, `--frozen` and `--offline` as cargo takes them.
    pub fn cargo_flags(&self) -> Vec<String> {
        [("--locked", self.locked), ("--frozen", self.frozen), ("--offline", self.offline)]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(flag, _)| flag.to_owned())
            .collect()
    }

    /// Features, split on commas and spaces as cargo does.
    pub fn feature_list(&self) -> Vec<String> {
        self.features
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_is_well_formed() {
        Cargo::command().debug_assert();
    }

    #[test]
    fn valid_and_invalid_command_lines() {
        let parse = |line: &str| Cargo::try_parse_from(line.split_whitespace()).map(|Cargo::Containerize(a)| a);
        let ok = [
            "cargo containerize",
            "cargo containerize --release -p a -p b --bin x --bin y",
            "cargo containerize -m app/Cargo.toml --workspace --exclude c",
            "cargo containerize -F tls,metrics --no-default-features",
            "cargo containerize --print --profile dev --locked --offline",
            "cargo containerize -t a:1 -t b:2 --stage builder -q",
            "cargo containerize --stage debug --run",
            "cargo containerize --stage test",
            "cargo containerize --run -- --version",
            "cargo containerize --run --run-timeout 2m30s",
            "cargo containerize --push -t ghcr.io/acme/app:1",
            "cargo containerize --print --eject --platform windows/amd64",
            "cargo containerize --check Dockerfile --eject",
            "cargo containerize --print-plan --eject",
            "cargo containerize --output dist --buildkit never",
            "cargo containerize --print --output dist",
            "cargo containerize --reproducible --no-cache -t a:1",
            "cargo containerize --sbom sbom.spdx.json --json",
        ];
        for line in ok {
            assert!(parse(line).is_ok(), "{line}: {}", parse(line).unwrap_err());
        }
        let bad = [
            "cargo containerize --release --profile dev",
            "cargo containerize --print --print-plan",
            "cargo containerize -q -v",
            "cargo containerize --color sometimes",
            "cargo containerize -- x",
            "cargo containerize --run-timeout 10s",
            "cargo containerize --run --run-timeout 10",
            "cargo containerize --run --run-timeout 0s",
            "cargo containerize --push --print",
            "cargo containerize --eject",
            "cargo containerize --print --check Dockerfile",
            "cargo containerize --check Dockerfile --print-plan",
            "cargo containerize --output dist -t a:1",
            "cargo containerize --output dist --run",
            "cargo containerize --output dist --stage builder",
            "cargo containerize --reproducible --output dist",
        ];
        for line in bad {
            assert!(parse(line).is_err(), "{line} should be refused");
        }
        let args = parse("cargo containerize -F a,b -F c").unwrap();
        assert_eq!(args.feature_list(), ["a", "b", "c"]);
    }
}
