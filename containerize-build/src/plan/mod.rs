//! What will happen: every decision for one image, made from the project and its spec.
//!
//! Pure and deterministic: the same project and spec give the same plan, byte for byte,
//! whichever machine computes it, save for the context root (an absolute path).
//!
//! Here the data model and the planning of an image and of a run; the decisions of each part
//! live beside it: `layout` (paths and names), `platform` (Linux or Windows), `builder`,
//! `runtime`, `tags`, `context`, `eject` (a Dockerfile for a plain `docker build .`).

use crate::diagnostic::{Diagnostic, Origin};
use crate::freshness;
use crate::project::{LocalPackage, PackageFiles, Project, Vcs};
use crate::settings::{Base, Include, Layer, Linkage, Set, Settings, Strip, Suite};
use crate::skeleton::{self, SkeletonFile};
use crate::spec::{ImageSpec, Spec};
use crate::validate::{self, Port};
use serde::Serialize;
use std::collections::BTreeMap;

mod builder;
mod context;
mod eject;
mod layout;
mod platform;
mod runtime;
mod tags;

use builder::*;
pub use context::clean_path;
use context::*;
use eject::*;
pub use layout::*;
use platform::*;
pub use runtime::attach_sbom;
pub(crate) use runtime::rfc3339;
use runtime::*;
use tags::*;

/// Everything that will happen to build one image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// The tool that made the plan.
    pub generator: &'static str,
    /// The package.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The binary.
    pub binary: String,
    /// The platform the image is for, as Docker names it (`linux/amd64`, `windows/amd64`).
    pub platform: String,
    /// The runtime image's references, the first being the primary one.
    pub tags: Vec<String>,
    /// The stage asked for (`runtime` for the image; `builder` to stop early; `debug`, `test`;
    /// [`EXPORT_STAGE`] to hand the artifacts to the host).
    pub target_stage: String,
    /// The images built for it, in order, each with its tags: the runtime image and the debug
    /// image next to it for `debug`; for `test`, the test stage, tagged with nothing.
    pub targets: Vec<Target>,
    /// The Dockerfile's stages, in order: the builder, then the runtime, and the debug stage
    /// after it for `debug`; the builder and the test stage for `test`. The stage asked for is
    /// the last, so a plain `docker build` of the printed Dockerfile gives it.
    pub stages: Vec<String>,
    /// Stages of images that `include` copies files from, before the builder.
    pub image_stages: Vec<ImageStage>,
    /// The builder stage.
    pub builder: BuilderStage,
    /// The stage that holds only the artifacts, for `--output` and an assembled runtime; none
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportStage>,
    /// How the tool assembles the runtime image (`--reproducible`); none when the engine builds
    /// the runtime stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assembly: Option<Assembly>,
    /// The runtime stage.
    pub runtime: RuntimeStage,
    /// The debug stage: the runtime's settings on a base with a shell, and the binary whole.
    pub debug: DebugStage,
    /// The test stage: the package's tests, on the builder's dependency layers.
    pub test: TestStage,
    /// The build context.
    pub context: ContextFiles,
    /// Where each setting that was set came from, by key (`user`, `env.RUST_LOG`,
    /// `healthcheck.timeout`); a key not listed has its built-in default.
    pub origins: BTreeMap<String, SettingOrigin>,
    /// Set when the Dockerfile is ejected (`--eject`): built with a plain `docker build .` from
    /// the workspace root as it is, rather than from the context the tool makes.
    pub ejected: Option<Ejected>,
}

/// A stage that only names an image, for `COPY --from` to take files from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageStage {
    /// The stage's name (`include-1`), by the image's place among them.
    pub name: String,
    /// The image.
    pub image: String,
}

/// How an ejected Dockerfile gets the project without the tool's context. It has no cache
/// mounts and no checkout's revision (a committed file can't name its own commit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ejected {
    /// The manifests and lockfile, copied as they are (versions unmasked) before the
    /// dependency build.
    pub manifests: Vec<String>,
    /// Makes the skeleton's placeholder sources (`sh -c`).
    pub placeholders: Vec<String>,
}

/// Where a setting was set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingOrigin {
    /// The layer that set it.
    pub layer: Layer,
    /// `file:line:column` (relative to the workspace root when inside it), or the flag.
    pub at: String,
}

impl SettingOrigin {
    fn new(layer: Layer, origin: &Origin, workspace_root: &std::path::Path) -> Self {
        let at = match origin {
            Origin::File { .. } => {
                let (path, line, column) = origin.location().expect("a file origin has a location");
                let path = path.strip_prefix(workspace_root).unwrap_or(path);
                format!("{}:{line}:{column}", path.display())
            }
            Origin::Flag(flag) => (*flag).to_owned(),
            Origin::Derived => origin.to_string(),
        };
        Self { layer, at }
    }
}

