//! Pushing built images through the engine: first, before anything is built, each
//! repository's registry is asked whether it answers and takes the credentials; then, once
//! every image is built, each tag is pushed and its manifest's digest kept.
//!
//! The engine compresses the layers and writes the manifest, so the digest is the one the
//! registry serves for the tag (what `skopeo inspect` or `docker pull` shows).

use crate::engine::{Credential, Engine, EngineError, PushEvent, registry_of};
use crate::interrupt::Interruption;
use containerize_build::validate::image;
use futures_util::StreamExt;

/// What watches a push.
pub trait PushProgress {
    /// The push of image `name` begins.
    fn image_started(&mut self, name: &str);
    /// Something happened while pushing `tag`.
    fn event(&mut self, tag: &str, event: &PushEvent);
    /// The push of image `name` ended, with these tags pushed (all of them, unless it failed).
    fn image_finished(&mut self, name: &str, pushed: &[Pushed]);
}

/// One image to push: its name, for the progress, and its tags.
pub struct ImagePush<'a> {
    /// The image as reports name it ([`crate::image::Built::name`]: `app`, `app (debug)`).
    pub name: &'a str,
    /// Its tags.
    pub tags: &'a [String],
}

/// Pushes every tag of every image in turn, with each registry's credentials; stops at the
/// first failure. `pushed` holds what was pushed, in order, for the report, or for the error
/// or Ctrl-C to name.
pub async fn push_all(
    engine: &impl Engine,
    images: &[ImagePush<'_>],
    credential: impl Fn(&str) -> Option<Credential>,
    progress: &mut impl PushProgress,
    interruption: &Interruption,
    pushed: &mut Vec<Pushed>,
) -> Result<(), EngineError> {
    for image in images {
        progress.image_started(image.name);
        let before = pushed.len();
        for tag in image.tags {
            let result = push(engine, tag, credential(registry_of(tag)).as_ref(), progress, interruption).await;
            match result {
                Ok(tag) => pushed.push(tag),
                Err(error) => {
                    progress.image_finished(image.name, &pushed[before..]);
                    return Err(error);
                }
            }
        }
        progress.image_finished(image.name, &pushed[before..]);
    }
    Ok(())
}

/// A pushed tag and the digest of the manifest the registry holds for it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pushed {
    /// The tag, `registry/repository:tag`.
    pub tag: String,
    /// The manifest's digest, `sha256:...`.
    pub digest: String,
}

/// Refuses a reference that names no registry of the user's: without a registry the engine
/// pushes to Docker Hub, and a name without a namespace there is Docker's official
/// `library/` namespace, where no user may push.
pub fn check_name(reference: &str) -> Result<(), EngineError> {
    let (name, _, _) = image::split(reference);
    let path = name.strip_prefix("docker.io/").or_else(|| name.strip_prefix("index.docker.io/"));
    let path = if image::domain(name).is_none() { Some(name) } else { path };
    match path {
        Some(path) if !path.contains('/') || path.starts_with("library/") => Err(EngineError::RepositoryInvalid {
            reference: reference.to_owned(),
            message: "it names no registry, so it would go to Docker Hub's namespace of official images".into(),
        }),
        _ => Ok(()),
    }
}

/// Asks the registry of each repository among `tags` (once per repository) whether it answers
/// and takes the credentials, changing nothing; the first refusal stops.
pub async fn check_registries(
    engine: &impl Engine,
    tags: &[String],
    credential: impl Fn(&str) -> Option<Credential>,
    interruption: &Interruption,
) -> Result<(), EngineError> {
    let mut asked = std::collections::BTreeSet::new();
    for tag in tags {
        let (repository, _, _) = image::split(tag);
        if !asked.insert(repository) {
            continue;
        }
        let credential = credential(registry_of(tag));
        tokio::select! {
            biased;
            () = interruption.wait() => return Err(EngineError::Interrupted),
            checked = engine.check_registry(tag, credential.as_ref()) => checked?,
        }
    }
    Ok(())
}

