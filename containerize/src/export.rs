//! Handing the artifacts to the host (`--output DIR`) instead of making an image: the builder
//! pattern, under either builder, tagging nothing.
//!
//! The plan's export stage holds the artifacts alone (`FROM scratch`, each at its root, copied
//! from the builder: the very file the runtime stage copies). BuildKit sends that stage's files
//! through its `tar` exporter to a file our build session writes; no image is made. The legacy
//! builder has no exporter: it builds the stage as an image, labelled with a value unique to
//! this build so that no other build shares that image; each file is read out of a container
//! created from it (never started); then the container and the image go.
//!
//! Nothing half-done is left: every file is read out before any is written, each is written
//! whole (`atomic_write`: a hidden temporary file beside it, renamed into place), and on an
//! error or Ctrl-C the engine keeps neither the container nor the image.

use crate::engine::{Engine, EngineError};
use crate::error::Error;
use crate::image::{self, ImageBuild, Progress};
use crate::interrupt::Interruption;
use containerize_build::Plan;
use containerize_build::diagnostic::{Diagnostic, Origin};
use containerize_build::plan::ExportFile;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The label that makes the legacy builder's image of the export stage this build's alone.
pub const BUILD_LABEL: &str = "io.containerize.export";

/// Where BuildKit's exporter writes, in a temporary directory of its own.
const EXPORT_TAR: &str = ".export.tar";

/// bollard's session writes the exporter's last chunk from a blocking thread that may still be
/// at it when the build's stream ends: a tar without its end (two zero blocks) is read again
/// until it has one or this has passed.
const SETTLE: Duration = Duration::from_secs(5);

/// What one image's export wrote.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    /// The binary.
    pub binary: String,
    /// Each file written, in the plan's order, with its size in bytes.
    pub files: Vec<(PathBuf, u64)>,
    /// The context's size in bytes.
    pub context_bytes: u64,
}

/// What a directory `--output` makes holds besides the artifacts: git, and so the next build's
/// context, leave the directory out (as cargo's target directory).
const GITIGNORE: &str = "# Made by cargo-containerize for --output: not sources.\n*\n";

/// The SBOM's name beside the binary: `<bin>.spdx.json`.
pub fn sbom_name(binary: &str) -> String {
    format!("{binary}.spdx.json")
}

/// Every file `--output` writes for `plan`, in order: its export stage's (the binary, and its
/// debug info when the profile keeps it), then its SBOM.
pub fn output_names(plan: &Plan) -> Vec<String> {
    let files = plan.export.iter().flat_map(|stage| &stage.files);
    let names = files.map(|file| file.to.trim_start_matches('/').to_owned());
    names.chain(plan.runtime.sbom.as_ref().map(|_| sbom_name(&plan.binary))).collect()
}

/// `--output DIR`, checked before anything is built: made if missing (with a `.gitignore`
/// that leaves it out of git and of later contexts), a directory the tool can write in, where
/// no directory takes the name of a file to write. Refused as a bad flag.
pub fn prepare_dir(dir: &Path, names: &[String], packages: &[&Path]) -> Result<(), Error> {
    let refuse = |reason: String, help: &str| {
        let message = format!("{}: {reason}", dir.display());
        Error::Settings(vec![Diagnostic::error(Origin::Flag("--output"), message, "").with_help(help.to_owned())])
    };
    let other = "name a directory to write in, or one to make";
    // The build leaves its output directory out of its context: one that holds a package would
    // leave the package out.
    let absolute = std::fs::canonicalize(dir).or_else(|_| std::path::absolute(dir)).unwrap_or_else(|_| dir.to_owned());
    if let Some(package) = packages.iter().find(|p| p.starts_with(&absolute)) {
        let reason = format!("it holds the package at {}, which the build needs", package.display());
        return Err(refuse(reason, "name a directory of its own, e.g. `--output dist`"));
    }
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => return Err(refuse("not a directory".into(), other)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| refuse(format!("can't make it: {e}"), other))?;
            std::fs::write(dir.join(".gitignore"), GITIGNORE)
                .map_err(|e| refuse(format!("can't write in it: {e}"), other))?;
        }
        Err(e) => return Err(refuse(format!("can't read it: {e}"), other)),
    }
    // Where each file is written first, before it is renamed into place.
    tempfile::Builder::new()
        .prefix(".containerize-check.")
        .tempfile_in(dir)
        .map_err(|e| refuse(format!("can't write in it: {e}"), "make it writable, or name another directory"))?;
    for name in names {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_dir()) {
            let reason = format!("`{name}` there is a directory, which the file `{name}` can't replace");
            return Err(refuse(reason, "move it away, or name another directory"));
        }
    }
    Ok(())
}

