//! The engine's build stream, legacy or BuildKit, as [`BuildEvent`]s.

use super::*;
use bollard::models::BuildInfoAux;

/// The events in one item of the build stream: the legacy builder's text, BuildKit's status.
pub fn stream_events(info: bollard::models::BuildInfo, buildkit: &mut BuildKitProgress) -> Vec<BuildEvent> {
    let mut events = Vec::new();
    if let Some(text) = info.stream {
        // The daemon colours a step's stderr for terminals; the step's text is what matters.
        let text = text.replace("\u{1b}[91m", "").replace("\u{1b}[0m", "");
        for line in text.split_inclusive('\n') {
            events.push(legacy_step(line).unwrap_or_else(|| BuildEvent::Output(line.to_owned())));
        }
    }
    if let Some(status) = info.status {
        events.push(BuildEvent::Status(status));
    }
    match info.aux {
        Some(BuildInfoAux::Default(image)) => events.extend(image.id.map(BuildEvent::ImageId)),
        Some(BuildInfoAux::BuildKit(status)) => events.extend(buildkit.events(status)),
        None => {}
    }
    events
}

/// A step of the legacy builder: Docker's `Step 3/12 : RUN ...`, or Podman's (Buildah's),
/// which counts steps per stage and numbers the stage when there are several:
/// `[1/2] STEP 3/8: RUN ...`.
fn legacy_step(line: &str) -> Option<BuildEvent> {
    let (numbers, instruction) = match line.strip_prefix("Step ") {
        Some(rest) => rest.split_once(" : ")?,
        None => {
            let unnumbered =
                line.strip_prefix('[').and_then(|rest| rest.split_once("] ")).map_or(line, |(_, rest)| rest);
            unnumbered.strip_prefix("STEP ")?.split_once(": ")?
        }
    };
    let (number, total) = numbers.split_once('/')?;
    Some(BuildEvent::Step {
        stage: None,
        number: number.parse().ok()?,
        total: total.parse().ok()?,
        instruction: instruction.trim_end().to_owned(),
    })
}

/// What BuildKit has reported so far: its status messages repeat each vertex as it goes.
#[derive(Default)]
pub struct BuildKitProgress {
    started: std::collections::HashSet<String>,
    cached: std::collections::HashSet<String>,
    /// The unfinished last line of each step's stdout and stderr (by vertex and stream):
    /// BuildKit sends logs in chunks that split lines, and a step's two streams interleave.
    partial: std::collections::BTreeMap<(String, i64), String>,
}

impl BuildKitProgress {
    /// The new events in one status message, step by step: each step as it starts, its
    /// output in whole lines, the rest of its output once it completes (then `CACHED`, if it
    /// came from the cache).
    pub fn events(&mut self, status: bollard::moby::buildkit::v1::StatusResponse) -> Vec<BuildEvent> {
        // Whole lines by step, in the order they came.
        let mut lines: Vec<(String, String)> = Vec::new();
        for log in status.logs {
            let partial = self.partial.entry((log.vertex.clone(), log.stream)).or_default();
            partial.push_str(&String::from_utf8_lossy(&log.msg));
            if let Some(end) = partial.rfind('\n') {
                let rest = partial.split_off(end + 1);
                lines.push((log.vertex, std::mem::replace(partial, rest)));
            }
        }
        let mut events = Vec::new();
        for vertex in &status.vertexes {
            if vertex.started.is_some() && self.started.insert(vertex.digest.clone()) {
                events.push(buildkit_step(&vertex.name));
            }
            let (own, others) = lines.into_iter().partition(|(digest, _)| digest == &vertex.digest);
            lines = others;
            events.extend(own.into_iter().map(|(_, text): (String, String)| BuildEvent::Output(text)));
            if vertex.completed.is_none() {
                continue;
            }
            let streams = (vertex.digest.clone(), i64::MIN)..=(vertex.digest.clone(), i64::MAX);
            let unfinished: Vec<(String, i64)> = self.partial.range(streams).map(|(key, _)| key.clone()).collect();
            for key in unfinished {
                let rest = self.partial.remove(&key).unwrap_or_default();
                if !rest.is_empty() {
                    events.push(BuildEvent::Output(rest + "\n"));
                }
            }
            if vertex.cached && self.cached.insert(vertex.digest.clone()) {
                events.push(BuildEvent::Output("CACHED\n".to_owned()));
            }
        }
        // Steps this message has no news of.
        events.extend(lines.into_iter().map(|(_, text)| BuildEvent::Output(text)));
        events
    }
}

