//! Building one image: stream the context, follow the build, then tag all or nothing.

use crate::context::{Context, ContextError, ContextSize, DOCKERFILE};
use crate::engine::{BuildEvent, BuildRequest, Credential, Engine, EngineError, credential_for};
use crate::interrupt::Interruption;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::pin::pin;

/// What watches a build.
pub trait Progress {
    /// The whole context has been sent.
    fn context_sent(&mut self, size: ContextSize);
    /// Something happened in stage `stage`.
    fn event(&mut self, stage: &str, event: &BuildEvent);
}

/// A built and tagged image.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Built {
    /// The binary in it.
    pub binary: String,
    /// The stage it was built to (`runtime`, `debug`, `test`, `builder`).
    pub stage: String,
    /// Its id.
    pub id: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its size in bytes.
    pub size: u64,
    /// The context's size in bytes.
    pub context_bytes: u64,
}

impl Built {
    /// The image as reports name it: its binary, and its stage when not the runtime.
    pub fn name(&self) -> String {
        match self.stage.as_str() {
            containerize_build::plan::stage::RUNTIME => self.binary.clone(),
            other => format!("{} ({other})", self.binary),
        }
    }
}

/// One image to build: its Dockerfile and context, the stage to stop at, and its tags. The
/// engine sees only the [`BuildRequest`] made from it.
pub struct ImageBuild<'a> {
    /// The binary, for the report.
    pub binary: &'a str,
    /// The Dockerfile.
    pub dockerfile: String,
    /// Its files.
    pub context: Context,
    /// The stage to stop at.
    pub target: &'a str,
    /// The references to tag.
    pub tags: &'a [String],
    /// BuildKit, or the legacy builder.
    pub buildkit: bool,
    /// Build every step anew, using no cache (`--no-cache`).
    pub no_cache: bool,
    /// The images the stages start from, to name the missing one should the build fail
    /// before its first step (as BuildKit does when it can't resolve a base).
    pub bases: Vec<String>,
    /// The user's credentials for the registries of `bases`, to pull private ones.
    pub credentials: Vec<Credential>,
}

/// Builds an image: nothing is tagged unless the build succeeds, and then every tag is, or none.
/// An interruption stops the build (dropping the request makes the engine cancel it) and, up to
/// the last tag, leaves every tag as it was.
pub async fn build(
    engine: &impl Engine,
    image_build: ImageBuild<'_>,
    progress: &mut impl Progress,
    interruption: &Interruption,
) -> Result<Built, EngineError> {
    let request = image_build.request(None, BTreeMap::new());
    let followed = follow(
        engine,
        &request,
        image_build.context,
        image_build.dockerfile,
        &image_build.bases,
        progress,
        interruption,
    )
    .await?;
    let (image, context_bytes) = (followed.image, followed.context_bytes);
    let id = image.ok_or(EngineError::NoImage)?;
    // Inspected before tagging, so that tagging is the last step and nothing after it can
    // leave an image tagged but unreported.
    let info = tokio::select! {
        biased;
        () = interruption.wait() => return Err(EngineError::Interrupted),
        info = engine.inspect(&id) => info?,
    };
    tag_all(engine, &id, image_build.tags, interruption).await?;
    Ok(Built {
        binary: image_build.binary.to_owned(),
        stage: image_build.target.to_owned(),
        id,
        tags: image_build.tags.to_vec(),
        size: info.size,
        context_bytes,
    })
}

/// Pulls `image` if the engine lacks it, with the credentials for its registry; Ctrl-C stops
/// the pull.
pub(crate) async fn pull_if_missing(
    engine: &impl Engine,
    image: &str,
    credentials: &[Credential],
    interruption: &Interruption,
) -> Result<(), EngineError> {
    if engine.inspect(image).await.is_ok() {
        return Ok(());
    }
    tokio::select! {
        biased;
        () = interruption.wait() => Err(EngineError::Interrupted),
        pulled = engine.pull(image, credential_for(credentials, image)) => pulled,
    }
}

