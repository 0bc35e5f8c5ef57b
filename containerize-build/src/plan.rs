//! What will happen: every decision for one image, made from the project and its spec.
//!
//! Pure and deterministic: the same project and spec give the same plan, byte for byte,
//! whichever machine computes it, save for the context root (an absolute path).

use crate::diagnostic::{Diagnostic, Origin};
use crate::freshness;
use crate::project::{LocalPackage, PackageFiles, Project};
use crate::settings::{Base, Include, Layer, Linkage, Set, Settings, Suite};
use crate::skeleton::{self, SkeletonFile};
use crate::spec::{ImageSpec, Spec};
use crate::validate::{self, Port};
use serde::Serialize;
use std::collections::BTreeMap;

/// The tool that wrote the plan, named in the Dockerfile's header.
pub const GENERATOR: &str = concat!("cargo-containerize ", env!("CARGO_PKG_VERSION"));
/// Where the context root is mounted in the builder.
pub const BUILD_ROOT: &str = "/build";
/// Where the generated Dockerfile sits in the build context.
pub const DOCKERFILE: &str = ".containerize/Dockerfile";
/// Where the project's files sit in the build context: one directory, copied in one step.
pub const SOURCES_DIR: &str = ".containerize/sources";
/// Where `include` files sit in the build context, apart from the sources so that changing
/// one does not recompile the binary.
pub const INCLUDE_DIR: &str = ".containerize/include";
/// The argument that turns a binary with `#[containerize::main]` into its own health probe.
pub const HEALTHCHECK_FLAG: &str = "--containerize-healthcheck";
/// The variable that tells the runtime of `#[containerize::main]`, in the container, which
/// signal `docker stop` sends (the `STOPSIGNAL`), so that it ends the app on that signal.
pub const STOP_SIGNAL_VARIABLE: &str = "CONTAINERIZE_STOP_SIGNAL";
/// How long a probe may take when the healthcheck sets no timeout.
const DEFAULT_PROBE_TIMEOUT: &str = "5s";
/// The variable that carries the git revision into the builder, where there is no checkout.
pub const REVISION_VARIABLE: &str = "CONTAINERIZE_REVISION";
/// Where runtime files are staged in the builder, to be copied into the runtime in one step.
pub const STAGING: &str = "/staging";
/// The stages of every Dockerfile, in order.
pub const STAGES: [&str; 2] = ["builder", "runtime"];
/// The non-root user images run as unless told otherwise (distroless's `nonroot`).
pub const DEFAULT_USER: &str = "65532:65532";
/// The first Rust release with Debian trixie builder images.
const FIRST_TRIXIE_RUST: (u64, u64) = (1, 88);

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
    /// Image references to tag, the first being the primary one.
    pub tags: Vec<String>,
    /// The stage to build (`runtime` for the image; `builder` to stop early).
    pub target_stage: String,
    /// The builder stage.
    pub builder: BuilderStage,
    /// The runtime stage.
    pub runtime: RuntimeStage,
    /// The build context.
    pub context: ContextFiles,
    /// Where each setting that was set came from, by key (`user`, `env.RUST_LOG`,
    /// `healthcheck.timeout`); a key not listed has its built-in default.
    pub origins: BTreeMap<String, SettingOrigin>,
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
    /// The cargo command line (run once on the skeleton, for the dependencies, then on the
    /// real sources).
    pub cargo: Vec<String>,
    /// Removes the skeleton's local artifacts after the dependency build, so no placeholder
    /// can pass for a real crate.
    pub clean: Vec<String>,
    /// The built binary's path in the builder, where cargo leaves it.
    pub artifact: String,
    /// Where the build step copies the binary, for the runtime stage to take it from (the
    /// target directory may be a cache mount, gone after the step).
    pub output: String,
    /// The git revision the sources come from, for build scripts to read.
    pub revision: Option<String>,
    /// The BuildKit cache mounts of every cargo step, kept between builds: cargo's registry
    /// and git checkouts (shared by every project) and the target directory
    /// ([`freshness::target_cache_id`]). None for the legacy builder or with `cache-mounts =
    /// false`; a Dockerfile with them needs BuildKit.
    pub cache_mounts: Vec<CacheMount>,
    /// Installs `packages` first (`sh -c`), when there are any.
    pub install: Option<Vec<String>>,
    /// The step that builds the real sources: restamps them when the target directory is a
    /// cache mount (`freshness`), runs `cargo`, then copies the binary to `output` (`sh -c`).
    pub build: Vec<String>,
}

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

