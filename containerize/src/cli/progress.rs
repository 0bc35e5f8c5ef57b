//! Build and push progress on stderr: a live line on a terminal, a line per step (and per
//! pushed image) in logs, everything with `-v`, nothing with `-q`.

use crate::cli::report;
use crate::context::ContextSize;
use crate::engine::{BuildEvent, PushEvent};
use crate::image::Progress;
use crate::push::{PushProgress, Pushed};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
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
            say!("building {binary}");
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
            None => say!("{text}"),
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
                    None => say!("  {text} (+{elapsed:.1}s)"),
                }
            }
            (Verbosity::Verbose, BuildEvent::Output(text) | BuildEvent::Status(text)) if text.trim().is_empty() => {}
            (Verbosity::Verbose, BuildEvent::Output(text) | BuildEvent::Status(text)) => {
                say_part!("{text}");
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

/// Shows the push of each image's tags: on a terminal a live line per tag (how many layers are
/// in the registry) and a bar per uploading layer; in logs one line per image once pushed; with
/// `-v` a line per layer.
pub(crate) struct PushDisplay {
    verbosity: Verbosity,
    terminal: bool,
    /// The live lines: the tag's, then one per uploading layer.
    live: Option<(MultiProgress, ProgressBar)>,
    tag: String,
    /// The current tag's layers: found, sent, already in the registry.
    layers: (u32, u32, u32),
    /// The image's first tag's layers: later tags find them all there.
    first: Option<(u32, u32, u32)>,
    /// A bar per uploading layer, by its size: the engine names layers by id, which bollard's
    /// model of the push stream drops (see [`PushEvent::LayerProgress`]), so two layers of one
    /// size share a bar.
    uploads: std::collections::BTreeMap<u64, ProgressBar>,
}

impl PushDisplay {
    /// Shows pushes as `verbosity` asks, live on a `terminal`.
    pub(crate) fn new(verbosity: Verbosity, terminal: bool) -> PushDisplay {
        PushDisplay {
            verbosity,
            terminal,
            live: None,
            tag: String::new(),
            layers: (0, 0, 0),
            first: None,
            uploads: Default::default(),
        }
    }

    fn clear_uploads(&mut self) {
        std::mem::take(&mut self.uploads).into_values().for_each(|bar| bar.finish_and_clear());
    }

    /// The bar of the uploading layer of `size` bytes, made on its first progress.
    fn upload(&mut self, size: u64) -> Option<&ProgressBar> {
        let (multi, _) = self.live.as_ref()?;
        Some(self.uploads.entry(size).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(size));
            bar.set_style(
                ProgressStyle::with_template("    layer {total_bytes:>9} [{bar:30}] {bytes:>9}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        }))
    }
}

impl Drop for PushDisplay {
    fn drop(&mut self) {
        self.clear_uploads();
        if let Some((_, bar)) = &self.live {
            bar.finish_and_clear();
        }
    }
}

impl PushProgress for PushDisplay {
    fn image_started(&mut self, _binary: &str) {
        self.tag.clear();
        (self.layers, self.first) = ((0, 0, 0), None);
        self.clear_uploads();
        self.live = (self.terminal && self.verbosity == Verbosity::Normal).then(|| {
            let multi = MultiProgress::new();
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} push {prefix} {wide_msg} {elapsed:>4}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            (multi, bar)
        });
    }

    fn event(&mut self, tag: &str, event: &PushEvent) {
        if tag != self.tag {
            if !self.tag.is_empty() {
                self.first.get_or_insert(self.layers);
            }
            tag.clone_into(&mut self.tag);
            self.layers = (0, 0, 0);
            self.clear_uploads();
            if let Some((_, bar)) = &self.live {
                bar.set_prefix(tag.to_owned());
            }
        }
        match event {
            PushEvent::LayerFound => self.layers.0 += 1,
            PushEvent::LayerProgress { current, total } => {
                if let Some(bar) = self.upload(*total) {
                    bar.set_position(*current);
                }
            }
            PushEvent::LayerDone { already: false } => self.layers.1 += 1,
            PushEvent::LayerDone { already: true } => self.layers.2 += 1,
            PushEvent::Digest(_) => {}
        }
        if let (Verbosity::Verbose, PushEvent::LayerDone { already }) = (self.verbosity, event) {
            say!("  {tag}: layer {}", if *already { "already there" } else { "pushed" });
        }
        if let Some((_, bar)) = &self.live {
            let (found, sent, already) = self.layers;
            bar.set_message(format!("{}/{found} layers in the registry", sent + already));
        }
    }

    fn image_finished(&mut self, name: &str, pushed: &[Pushed]) {
        self.clear_uploads();
        if let Some((_, bar)) = self.live.take() {
            bar.finish_and_clear();
        }
        let (found, sent, already) = self.first.unwrap_or(self.layers);
        if self.verbosity != Verbosity::Quiet && !pushed.is_empty() {
            let s = if pushed.len() == 1 { "" } else { "s" };
            // Podman's compatible API reports no layers, only the digest: say nothing of them.
            let layers = if found + sent + already == 0 {
                String::new()
            } else {
                let s = if found == 1 { "" } else { "s" };
                format!(", {found} layer{s} ({sent} sent, {already} already there)")
            };
            say!("pushed {name}: {} tag{s}{layers}", pushed.len());
        }
    }
}