/// What a build left: the last image a stage produced (none when an exporter took the
/// result), and the context's size.
pub(crate) struct Followed {
    pub(crate) image: Option<String>,
    pub(crate) context_bytes: u64,
}

impl ImageBuild<'_> {
    /// What the engine is asked.
    pub(crate) fn request(
        &self,
        export_to: Option<std::path::PathBuf>,
        labels: BTreeMap<String, String>,
    ) -> BuildRequest {
        BuildRequest {
            dockerfile: DOCKERFILE.to_owned(),
            target: self.target.to_owned(),
            buildkit: self.buildkit,
            no_cache: self.no_cache,
            export_to,
            labels,
            credentials: self.credentials.clone(),
        }
    }
}

/// Sends the context and follows the build to its end, telling `progress` what happens; a
/// failure is tied to its step, or to the missing base of `bases` when it came before any.
pub(crate) async fn follow(
    engine: &impl Engine,
    request: &BuildRequest,
    context: Context,
    dockerfile: String,
    bases: &[String],
    progress: &mut impl Progress,
    interruption: &Interruption,
) -> Result<Followed, EngineError> {
    if engine.pulls_bases_first() {
        for base in bases.iter().filter(|b| *b != "scratch") {
            pull_if_missing(engine, base, &request.credentials, interruption).await?;
        }
    }
    let (body, size) = stream_context(context, dockerfile);
    let mut events = engine.build(request, body);
    let mut size = pin!(size);
    let mut context_size: Option<Result<ContextSize, ContextError>> = None;
    let (mut stage, mut step, mut output, mut image) = (String::new(), String::new(), String::new(), None);
    loop {
        let event = tokio::select! {
            biased;
            () = interruption.wait() => return Err(EngineError::Interrupted),
            sent = &mut size, if context_size.is_none() => {
                let sent = sent.unwrap_or_else(|_| Err(ContextError::Io { path: DOCKERFILE.into(), source: io::Error::other("the context writer stopped") }));
                if let Ok(sent) = &sent {
                    progress.context_sent(*sent);
                }
                context_size = Some(sent);
                continue;
            }
            event = events.next() => event,
        };
        let event = match event {
            None => break,
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                // A context that could not be read explains any failure that follows it.
                if let Some(Err(context_error)) = context_size {
                    return Err(context_error.into());
                }
                return Err(match error {
                    EngineError::BuildFailed(message) if step.is_empty() => missing_base(engine, bases, message).await,
                    EngineError::BuildFailed(message) => step_failure(step, message, output),
                    other => other,
                });
            }
        };
        match &event {
            BuildEvent::Step { stage: named, instruction, .. } => {
                // BuildKit names the stage; the legacy builder's `FROM ... AS name` does.
                let from = instruction.split(" AS ").nth(1).filter(|_| instruction.starts_with("FROM "));
                if let Some(name) = named.as_deref().or(from) {
                    stage = name.trim().to_owned();
                }
                step.clone_from(instruction);
                output.clear();
            }
            BuildEvent::Output(text) => output.push_str(text),
            BuildEvent::ImageId(id) => image = Some(id.clone()),
            BuildEvent::Status(_) => {}
        }
        progress.event(&stage, &event);
    }
    if let Some(Err(context_error)) = context_size {
        return Err(context_error.into());
    }
    let context_bytes = context_size.and_then(Result::ok).map_or(0, |s| s.bytes);
    Ok(Followed { image, context_bytes })
}

/// A failed step, or a missing base image when the step was a `FROM`.
fn step_failure(step: String, message: String, output: String) -> EngineError {
    match step.strip_prefix("FROM ") {
        Some(from) => EngineError::BaseImageMissing {
            image: from.split_whitespace().next().unwrap_or(from).to_owned(),
            message,
            included: false,
        },
        None => EngineError::StepFailed { step, message, output },
    }
}

/// A build that failed before any step: a base image the engine lacks, if one is missing.
async fn missing_base(engine: &impl Engine, bases: &[String], message: String) -> EngineError {
    for base in bases.iter().filter(|b| *b != "scratch") {
        if engine.inspect(base).await.is_err() {
            return EngineError::BaseImageMissing { image: base.clone(), message, included: false };
        }
    }
    EngineError::BuildFailed(message)
}