/// The stage that compiles the binary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuilderStage {
    /// The builder image.
    pub image: String,
    /// The platform the builder runs on, when it differs from the image's (a Linux builder
    /// for a Windows image).
    pub platform: Option<String>,
    /// The Rust toolchain in it.
    pub toolchain: String,
    /// Why that toolchain.
    pub toolchain_reason: String,
    /// The Debian release of builder and runtime.
    pub suite: Suite,
    /// Debian packages installed first.
    pub packages: Vec<String>,
    /// Environment of the build.
    pub env: BTreeMap<String, String>,
    /// Build arguments and their defaults.
    pub build_args: BTreeMap<String, String>,
    /// The workspace root in the builder.
    pub workdir: String,
    /// Static or dynamic.
    pub linkage: Linkage,
    /// The target triple, given explicitly.
    pub target: Option<String>,
    /// Which features cargo builds the package with.
    pub features: Features,
    /// The cargo command line (run once on the skeleton, for the dependencies, then on the
    /// real sources).
    pub cargo: Vec<String>,
    /// Removes the skeleton's local artifacts after the dependency build, so no placeholder
    /// can pass for a real crate.
    pub clean: Vec<String>,
    /// The built binary's path in the builder, where cargo leaves it.
    pub artifact: String,
    /// What the runtime's binary keeps. Cargo itself never strips (the command line sets the
    /// profile's `strip` to false), so one compile serves both images: the build step copies
    /// the binary whole to `debug_output` and stripped to `output`.
    pub strip: Strip,
    /// Where the build step puts the binary, stripped as `strip` says, for the runtime stage to
    /// take it from (the target directory may be a cache mount, gone after the step).
    pub output: String,
    /// Where the build step puts the binary whole, with its debug info, for the debug stage.
    pub debug_output: String,
    /// The debug info the profile keeps; none when it keeps none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_info: Option<DebugInfo>,
    /// The git revision the sources come from, for build scripts to read.
    pub revision: Option<String>,
    /// The BuildKit cache mounts of every cargo step, kept between builds: cargo's registry
    /// and git checkouts (shared by every project) and the target directory
    /// ([`freshness::target_cache_id`]). None for the legacy builder or with `cache-mounts =
    /// false`; a Dockerfile with them needs BuildKit.
    pub cache_mounts: Vec<CacheMount>,
    /// Installs `packages` first (`sh -c`), when there are any.
    pub install: Option<Vec<String>>,
    /// Adds the standard library of a target the builder image lacks (`rustup target add`).
    pub add_target: Option<Vec<String>>,
    /// The step that builds the real sources: restamps them when the target directory is a
    /// cache mount (`freshness`), runs `cargo`, then copies the binary to `output` (`sh -c`).
    pub build: Vec<String>,
    /// The `include` files, staged after the build for the runtime stage to copy at once.
    pub staged: Vec<StagedInclude>,
}

/// The debug info the build profile keeps, which the debug image and `--output` carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DebugInfo {
    /// The profile's `debug`, as set (`true`, `2`, `line-tables-only`...).
    pub level: String,
    /// With `split-debuginfo = "packed"`: where the build step puts the DWARF package cargo
    /// makes (`<bin>.dwp`), beside the whole binary, as gdb looks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// One `include` entry, staged in the builder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StagedInclude {
    /// The entry.
    pub include: Include,
    /// Where it is staged in the builder.
    pub staged: String,
    /// Sets the entry's `mode` on every file staged, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chmod: Option<Vec<String>>,
}

/// Files taken out of the builder instead of an image: a stage `FROM scratch` holding only
/// them, so that BuildKit's exporter sends only them, and the legacy builder's image of it
/// holds only them. For `--output`, the artifacts, each at the stage's root; for an assembled
/// runtime ([`Assembly`]), the runtime stage's own files, under [`ASSEMBLY_ROOT`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportStage {
    /// The files, in the order they are copied.
    pub files: Vec<ExportFile>,
}

/// One file (or directory) of the export stage: where the builder leaves it, and its path in
/// the stage. For `--output`, the binary comes first; an SBOM or a debug-info file the plan
/// makes joins it here, and is written beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportFile {
    /// Its path in the builder.
    pub from: String,
    /// Its path in the export stage.
    pub to: String,
}

