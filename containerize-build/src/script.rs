//! The build-script helper: one line in `build.rs` makes a package's container settings part of
//! every `cargo build` and `cargo check`.
//!
//! ```no_run
//! // in build.rs's `fn main`:
//! containerize_build::configure();
//! ```
//!
//! It reads the package's settings with the same reader and validator as `cargo containerize`;
//! a bad setting fails the build with its file, line, column and key (`cargo::error`), an
//! unknown key is a `cargo::warning`. For each binary it writes the Dockerfile, the plan and
//! the SBOM to
//! `<target-dir>/containerize/<package>/<binary>/{Dockerfile,plan.json,sbom.spdx.json}`, the
//! very bytes `cargo containerize --print`, `--print-plan` and `--sbom` give. The app can read,
//! at compile time:
//!
//! | variable | value |
//! |---|---|
//! | `CONTAINERIZE_IMAGE` | the first tag of the image of the package's main binary |
//! | `CONTAINERIZE_TAGS` | all its tags, space separated |
//! | `CONTAINERIZE_VERSION` | the package version |
//! | `CONTAINERIZE_REVISION` | the git commit, empty outside a checkout |
//!
//! e.g. `env!("CONTAINERIZE_IMAGE")`. It prints exactly the `rerun-if-changed` lines for the
//! files the output depends on (manifests, binaries' root sources, lockfile, toolchain and cargo
//! config files, the git `HEAD`), so an unchanged project does not run the script again.

use crate::atomic_write;
use crate::diagnostic::Diagnostic;
use crate::pipeline::{self, PlanError};
use crate::plan::REVISION_VARIABLE;
use crate::project::{Project, Vcs};
use crate::spec::Selection;
use crate::{Options, Plan, Settings, dockerfile};
use cargo_metadata::camino::Utf8PathBuf;
use std::io::Write;

/// The SBOM's name beside each binary's Dockerfile and plan.
pub const SBOM_FILE: &str = "sbom.spdx.json";

/// Why the build script failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// Not run by cargo as a build script.
    #[error("{0} is not set: call containerize_build::configure() from a build script")]
    NotABuildScript(&'static str),
    /// The project could not be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Writing the Dockerfile or plan failed.
    #[error("failed to write {path}")]
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Validates the package's container settings, writes its Dockerfiles and plans, and tells
/// cargo what the app may read and when to run again. A problem fails the build.
pub fn configure() {
    let mut out = std::io::stdout().lock();
    if let Err(error) = run(&mut out) {
        let diagnostics = match &error {
            ScriptError::Plan(PlanError::Settings(diagnostics)) => diagnostics.clone(),
            _ => Vec::new(),
        };
        for diagnostic in diagnostics.iter().filter(|d| d.is_error()) {
            let _ = directive(&mut out, "error", &summary(diagnostic));
        }
        if diagnostics.is_empty() {
            let _ = directive(&mut out, "error", &format!("containerize: {}", with_causes(&error)));
        }
        // cargo fails the build on `cargo::error` and shows each message as an error.
        let _ = out.flush();
    }
}

/// A diagnostic in one line: `file:line:column: message (help: ...)`.
fn summary(diagnostic: &Diagnostic) -> String {
    let location =
        diagnostic.origin.location().map(|(path, line, column)| format!("{}:{line}:{column}: ", path.display()));
    let help = diagnostic.help.as_ref().map(|h| format!(" (help: {h})")).unwrap_or_default();
    format!("{}{}{help}", location.unwrap_or_default(), diagnostic.message)
}

/// Writes `cargo::<name>=<value>` as one line whatever `value` holds (a key with a newline in
/// it, a path, an environment variable): control characters are written as escapes, so no
/// value can end the line and start a directive of its own. A path so escaped names no file,
/// which makes cargo run the script every time: rather that than a missed change.
fn directive(out: &mut dyn Write, name: &str, value: &str) -> std::io::Result<()> {
    let mut line = format!("cargo::{name}=");
    for c in value.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    writeln!(out, "{line}")
}

fn env(name: &'static str) -> Result<String, ScriptError> {
    std::env::var(name).map_err(|_| ScriptError::NotABuildScript(name))
}

/// What [`configure`] does, writing cargo's directives to `out`.
pub fn run(out: &mut impl Write) -> Result<Vec<Plan>, ScriptError> {
    let manifest_dir = Utf8PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let package = env("CARGO_PKG_NAME")?;
    let mut command = cargo_metadata::MetadataCommand::new();
    command.manifest_path(manifest_dir.join("Cargo.toml"));
    if let Ok(cargo) = std::env::var("CARGO") {
        command.cargo_path(cargo);
    }
    // Every platform's packages, as the CLI reads them: the plan is the image's, whichever
    // target this build compiles for, and must be the very one `--print-plan` gives.
    let metadata = command.exec().map_err(PlanError::from)?;
    let selection = Selection { packages: vec![package.clone()], ..Selection::default() };
    let (project, spec) = pipeline::prepare(&metadata, &selection, &Settings::default())?;
    let mut emit = |name: &str, value: &str| {
        directive(out, name, value).map_err(|source| ScriptError::Write { path: "stdout".into(), source })
    };
    for warning in &spec.warnings {
        emit("warning", &summary(warning))?;
    }
    let plans = pipeline::plans(&project, &spec, &Options::default(), &command)?;
    for plan in &plans {
        let dir = metadata.target_directory.join("containerize").join(&plan.package).join(&plan.binary);
        let json = serde_json::to_string_pretty(&[plan]).expect("plans serialize") + "\n";
        write_if_changed(&dir.join("Dockerfile"), &dockerfile(plan))?;
        write_if_changed(&dir.join("plan.json"), &json)?;
        if let Some(sbom) = &plan.runtime.sbom {
            write_if_changed(&dir.join(SBOM_FILE), &sbom.document)?;
        }
    }
    // The main binary's image: the one named like the package, else the first.
    if let Some(main) = plans.iter().find(|p| p.binary == package).or(plans.first()) {
        // In an image build there is no checkout; the Dockerfile passes the revision in.
        let revision = std::env::var(REVISION_VARIABLE)
            .ok()
            .filter(|r| !r.is_empty())
            .or_else(|| project.vcs.as_ref().map(Vcs::described))
            .unwrap_or_default();
        let tags = main.tags.join(" ");
        for (name, value) in [
            ("CONTAINERIZE_IMAGE", main.tags.first().cloned().unwrap_or_default()),
            ("CONTAINERIZE_TAGS", tags),
            ("CONTAINERIZE_VERSION", main.version.clone()),
            ("CONTAINERIZE_REVISION", revision),
        ] {
            emit("rustc-env", &format!("{name}={value}"))?;
        }
    }
    for path in inputs(&project) {
        emit("rerun-if-changed", &path)?;
    }
    for variable in ["SOURCE_DATE_EPOCH", "RUSTUP_TOOLCHAIN", REVISION_VARIABLE] {
        emit("rerun-if-env-changed", variable)?;
    }
    Ok(plans)
}

/// Writes `contents` unless the file holds them already, whole (see [`atomic_write`]).
fn write_if_changed(path: &cargo_metadata::camino::Utf8Path, contents: &str) -> Result<(), ScriptError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let error = |source| ScriptError::Write { path: path.to_owned(), source };
    atomic_write::replace(path.as_std_path(), error, |file| file.write_all(contents.as_bytes()).map_err(error))
}

