//! The build context: exactly the files the plan names, streamed as a tar archive so memory
//! stays flat however large the project.
//!
//! Real modification times are kept: cargo decides freshness by mtime, and a fixed old mtime
//! would let a stale artifact pass for a fresh one. Symlinks are sent as links, as the docker
//! CLI does. `target/` and `.git/` never go; `.dockerignore` (at the workspace root, matched
//! against paths relative to it) applies with Docker's semantics.

use crate::dockerignore::{DockerIgnore, PatternError};
use containerize_build::Plan;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the generated Dockerfile sits in the context.
pub const DOCKERFILE: &str = ".containerize/Dockerfile";

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

/// The files of a plan's context, and the rules that filter them.
pub struct Context {
    root: PathBuf,
    entries: Vec<(String, PathBuf)>,
    never: Vec<PathBuf>,
    ignore: DockerIgnore,
    /// Where `.dockerignore` patterns are relative to, as a path under `root`.
    ignore_base: String,
}

impl Context {
    /// The context of a plan: its copies and included files, under the plan's context root.
    /// `workspace_root` holds the `.dockerignore`; `target_dir` is never sent.
    pub fn of(plan: &Plan, workspace_root: &Path, target_dir: &Path) -> Result<Context, ContextError> {
        let root = PathBuf::from(&plan.context.root);
        let ignore = match std::fs::read_to_string(workspace_root.join(".dockerignore")) {
            Ok(text) => DockerIgnore::parse(&text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => DockerIgnore::default(),
            Err(source) => {
                return Err(ContextError::Io {
                    path: workspace_root.join(".dockerignore"),
                    source,
                });
            }
        };
        let ignore_base = workspace_root
            .strip_prefix(&root)
            .unwrap_or(Path::new(""))
            .to_string_lossy()
            .into_owned();
        let paths = plan
            .context
            .copies
            .iter()
            .chain(plan.context.include.iter().map(|i| &i.src));
        Ok(Context::new(
            root,
            paths.map(String::as_str),
            ignore,
            ignore_base,
            target_dir,
        ))
    }

    /// The context of `paths` (relative to `root`), filtered by `ignore`, whose patterns are
    /// relative to `ignore_base` under `root`.
    pub fn new<'p>(
        root: PathBuf,
        paths: impl Iterator<Item = &'p str>,
        ignore: DockerIgnore,
        ignore_base: String,
        target_dir: &Path,
    ) -> Context {
        let mut entries: Vec<(String, PathBuf)> = paths.map(|p| (p.to_owned(), root.join(p))).collect();
        entries.sort();
        entries.dedup();
        Context {
            root,
            entries,
            never: vec![target_dir.to_owned()],
            ignore,
            ignore_base,
        }
    }

    fn ignored(&self, relative: &str) -> Option<bool> {
        let under_base = if self.ignore_base.is_empty() {
            Some(relative)
        } else {
            relative
                .strip_prefix(&self.ignore_base)
                .and_then(|r| r.strip_prefix('/'))
        };
        under_base.map(|r| self.ignore.excludes(r))
    }

    /// Writes the context, with `dockerfile` added, as a tar archive to `out`.
    pub fn write<W: Write>(&self, dockerfile: &str, out: W) -> Result<ContextSize, ContextError> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        tar.mode(tar::HeaderMode::Complete);
        let mut size = ContextSize::default();
        for (relative, path) in &self.entries {
            self.add(&mut tar, relative, path, &mut size)?;
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(dockerfile.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        let io_error = |source| ContextError::Io {
            path: PathBuf::from(DOCKERFILE),
            source,
        };
        tar.append_data(&mut header, DOCKERFILE, dockerfile.as_bytes())
            .map_err(io_error)?;
        tar.into_inner().map_err(io_error)?.flush().map_err(io_error)?;
        size.files += 1;
        size.bytes += dockerfile.len() as u64;
        Ok(size)
    }

    fn add<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        relative: &str,
        path: &Path,
        size: &mut ContextSize,
    ) -> Result<(), ContextError> {
        let io_error = |source| ContextError::Io {
            path: path.to_owned(),
            source,
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == ".git" || self.never.iter().any(|n| n == path) {
            return Ok(());
        }
        let meta = std::fs::symlink_metadata(path).map_err(io_error)?;
        let excluded = self.ignored(relative).unwrap_or(false);
        if meta.is_dir() {
            if excluded && !self.ignore.must_descend(relative) {
                return Ok(());
            }
            let mut children: Vec<_> = std::fs::read_dir(path)
                .map_err(io_error)?
                .collect::<Result<_, _>>()
                .map_err(io_error)?;
            children.sort_by_key(std::fs::DirEntry::file_name);
            if !excluded {
                tar.append_path_with_name(path, relative).map_err(io_error)?;
            }
            for child in children {
                let child_name = child.file_name().to_string_lossy().into_owned();
                self.add(tar, &format!("{relative}/{child_name}"), &child.path(), size)?;
            }
        } else if !excluded {
            tar.append_path_with_name(path, relative).map_err(io_error)?;
            size.files += 1;
            size.bytes += if meta.is_file() { meta.len() } else { 0 };
        }
        Ok(())
    }

    /// The context root.
    pub fn root(&self) -> &Path {
        &self.root
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
            ("notes.txt", "not named, not sent"),
        ] {
            fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            fs::write(root.join(path), text).unwrap();
        }
        std::os::unix::fs::symlink("main.rs", root.join("src/link.rs")).unwrap();
        fs::write(root.join(".dockerignore"), "**/*.log\n!src/keep.log\n").unwrap();
        let ignore = DockerIgnore::parse(&fs::read_to_string(root.join(".dockerignore")).unwrap()).unwrap();
        let context = Context::new(
            root.to_owned(),
            ["Cargo.toml", "src", "target"].into_iter(),
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
            if name == "src/main.rs" {
                let mtime = fs::metadata(root.join("src/main.rs")).unwrap().modified().unwrap();
                let seconds = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                assert_eq!(entry.header().mtime().unwrap(), seconds, "real mtimes are kept");
            }
            if name == "src/link.rs" {
                assert!(entry.header().entry_type().is_symlink(), "symlinks stay links");
            }
            names.push(name);
        }
        assert_eq!(
            names,
            [
                "Cargo.toml",
                "src",
                "src/keep.log",
                "src/link.rs",
                "src/main.rs",
                "src/target",
                "src/target/kept.rs",
                ".containerize/Dockerfile"
            ]
        );
        assert_eq!(size.files, 6);
    }
}