/// Debian's CA bundle, where TLS libraries look for it.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

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
    /// Files and directories staged for the runtime, with their destination.
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
    /// `--locked`, `--frozen`, `--offline`, passed on to cargo.
    pub cargo_flags: Vec<String>,
    /// Whether to use BuildKit cache mounts.
    pub cache_mounts: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            arch: std::env::consts::ARCH.to_owned(),
            tags: Vec::new(),
            stage: None,
            cargo_flags: Vec::new(),
            cache_mounts: true,
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
    let shared = shared_tags(spec, &plans);
    if shared.is_empty() { Ok(plans) } else { Err(shared) }
}

/// One error for each set of images that would get the same tags.
fn shared_tags(spec: &Spec, plans: &[Plan]) -> Vec<Diagnostic> {
    let mut owners: BTreeMap<String, (&str, Vec<usize>)> = BTreeMap::new();
    for (index, plan) in plans.iter().enumerate() {
        for tag in &plan.tags {
            let (_, images) = owners.entry(as_engine_names(tag)).or_insert((tag, Vec::new()));
            if images.last() != Some(&index) {
                images.push(index);
            }
        }
    }
    let mut groups: BTreeMap<Vec<usize>, Vec<String>> = BTreeMap::new();
    for (tag, images) in owners.into_values().filter(|(_, images)| images.len() > 1) {
        groups.entry(images).or_default().push(format!("`{tag}`"));
    }
    groups
        .into_iter()
        .map(|(images, tags)| {
            let names: Vec<String> =
                images.iter().map(|&i| format!("`{}` (package `{}`)", plans[i].binary, plans[i].package)).collect();
            let message = format!(
                "the images of {} would get the same {} {}: each build would take them from the one before",
                and_list(&names),
                if tags.len() == 1 { "tag" } else { "tags" },
                and_list(&tags)
            );
            // Where the shared name was set, else where the first image's tags were.
            let settings = &spec.images[images[0]].settings;
            let origin = match (&settings.name, &settings.tags) {
                (Some(name), _) => name.origin.clone(),
                (None, Some(tags)) => tags.origin.clone(),
                (None, None) => Origin::Derived,
            };
            Diagnostic::error(origin, message, "names more than one image").with_help(
                "give each image its own `name`: in each package's table, or per binary in [package.metadata.containerize.bin.<name>]",
            )
        })
        .collect()
}