/// The error and every cause under it (cargo's own message, the file system's), on one line:
/// a build script has no report with room for a chain.
fn with_causes(error: &ScriptError) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        let words: Vec<String> = next.to_string().split_whitespace().map(str::to_owned).collect();
        message = format!("{message}: {}", words.join(" "));
        cause = next.source();
    }
    message
}

/// Every file the plans depend on that exists: watching a missing file would make cargo run
/// the script every time.
fn inputs(project: &Project) -> Vec<String> {
    let root = &project.workspace_root;
    let mut paths: Vec<Utf8PathBuf> = project.packages.iter().map(|p| p.dir.join("Cargo.toml")).collect();
    // Binaries' roots, where `#[containerize::main(...)]` settings live.
    let sources = project.members().flat_map(|p| &p.binaries).filter_map(|b| b.source.as_ref());
    paths.extend(sources.filter_map(|file| Utf8PathBuf::from_path_buf(file.path.clone()).ok()));
    paths.push(root.join("Cargo.toml"));
    paths.extend(project.root_files.iter().map(|f| root.join(f)));
    paths.extend(git_files(root));
    let mut paths: Vec<String> = paths.into_iter().filter(|p| p.exists()).map(|p| p.to_string()).collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The files that say which commit is checked out: `HEAD`, the branch it names, packed refs.
fn git_files(root: &cargo_metadata::camino::Utf8Path) -> Vec<Utf8PathBuf> {
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git").arg("-C").arg(root).args(args).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) else {
        return Vec::new();
    };
    let dir = Utf8PathBuf::from(dir);
    let mut files = vec![dir.join("HEAD"), dir.join("packed-refs")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        files.push(dir.join(branch));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;

    #[test]
    fn a_metadata_failure_says_why() {
        // `configure` fails the build with this message: cargo's own must be in it, as it is in
        // the CLI's report (and was before the one pipeline).
        let failed = cargo_metadata::Error::CargoMetadata { stderr: "error: failed to parse manifest".into() };
        let error = ScriptError::from(PlanError::from(failed));
        let message = with_causes(&error);
        assert!(message.contains("failed to parse manifest"), "{message}");
    }

    #[test]
    fn concurrent_build_scripts_both_write_the_new_plan() {
        // `cargo build` and `cargo build --release` lock their profile directories apart, so
        // after a settings edit the package's build script runs in both at once, each writing
        // the same new Dockerfile into target/containerize/ through the one `.partial` name.
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("Dockerfile")).unwrap();
        for round in 0..200 {
            std::fs::write(&path, "old").unwrap();
            let new = format!("FROM scratch # {round}\n").repeat(2000);
            let barrier = std::sync::Barrier::new(2);
            std::thread::scope(|scope| {
                let writers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            write_if_changed(&path, &new)
                        })
                    })
                    .collect();
                for writer in writers {
                    let written = writer.join().unwrap();
                    assert!(
                        written.is_ok(),
                        "round {round}: {:?}",
                        written.map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))
                    );
                }
            });
            assert_eq!(std::fs::read_to_string(&path).unwrap(), new, "round {round}");
        }
    }

    #[test]
    fn every_directive_is_one_line() {
        // A quoted TOML key may hold any character: this one would start directives of its own.
        let toml = "[package.metadata.containerize]\n\"a\\ncargo::rustc-env=X=1\\r\\u001b[2J\" = 1\n";
        let mut diagnostics = Vec::new();
        crate::manifest::read(&SourceFile::new("Cargo.toml", toml), &mut diagnostics);
        let mut out = Vec::new();
        for diagnostic in &diagnostics {
            directive(&mut out, "warning", &summary(diagnostic)).unwrap();
        }
        directive(&mut out, "rerun-if-changed", "/work/odd\ndir/Cargo.toml").unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap(), @r"
        cargo::warning=Cargo.toml:2:1: unknown key `a\ncargo::rustc-env=X=1\r\u{1b}[2J` in [package.metadata.containerize] (help: see the settings reference: `cargo containerize --help`)
        cargo::rerun-if-changed=/work/odd\ndir/Cargo.toml
        ");
    }
}