/// How the tool assembles the runtime image itself, reproducibly, instead of having the engine
/// build the runtime stage (whose image stamps build times into it): the base image's layers as
/// they are, one layer of the runtime stage's files (taken out through the export stage, under
/// [`ASSEMBLY_ROOT`]) written deterministically, and a config written from the runtime stage's
/// settings, as the Dockerfile's instructions would set them over the base's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assembly {
    /// Every time in the image: the layer's file times, the config's `created` and history.
    /// `SOURCE_DATE_EPOCH`, else the commit's time, else 0.
    pub source_date_epoch: i64,
    /// The same, as the config writes it (RFC 3339).
    pub created: String,
    /// The image's platform, as the engine names it (`linux`, `amd64`).
    pub os: String,
    /// The architecture.
    pub architecture: String,
    /// Directories the runtime stage makes (its `WORKDIR`), in the layer too.
    pub directories: Vec<String>,
}

/// An image to build: the stage, and the references to tag it with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The stage (`docker build --target`).
    pub stage: String,
    /// Its references; none for the test stage.
    pub tags: Vec<String>,
}

/// The debug image: the runtime stage's steps and settings on a base with busybox at
/// `/busybox`, and the binary with its debug info.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DebugStage {
    /// Its base: the distroless `:debug` variant of the runtime's base (the static one for
    /// scratch); for any other base, that base itself.
    pub base: String,
    /// The image busybox is copied from when the base lacks it (`/busybox`).
    pub busybox: Option<String>,
    /// The shell it has, as its Dockerfile's comment names it.
    pub shell: String,
    /// Its references: the runtime's, each with `-debug` added to its tag.
    pub tags: Vec<String>,
}

/// The package's tests, run in the builder: the builder's dependency layers (the same steps,
/// so the same cached layers), then test-only dependencies from the skeleton in a layer of
/// their own, then the real sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestStage {
    /// Compiles the skeleton's tests, so test-only (dev) dependencies are built before the
    /// sources arrive.
    pub dependencies: Vec<String>,
    /// Compiles the real tests (restamping the sources first when the target directory is a
    /// cache mount), so that a compile error is a failed build, not a failed test.
    pub compile: Vec<String>,
    /// Runs them, every test binary even after a failure (`--no-fail-fast`, which marks this
    /// step among the stage's).
    pub run: Vec<String>,
}

impl TestStage {
    /// Whether a failed step's instruction is the one that runs the tests.
    pub fn runs(&self, instruction: &str) -> bool {
        instruction.contains(TEST_RUN_MARK)
    }
}

/// The argument only the test run has.
const TEST_RUN_MARK: &str = "--no-fail-fast";

/// A BuildKit cache mount, shared by concurrent builds in turn (`sharing=locked`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheMount {
    /// Its id: builds that name the same id share it.
    pub id: String,
    /// Where it is mounted.
    pub target: String,
}

/// Where the runtime's CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaCertificates {
    /// The base image has them.
    InBase,
    /// This bundle is copied from the builder, to the same path (scratch, debian-slim).
    FromBuilder(String),
    /// A custom base: its own business.
    Unmanaged,
}

/// The stage that is shipped.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuntimeStage {
    /// The base image (`scratch` for none).
    pub base: String,
    /// Debian packages installed in it.
    pub packages: Vec<String>,
    /// Installs `packages` (`sh -c`), when there are any.
    pub install: Option<Vec<String>>,
    /// CA certificates.
    pub ca_certificates: CaCertificates,
    /// The binary's path.
    pub binary: String,
    /// Files copied in from the package.
    pub include: Vec<Include>,
    /// `ENTRYPOINT`.
    pub entrypoint: Vec<String>,
    /// `CMD`, if any.
    pub cmd: Vec<String>,
    /// `USER`.
    pub user: String,
    /// `WORKDIR`, if any.
    pub workdir: Option<String>,
    /// The user `WORKDIR` runs as, so the directory has one owner whichever way the image is
    /// made: root (BuildKit would give it to the base image's user, the legacy builder and
    /// the assembly to root). None on Windows, whose users are names.
    pub workdir_owner: Option<String>,
    /// `ENV`.
    pub env: BTreeMap<String, String>,
    /// `LABEL`: OCI labels from Cargo metadata, then the user's.
    pub labels: BTreeMap<String, String>,
    /// `EXPOSE`.
    pub expose: Vec<Port>,
    /// `VOLUME`.
    pub volumes: Vec<String>,
    /// `STOPSIGNAL`, if any.
    pub stop_signal: Option<String>,
    /// `HEALTHCHECK`, if any.
    pub healthcheck: Option<HealthcheckPlan>,
    /// The SBOM the image carries, once made from the resolved dependencies
    /// ([`attach_sbom`]); none when planned without them.
    pub sbom: Option<SbomPlan>,
}

