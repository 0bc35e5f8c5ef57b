//! Diagnostics that point into a source file: the one currency in which every front end
//! (CLI, build script, attribute) reports a bad setting.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file whose text diagnostics point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Where the text was read from, as the user should see it.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self { path: path.into(), text: text.into() })
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A span of a file: a manifest table or a `#[containerize::main]` attribute.
    File {
        /// The file.
        file: Arc<SourceFile>,
        /// Byte range of the value.
        span: Range<usize>,
    },
    /// A command-line flag.
    Flag(&'static str),
    /// Derived from Cargo metadata, the toolchain or a built-in default.
    Derived,
}

impl Origin {
    /// The path, line and column, when the origin is a file.
    pub fn location(&self) -> Option<(&Path, usize, usize)> {
        match self {
            Origin::File { file, span } => {
                let (line, column) = file.line_column(span.start);
                Some((&file.path, line, column))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { .. } => {
                let (path, line, column) = self.location().expect("a file origin has a location");
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::Flag(flag) => write!(f, "the {flag} flag"),
            Origin::Derived => f.write_str("a default"),
        }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Reported; the build goes on.
    Warning,
    /// Nothing is built.
    Error,
}

/// One problem with the user's settings, with where it is and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// What is wrong, as a lowercase sentence fragment.
    pub message: String,
    /// Where it is.
    pub origin: Origin,
    /// A short note shown under the span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `origin`.
    pub fn error(origin: Origin, message: impl Into<String>, label: impl Into<String>) -> Self {
        Self { severity: Severity::Error, message: message.into(), origin, label: label.into(), help: None }
    }

    /// A warning at `origin`.
    pub fn warning(origin: Origin, message: impl Into<String>, label: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(origin, message, label) }
    }

    /// Adds a hint on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this stops the build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The plain form, as `cargo:warning` lines and logs show it:
/// `error: msg` / `  --> file:line:column` / `  = help: ...`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{level}: {}", self.message)?;
        if self.origin != Origin::Derived {
            write!(f, "\n  --> {}", self.origin)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}