/// Builds the export stage of `image_build` and writes each of `files` into `dir` (made if
/// missing), under its name in the stage, and each of `documents` (files the tool made on the
/// host: the SBOM) under its name, replacing a file of that name only once the new one is
/// whole.
pub async fn export(
    engine: &impl Engine,
    image_build: ImageBuild<'_>,
    files: &[ExportFile],
    documents: &[(String, &[u8])],
    dir: &Path,
    progress: &mut impl Progress,
    interruption: &Interruption,
) -> Result<Exported, Error> {
    // For BuildKit's exporter; removed whatever happens.
    let staging = tempfile::Builder::new().prefix("containerize-output.").tempdir().map_err(Error::Output)?;
    let binary = image_build.binary.to_owned();
    let names: Vec<&str> = files.iter().map(|file| file.to.trim_start_matches('/')).collect();
    let fetched = fetch(engine, image_build, &names, staging.path(), progress, interruption).await?;
    // Every file read before any is written: a missing one leaves `dir` as it was.
    let mut contents = Vec::new();
    for name in &names {
        let found = fetched.file(name).map_err(Error::Output)?;
        contents.push(found.ok_or_else(|| EngineError::NotExported((*name).to_owned()))?);
    }
    let names = names.into_iter().chain(documents.iter().map(|(name, _)| name.as_str()));
    contents.extend(documents.iter().map(|(_, data)| (data.to_vec(), 0o644)));
    let mut written = Vec::new();
    for (name, (data, mode)) in names.zip(contents) {
        if interruption.happened() {
            return Err(EngineError::Interrupted.into());
        }
        let target = dir.join(name);
        containerize_build::atomic_write::replace(&target, Error::Output, |file| {
            file.write_all(&data).map_err(Error::Output)?;
            set_mode(file, mode).map_err(Error::Output)
        })
        .map_err(|e| e.writing(&target))?;
        written.push((target, data.len() as u64));
    }
    Ok(Exported { binary, files: written, context_bytes: fetched.context_bytes })
}

/// What the export stage gave: tars whose entries are paths from the stage's root (BuildKit's
/// exporter sends one of the whole stage; the legacy builder's copies, one per path asked).
pub(crate) struct Fetched {
    pub(crate) tars: Vec<Vec<u8>>,
    pub(crate) context_bytes: u64,
}