/// Pushes one tag; its digest once the registry holds the manifest. Ctrl-C stops it (dropping
/// the request makes the engine cancel the push).
pub async fn push(
    engine: &impl Engine,
    tag: &str,
    credential: Option<&Credential>,
    progress: &mut impl PushProgress,
    interruption: &Interruption,
) -> Result<Pushed, EngineError> {
    let mut events = engine.push(tag, credential);
    let mut digest = None;
    loop {
        let event = tokio::select! {
            biased;
            () = interruption.wait() => return Err(EngineError::Interrupted),
            event = events.next() => event,
        };
        match event {
            None => break,
            Some(Err(error)) => return Err(error),
            Some(Ok(event)) => {
                if let PushEvent::Digest(d) = &event {
                    digest = Some(d.clone());
                }
                progress.event(tag, &event);
            }
        }
    }
    let digest = digest.ok_or_else(|| EngineError::PushFailed {
        reference: tag.to_owned(),
        message: "the engine finished without reporting the manifest's digest".into(),
    })?;
    Ok(Pushed { tag: tag.to_owned(), digest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Secret;
    use crate::image::tests::Fake;

    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl PushProgress for Recorder {
        fn image_started(&mut self, binary: &str) {
            self.0.push(format!("start {binary}"));
        }

        fn event(&mut self, tag: &str, event: &PushEvent) {
            self.0.push(format!("{tag}: {event:?}"));
        }

        fn image_finished(&mut self, binary: &str, pushed: &[Pushed]) {
            self.0.push(format!("end {binary} {}", pushed.len()));
        }
    }

    #[tokio::test]
    async fn a_push_that_fails_midway_keeps_what_was_pushed_and_stops() {
        let mut fake = Fake::new(vec![]);
        fake.failing_push = Some("r.example/b:1");
        let a_tags = ["r.example/a:1".to_owned(), "r.example/a:latest".to_owned()];
        let b_tags = ["r.example/b:1".to_owned(), "r.example/b:latest".to_owned()];
        let c_tags = ["r.example/c:1".to_owned()];
        let images = [
            ImagePush { name: "a", tags: &a_tags },
            ImagePush { name: "b", tags: &b_tags },
            ImagePush { name: "c", tags: &c_tags },
        ];
        let (mut recorder, mut pushed) = (Recorder::default(), Vec::new());
        let interruption = Interruption::manual().1;
        let result = push_all(&fake, &images, |_| None, &mut recorder, &interruption, &mut pushed).await;
        assert!(matches!(result, Err(EngineError::PushFailed { reference, .. }) if reference == "r.example/b:1"));
        let tags: Vec<&str> = pushed.iter().map(|p| p.tag.as_str()).collect();
        assert_eq!(tags, ["r.example/a:1", "r.example/a:latest"], "exactly what was pushed");
        let pushes: Vec<String> = fake.calls().into_iter().filter(|c| c.starts_with("push")).collect();
        assert_eq!(
            pushes,
            ["push r.example/a:1 anonymous", "push r.example/a:latest anonymous", "push r.example/b:1 anonymous"],
            "nothing after the failure"
        );
        let ends: Vec<&String> = recorder.0.iter().filter(|l| !l.contains(": ")).collect();
        assert_eq!(ends, ["start a", "end a 2", "start b", "end b 0"]);
    }

    fn credential(registry: &str) -> Credential {
        let secret = Secret::Password { username: "u".into(), password: "p".into() };
        Credential { registry: registry.into(), server: registry.into(), secret }
    }

    #[tokio::test]
    async fn a_push_gives_the_digest_the_engine_reports() {
        let fake = Fake::new(vec![]);
        let mut recorder = Recorder::default();
        let interruption = Interruption::manual().1;
        let tag = "127.0.0.1:5001/hello:1";
        let pushed = push(&fake, tag, Some(&credential("127.0.0.1:5001")), &mut recorder, &interruption).await.unwrap();
        assert_eq!(pushed, Pushed { tag: tag.into(), digest: format!("sha256:{}", tag.len()) });
        assert_eq!(fake.calls(), ["push 127.0.0.1:5001/hello:1 127.0.0.1:5001"]);
        assert_eq!(recorder.0.len(), 4, "every event is shown: {:?}", recorder.0);
    }

    #[tokio::test]
    async fn a_failed_push_is_an_error_and_ctrl_c_stops_one() {
        let mut fake = Fake::new(vec![]);
        fake.failing_push = Some("ghcr.io/acme/a:1");
        let (trigger, interruption) = Interruption::manual();
        let failed = push(&fake, "ghcr.io/acme/a:1", None, &mut Recorder::default(), &interruption).await;
        assert!(matches!(failed, Err(EngineError::PushFailed { .. })), "{failed:?}");
        trigger.interrupt();
        let stopped = push(&fake, "ghcr.io/acme/a:2", None, &mut Recorder::default(), &interruption).await;
        assert!(matches!(stopped, Err(EngineError::Interrupted)), "{stopped:?}");
    }

    #[tokio::test]
    async fn each_repository_is_checked_once_with_its_registrys_credentials() {
        let mut fake = Fake::new(vec![]);
        let interruption = Interruption::manual().1;
        let tags = ["127.0.0.1:5001/a:1", "127.0.0.1:5001/a:latest", "127.0.0.1:5001/b:1", "ghcr.io/acme/c:1"]
            .map(str::to_owned);
        let lookup = |registry: &str| (registry == "127.0.0.1:5001").then(|| credential(registry));
        check_registries(&fake, &tags, lookup, &interruption).await.unwrap();
        assert_eq!(
            fake.calls(),
            [
                "check 127.0.0.1:5001/a:1 127.0.0.1:5001",
                "check 127.0.0.1:5001/b:1 127.0.0.1:5001",
                "check ghcr.io/acme/c:1 anonymous"
            ]
        );
        fake.refusing_registry = Some("ghcr.io");
        let refused = check_registries(&fake, &tags, lookup, &interruption).await;
        assert!(
            matches!(&refused, Err(EngineError::RegistryAuth { registry, anonymous: true, .. }) if registry == "ghcr.io"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_push_needs_a_registry_or_a_namespace() {
        for ok in ["127.0.0.1:5001/hello:1", "ghcr.io/acme/app:1", "acme/app:1", "docker.io/acme/app"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for refused in ["hello:1", "hello", "docker.io/hello:1", "library/hello:1", "docker.io/library/hello:1"] {
            assert!(matches!(check_name(refused), Err(EngineError::RepositoryInvalid { .. })), "{refused}");
        }
    }
}
