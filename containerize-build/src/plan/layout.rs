//! Where things are: paths in the context and the builder, names the image and the app share.

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

/// Where the SBOM sits in the build context.
pub const SBOM_CONTEXT: &str = ".containerize/sbom.spdx.json";

/// Where images carry the SBOM of their binary: the directory Wolfi's and apko's images keep
/// theirs in, with the `.spdx.json` suffix that scanners (syft) look for anywhere.
pub const SBOM_DIR: &str = "/var/lib/db/sbom";

/// The labels that tell where an image's SBOM is and its digest.
pub const SBOM_PATH_LABEL: &str = "io.github.containerize-rs.sbom.path";
/// See [`SBOM_PATH_LABEL`].
pub const SBOM_DIGEST_LABEL: &str = "io.github.containerize-rs.sbom.digest";

/// The argument that turns a binary with `#[containerize::main]` into its own health probe.
pub const HEALTHCHECK_FLAG: &str = "--containerize-healthcheck";

/// The variable that tells the runtime of `#[containerize::main]`, in the container, which
/// signal `docker stop` sends (the `STOPSIGNAL`), so that it ends the app on that signal.
pub const STOP_SIGNAL_VARIABLE: &str = "CONTAINERIZE_STOP_SIGNAL";

/// The variable that carries the git revision into the builder, where there is no checkout.
pub const REVISION_VARIABLE: &str = "CONTAINERIZE_REVISION";

/// Where the build step leaves the binary for the stages after it.
pub const OUTPUT_DIR: &str = "/out";

/// Where runtime files are staged in the builder, to be copied into the runtime in one step.
pub const STAGING: &str = "/staging";

/// The stages `--stage` names. A Dockerfile holds the builder and the stages the one asked
/// for needs, that one last ([`Plan::stages`](super::Plan::stages)).
pub const STAGES: [&str; 4] = [stage::BUILDER, stage::RUNTIME, stage::DEBUG, stage::TEST];

/// The names of the Dockerfile's stages.
pub mod stage {
    /// Compiles the binary.
    pub const BUILDER: &str = "builder";
    /// The image that ships.
    pub const RUNTIME: &str = "runtime";
    /// The runtime with a shell and the binary's debug info.
    pub const DEBUG: &str = "debug";
    /// Where busybox comes from, for a debug base without it.
    pub const BUSYBOX: &str = "busybox";
    /// Runs the package's tests.
    pub const TEST: &str = "test";
}

/// Where the debug image's shell is: busybox, as in distroless's `:debug` images.
pub const BUSYBOX_DIR: &str = "/busybox";

/// What a debug image's tags add to the runtime's.
pub const DEBUG_TAG_SUFFIX: &str = "-debug";

/// The stage `--output` builds: the artifacts alone, never an image to tag.
pub const EXPORT_STAGE: &str = "export";

/// Where the export stage holds the runtime stage's files for an assembled image, each at its
/// runtime path below it.
pub const ASSEMBLY_ROOT: &str = "/rootfs";

/// Root, for the steps of a runtime stage that must not run as the base image's user.
pub const ROOT_USER: &str = "0:0";

/// The non-root user images run as unless told otherwise (distroless's `nonroot`).
pub const DEFAULT_USER: &str = "65532:65532";