impl Fetched {
    /// The contents and mode of the regular file `name`, if it is there.
    pub(crate) fn file(&self, name: &str) -> io::Result<Option<(Vec<u8>, u32)>> {
        for tar in &self.tars {
            if let Some(found) = entry(tar, name)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// Builds the export stage of `image_build` and takes `paths` (at the stage's root, without a
/// leading `/`) out of it; `staging` is a directory for the exporter's file.
pub(crate) async fn fetch(
    engine: &impl Engine,
    image_build: ImageBuild<'_>,
    paths: &[&str],
    staging: &Path,
    progress: &mut impl Progress,
    interruption: &Interruption,
) -> Result<Fetched, Error> {
    let tar_path = staging.join(EXPORT_TAR);
    let unique = format!("{}-{}", std::process::id(), nanos());
    let request = if image_build.buildkit {
        image_build.request(Some(tar_path.clone()), BTreeMap::new())
    } else {
        image_build.request(None, BTreeMap::from([(BUILD_LABEL.to_owned(), unique.clone())]))
    };
    let mut watching = Watching { progress, labelling: false };
    let followed = image::follow(
        engine,
        &request,
        image_build.context,
        image_build.dockerfile,
        &image_build.bases,
        &mut watching,
        interruption,
    )
    .await;
    let followed = match followed {
        Ok(followed) => followed,
        Err(error) if !image_build.buildkit => {
            // Best effort: the error (Ctrl-C, mostly) is the one to report.
            let _ = remove_labelled(engine, &unique, watching.labelling).await;
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    let tars = match followed.image {
        // BuildKit's exporter took the result: one tar of the whole stage.
        None if request.export_to.is_some() => vec![settled_tar(&tar_path, interruption).await?],
        None => return Err(EngineError::NoImage.into()),
        Some(id) => copy_out(engine, &id, paths, interruption).await?,
    };
    Ok(Fetched { tars, context_bytes: followed.context_bytes })
}

/// Each path out of the legacy builder's image `id` (a tar each), then the image removed,
/// whatever happened: it is this build's alone, and no longer needed.
async fn copy_out(
    engine: &impl Engine,
    id: &str,
    paths: &[&str],
    interruption: &Interruption,
) -> Result<Vec<Vec<u8>>, EngineError> {
    let mut tars = Vec::new();
    let mut failure = None;
    for path in paths {
        match engine.copy_out(id, &format!("/{path}"), interruption).await {
            Ok(tar) => tars.push(tar),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let removed = engine.remove(id).await;
    match failure {
        Some(error) => Err(error),
        None => removed.map(|()| tars),
    }
}

/// How long, after a legacy build given up in its last step, the image that step commits may
/// take to appear.
const COMMIT: Duration = Duration::from_secs(5);

/// Removes the legacy builder's image of a build given up (Ctrl-C, a failure). The engine goes
/// on with a step under way when the client leaves, and starts none after: given up in the
/// last step, the one that sets the build's label, the image can appear after the build
/// stream has gone, and is waited for (at most [`COMMIT`]); before it, no image has the label.
async fn remove_labelled(engine: &impl Engine, unique: &str, labelling: bool) -> Result<(), EngineError> {
    let deadline = tokio::time::Instant::now() + COMMIT;
    loop {
        let ids = engine.labelled(BUILD_LABEL, unique).await?;
        for id in &ids {
            engine.remove(id).await?;
        }
        if !ids.is_empty() || !labelling || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Passes a build's events on, noting whether its last step, the one that sets the build's
/// label (the legacy builder's image then has it), has begun.
struct Watching<'a, P> {
    progress: &'a mut P,
    labelling: bool,
}

impl<P: Progress> Progress for Watching<'_, P> {
    fn context_sent(&mut self, size: crate::context::ContextSize) {
        self.progress.context_sent(size);
    }

    fn event(&mut self, stage: &str, event: &crate::engine::BuildEvent) {
        if let crate::engine::BuildEvent::Step { instruction, .. } = event {
            self.labelling = instruction.contains(BUILD_LABEL);
        }
        self.progress.event(stage, event);
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// The exporter's tar once it is whole (see [`SETTLE`]).
async fn settled_tar(path: &Path, interruption: &Interruption) -> Result<Vec<u8>, Error> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let tar = std::fs::read(path).map_err(Error::Output)?;
        let end = tar.len().checked_sub(1024).map(|start| &tar[start..]);
        let whole = tar.len() % 512 == 0 && end.is_some_and(|end| end.iter().all(|b| *b == 0));
        if whole || tokio::time::Instant::now() >= deadline {
            return Ok(tar);
        }
        tokio::select! {
            biased;
            () = interruption.wait() => return Err(EngineError::Interrupted.into()),
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// The contents and mode of the regular file `name` at the root of a tar, if it is there; an
/// error when the tar ends inside it.
pub(crate) fn entry(tar: &[u8], name: &str) -> io::Result<Option<(Vec<u8>, u32)>> {
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if stage_path(&entry.path()?) == Path::new(name) && entry.header().entry_type().is_file() {
            let mode = entry.header().mode()? & 0o777;
            let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut data)?;
            return Ok(Some((data, mode)));
        }
    }
    Ok(None)
}

/// An entry's path from the stage's root, as the engines write it (`./a`, `/a` or `a`).
pub(crate) fn stage_path(path: &Path) -> &Path {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.strip_prefix("/").unwrap_or(path)
}

/// The mode the file had in the image (executable, for a binary).
fn set_mode(file: &std::fs::File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::BuildEvent;
    use crate::image::tests::{Fake, Recorder, step};

    const BINARY: &[u8] = b"\x7fELF the binary";

    fn files() -> Vec<ExportFile> {
        vec![ExportFile { from: "/out/app".into(), to: "/app".into() }]
    }

    async fn run(fake: &Fake, buildkit: bool, dir: &Path, interruption: &Interruption) -> Result<Exported, Error> {
        run_with(fake, buildkit, &[], dir, interruption).await
    }

    async fn run_with(
        fake: &Fake,
        buildkit: bool,
        documents: &[(String, &[u8])],
        dir: &Path,
        interruption: &Interruption,
    ) -> Result<Exported, Error> {
        let context = crate::context::Context::generated(vec![("Cargo.toml".to_owned(), "[package]".to_owned())]);
        let image_build = ImageBuild {
            credentials: vec![],
            buildkit,
            no_cache: false,
            bases: vec![],
            binary: "app",
            dockerfile: "FROM scratch AS export\n".into(),
            context,
            target: "export",
            tags: &[],
        };
        export(fake, image_build, &files(), documents, dir, &mut Recorder::default(), interruption).await
    }

    /// What `dir` holds, hidden files included.
    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    fn assert_written(dir: &Path) {
        assert_eq!(listing(dir), ["app"], "the binary alone, no staging left");
        assert_eq!(std::fs::read(dir.join("app")).unwrap(), BINARY);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("app")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755, "executable, as in the image");
        }
    }

    #[tokio::test]
    async fn buildkit_exports_through_its_exporter_and_makes_no_image() {
        let mut fake = Fake::new(vec![step(1, "FROM scratch AS export")]);
        fake.artifacts = vec![("app", BINARY, 0o755)];
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let exported = run(&fake, true, &out, &Interruption::manual().1).await.unwrap();
        assert_eq!(exported.files, [(out.join("app"), BINARY.len() as u64)]);
        assert_written(&out);
        assert_eq!(fake.calls(), ["build .containerize/Dockerfile --target export --output labels []"]);
    }

    #[tokio::test]
    async fn the_legacy_builder_copies_out_of_a_labelled_image_then_removes_it() {
        let mut fake = Fake::new(vec![step(1, "FROM scratch AS export"), Ok(BuildEvent::ImageId("sha256:e".into()))]);
        fake.artifacts = vec![("app", BINARY, 0o755)];
        let dir = tempfile::tempdir().unwrap();
        run(&fake, false, dir.path(), &Interruption::manual().1).await.unwrap();
        assert_written(dir.path());
        assert_eq!(
            fake.calls(),
            [
                "build .containerize/Dockerfile --target export labels [\"io.containerize.export\"]",
                "copy_out sha256:e /app",
                "remove sha256:e",
            ],
            "a label of its own, so the image removed is this build's alone"
        );
    }

    #[tokio::test]
    async fn a_missing_artifact_writes_nothing_and_leaves_no_image() {
        let fake = Fake::new(vec![Ok(BuildEvent::ImageId("sha256:e".into()))]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app"), "the previous one").unwrap();
        let error = run(&fake, false, dir.path(), &Interruption::manual().1).await.unwrap_err();
        assert!(matches!(error, Error::Engine(EngineError::BuildFailed(_))), "{error:?}");
        assert!(fake.calls().contains(&"remove sha256:e".to_owned()));
        assert_eq!(listing(dir.path()), ["app"]);
        assert_eq!(std::fs::read(dir.path().join("app")).unwrap(), b"the previous one", "left as it was");
        // BuildKit's tar without it.
        let error = run(&Fake::new(vec![]), true, dir.path(), &Interruption::manual().1).await.unwrap_err();
        assert!(matches!(error, Error::Engine(EngineError::NotExported(ref name)) if name == "app"), "{error:?}");
        assert_eq!(listing(dir.path()), ["app"]);
    }

    #[tokio::test]
    async fn ctrl_c_while_copying_out_writes_nothing_and_leaves_no_image() {
        let (trigger, interruption) = Interruption::manual();
        let mut fake = Fake::new(vec![Ok(BuildEvent::ImageId("sha256:e".into()))]);
        fake.artifacts = vec![("app", BINARY, 0o755)];
        fake.ctrl_c_while_copying = Some(trigger);
        let dir = tempfile::tempdir().unwrap();
        let error = run(&fake, false, dir.path(), &interruption).await.unwrap_err();
        assert!(matches!(error, Error::Engine(EngineError::Interrupted)), "{error:?}");
        assert_eq!(fake.calls().last().unwrap(), "remove sha256:e");
        assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
    }

    #[tokio::test]
    async fn the_sbom_made_on_the_host_is_written_beside_the_binary() {
        let mut fake = Fake::new(vec![step(1, "FROM scratch AS export")]);
        fake.artifacts = vec![("app", BINARY, 0o755)];
        let dir = tempfile::tempdir().unwrap();
        let documents = [(sbom_name("app"), &b"{\"spdxVersion\": \"SPDX-2.3\"}"[..])];
        let exported = run_with(&fake, true, &documents, dir.path(), &Interruption::manual().1).await.unwrap();
        assert_eq!(listing(dir.path()), ["app", "app.spdx.json"]);
        assert_eq!(exported.files[1], (dir.path().join("app.spdx.json"), documents[0].1.len() as u64));
        assert_eq!(std::fs::read(dir.path().join("app.spdx.json")).unwrap(), documents[0].1, "the same bytes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("app.spdx.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    /// The calls after the build, with the build's own label value masked.
    fn calls_after_build(fake: &Fake) -> Vec<String> {
        let calls = fake.calls();
        calls[1..].iter().map(|c| c.split_once('=').map_or(c.clone(), |(a, _)| format!("{a}=*"))).collect()
    }

    #[tokio::test]
    async fn ctrl_c_in_the_legacy_builds_labelling_step_removes_the_image_it_commits_after() {
        let (trigger, interruption) = Interruption::manual();
        let label_step = format!("LABEL {BUILD_LABEL}=1-2");
        let mut fake = Fake::new(vec![step(1, "FROM scratch AS export"), step(2, &label_step)]);
        fake.ctrl_c_after_events = Some(trigger);
        // The engine commits the step's image a moment after the stream has gone.
        *fake.labelled.lock().unwrap() = [vec![], vec![], vec!["sha256:late".to_owned()]].into();
        let dir = tempfile::tempdir().unwrap();
        let error = run(&fake, false, dir.path(), &interruption).await.unwrap_err();
        assert!(matches!(error, Error::Engine(EngineError::Interrupted)), "{error:?}");
        let labelled = format!("labelled {BUILD_LABEL}=*");
        assert_eq!(calls_after_build(&fake), [&labelled, &labelled, &labelled, "remove sha256:late"]);
        assert!(listing(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn ctrl_c_before_the_labelling_step_looks_once() {
        let (trigger, interruption) = Interruption::manual();
        let mut fake = Fake::new(vec![step(1, "FROM scratch AS export")]);
        fake.ctrl_c_after_events = Some(trigger);
        let dir = tempfile::tempdir().unwrap();
        let error = run(&fake, false, dir.path(), &interruption).await.unwrap_err();
        assert!(matches!(error, Error::Engine(EngineError::Interrupted)), "{error:?}");
        assert_eq!(calls_after_build(&fake), [format!("labelled {BUILD_LABEL}=*")], "no image can have the label yet");
    }

    fn refused(result: Result<(), Error>) -> String {
        match result {
            Err(error @ Error::Settings(_)) => {
                assert_eq!(error.exit_code(), 2, "a bad flag");
                let Error::Settings(diagnostics) = error else { unreachable!() };
                diagnostics[0].message.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_output_directory_is_made_with_a_gitignore_and_checked_before_building() {
        let root = tempfile::tempdir().unwrap();
        let names = ["app".to_owned(), "app.spdx.json".to_owned()];
        let made = root.path().join("a/dist");
        prepare_dir(&made, &names, &[]).unwrap();
        assert_eq!(listing(&made), [".gitignore"], "nothing else left");
        assert!(std::fs::read_to_string(made.join(".gitignore")).unwrap().ends_with("\n*\n"));
        // One that was there is left as it was.
        std::fs::remove_file(made.join(".gitignore")).unwrap();
        prepare_dir(&made, &names, &[]).unwrap();
        assert!(listing(&made).is_empty());

        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        let message = refused(prepare_dir(&file, &names, &[]));
        assert_eq!(message, format!("{}: not a directory", file.display()));
        let message = refused(prepare_dir(&file.join("dist"), &names, &[]));
        assert!(message.starts_with(&format!("{}: can't ", file.join("dist").display())), "{message}");

        // A directory that holds a package (here the project itself) would take it out of the context.
        let package = root.path().join("a/pkg");
        std::fs::create_dir_all(&package).unwrap();
        let message = refused(prepare_dir(&root.path().join("a"), &names, &[package.as_path()]));
        assert!(message.contains(&format!("it holds the package at {}", package.display())), "{message}");
        assert!(!root.path().join("a/.gitignore").exists(), "nothing made");

        std::fs::create_dir(made.join("app.spdx.json")).unwrap();
        let message = refused(prepare_dir(&made, &names, &[]));
        assert!(
            message.ends_with("`app.spdx.json` there is a directory, which the file `app.spdx.json` can't replace")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_output_directory_is_refused_before_building() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("dist");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        if tempfile::tempfile_in(&dir).is_ok() {
            return; // root writes anywhere
        }
        let message = refused(prepare_dir(&dir, &["app".to_owned()], &[]));
        assert!(message.starts_with(&format!("{}: can't write in it: ", dir.display())), "{message}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