/// The features cargo builds a package with: `--features`, `--all-features`,
/// `--no-default-features`, and the binary's `required-features`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// Features to turn on (with the binary's required ones).
    pub names: Vec<String>,
    /// `--all-features`.
    pub all: bool,
    /// `--no-default-features`.
    pub no_default: bool,
}

impl Features {
    /// Cargo's flags for them; `package` qualifies each name (`package/feature`), as a command
    /// over a whole workspace (`cargo metadata`) needs.
    pub fn flags(&self, package: Option<&str>) -> Vec<String> {
        let mut flags = Vec::new();
        if !self.names.is_empty() {
            // A dependency's feature (`dep/feature`) is already qualified, as cargo writes it.
            let qualify = |name: &String| match package {
                Some(p) if !name.contains('/') => format!("{p}/{name}"),
                _ => name.clone(),
            };
            flags.push(format!("--features={}", self.names.iter().map(qualify).collect::<Vec<_>>().join(",")));
        }
        if self.all {
            flags.push("--all-features".to_owned());
        }
        if self.no_default {
            flags.push("--no-default-features".to_owned());
        }
        flags
    }
}

/// The image's software bill of materials (see [`crate::sbom`]), made on the host and sent
/// in the context (mode 0644, time 0), then copied to `path` (owned by root): whoever
/// assembles the image's layers puts `document` there the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SbomPlan {
    /// Where the image carries it.
    pub path: String,
    /// `sha256:<hex>` of the document, which a label carries.
    pub digest: String,
    /// The SPDX JSON document (left out of the printed plan: the digest names it).
    #[serde(skip)]
    pub document: String,
}

/// A `HEALTHCHECK` that runs the binary's own probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthcheckPlan {
    /// The command: the binary, [`HEALTHCHECK_FLAG`], the URL to probe and the timeout in
    /// milliseconds.
    pub command: Vec<String>,
    /// `--interval`, `--timeout`, `--start-period` and `--retries`, where set.
    #[serde(flatten)]
    pub timing: ProbeTiming,
}

/// When the engine probes and how patiently: the `HEALTHCHECK` options, each as set (the
/// engine's default where unset), carried to the Dockerfile as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProbeTiming {
    /// Time between probes (`10s`).
    pub interval: Option<String>,
    /// Time a probe may take.
    pub timeout: Option<String>,
    /// Grace time after start, when failures don't count.
    pub start_period: Option<String>,
    /// Failures in a row that make the container unhealthy.
    pub retries: Option<u32>,
}

/// The files sent to the engine, as the plan names them (the `containerize` crate's `Context` lists
/// and streams them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContextFiles {
    /// The directory the context is taken from: the workspace root, or the nearest directory
    /// holding it and every path dependency outside it.
    pub root: String,
    /// The directories nothing may come from outside of, relative to `root`: the workspace
    /// root and every local package's directory. A symlink on a named path that leads out of
    /// them is refused.
    pub roots: Vec<String>,
    /// The dependency skeleton, copied in and built before the sources.
    pub skeleton: Vec<SkeletonFile>,
    /// Paths among `copies` copied in with the skeleton, since they decide how dependencies
    /// build: cargo's configuration, the toolchain file, vendored sources.
    pub with_skeleton: Vec<String>,
    /// The local packages the build needs, and the workspace root, each sent as `cargo
    /// package` would choose its files (and `.gitignore`, `.dockerignore`), never `target/`,
    /// `.git/`, `.env` files or other packages' directories.
    pub packages: Vec<PackageTree>,
    /// Files and directories sent as named, relative to `root`: the workspace's manifest,
    /// lockfile and cargo and toolchain configuration, every local package's manifest, every
    /// needed target's root file, and `build-include` paths.
    pub copies: Vec<String>,
    /// Files and directories staged for the runtime, with their destination; those taken
    /// from another image (`from`) are not in the context.
    pub include: Vec<Include>,
}

/// A package directory in the context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageTree {
    /// The directory, relative to the context root (empty for the root itself).
    pub dir: String,
    /// The manifest's file patterns.
    #[serde(flatten)]
    pub files: PackageFiles,
}

