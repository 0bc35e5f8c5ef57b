//! Build and push progress on stderr: a live line on a terminal, a line per step (and per
//! pushed image) in logs, everything with `-v`, nothing with `-q`.

use crate::cli::report;
use crate::context::ContextSize;
use crate::engine::{BuildEvent, PushEvent};
use crate::image::Progress;
use crate::push::PushProgress;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

/// How much to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Nothing.
    Quiet,
    /// Steps.
    Normal,
    /// Steps and their output.
    Verbose,
}

/// Shows one image's build.
pub(crate) struct Display {
    verbosity: Verbosity,
    started: Instant,
    live: Option<ProgressBar>,
}

impl Display {
    /// Starts showing the build of `binary`.
    pub(crate) fn new(verbosity: Verbosity, terminal: bool, binary: &str) -> Display {
        let live = (terminal && verbosity == Verbosity::Normal).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed:>4}").expect("a valid template"),
            );
            bar.set_prefix(binary.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if verbosity != Verbosity::Quiet && live.is_none() {
            eprintln!("building {binary}");
        }
        Display { verbosity, started: Instant::now(), live }
    }

    /// Removes the live line.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.live {
            bar.finish_and_clear();
        }
    }

    fn line(&self, text: &str) {
        match &self.live {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Display {
    fn context_sent(&mut self, size: ContextSize) {
        if self.verbosity != Verbosity::Quiet {
            self.line(&format!("  context: {} files, {}", size.files, report::size(size.bytes)));
        }
    }

    fn event(&mut self, stage: &str, event: &BuildEvent) {
        let elapsed = self.started.elapsed().as_secs_f32();
        match (self.verbosity, event) {
            (Verbosity::Quiet, _) | (_, BuildEvent::ImageId(_)) => {}
            (_, BuildEvent::Step { number, total, instruction, .. }) => {
                let text = format!("[{stage} {number}/{total}] {}", shorten(instruction, 100));
                match &self.live {
                    Some(bar) => bar.set_message(text),
                    None => eprintln!("  {text} (+{elapsed:.1}s)"),
                }
            }
            (Verbosity::Verbose, BuildEvent::Output(text) | BuildEvent::Status(text)) if text.trim().is_empty() => {}
            (Verbosity::Verbose, BuildEvent::Output(text) | BuildEvent::Status(text)) => {
                eprint!("{text}");
            }
            (Verbosity::Normal, _) => {}
        }
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Shows the push of one image's tags: on a terminal a live line with its layers (how many
/// are in the registry, bytes sent of the uploading ones); in logs one line once pushed;
/// with `-v` a line per layer.
pub(crate) struct PushDisplay {
    verbosity: Verbosity,
    binary: String,
    live: Option<ProgressBar>,
    tag: String,
    /// The first tag's layers: found, sent, already in the registry. Later tags find them all
    /// there.
    layers: (u32, u32, u32),
    first: Option<(u32, u32, u32)>,
    /// Bytes sent of each uploading layer, by its size (see [`PushEvent::LayerProgress`]).
    bytes: std::collections::BTreeMap<u64, u64>,
}

impl PushDisplay {
    /// Starts showing the push of `binary`'s image.
    pub(crate) fn new(verbosity: Verbosity, terminal: bool, binary: &str) -> PushDisplay {
        let live = (terminal && verbosity == Verbosity::Normal).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} push {prefix} {wide_msg} {elapsed:>4}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        PushDisplay {
            verbosity,
            binary: binary.to_owned(),
            live,
            tag: String::new(),
            layers: (0, 0, 0),
            first: None,
            bytes: Default::default(),
        }
    }

    /// Removes the live line; in logs, says what was pushed.
    pub(crate) fn finish(&mut self, tags: usize) {
        if let Some(bar) = &self.live {
            bar.finish_and_clear();
        }
        let (found, sent, already) = self.first.unwrap_or(self.layers);
        if self.verbosity != Verbosity::Quiet && tags > 0 {
            let s = if tags == 1 { "" } else { "s" };
            eprintln!("pushed {}: {tags} tag{s}, {found} layers ({sent} sent, {already} already there)", self.binary);
        }
    }
}

impl PushProgress for PushDisplay {
    fn event(&mut self, tag: &str, event: &PushEvent) {
        if tag != self.tag {
            if !self.tag.is_empty() {
                self.first.get_or_insert(self.layers);
            }
            tag.clone_into(&mut self.tag);
            self.layers = (0, 0, 0);
            self.bytes.clear();
            if let Some(bar) = &self.live {
                bar.set_prefix(tag.to_owned());
            }
        }
        match event {
            PushEvent::LayerFound => self.layers.0 += 1,
            PushEvent::LayerProgress { current, total } => {
                self.bytes.insert(*total, *current);
            }
            PushEvent::LayerDone { already: false } => self.layers.1 += 1,
            PushEvent::LayerDone { already: true } => self.layers.2 += 1,
            PushEvent::Digest(_) => {}
        }
        if let (Verbosity::Verbose, PushEvent::LayerDone { already }) = (self.verbosity, event) {
            eprintln!("  {tag}: layer {}", if *already { "already there" } else { "pushed" });
        }
        if let Some(bar) = &self.live {
            let (found, sent, already) = self.layers;
            let uploading: u64 = self.bytes.keys().sum();
            let done: u64 = self.bytes.values().sum();
            let bytes = if uploading == 0 {
                String::new()
            } else {
                format!(", {}/{}", report::size(done), report::size(uploading))
            };
            bar.set_message(format!("{}/{found} layers{bytes}", sent + already));
        }
    }
}