/// Applies every tag, or, if one fails or Ctrl-C comes first, puts back those applied: each
/// on the image it named before, or removed if it named none. A request is never abandoned
/// midway (the engine might apply it unseen): the interruption is checked between them.
pub(crate) async fn tag_all(
    engine: &impl Engine,
    id: &str,
    tags: &[String],
    interruption: &Interruption,
) -> Result<(), EngineError> {
    let mut applied: Vec<(&String, Option<String>)> = Vec::new();
    for tag in tags {
        let result = if interruption.happened() {
            Err(EngineError::Interrupted)
        } else {
            let previous = engine.inspect(tag).await.ok().map(|image| image.id);
            engine.tag(id, tag).await.map(|()| previous)
        };
        match result {
            Ok(previous) => applied.push((tag, previous)),
            Err(error) => {
                // Newest first, so a tag applied twice ends where it was before the first.
                for (tag, previous) in applied.into_iter().rev() {
                    // Best effort: the first error is the one to report.
                    let _ = match previous {
                        Some(previous) => engine.tag(&previous, tag).await,
                        None => engine.untag(tag).await,
                    };
                }
                return Err(error);
            }
        }
    }
    Ok(())
}

type ContextStream = BoxStream<'static, Result<Bytes, io::Error>>;

/// The context as a stream of tar chunks, written on a blocking thread (memory stays at a few
/// chunks), and its size once all is written.
fn stream_context(
    context: Context,
    dockerfile: String,
) -> (ContextStream, tokio::sync::oneshot::Receiver<Result<ContextSize, ContextError>>) {
    let (chunks, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
    let (size_sender, size) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter { buffer: Vec::with_capacity(CHUNK), chunks: chunks.clone() };
        let result = context.write(&dockerfile, &mut writer);
        if let Err(error) = &result {
            let _ = chunks.blocking_send(Err(io::Error::other(error.to_string())));
        }
        let _ = size_sender.send(result);
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (stream.boxed(), size)
}

const CHUNK: usize = 64 * 1024;

/// Sends what is written in chunks of [`CHUNK`] bytes.
struct ChannelWriter {
    buffer: Vec<u8>,
    chunks: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        // The receiver is gone when the build stopped: stop writing too.
        self.chunks.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the build stopped"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{ImageInfo, Probe, PushEvent, RunOutcome};
    use crate::interrupt::Trigger;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Plays a script of build events and records every call; pushes report one layer and a
    /// digest made of the reference's length.
    pub(crate) struct Fake {
        script: Vec<Result<BuildEvent, String>>,
        failing_tag: Option<&'static str>,
        /// The push of this tag fails midway.
        pub(crate) failing_push: Option<&'static str>,
        /// This registry refuses the credentials.
        pub(crate) refusing_registry: Option<&'static str>,
        /// Tags the engine had before the build, and the images they named.
        existing: Vec<(&'static str, &'static str)>,
        /// Pressed during the first tag request.
        ctrl_c_while_tagging: Option<Trigger>,
        /// The files the build's last stage holds (name, contents, mode): sent to the file a
        /// build request exports to, and copied out of any image.
        pub(crate) artifacts: Vec<(&'static str, &'static [u8], u32)>,
        /// Pressed during the first copy out of an image.
        pub(crate) ctrl_c_while_copying: Option<Trigger>,
        /// Pressed once the build's events are all sent; the build then never ends.
        pub(crate) ctrl_c_after_events: Option<Trigger>,
        /// What each request for labelled images answers, in turn (then none).
        pub(crate) labelled: Mutex<std::collections::VecDeque<Vec<String>>>,
        /// What saving any image gives (a docker-archive).
        pub(crate) saved: Vec<u8>,
        /// The archives loaded.
        pub(crate) loaded: Mutex<Vec<Vec<u8>>>,
        calls: Mutex<Vec<String>>,
    }

    impl Fake {
        pub(crate) fn new(script: Vec<Result<BuildEvent, String>>) -> Fake {
            Fake {
                script,
                failing_tag: None,
                failing_push: None,
                refusing_registry: None,
                existing: vec![],
                ctrl_c_while_tagging: None,
                artifacts: vec![],
                ctrl_c_while_copying: None,
                ctrl_c_after_events: None,
                labelled: Mutex::default(),
                saved: vec![],
                loaded: Mutex::new(Vec::new()),
                calls: Mutex::new(Vec::new()),
            }
        }

        /// A tar of the artifacts named `name`, or of all for none.
        fn tar_of(&self, name: Option<&str>) -> Vec<u8> {
            let mut tar = tar::Builder::new(Vec::new());
            for (path, data, mode) in self.artifacts.iter().filter(|a| name.is_none_or(|n| n == a.0)) {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(*mode);
                header.set_cksum();
                tar.append_data(&mut header, path, *data).unwrap();
            }
            tar.into_inner().unwrap()
        }

        pub(crate) fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }

        fn record(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
    }

    impl Engine for Fake {
        fn build(
            &self,
            request: &BuildRequest,
            context: ContextStream,
        ) -> BoxStream<'_, Result<BuildEvent, EngineError>> {
            let labels: Vec<&String> = request.labels.keys().collect();
            let export = request.export_to.as_ref().map_or(String::new(), |_| " --output".to_owned());
            self.record(format!("build {} --target {}{export} labels {labels:?}", request.dockerfile, request.target));
            if let Some(file) = &request.export_to {
                std::fs::write(file, self.tar_of(None)).unwrap();
            }
            let script = self.script.clone();
            let ctrl_c = self.ctrl_c_after_events.as_ref();
            let events = futures_util::stream::once(async move {
                // Read the whole context first, as the legacy builder does.
                let chunks: Vec<_> = context.collect().await;
                assert!(chunks.iter().all(Result::is_ok));
                futures_util::stream::iter(script.into_iter().map(|e| e.map_err(EngineError::BuildFailed)))
            })
            .flatten();
            match ctrl_c {
                None => events.boxed(),
                Some(ctrl_c) => events
                    .chain(
                        futures_util::stream::once(async move { ctrl_c.interrupt() }).filter_map(|()| async { None }),
                    )
                    .chain(futures_util::stream::pending())
                    .boxed(),
            }
        }

        async fn tag(&self, id: &str, reference: &str) -> Result<(), EngineError> {
            self.record(format!("tag {id} {reference}"));
            if let Some(ctrl_c) = &self.ctrl_c_while_tagging {
                ctrl_c.interrupt();
            }
            if self.failing_tag == Some(reference) {
                return Err(EngineError::NoImage);
            }
            Ok(())
        }

        async fn untag(&self, reference: &str) -> Result<(), EngineError> {
            self.record(format!("untag {reference}"));
            Ok(())
        }

        async fn remove(&self, id: &str) -> Result<(), EngineError> {
            self.record(format!("remove {id}"));
            Ok(())
        }

        async fn labelled(&self, label: &str, value: &str) -> Result<Vec<String>, EngineError> {
            self.record(format!("labelled {label}={value}"));
            Ok(self.labelled.lock().unwrap().pop_front().unwrap_or_default())
        }

        async fn pull(&self, image: &str, _credential: Option<&Credential>) -> Result<(), EngineError> {
            self.record(format!("pull {image}"));
            Ok(())
        }

        async fn save(&self, image: &str) -> Result<Vec<u8>, EngineError> {
            self.record(format!("save {image}"));
            Ok(self.saved.clone())
        }

        async fn load(&self, archive: Vec<u8>) -> Result<(), EngineError> {
            self.record("load".to_owned());
            self.loaded.lock().unwrap().push(archive);
            Ok(())
        }

        async fn copy_out(&self, image: &str, path: &str, interruption: &Interruption) -> Result<Vec<u8>, EngineError> {
            self.record(format!("copy_out {image} {path}"));
            if let Some(ctrl_c) = &self.ctrl_c_while_copying {
                ctrl_c.interrupt();
            }
            if interruption.happened() {
                return Err(EngineError::Interrupted);
            }
            let name = path.trim_start_matches('/');
            match self.artifacts.iter().any(|a| a.0 == name) {
                true => Ok(self.tar_of(Some(name))),
                false => Err(EngineError::BuildFailed(format!("Could not find the file {path} in container"))),
            }
        }

        async fn inspect(&self, reference: &str) -> Result<ImageInfo, EngineError> {
            self.record(format!("inspect {reference}"));
            let id = match self.existing.iter().find(|(tag, _)| *tag == reference) {
                Some((_, id)) => id.to_string(),
                None if reference.starts_with("sha256:") => reference.to_owned(),
                None => return Err(EngineError::NoImage),
            };
            Ok(ImageInfo {
                id,
                size: 1234,
                tags: vec![],
                user: String::new(),
                labels: Default::default(),
                exposed: vec![],
            })
        }

        async fn check_registry(&self, reference: &str, credential: Option<&Credential>) -> Result<(), EngineError> {
            self.record(format!("check {reference} {}", credential.map_or("anonymous", |c| c.registry.as_str())));
            match self.refusing_registry {
                Some(refused) if crate::engine::registry_of(reference) == refused => {
                    Err(crate::engine::classify_registry_error(
                        reference,
                        credential.is_none(),
                        "unauthorized: authentication required".into(),
                    ))
                }
                _ => Ok(()),
            }
        }

        fn push(
            &self,
            reference: &str,
            credential: Option<&Credential>,
        ) -> BoxStream<'_, Result<PushEvent, EngineError>> {
            self.record(format!("push {reference} {}", credential.map_or("anonymous", |c| c.registry.as_str())));
            let failing = self.failing_push == Some(reference);
            let reference = reference.to_owned();
            let events = [
                Ok(PushEvent::LayerFound),
                Ok(PushEvent::LayerProgress { current: 10, total: 20 }),
                Ok(PushEvent::LayerDone { already: false }),
            ];
            let end = if failing {
                Err(EngineError::PushFailed { reference, message: "connection reset".into() })
            } else {
                Ok(PushEvent::Digest(format!("sha256:{}", reference.len())))
            };
            futures_util::stream::iter(events.into_iter().chain([end])).boxed()
        }

        async fn run_once(
            &self,
            _: &str,
            _: &[String],
            _: Option<&Probe>,
            _: Duration,
            _: &Interruption,
        ) -> Result<RunOutcome, EngineError> {
            unreachable!("not used by builds")
        }
    }

    #[derive(Default)]
    pub(crate) struct Recorder {
        sent: Option<ContextSize>,
        lines: Vec<String>,
    }

    impl Progress for Recorder {
        fn context_sent(&mut self, size: ContextSize) {
            self.sent = Some(size);
        }

        fn event(&mut self, stage: &str, event: &BuildEvent) {
            self.lines.push(format!("{stage}: {event:?}"));
        }
    }

    pub(crate) fn step(number: u32, instruction: &str) -> Result<BuildEvent, String> {
        Ok(BuildEvent::Step { stage: None, number, total: 4, instruction: instruction.into() })
    }

    async fn run(fake: &Fake) -> (Result<Built, EngineError>, Recorder) {
        run_until(fake, &Interruption::manual().1).await
    }

    async fn run_until(fake: &Fake, interruption: &Interruption) -> (Result<Built, EngineError>, Recorder) {
        let files = [("Cargo.toml", "[package]"), ("src/main.rs", "fn main() {}")];
        let context = Context::generated(files.map(|(path, text)| (path.to_owned(), text.to_owned())).to_vec());
        let tags = ["app:1.0".to_owned(), "app:latest".to_owned()];
        let image_build = ImageBuild {
            buildkit: false,
            no_cache: false,
            bases: vec![],
            credentials: vec![],
            binary: "app",
            dockerfile: "FROM scratch\n".into(),
            context,
            target: "runtime",
            tags: &tags,
        };
        let mut recorder = Recorder::default();
        let result = build(fake, image_build, &mut recorder, interruption).await;
        (result, recorder)
    }

    #[tokio::test]
    async fn a_good_build_is_tagged_and_inspected() {
        let fake = Fake::new(vec![
            step(1, "FROM rust AS builder"),
            Ok(BuildEvent::ImageId("sha256:1".into())),
            step(3, "FROM scratch AS runtime"),
            Ok(BuildEvent::ImageId("sha256:2".into())),
        ]);
        let (built, recorder) = run(&fake).await;
        let built = built.unwrap();
        assert_eq!(built.id, "sha256:2", "the last stage's image is the result");
        assert_eq!(built.size, 1234);
        assert_eq!(
            fake.calls(),
            [
                "build .containerize/Dockerfile --target runtime labels []",
                "inspect sha256:2",
                "inspect app:1.0",
                "tag sha256:2 app:1.0",
                "inspect app:latest",
                "tag sha256:2 app:latest",
            ]
        );
        assert_eq!(recorder.sent.unwrap().files, 3, "two project files and the Dockerfile");
        assert!(recorder.lines[2].starts_with("runtime: "), "{:?}", recorder.lines);
    }

    #[tokio::test]
    async fn a_failed_step_tags_nothing_and_keeps_its_output() {
        let fake = Fake::new(vec![
            step(1, "FROM rust AS builder"),
            step(2, "RUN [\"cargo\", \"build\"]"),
            Ok(BuildEvent::Output("error[E0425]: oops\n".into())),
            Err("returned a non-zero code: 101".into()),
        ]);
        let (built, _) = run(&fake).await;
        match built.unwrap_err() {
            EngineError::StepFailed { step, output, message } => {
                assert_eq!(step, "RUN [\"cargo\", \"build\"]");
                assert_eq!(output, "error[E0425]: oops\n");
                assert!(message.contains("101"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fake.calls(), ["build .containerize/Dockerfile --target runtime labels []"]);
    }

    #[tokio::test]
    async fn a_failing_from_names_the_missing_image() {
        let fake =
            Fake::new(vec![step(1, "FROM rust:1.95.0-slim-trixie AS builder"), Err("pull access denied".into())]);
        match run(&fake).await.0.unwrap_err() {
            EngineError::BaseImageMissing { image, .. } => {
                assert_eq!(image, "rust:1.95.0-slim-trixie");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_tag_takes_back_the_others() {
        let mut fake = Fake::new(vec![Ok(BuildEvent::ImageId("sha256:2".into()))]);
        fake.failing_tag = Some("app:latest");
        assert!(run(&fake).await.0.is_err());
        let tags: Vec<String> = fake.calls().into_iter().filter(|c| !c.starts_with("inspect")).collect();
        assert_eq!(tags[1..], ["tag sha256:2 app:1.0", "tag sha256:2 app:latest", "untag app:1.0"]);
    }

    #[tokio::test]
    async fn ctrl_c_while_tagging_puts_every_tag_back() {
        let (trigger, interruption) = Interruption::manual();
        let mut fake = Fake::new(vec![Ok(BuildEvent::ImageId("sha256:2".into()))]);
        // `app:1.0` named an older image: it names it again; `app:latest` was not there.
        fake.existing = vec![("app:1.0", "sha256:old")];
        fake.ctrl_c_while_tagging = Some(trigger);
        let (result, _) = run_until(&fake, &interruption).await;
        assert!(matches!(result, Err(EngineError::Interrupted)), "{result:?}");
        let tags: Vec<String> =
            fake.calls().into_iter().filter(|c| c.starts_with("tag") || c.starts_with("untag")).collect();
        assert_eq!(
            tags,
            ["tag sha256:2 app:1.0", "tag sha256:old app:1.0"],
            "the request under way ends, then is undone"
        );
    }

    #[tokio::test]
    async fn ctrl_c_before_tagging_tags_nothing() {
        let (trigger, interruption) = Interruption::manual();
        let fake = Fake::new(vec![Ok(BuildEvent::ImageId("sha256:2".into()))]);
        trigger.interrupt();
        assert!(matches!(run_until(&fake, &interruption).await.0, Err(EngineError::Interrupted)));
        assert!(fake.calls().iter().all(|c| !c.starts_with("tag")), "{:?}", fake.calls());
    }
}
