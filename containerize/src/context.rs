//! The build context: exactly the files the plan names, streamed as a tar archive so memory
//! stays flat however large the project.
//!
//! Layout: the project's files under [`SOURCES_DIR`], `include` files under [`INCLUDE_DIR`],
//! the dependency skeleton under [`SKELETON_DIR`] and the Dockerfile at [`DOCKERFILE`], each
//! copied in one step. Real modification times are kept: cargo decides freshness by mtime, and
//! a fixed old mtime would let a stale artifact pass for a fresh one. Symlinks are sent as
//! links, as the docker CLI does. `target/` and `.git/` never go; `.dockerignore` (at the
//! workspace root, matched against paths relative to it) applies with Docker's semantics.

use crate::dockerignore::{DockerIgnore, PatternError};
use containerize_build::Plan;
pub use containerize_build::plan::{DOCKERFILE, INCLUDE_DIR, SOURCES_DIR};
use containerize_build::skeleton::SKELETON_DIR;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What went into a context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextSize {
    /// Files (and links) sent.
    pub files: u64,
    /// Bytes of file content sent.
    pub bytes: u64,
}

/// Why a context can't be made.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The `.dockerignore` is invalid.
    #[error(transparent)]
    Ignore(#[from] PatternError),
    /// Reading a file or writing the stream failed.
    #[error("failed to add {path} to the build context")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// A file or directory of the project, and where it goes in the archive.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// The directory of the archive it goes under.
    under: &'static str,
    /// Its path relative to the context root (and under `under`).
    relative: String,
}

/// The files of a plan's context, and the rules that filter them.
pub struct Context {
    root: PathBuf,
    entries: Vec<Entry>,
    /// Files made in memory (the dependency skeleton), by path in the archive.
    generated: Vec<(String, String)>,
    never: PathBuf,
    ignore: DockerIgnore,
    /// Where `.dockerignore` patterns are relative to, as a path under `root`.
    ignore_base: String,
}

impl Context {
    /// The context of a plan. `workspace_root` holds the `.dockerignore`; `target_dir` is never
    /// sent.
    pub fn of(plan: &Plan, workspace_root: &Path, target_dir: &Path) -> Result<Context, ContextError> {
        let ignore_path = workspace_root.join(".dockerignore");
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => DockerIgnore::parse(&text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => DockerIgnore::default(),
            Err(source) => {
                return Err(ContextError::Io { path: ignore_path, source });
            }
        };
        let root = PathBuf::from(&plan.context.root);
        let ignore_base = workspace_root.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
        let sources = plan.context.copies.iter().map(String::as_str);
        let includes = plan.context.include.iter().map(|i| i.src.as_str());
        let mut context = Context::new(root, sources, includes, ignore, ignore_base, target_dir);
        context.generated = plan
            .context
            .skeleton
            .iter()
            .map(|file| (format!("{SKELETON_DIR}/{}", file.path), file.contents.clone()))
            .collect();
        Ok(context)
    }

