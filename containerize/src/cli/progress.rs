//! Build progress on stderr: a live line on a terminal, a line per step in logs, everything
//! with `-v`, nothing with `-q`.

use crate::cli::report;
use crate::context::ContextSize;
use crate::engine::BuildEvent;
use crate::image::Progress;
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
