//! How results and problems reach the user: diagnostics rendered with their source, errors
//! with their causes and help, all on stderr.

use crate::error::Error;
use containerize_build::diagnostic::{Diagnostic, Origin, Severity};
use miette::{LabeledSpan, NamedSource, SourceCode};
use std::fmt;

/// A diagnostic or an error, as miette draws it.
#[derive(Debug)]
struct Report {
    message: String,
    severity: miette::Severity,
    source: Option<NamedSource<String>>,
    label: Option<LabeledSpan>,
    help: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label.clone().map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

/// Sets how reports are drawn. Lines are wrapped for a terminal only: in a log or a pipe an
/// image reference or a path stays whole, to copy or search for.
pub(crate) fn init(color: bool) {
    let wrap = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new().color(color).unicode(color).terminal_links(false).wrap_lines(wrap).build(),
        )
    }));
}

fn emit(report: Report) {
    say!("{:?}", miette::Report::new(report));
}

/// Shows one settings diagnostic, with the source it points into.
pub(crate) fn diagnostic(d: &Diagnostic) {
    let (source, label, message) = match &d.origin {
        Origin::File { file, span } => {
            // miette appends the line and column to the name.
            let name = file.path.display().to_string();
            let label = LabeledSpan::new_with_span(Some(d.label.clone()), span.clone());
            (Some(NamedSource::new(name, file.text.clone())), Some(label), d.message.clone())
        }
        Origin::Flag(flag) => (None, None, format!("{flag}: {}", d.message)),
        Origin::Derived => (None, None, d.message.clone()),
    };
    let severity = match d.severity {
        Severity::Warning => miette::Severity::Warning,
        Severity::Error => miette::Severity::Error,
    };
    emit(Report { message, severity, source, label, help: d.help.clone() });
}

/// Shows an error that stopped the run: its message, causes, and what to do.
pub(crate) fn error(error: &Error) {
    if let Error::Settings(diagnostics) = error {
        diagnostics.iter().for_each(diagnostic);
        let count = diagnostics.iter().filter(|d| d.is_error()).count();
        let s = if count == 1 { "" } else { "s" };
        say!("error: {count} problem{s} in the container settings; nothing was built");
        return;
    }
    let shown = match error {
        Error::Engine(crate::engine::EngineError::StepFailed { output, .. }) => Some((output, "the failed step", 60)),
        // All of it, as cargo test shows it on the host: which tests ran, and each failure.
        Error::TestsFailed { output, .. } => Some((output, "cargo test", usize::MAX)),
        _ => None,
    };
    if let Some((output, what, limit)) = shown {
        let lines: Vec<&str> = output.lines().collect();
        let shown = &lines[lines.len().saturating_sub(limit)..];
        if !shown.is_empty() {
            let last = if shown.len() < lines.len() { format!(" (last {limit} lines)") } else { String::new() };
            say!("--- output of {what}{last} ---");
            shown.iter().for_each(|l| say!("{l}"));
            say!("---");
        }
    }
    let mut message = error.to_string();
    // A cause may quote an engine, a registry or a path: its control characters are shown
    // escaped, never sent to the terminal, nor able to start a line of their own.
    for cause in crate::error::causes(error) {
        message.push_str(&format!("\n  caused by: {}", crate::engine::discovery::shown(&cause)));
    }
    emit(Report { message, severity: miette::Severity::Error, source: None, label: None, help: error.help() });
}

/// Human-readable bytes, e.g. `12.3 MB`.
pub(crate) fn size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", units[unit]) }
}
