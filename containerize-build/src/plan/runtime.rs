//! The runtime stage's decisions: base image, CA certificates, labels, healthcheck, environment.

use super::*;

/// How long a probe may take when the healthcheck sets no timeout.
pub(super) const DEFAULT_PROBE_TIMEOUT: &str = "5s";

/// Debian's CA bundle, where TLS libraries look for it.
pub(super) const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The container's environment: the user's, and the stop signal for the runtime support, which
/// only it reads (the user's value under that name would only mislead it).
pub(super) fn runtime_env(image: &ImageSpec) -> BTreeMap<String, String> {
    let s = &image.settings;
    let mut env: BTreeMap<String, String> = s.env.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    if let Some(signal) = value(&s.stop_signal).filter(|_| image.runtime_support) {
        env.insert(STOP_SIGNAL_VARIABLE.to_owned(), signal);
    }
    env
}

/// The probe of a healthcheck: on loopback, at the set port or the first exposed one; HTTP when
/// a path is set, a TCP connect otherwise.
pub(super) fn healthcheck(image: &ImageSpec, binary: &str) -> Result<Option<HealthcheckPlan>, Diagnostic> {
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
    Ok(Some(HealthcheckPlan {
        command: vec![binary.to_owned(), HEALTHCHECK_FLAG.to_owned(), url, timeout.to_string()],
        timing,
    }))
}

pub(super) fn base_image(base: &Base, suite: Suite) -> String {
    let debian = match suite {
        Suite::Bookworm => 12,
        Suite::Trixie => 13,
    };
    match base {
        Base::Scratch => "scratch".to_owned(),
        Base::DistrolessStatic => format!("gcr.io/distroless/static-debian{debian}:nonroot"),
        Base::DistrolessCc => format!("gcr.io/distroless/cc-debian{debian}:nonroot"),
        Base::DebianSlim => format!("debian:{}-slim", suite_name(suite)),
        Base::Nanoserver => "mcr.microsoft.com/windows/nanoserver:ltsc2022".to_owned(),
        Base::Servercore => "mcr.microsoft.com/windows/servercore:ltsc2022".to_owned(),
        Base::Image(reference) => reference.clone(),
    }
}

/// The debug stage's base, and the image to copy busybox from when that base lacks it: the
/// distroless `:debug` variant of a distroless base, the static one for scratch (its files
/// are what scratch gets, and some CA certificates), else the runtime's base itself.
pub(super) fn debug_base(base: &Base, suite: Suite) -> (String, Option<String>) {
    let static_debug = base_image(&Base::DistrolessStatic, suite).replace(":nonroot", ":debug-nonroot");
    match base {
        Base::Scratch | Base::DistrolessStatic => (static_debug, None),
        Base::DistrolessCc => (base_image(base, suite).replace(":nonroot", ":debug-nonroot"), None),
        // Windows has no busybox: its debug stage is its runtime with the whole binary.
        Base::Nanoserver | Base::Servercore => (base_image(base, suite), None),
        Base::DebianSlim | Base::Image(_) => (base_image(base, suite), Some(static_debug)),
    }
}

/// The debug image's shell, in words.
pub(super) fn debug_shell(base: &Base) -> &'static str {
    match base {
        Base::Nanoserver | Base::Servercore => "the base's cmd.exe",
        _ => "busybox, at /busybox",
    }
}

/// The stages that hold the images `include` copies from: one per image, named by its place.
pub(super) fn image_stages(include: &[Include]) -> Vec<ImageStage> {
    let mut stages: Vec<ImageStage> = Vec::new();
    for image in include.iter().filter_map(|i| i.from.as_ref()) {
        if !stages.iter().any(|s| &s.image == image) {
            stages.push(ImageStage { name: format!("include-{}", stages.len() + 1), image: image.clone() });
        }
    }
    stages
}