    /// The context of `sources` and `includes` (relative to `root`), filtered by `ignore`,
    /// whose patterns are relative to `ignore_base` under `root`.
    pub fn new<'p>(
        root: PathBuf,
        sources: impl Iterator<Item = &'p str>,
        includes: impl Iterator<Item = &'p str>,
        ignore: DockerIgnore,
        ignore_base: String,
        target_dir: &Path,
    ) -> Context {
        let entry = |under| move |relative: &str| Entry { under, relative: relative.to_owned() };
        let mut entries: Vec<Entry> = sources.map(entry(SOURCES_DIR)).chain(includes.map(entry(INCLUDE_DIR))).collect();
        entries.sort();
        entries.dedup();
        Context { root, entries, generated: Vec::new(), never: target_dir.to_owned(), ignore, ignore_base }
    }

    fn ignored(&self, relative: &str) -> bool {
        let under_base = if self.ignore_base.is_empty() {
            Some(relative)
        } else {
            relative.strip_prefix(&self.ignore_base).and_then(|r| r.strip_prefix('/'))
        };
        under_base.is_some_and(|r| self.ignore.excludes(r))
    }

    /// Writes the context, with `dockerfile` added, as a tar archive to `out`.
    pub fn write<W: Write>(&self, dockerfile: &str, out: W) -> Result<ContextSize, ContextError> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        tar.mode(tar::HeaderMode::Complete);
        let mut size = ContextSize::default();
        for entry in &self.entries {
            self.add(&mut tar, entry.under, &entry.relative, &self.root.join(&entry.relative), &mut size)?;
        }
        let generated = self.generated.iter().map(|(path, contents)| (path.as_str(), contents.as_str()));
        for (path, contents) in generated.chain([(DOCKERFILE, dockerfile)]) {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            // A fixed time: these files are made anew each run, and the layers built from
            // them must not depend on when.
            header.set_mtime(0);
            let io_error = |source| ContextError::Io { path: PathBuf::from(path), source };
            tar.append_data(&mut header, path, contents.as_bytes()).map_err(io_error)?;
            size.files += 1;
            size.bytes += contents.len() as u64;
        }
        let io_error = |source| ContextError::Io { path: PathBuf::from(DOCKERFILE), source };
        tar.into_inner().map_err(io_error)?.flush().map_err(io_error)?;
        Ok(size)
    }

    fn add<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        under: &str,
        relative: &str,
        path: &Path,
        size: &mut ContextSize,
    ) -> Result<(), ContextError> {
        let io_error = |source| ContextError::Io { path: path.to_owned(), source };
        if path.file_name().is_some_and(|n| n == ".git") || path == self.never {
            return Ok(());
        }
        let meta = std::fs::symlink_metadata(path).map_err(io_error)?;
        let excluded = self.ignored(relative);
        let name = format!("{under}/{relative}");
        if meta.is_dir() {
            if excluded && !self.ignore.must_descend(relative) {
                return Ok(());
            }
            let mut children: Vec<_> =
                std::fs::read_dir(path).map_err(io_error)?.collect::<Result<_, _>>().map_err(io_error)?;
            children.sort_by_key(std::fs::DirEntry::file_name);
            if !excluded {
                tar.append_path_with_name(path, &name).map_err(io_error)?;
            }
            for child in children {
                let child_name = child.file_name().to_string_lossy().into_owned();
                self.add(tar, under, &format!("{relative}/{child_name}"), &child.path(), size)?;
            }
        } else if !excluded {
            tar.append_path_with_name(path, &name).map_err(io_error)?;
            size.files += 1;
            size.bytes += if meta.is_file() { meta.len() } else { 0 };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn sends_the_named_files_with_real_mtimes_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, text) in [
            ("Cargo.toml", "[package]"),
            ("src/main.rs", "fn main() {}"),
            ("src/debug.log", "x"),
            ("src/keep.log", "x"),
            ("src/target/kept.rs", "x"),
            ("target/release/app", "x"),
            ("config/app.toml", "x"),
            ("notes.txt", "not named, not sent"),
        ] {
            fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            fs::write(root.join(path), text).unwrap();
        }
        std::os::unix::fs::symlink("main.rs", root.join("src/link.rs")).unwrap();
        let ignore = DockerIgnore::parse("**/*.log\n!src/keep.log\n").unwrap();
        let sources = ["Cargo.toml", "src", "target"].into_iter();
        let context = Context::new(
            root.to_owned(),
            sources,
            ["config/app.toml"].into_iter(),
            ignore,
            String::new(),
            &root.join("target"),
        );

        let mut tar = Vec::new();
        let size = context.write("FROM scratch\n", &mut tar).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if name.ends_with("src/main.rs") {
                let mtime = fs::metadata(root.join("src/main.rs")).unwrap().modified().unwrap();
                let seconds = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                assert_eq!(entry.header().mtime().unwrap(), seconds, "real mtimes are kept");
            }
            if name.ends_with("src/link.rs") {
                assert!(entry.header().entry_type().is_symlink(), "symlinks stay links");
            }
            names.push(name);
        }
        let s = SOURCES_DIR;
        let expected = [
            format!("{INCLUDE_DIR}/config/app.toml"),
            format!("{s}/Cargo.toml"),
            format!("{s}/src"),
            format!("{s}/src/keep.log"),
            format!("{s}/src/link.rs"),
            format!("{s}/src/main.rs"),
            format!("{s}/src/target"),
            format!("{s}/src/target/kept.rs"),
            DOCKERFILE.to_owned(),
        ];
        assert_eq!(names, expected);
        assert_eq!(size.files, 7);
    }
}