/// A reference as the engine stores it, so that `app`, `app:latest` and
/// `docker.io/library/app:latest` compare equal.
fn as_engine_names(reference: &str) -> String {
    let (name, tag, _) = validate::image::split(reference);
    let name = name.strip_prefix("docker.io/").or_else(|| name.strip_prefix("index.docker.io/")).unwrap_or(name);
    let name = name.strip_prefix("library/").filter(|n| !n.contains('/')).unwrap_or(name);
    format!("{name}:{}", tag.unwrap_or("latest"))
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
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
    let base = value(&s.base).unwrap_or(Base::DistrolessCc);
    let linkage = linkage(s, &base).unwrap_or_else(|e| {
        errors.push(e);
        Linkage::Dynamic
    });
    let runtime_packages = value(&s.runtime_packages).unwrap_or_default();
    if !runtime_packages.is_empty() && matches!(base, Base::Scratch | Base::DistrolessStatic | Base::DistrolessCc) {
        errors.push(
            Diagnostic::error(
                origin(&s.runtime_packages),
                "`runtime-packages` needs a base with a package manager",
                "cannot be installed",
            )
            .with_help("use `base = \"debian-slim\"`, or a base image that has these packages"),
        );
    }
    let healthcheck = healthcheck(image).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let tags = tags(package, image, options).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let target_stage = options.stage.clone().unwrap_or_else(|| "runtime".to_owned());
    if !STAGES.contains(&target_stage.as_str()) {
        errors.push(Diagnostic::error(
            Origin::Flag("--stage"),
            format!("there is no stage named `{target_stage}`; the stages are {}", STAGES.join(", ")),
            "",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let context = context(project, package, s);
    let workdir = format!("{BUILD_ROOT}/{}", relative(&context.root, project.workspace_root.as_str()))
        .trim_end_matches('/')
        .to_owned();
    // Always explicit: static builds then link build scripts and proc macros dynamically, and
    // a `build.target` in the project's cargo configuration can't move the binary.
    let target = Some(format!("{}-unknown-linux-gnu", options.arch));
    let profile = value(&s.profile).unwrap_or_else(|| "release".to_owned());
    let triple = target.as_deref().expect("the target is always explicit");
    let cargo = cargo_command(project, package, image, &profile, triple, linkage, options);
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
        .chain([profile_dir, image.binary.as_str()])
        .collect::<Vec<_>>()
        .join("/");
    let cache_mounts = if options.cache_mounts && value(&s.cache_mounts).unwrap_or(true) {
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
    let output = format!("/out/{}", image.binary);
    let restamp =
        if cache_mounts.is_empty() { String::new() } else { format!("{} && ", shell_words(&freshness::command())) };
    let output_dir = output.rsplit_once('/').map_or("/", |(dir, _)| dir).to_owned();
    let build = format!(
        "{restamp}{} && mkdir -p {} && cp {} {}",
        shell_words(&cargo),
        shell_words(&[output_dir]),
        shell_words(std::slice::from_ref(&artifact)),
        shell_words(std::slice::from_ref(&output)),
    );
    let build_packages = value(&s.build_packages).unwrap_or_default();
    let mut env = BTreeMap::from([("CARGO_TARGET_DIR".to_owned(), target_dir)]);
    if value(&s.builder).is_none() {
        // The image's toolchain, whatever a copied rust-toolchain.toml says: rustup would
        // otherwise try to download the file's channel during the build.
        env.insert("RUSTUP_TOOLCHAIN".to_owned(), toolchain.clone());
    }
    let binary_path = format!("/usr/local/bin/{}", image.binary);

    Ok(Plan {
        generator: GENERATOR,
        package: package.name.clone(),
        version: package.version.clone(),
        binary: image.binary.clone(),
        tags,
        target_stage,
        builder: BuilderStage {
            image: value(&s.builder).unwrap_or_else(|| format!("rust:{toolchain}-slim-{}", suite_name(suite))),
            toolchain,
            toolchain_reason,
            suite,
            install: apt_install(&build_packages),
            packages: build_packages,
            env,
            build_args: image.settings.build_args.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
            workdir,
            linkage,
            target,
            cargo,
            clean,
            output,
            revision: project.vcs.as_ref().map(|v| v.revision.clone()),
            artifact,
            cache_mounts,
            build: ["sh", "-c", &build].map(str::to_owned).to_vec(),
        },
        runtime: RuntimeStage {
            base: base_image(&base, suite),
            ca_certificates: match base {
                Base::Scratch => CaCertificates::FromBuilder(CA_BUNDLE.to_owned()),
                Base::DebianSlim if !runtime_packages.iter().any(|p| p == "ca-certificates") => {
                    CaCertificates::FromBuilder(CA_BUNDLE.to_owned())
                }
                Base::Image(_) => CaCertificates::Unmanaged,
                _ => CaCertificates::InBase,
            },
            install: apt_install(&runtime_packages),
            packages: runtime_packages,
            entrypoint: value(&s.entrypoint).unwrap_or_else(|| vec![binary_path.clone()]),
            binary: binary_path,
            include: context.include.clone(),
            cmd: value(&s.args).unwrap_or_default(),
            user: value(&s.user).unwrap_or_else(|| DEFAULT_USER.to_owned()),
            workdir: value(&s.workdir),
            env: runtime_env(image),
            labels: labels(project, package, s),
            expose: value(&s.expose).unwrap_or_default(),
            volumes: value(&s.volumes).unwrap_or_default(),
            stop_signal: value(&s.stop_signal),
            healthcheck,
        },
        context,
        origins: origins(project, s, options),
    })
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

/// The container's environment: the user's, and the stop signal for the runtime support, which
/// only it reads (the user's value under that name would only mislead it).
fn runtime_env(image: &ImageSpec) -> BTreeMap<String, String> {
    let s = &image.settings;
    let mut env: BTreeMap<String, String> = s.env.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    if let Some(signal) = value(&s.stop_signal).filter(|_| image.runtime_support) {
        env.insert(STOP_SIGNAL_VARIABLE.to_owned(), signal);
    }
    env
}

/// The probe of a healthcheck: on loopback, at the set port or the first exposed one; HTTP when
/// a path is set, a TCP connect otherwise.
fn healthcheck(image: &ImageSpec) -> Result<Option<HealthcheckPlan>, Diagnostic> {
    let Some(set) = &image.settings.healthcheck else {
        return Ok(None);
    };
    if !image.runtime_support {
        return Err(Diagnostic::error(
            set.origin.clone(),
            format!("binary `{}` has no built-in probe for its healthcheck", image.binary),
            "needs the attribute",
        )
        .with_help("put #[containerize::main] on its `fn main` (crate `containerize`), which adds the probe"));
    }
    let check = &set.value;
    let exposed = value(&image.settings.expose).and_then(|ports| ports.first().map(|p| p.number));
    let Some(port) = value(&check.port).or(exposed) else {
        return Err(Diagnostic::error(set.origin.clone(), "the healthcheck has no port to probe", "no port")
            .with_help("set `port` in the healthcheck, or `expose` a port"));
    };
    let url = match value(&check.path) {
        Some(path) => format!("http://127.0.0.1:{port}{path}"),
        None => format!("tcp://127.0.0.1:{port}"),
    };
    let timing = ProbeTiming {
        interval: value(&check.interval),
        timeout: value(&check.timeout),
        start_period: value(&check.start_period),
        retries: value(&check.retries),
    };
    let timeout = validate::millis(timing.timeout.as_deref().unwrap_or(DEFAULT_PROBE_TIMEOUT)).unwrap_or(5000);
    let binary = format!("/usr/local/bin/{}", image.binary);
    Ok(Some(HealthcheckPlan { command: vec![binary, HEALTHCHECK_FLAG.to_owned(), url, timeout.to_string()], timing }))
}

fn suite_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Bookworm => "bookworm",
        Suite::Trixie => "trixie",
    }
}

fn base_image(base: &Base, suite: Suite) -> String {
    let debian = match suite {
        Suite::Bookworm => 12,
        Suite::Trixie => 13,
    };
    match base {
        Base::Scratch => "scratch".to_owned(),
        Base::DistrolessStatic => format!("gcr.io/distroless/static-debian{debian}:nonroot"),
        Base::DistrolessCc => format!("gcr.io/distroless/cc-debian{debian}:nonroot"),
        Base::DebianSlim => format!("debian:{}-slim", suite_name(suite)),
        Base::Image(reference) => reference.clone(),
    }
}

/// `X.Y[.Z]` as a comparable triple.
fn version_triple(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next()?.ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// The byte span of the first line starting with `key` in a manifest, for pointing at it.
fn find(text: &str, key: &str) -> std::ops::Range<usize> {
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

fn toolchain(project: &Project, s: &Settings) -> Result<(String, String), Diagnostic> {
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

fn suite(s: &Settings, toolchain: &str) -> Result<Suite, Diagnostic> {
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

fn linkage(s: &Settings, base: &Base) -> Result<Linkage, Diagnostic> {
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

fn tags(package: &LocalPackage, image: &ImageSpec, options: &Options) -> Result<Vec<String>, Diagnostic> {
    if !options.tags.is_empty() {
        let mut tags: Vec<String> = options
            .tags
            .iter()
            .map(|t| {
                let reference = validate::image::tag_reference(t).map_err(|e| {
                    let d = Diagnostic::error(Origin::Flag("--tag"), e.message, "");
                    Diagnostic { help: e.help, ..d }
                })?;
                // What the engine will tag, as the report shows it.
                Ok(match validate::image::split(&reference) {
                    (_, Some(_), _) => reference,
                    (name, None, _) => format!("{name}:latest"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        once_each(&mut tags);
        return Ok(tags);
    }
    let name = match &image.settings.name {
        Some(set) => set.value.clone(),
        None => {
            let lowered = image.binary.to_lowercase();
            validate::image::repository(&lowered).map_err(|_| {
                Diagnostic::error(Origin::Derived, format!("binary `{}` is not a valid image name", image.binary), "")
                    .with_help("set `name` in [package.metadata.containerize], e.g. `name = \"my-app\"`")
            })?
        }
    };
    let tags =
        value(&image.settings.tags).unwrap_or_else(|| vec![package.version.replace('+', "_"), "latest".to_owned()]);
    let mut tags: Vec<String> = tags.iter().map(|t| format!("{name}:{t}")).collect();
    once_each(&mut tags);
    Ok(tags)
}

/// Keeps the first of tags named twice (`-t app -t app:latest`): one tag, applied once.
fn once_each(tags: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    tags.retain(|t| seen.insert(t.clone()));
}

fn cargo_command(
    project: &Project,
    package: &LocalPackage,
    image: &ImageSpec,
    profile: &str,
    target: &str,
    linkage: Linkage,
    options: &Options,
) -> Vec<String> {
    let s = &image.settings;
    let mut args: Vec<String> =
        ["cargo", "build", "--profile", profile, "--package", &package.name, "--bin", &image.binary]
            .map(str::to_owned)
            .to_vec();
    let mut features = value(&s.features).unwrap_or_default();
    let required = package.binaries.iter().find(|b| b.name == image.binary).map(|b| b.required_features.clone());
    for feature in required.unwrap_or_default() {
        if !features.contains(&feature) {
            features.push(feature);
        }
    }
    if !features.is_empty() {
        args.push(format!("--features={}", features.join(",")));
    }
    if value(&s.all_features) == Some(true) {
        args.push("--all-features".to_owned());
    }
    if value(&s.no_default_features) == Some(true) {
        args.push("--no-default-features".to_owned());
    }
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
    let locked = project.root_files.iter().any(|f| f == "Cargo.lock") && options.cargo_flags.is_empty();
    if locked {
        args.push("--locked".to_owned());
    }
    args.extend(options.cargo_flags.iter().cloned());
    args
}

fn clean_command(project: &Project, profile: &str, target: Option<&str>, options: &Options) -> Vec<String> {
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

/// OCI labels from Cargo metadata and the checkout, then the user's labels over them.
fn labels(project: &Project, package: &LocalPackage, s: &Settings) -> BTreeMap<String, String> {
    let about = &package.about;
    let created = project.source_date_epoch.or(project.vcs.as_ref().map(|v| v.commit_time));
    let oci = [
        ("title", Some(package.name.clone())),
        ("version", Some(package.version.clone())),
        ("description", about.description.clone()),
        ("licenses", about.license.clone()),
        ("source", about.repository.clone()),
        ("url", about.homepage.clone().or_else(|| about.repository.clone())),
        ("documentation", about.documentation.clone()),
        ("authors", (!about.authors.is_empty()).then(|| about.authors.join(", "))),
        ("revision", project.vcs.as_ref().map(|v| v.revision.clone())),
        ("created", created.map(rfc3339)),
    ];
    let mut labels: BTreeMap<String, String> = oci
        .into_iter()
        .filter_map(|(key, value)| Some((format!("org.opencontainers.image.{key}"), one_line(&value?))))
        .collect();
    labels.extend(s.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())));
    labels
}

/// Cargo metadata is free text; a label is one line, so whitespace runs become one space.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn rfc3339(seconds: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `path` relative to `root`, with `/` separators; empty when they are the same.
fn relative(root: &str, path: &str) -> String {
    path.strip_prefix(root).unwrap_or(path).trim_start_matches('/').to_owned()
}

/// The context root holds the workspace and every local package, so relative paths between
/// them (`path = "../lib"`) still hold in the builder.
fn context(project: &Project, package: &LocalPackage, s: &Settings) -> ContextFiles {
    let mut root = project.workspace_root.clone();
    for p in &project.packages {
        while !p.dir.starts_with(&root) {
            root = root.parent().map(ToOwned::to_owned).unwrap_or_default();
        }
    }
    let root = root.to_string();
    let in_context = |dir: &str, path: &str| {
        let dir = relative(&root, dir);
        clean_path(&if dir.is_empty() { path.to_owned() } else { format!("{dir}/{path}") })
    };
    let workspace = project.workspace_root.as_str();
    let needed = project.needed_by(package);
    let mut copies: Vec<String> = std::iter::once("Cargo.toml")
        .chain(project.root_files.iter().map(String::as_str))
        .map(|f| in_context(workspace, f))
        .collect();
    // Every member's real manifest, needed or not: cargo loads the whole workspace, and a
    // member left with its skeleton manifest (version masked) would disagree with the lockfile.
    copies.extend(project.packages.iter().map(|p| in_context(p.dir.as_str(), "Cargo.toml")));
    // Each target's root file by name, whatever the ignore rules say: the build can't do
    // without it. One outside its package is still inside the workspace root or another
    // package, whose walk brings its modules as that walk chooses files.
    for p in &needed {
        copies.extend(p.targets.iter().map(|target| in_context(p.dir.as_str(), &target.path)));
    }
    copies
        .extend(value(&s.build_include).unwrap_or_default().iter().map(|path| in_context(package.dir.as_str(), path)));
    copies.sort();
    copies.dedup();
    let mut packages: Vec<PackageTree> =
        needed.iter().map(|p| PackageTree { dir: relative(&root, p.dir.as_str()), files: p.files.clone() }).collect();
    // The workspace root's own files too (not its members' trees): members read shared files
    // there at compile time (`../proto/service.proto`, `../../README.md` as docs).
    let workspace_dir = relative(&root, workspace);
    if !packages.iter().any(|p| p.dir == workspace_dir) {
        let own = project.packages.iter().find(|p| p.dir == project.workspace_root).map(|p| p.files.clone());
        packages.push(PackageTree { dir: workspace_dir, files: own.unwrap_or_default() });
    }
    let mut roots: Vec<String> = std::iter::once(workspace)
        .chain(project.packages.iter().map(|p| p.dir.as_str()))
        .map(|d| relative(&root, d))
        .collect();
    roots.sort();
    roots.dedup();
    let skeleton = skeleton::skeleton(project, in_context);
    let include = value(&s.include)
        .unwrap_or_default()
        .into_iter()
        .map(|i| Include { src: in_context(package.dir.as_str(), &i.src), ..i })
        .collect();
    let with_skeleton =
        project.root_files.iter().filter(|f| *f != "Cargo.lock").map(|f| in_context(workspace, f)).collect();
    ContextFiles { root, roots, skeleton, with_skeleton, packages, copies, include }
}

/// Go's `filepath.Clean` for `/`-separated paths: `.` and empty parts dropped, `dir/..` pairs
/// folded; a leading `..` stays (so a path that leaves the context root is still seen as
/// such), and an empty result is `.`. Docker cleans `.dockerignore` patterns the same way.
pub fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// `apt-get install` of Debian packages, as a `sh -c` command; none for no packages.
fn apt_install(packages: &[String]) -> Option<Vec<String>> {
    (!packages.is_empty()).then(|| {
        let install = format!(
            "apt-get update && apt-get install --yes --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
            shell_words(packages)
        );
        ["sh", "-c", &install].map(str::to_owned).to_vec()
    })
}

/// Words for `sh -c`: each single-quoted unless it is plainly safe.
fn shell_words(words: &[String]) -> String {
    let word = |w: &String| {
        if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c)) {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(word).collect::<Vec<_>>().join(" ")
}