/// OCI labels from Cargo metadata and the checkout, then the user's labels over them. An
/// ejected Dockerfile has neither revision nor time: a committed file can't name its own
/// commit, and would go stale with every one.
pub(super) fn labels(
    project: &Project,
    package: &LocalPackage,
    s: &Settings,
    ejected: bool,
) -> BTreeMap<String, String> {
    let about = &package.about;
    let vcs = project.vcs.as_ref().filter(|_| !ejected);
    let created = project.created().filter(|_| !ejected);
    let oci = [
        ("title", Some(package.name.clone())),
        ("version", Some(package.version.clone())),
        ("description", about.description.clone()),
        ("licenses", about.license.clone()),
        ("source", about.repository.clone()),
        ("url", about.homepage.clone().or_else(|| about.repository.clone())),
        ("documentation", about.documentation.clone()),
        ("authors", (!about.authors.is_empty()).then(|| about.authors.join(", "))),
        ("revision", vcs.map(Vcs::described)),
        ("created", created.map(rfc3339)),
    ];
    let mut labels: BTreeMap<String, String> = oci
        .into_iter()
        .filter_map(|(key, value)| Some((format!("org.opencontainers.image.{key}"), one_line(&value?))))
        .collect();
    labels.extend(s.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())));
    labels
}

/// Puts the SBOM `document` in the image: the plan records where and its digest, which a label
/// carries, with the path, after the user's labels (a user's label can't misname it).
pub fn attach_sbom(plan: &mut Plan, document: String) {
    let path = format!("{SBOM_DIR}/{}.spdx.json", plan.binary);
    let digest = crate::sbom::digest(&document);
    plan.runtime.labels.insert(SBOM_PATH_LABEL.to_owned(), path.clone());
    plan.runtime.labels.insert(SBOM_DIGEST_LABEL.to_owned(), digest.clone());
    plan.runtime.sbom = Some(SbomPlan { path, digest, document });
}

/// Cargo metadata is free text; a label is one line, so whitespace runs become one space.
pub(super) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

pub(crate) fn rfc3339(seconds: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The files the runtime stage copies from the builder, at their runtime paths under
/// [`ASSEMBLY_ROOT`]: CA certificates, the binary, the staged `include` files. The same list as
/// the runtime stage's `COPY --from=builder` lines in `render.rs`, in order (a test holds the
/// two equal).
pub(super) fn assembled_files(
    ca_certificates: &CaCertificates,
    output: &str,
    binary: &str,
    include: &[Include],
) -> Vec<ExportFile> {
    let mut files = Vec::new();
    if let CaCertificates::FromBuilder(bundle) = ca_certificates {
        files.push(ExportFile { from: bundle.clone(), to: format!("{ASSEMBLY_ROOT}{bundle}") });
    }
    files.push(ExportFile { from: output.to_owned(), to: format!("{ASSEMBLY_ROOT}{binary}") });
    if !include.is_empty() {
        files.push(ExportFile { from: format!("{STAGING}/"), to: format!("{ASSEMBLY_ROOT}/") });
    }
    files
}

/// The engine's name for an architecture (Go's `GOARCH`).
pub(super) fn engine_architecture(arch: &str) -> String {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
    .to_owned()
}

/// Where the runtime's CA certificates come from: copied from the builder where the base has
/// none (scratch; debian-slim without the `ca-certificates` package), the base's own
/// otherwise, and left alone on an image we know nothing of.
pub(super) fn ca_certificates(base: &Base, runtime_packages: &[String]) -> CaCertificates {
    match base {
        Base::Scratch => CaCertificates::FromBuilder(CA_BUNDLE.to_owned()),
        Base::DebianSlim if !runtime_packages.iter().any(|p| p == "ca-certificates") => {
            CaCertificates::FromBuilder(CA_BUNDLE.to_owned())
        }
        Base::Image(_) => CaCertificates::Unmanaged,
        // Windows keeps its certificates in its own store.
        _ => CaCertificates::InBase,
    }
}