/// A BuildKit vertex name, `[builder 3/12] RUN ...`, as a step; other vertices
/// (`[internal] load build context`) as status.
fn buildkit_step(name: &str) -> BuildEvent {
    let parsed = name.strip_prefix('[').and_then(|rest| {
        let (bracket, instruction) = rest.split_once("] ")?;
        let mut words = bracket.split_whitespace().rev();
        let (number, total) = words.next()?.split_once('/')?;
        Some(BuildEvent::Step {
            stage: words.next().map(str::to_owned),
            number: number.parse().ok()?,
            total: total.parse().ok()?,
            // The cache mounts say nothing about the step; its command does.
            instruction: instruction
                .split_whitespace()
                .filter(|w| !w.starts_with("--mount="))
                .collect::<Vec<_>>()
                .join(" "),
        })
    });
    parsed.unwrap_or_else(|| BuildEvent::Status(format!("{name}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildkit_vertices_become_steps() {
        assert_eq!(
            buildkit_step("[builder  5/14] RUN [\"cargo\", \"build\"]"),
            BuildEvent::Step {
                stage: Some("builder".into()),
                number: 5,
                total: 14,
                instruction: "RUN [\"cargo\", \"build\"]".into()
            }
        );
        assert_eq!(
            buildkit_step(
                "[builder 7/7] RUN --mount=type=cache,id=x,target=/t --mount=type=cache,id=y,target=/u [cargo build]"
            ),
            BuildEvent::Step {
                stage: Some("builder".into()),
                number: 7,
                total: 7,
                instruction: "RUN [cargo build]".into()
            }
        );
        assert_eq!(
            buildkit_step("[ 2/3] COPY a b"),
            BuildEvent::Step { stage: None, number: 2, total: 3, instruction: "COPY a b".into() }
        );
        assert_eq!(
            buildkit_step("[internal] load build context"),
            BuildEvent::Status("[internal] load build context\n".into())
        );
    }

    #[test]
    fn legacy_stream_lines_become_events() {
        let info = bollard::models::BuildInfo {
            stream: Some("Step 3/12 : RUN [\"cargo\", \"build\"]\n ---> Running in 1a2b\n".into()),
            ..Default::default()
        };
        assert_eq!(
            stream_events(info, &mut BuildKitProgress::default()),
            [
                BuildEvent::Step {
                    stage: None,
                    number: 3,
                    total: 12,
                    instruction: "RUN [\"cargo\", \"build\"]".into()
                },
                BuildEvent::Output(" ---> Running in 1a2b\n".into()),
            ]
        );
        let podman = bollard::models::BuildInfo {
            stream: Some("[1/2] STEP 5/8: RUN [\"cargo\", \"build\"]\n".into()),
            ..Default::default()
        };
        let single_stage =
            bollard::models::BuildInfo { stream: Some("STEP 1/2: FROM debian\n".into()), ..Default::default() };
        let commit =
            bollard::models::BuildInfo { stream: Some("[2/2] COMMIT\n--> 6128811f9df\n".into()), ..Default::default() };
        let step = |number, total, instruction: &str| BuildEvent::Step {
            stage: None,
            number,
            total,
            instruction: instruction.into(),
        };
        let mut progress = BuildKitProgress::default();
        assert_eq!(stream_events(podman, &mut progress), [step(5, 8, "RUN [\"cargo\", \"build\"]")]);
        assert_eq!(stream_events(single_stage, &mut progress), [step(1, 2, "FROM debian")]);
        assert_eq!(
            stream_events(commit, &mut progress),
            [BuildEvent::Output("[2/2] COMMIT\n".into()), BuildEvent::Output("--> 6128811f9df\n".into())]
        );
        let aux = bollard::models::BuildInfo {
            aux: Some(BuildInfoAux::Default(bollard::models::ImageId { id: Some("sha256:ab".into()) })),
            ..Default::default()
        };
        assert_eq!(stream_events(aux, &mut BuildKitProgress::default()), [BuildEvent::ImageId("sha256:ab".into())]);
    }

    #[test]
    fn buildkit_output_comes_in_whole_lines_of_each_stream() {
        use bollard::moby::buildkit::v1::{StatusResponse, Vertex, VertexLog};
        let now = Some(Default::default());
        let vertex = |completed| Vertex {
            digest: "sha256:v".into(),
            name: "[test 9/9] RUN cargo test".into(),
            started: now,
            completed: if completed { now } else { None },
            ..Default::default()
        };
        let log = |stream: i64, msg: &str| VertexLog {
            vertex: "sha256:v".into(),
            stream,
            msg: msg.into(),
            ..Default::default()
        };
        let mut progress = BuildKitProgress::default();
        let first = StatusResponse {
            vertexes: vec![vertex(false)],
            logs: vec![log(1, "test result: ok. finished in 0.00s"), log(2, "     Running unittests\n")],
            ..Default::default()
        };
        let events = progress.events(first);
        assert_eq!(events[1..], [BuildEvent::Output("     Running unittests\n".into())], "{events:?}");
        let last =
            StatusResponse { vertexes: vec![vertex(true)], logs: vec![log(1, "\n\nall done")], ..Default::default() };
        assert_eq!(
            progress.events(last),
            [
                BuildEvent::Output("test result: ok. finished in 0.00s\n\n".into()),
                BuildEvent::Output("all done\n".into())
            ]
        );
    }

    #[test]
    fn a_cached_step_says_so_before_the_next_step_starts() {
        use bollard::moby::buildkit::v1::{StatusResponse, Vertex};
        let now = Some(Default::default());
        let step = |n: u32, cached: bool| Vertex {
            digest: format!("sha256:{n}"),
            name: format!("[builder {n}/9] RUN cargo build"),
            started: now,
            completed: cached.then_some(now).flatten(),
            cached,
            ..Default::default()
        };
        let status = StatusResponse { vertexes: vec![step(5, true), step(6, false)], ..Default::default() };
        let events = BuildKitProgress::default().events(status);
        assert!(
            matches!(&events[..], [
            BuildEvent::Step { number: 5, .. },
            BuildEvent::Output(cached),
            BuildEvent::Step { number: 6, .. },
        ] if cached == "CACHED\n"),
            "{events:?}"
        );
    }
}