/// Options that are not settings: the host and the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The architecture binaries are built for (`x86_64`, `aarch64`).
    pub arch: String,
    /// Full references given with `--tag`, replacing the configured ones.
    pub tags: Vec<String>,
    /// `--stage`.
    pub stage: Option<String>,
    /// `--platform`: `linux/<arch>` (the default) or `windows/amd64`.
    pub platform: Option<String>,
    /// `--eject`: a Dockerfile for a plain `docker build .` from the workspace root.
    pub eject: bool,
    /// `--locked`, `--frozen`, `--offline`, passed on to cargo.
    pub cargo_flags: Vec<String>,
    /// Whether to use BuildKit cache mounts.
    pub cache_mounts: bool,
    /// `--output`: build the export stage, to hand the artifacts to the host.
    pub export: bool,
    /// `--reproducible`: assemble the runtime image (see [`Assembly`]).
    pub assemble: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            arch: std::env::consts::ARCH.to_owned(),
            tags: Vec::new(),
            stage: None,
            platform: None,
            eject: false,
            cargo_flags: Vec::new(),
            cache_mounts: true,
            export: false,
            assemble: false,
        }
    }
}

fn value<T: Clone>(set: &Option<Set<T>>) -> Option<T> {
    set.as_ref().map(|s| s.value.clone())
}

fn origin<T>(set: &Option<Set<T>>) -> Origin {
    set.as_ref().map_or(Origin::Derived, |s| s.origin.clone())
}

/// Plans every image of a spec. The CLI and the build script both plan here, so they refuse the
/// same things: besides each image's own problems, `--tag` for more than one image, and two
/// images that would get the same tag, where each build would silently take the tag from the
/// one before.
pub fn plan_all(project: &Project, spec: &Spec, options: &Options) -> Result<Vec<Plan>, Vec<Diagnostic>> {
    if !options.tags.is_empty() && spec.images.len() > 1 {
        let binaries: Vec<&str> = spec.images.iter().map(|i| i.binary.as_str()).collect();
        let message = format!("--tag names one image, but {} would be built ({})", binaries.len(), binaries.join(", "));
        let help = "select one with --bin, or set `name` and `tags` per binary in Cargo.toml";
        return Err(vec![Diagnostic::error(Origin::Flag("--tag"), message, "").with_help(help)]);
    }
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for image in &spec.images {
        match plan_image(project, image, options) {
            Ok(plan) => plans.push(plan),
            Err(problems) => {
                // Workspace settings are shared: the same mistake comes back for every image.
                for problem in problems {
                    if !errors.contains(&problem) {
                        errors.push(problem);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut shared = shared_tags(spec, &plans);
    if options.export && !options.assemble {
        shared.extend(shared_outputs(&plans));
    }
    if shared.is_empty() { Ok(plans) } else { Err(shared) }
}

/// One error for each file name `--output` would write for more than one image: the last
/// would silently replace the others.
fn shared_outputs(plans: &[Plan]) -> Vec<Diagnostic> {
    let mut writers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for plan in plans {
        for file in plan.export.iter().flat_map(|stage| &stage.files) {
            writers.entry(&file.to).or_default().push(format!("`{}` (package `{}`)", plan.binary, plan.package));
        }
    }
    writers
        .into_iter()
        .filter(|(_, images)| images.len() > 1)
        .map(|(file, images)| {
            let message = format!(
                "--output would write {} of {} to one file, `{}`",
                if images.len() == 2 { "both binaries" } else { "the binaries" },
                and_list(&images),
                file.trim_start_matches('/')
            );
            Diagnostic::error(Origin::Flag("--output"), message, "")
                .with_help("export one of them at a time, with -p PACKAGE or --bin NAME")
        })
        .collect()
}

/// Makes the plan for one image. Errors are settings that contradict each other or the project.
pub fn plan_image(project: &Project, image: &ImageSpec, options: &Options) -> Result<Plan, Vec<Diagnostic>> {
    let package = project.member(&image.package).expect("the spec selects members of this project");
    let s = &image.settings;
    let mut errors = Vec::new();

    let (toolchain, toolchain_reason) = toolchain(project, s).unwrap_or_else(|e| {
        errors.push(e);
        (String::new(), String::new())
    });
    let suite = suite(s, &toolchain).unwrap_or_else(|e| {
        errors.push(e);
        Suite::Trixie
    });
    if let (Some(required), Some(have)) = (&package.rust_version, version_triple(&toolchain))
        && version_triple(required).is_some_and(|r| r > have)
    {
        errors.push(
            Diagnostic::error(
                Origin::File { file: package.manifest.clone(), span: find(&package.manifest.text, "rust-version") },
                format!("package `{}` needs Rust {required}, but the builder has {toolchain}", package.name),
                "declared here",
            )
            .with_help("pin a newer toolchain in rust-toolchain.toml, or set `builder`"),
        );
    }
    let os = platform::os(options).unwrap_or_else(|e| {
        errors.push(e);
        Os::Linux
    });
    let base = value(&s.base).unwrap_or(if os == Os::Windows { Base::Nanoserver } else { Base::DistrolessCc });
    match os {
        Os::Windows => errors.extend(windows_conflicts(s, &base)),
        Os::Linux => errors.extend(linux_conflicts(s, &base)),
    }
    let linkage = linkage(s, &base).unwrap_or_else(|e| {
        errors.push(e);
        Linkage::Dynamic
    });
    let runtime_packages = value(&s.runtime_packages).unwrap_or_default();
    let without_apt = matches!(base, Base::Scratch | Base::DistrolessStatic | Base::DistrolessCc);
    if !runtime_packages.is_empty() && without_apt && os == Os::Linux {
        errors.push(
            Diagnostic::error(
                origin(&s.runtime_packages),
                "`runtime-packages` needs a base with a package manager",
                "cannot be installed",
            )
            .with_help("use `base = \"debian-slim\"`, or a base image that has these packages"),
        );
    }
    let binary_path = match os {
        Os::Linux => format!("/usr/local/bin/{}", image.binary),
        Os::Windows => format!("{WINDOWS_BIN_DIR}\\{}.exe", image.binary),
    };
    let healthcheck = healthcheck(image, &binary_path).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let revision = project.vcs.as_ref().map(Vcs::short);
    let tags = tags(package, image, options, revision.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let exports = options.export || options.assemble;
    let target_stage = match &options.stage {
        _ if exports => EXPORT_STAGE.to_owned(),
        Some(stage) => stage.clone(),
        None => "runtime".to_owned(),
    };
    if options.assemble && !runtime_packages.is_empty() {
        errors.push(
            Diagnostic::error(
                origin(&s.runtime_packages),
                "a reproducible image is assembled without running anything in the runtime stage, so `runtime-packages` cannot be installed",
                "needs a step in the runtime stage",
            )
            .with_help("leave out --reproducible, or use a base image that has these packages"),
        );
    }
    if os == Os::Windows && target_stage == stage::TEST {
        errors.push(
            Diagnostic::error(
                Origin::Flag("--stage"),
                "the test stage runs the tests in the Linux builder, where Windows test binaries cannot run",
                "",
            )
            .with_help("run the tests on Windows with `cargo test`, or leave out --platform for Linux's"),
        );
    }
    if !exports && !STAGES.contains(&target_stage.as_str()) {
        errors.push(Diagnostic::error(
            Origin::Flag("--stage"),
            format!("there is no stage named `{target_stage}`; the stages are {}", STAGES.join(", ")),
            "",
        ));
    }
    if target_stage == stage::DEBUG {
        let runtime_names: Vec<String> = tags.iter().map(|t| as_engine_names(t)).collect();
        for reference in debug_tags(&tags) {
            if let Err(invalid) = validate::image::tag_reference(&reference) {
                let message = format!("the debug image's reference `{reference}`: {}", invalid.message);
                let help = "shorten the tag: the debug image's adds `-debug` to it";
                errors.push(Diagnostic::error(Origin::Flag("--stage"), message, "").with_help(help));
            } else if runtime_names.contains(&as_engine_names(&reference)) {
                let message = format!(
                    "`{reference}` would tag both the runtime image and the debug image (which adds `-debug` to each tag)"
                );
                let help = "give tags that do not differ by `-debug` alone";
                errors.push(Diagnostic::error(Origin::Flag("--stage"), message, "").with_help(help));
            }
        }
    }
    let context = context_files(project, package, s, target_stage == stage::TEST);
    if options.eject
        && let Err(e) = check_root(project, &context)
    {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let workdir = format!("{BUILD_ROOT}/{}", relative(&context.root, project.workspace_root.as_str()))
        .trim_end_matches('/')
        .to_owned();
    // Always explicit: static builds then link build scripts and proc macros dynamically, and
    // a `build.target` in the project's cargo configuration can't move the binary.
    let target = Some(match os {
        Os::Linux => format!("{}-unknown-linux-gnu", options.arch),
        Os::Windows => WINDOWS_TARGET.to_owned(),
    });
    let profile = value(&s.profile).unwrap_or_else(|| "release".to_owned());
    let triple = target.as_deref().expect("the target is always explicit");
    let features = features(package, image);
    let cargo = cargo_command(project, package, image, &profile, triple, linkage, options, "build");
    let clean = clean_command(project, &profile, target.as_deref(), options);
    let profile_dir = match profile.as_str() {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    };
    let target_dir = format!("{BUILD_ROOT}/target");
    let artifact = [target_dir.as_str()]
        .into_iter()
        .chain(target.as_deref())
        .chain([profile_dir, &executable(os, &image.binary)])
        .collect::<Vec<_>>()
        .join("/");
    let cache_mounts = if options.cache_mounts && !options.eject && value(&s.cache_mounts).unwrap_or(true) {
        vec![
            CacheMount { id: "containerize-cargo-registry".into(), target: "/usr/local/cargo/registry".into() },
            CacheMount { id: "containerize-cargo-git".into(), target: "/usr/local/cargo/git".into() },
            CacheMount {
                id: freshness::target_cache_id(&package.name, &project.checkout_key),
                target: target_dir.clone(),
            },
        ]
    } else {
        Vec::new()
    };
    let output = format!("{OUTPUT_DIR}/{}", executable(os, &image.binary));
    let debug_output = format!("{OUTPUT_DIR}/debug/{}", executable(os, &image.binary));
    let strip = value(&s.strip).unwrap_or_default();
    let restamp = if cache_mounts.is_empty() {
        String::new()
    } else {
        format!("{} && ", shell_words(&freshness::command(BUILD_ROOT)))
    };
    let debug_dir = debug_output.rsplit_once('/').map_or("/", |(dir, _)| dir).to_owned();
    let debug_info = profile_debug_info(project, &package.name, &profile).map(|(level, packed)| DebugInfo {
        level,
        package: (packed && os == Os::Linux).then(|| format!("{debug_output}.dwp")),
    });
    // The DWARF package cargo leaves beside the binary, beside the whole one.
    let dwp = debug_info.as_ref().and_then(|d| d.package.as_ref()).map_or(String::new(), |package| {
        format!(" && cp {}", shell_words(&[format!("{artifact}.dwp"), package.clone()]))
    });
    let build = format!(
        "{restamp}{} && mkdir -p {} && cp {} {}{dwp} && {}",
        shell_words(&cargo),
        shell_words(&[debug_dir]),
        shell_words(std::slice::from_ref(&artifact)),
        shell_words(std::slice::from_ref(&debug_output)),
        shell_words(&strip_command(strip, objcopy(os), &artifact, &output)),
    );
    let test_command = |extra: &str| {
        let mut command = cargo_command(project, package, image, &profile, triple, linkage, options, "test");
        command.push(extra.to_owned());
        command
    };
    let test = TestStage {
        dependencies: test_command("--no-run"),
        compile: ["sh", "-c", &format!("{restamp}{}", shell_words(&test_command("--no-run")))]
            .map(str::to_owned)
            .to_vec(),
        run: test_command(TEST_RUN_MARK),
    };
    let mut build_packages = value(&s.build_packages).unwrap_or_default();
    let mut env = BTreeMap::from([("CARGO_TARGET_DIR".to_owned(), target_dir)]);
    if os == Os::Windows {
        windows_linker(&mut build_packages, &mut env);
    }
    if value(&s.builder).is_none() {
        // The image's toolchain, whatever a copied rust-toolchain.toml says: rustup would
        // otherwise try to download the file's channel during the build.
        env.insert("RUSTUP_TOOLCHAIN".to_owned(), toolchain.clone());
    }
    let revision = project.vcs.as_ref().map(Vcs::described).filter(|_| !options.eject);
    let labels = labels(project, package, s, options.eject);
    let image_stages = image_stages(&context.include);
    let ca_certificates = ca_certificates(&base, &runtime_packages);
    let (debug_base, busybox) = debug_base(&base, suite);
    let debug_tags = debug_tags(&tags);
    let targets = match target_stage.as_str() {
        stage::DEBUG => vec![
            Target { stage: stage::RUNTIME.to_owned(), tags: tags.clone() },
            Target { stage: stage::DEBUG.to_owned(), tags: debug_tags.clone() },
        ],
        stage::TEST => vec![Target { stage: stage::TEST.to_owned(), tags: Vec::new() }],
        other => vec![Target { stage: other.to_owned(), tags: tags.clone() }],
    };
    let stages = match target_stage.as_str() {
        stage::DEBUG => vec![stage::BUILDER, stage::RUNTIME, stage::DEBUG],
        stage::TEST => vec![stage::BUILDER, stage::TEST],
        _ => vec![stage::BUILDER, stage::RUNTIME],
    };

    Ok(Plan {
        generator: GENERATOR,
        package: package.name.clone(),
        version: package.version.clone(),
        binary: image.binary.clone(),
        platform: platform_name(os, &options.arch),
        tags,
        target_stage,
        targets,
        stages: stages.into_iter().map(str::to_owned).collect(),
        image_stages,
        export: if options.assemble {
            Some(ExportStage { files: assembled_files(&ca_certificates, &output, &binary_path, &context.include) })
        } else {
            options.export.then(|| ExportStage {
                files: output_files(os, &image.binary, &output, &debug_output, debug_info.as_ref()),
            })
        },
        assembly: options.assemble.then(|| {
            let source_date_epoch = project.created().unwrap_or(0);
            Assembly {
                source_date_epoch,
                created: rfc3339(source_date_epoch),
                os: "linux".to_owned(),
                architecture: engine_architecture(&options.arch),
                directories: value(&s.workdir).into_iter().collect(),
            }
        }),
        builder: BuilderStage {
            image: value(&s.builder).unwrap_or_else(|| format!("rust:{toolchain}-slim-{}", suite_name(suite))),
            platform: (os == Os::Windows).then(|| platform_name(Os::Linux, &options.arch)),
            toolchain,
            toolchain_reason,
            suite,
            install: apt_install(&build_packages),
            add_target: (os == Os::Windows)
                .then(|| ["rustup", "target", "add", WINDOWS_TARGET].map(str::to_owned).to_vec()),
            packages: build_packages,
            env,
            build_args: image.settings.build_args.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
            workdir,
            linkage,
            target,
            features,
            cargo,
            clean,
            strip,
            output,
            debug_output,
            debug_info,
            revision,
            artifact,
            cache_mounts,
            build: ["sh", "-c", &build].map(str::to_owned).to_vec(),
            staged: staged_includes(&context.include),
        },
        runtime: RuntimeStage {
            base: base_image(&base, suite),
            ca_certificates,
            install: apt_install(&runtime_packages),
            packages: runtime_packages,
            entrypoint: value(&s.entrypoint).unwrap_or_else(|| vec![binary_path.clone()]),
            binary: binary_path,
            include: context.include.clone(),
            cmd: value(&s.args).unwrap_or_default(),
            user: value(&s.user)
                .unwrap_or_else(|| if os == Os::Windows { WINDOWS_USER } else { DEFAULT_USER }.to_owned()),
            workdir: value(&s.workdir),
            workdir_owner: (os == Os::Linux && s.workdir.is_some()).then(|| ROOT_USER.to_owned()),
            env: runtime_env(image),
            labels,
            expose: value(&s.expose).unwrap_or_default(),
            volumes: value(&s.volumes).unwrap_or_default(),
            stop_signal: value(&s.stop_signal),
            healthcheck,
            sbom: None,
        },
        ejected: options.eject.then(|| ejected(&context)),
        debug: DebugStage { base: debug_base, busybox, shell: debug_shell(&base).to_owned(), tags: debug_tags },
        test,
        context,
        origins: origins(project, s, options),
    })
}

/// What `--output` takes out of the builder: the binary the runtime image holds; when the
/// profile keeps debug info, the whole binary (the debug image's) as `<bin>.debug`, and its
/// DWARF package as `<bin>.debug.dwp`, the name gdb looks for beside `<bin>.debug`.
fn output_files(
    os: Os,
    binary: &str,
    output: &str,
    debug_output: &str,
    debug_info: Option<&DebugInfo>,
) -> Vec<ExportFile> {
    let name = executable(os, binary);
    let mut files = vec![ExportFile { from: output.to_owned(), to: format!("/{name}") }];
    if let Some(debug_info) = debug_info {
        files.push(ExportFile { from: debug_output.to_owned(), to: format!("/{name}.debug") });
        if let Some(package) = &debug_info.package {
            files.push(ExportFile { from: package.clone(), to: format!("/{name}.debug.dwp") });
        }
    }
    files
}

/// The binary's file name: Windows runs `.exe` files.
fn executable(os: Os, binary: &str) -> String {
    match os {
        Os::Linux => binary.to_owned(),
        Os::Windows => format!("{binary}.exe"),
    }
}

fn origins(project: &Project, s: &Settings, options: &Options) -> BTreeMap<String, SettingOrigin> {
    let root = project.workspace_root.as_std_path();
    let mut origins: BTreeMap<String, SettingOrigin> =
        s.origins().into_iter().map(|(key, (layer, origin))| (key, SettingOrigin::new(layer, origin, root))).collect();
    if !options.tags.is_empty() {
        // `--tag` gives whole references: the configured name and tags are not used.
        origins.remove("name");
        origins.insert("tags".to_owned(), SettingOrigin::new(Layer::Flags, &Origin::Flag("--tag"), root));
    }
    origins
}
