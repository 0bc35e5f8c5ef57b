//! The build context: the files the plan names, gathered from the project once (so every
//! problem is known before the engine is asked anything), then streamed as a tar archive so
//! memory stays flat however large the files.
//!
//! Layout: the project's files under [`SOURCES_DIR`], `include` files under [`INCLUDE_DIR`],
//! the dependency skeleton under [`SKELETON_DIR`], the SBOM at [`SBOM_CONTEXT`] and the
//! Dockerfile at [`DOCKERFILE`], each copied in one step.
//!
//! What goes: each local package the build needs, as `cargo package` would choose its files
//! (`package.include`/`exclude`), less what `.gitignore` (also outside a git checkout) and the
//! workspace's `.dockerignore` (Docker's semantics, relative to the workspace root) leave out;
//! never `target/`, `.git/`, `.env` files, other packages' directories, sockets or other special
//! files. Paths the plan names (manifests, lockfile, target root files, `build-include`,
//! `include`) go whatever `.gitignore` says. Nothing comes from outside the project: a named
//! path whose symlinks lead out of the workspace root and the local packages' directories is
//! refused, and so is a named path outside them. A symlink met inside a directory that leads
//! to files the context sends anyway is sent as those files (so the builder sees what the host
//! sees, and the freshness script, which stamps files, sees every file the build reads); any
//! other goes as a link, never followed, so no ignore rule is bypassed through a link. A file
//! is sent only if it is still the file that was listed: one replaced in between (by a link to
//! a host file, say) fails the build.

use crate::dockerignore::{DockerIgnore, PatternError};
use containerize_build::Plan;
use containerize_build::freshness;
use containerize_build::plan::PackageTree;
pub use containerize_build::plan::{DOCKERFILE, INCLUDE_DIR, SBOM_CONTEXT, SOURCES_DIR};
use containerize_build::skeleton::SKELETON_DIR;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A context larger than this gets a warning naming its largest directories.
pub const LARGE: u64 = 50 * 1000 * 1000;

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
#[non_exhaustive]
pub enum ContextError {
    /// The `.dockerignore` is invalid.
    #[error(transparent)]
    Ignore(#[from] PatternError),
    /// A `.gitignore` or a manifest's `include`/`exclude` pattern is invalid.
    #[error("invalid file pattern for {dir}: {message}")]
    Pattern {
        /// The package directory.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// A named path leads out of the project through a symlink.
    #[error("{link} is a symlink to {target}, outside the project")]
    LinkOutside {
        /// The link.
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// A path the build needs, or `include` names, is excluded by `.dockerignore`.
    #[error("{0} is needed by the build (or named in `include`), but .dockerignore excludes it")]
    Excluded(String),
    /// A named path is not inside the project at all.
    #[error("{0} is outside the project (the workspace root and its local packages)")]
    Outside(String),
    /// A file name the context can't carry.
    #[error("the file name {0:?} has a line break or a control character, or is not UTF-8")]
    Name(PathBuf),
    /// A file changed size, or was replaced, while the context was being sent.
    #[error("{0} changed while the build context was being sent")]
    Changed(PathBuf),
    /// An ignore file is a pipe, a device or a directory: reading it could block forever.
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
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

/// What an entry of the archive is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Link,
}

/// One file or link of the project, and its name in the archive.
#[derive(Debug)]
struct Entry {
    path: PathBuf,
    kind: Kind,
    /// Its size when it was listed.
    len: u64,
    /// Which file it was when it was listed (device and inode, where the platform has them).
    identity: Option<(u64, u64)>,
}

/// A file's device and inode: what stays the same while it is the same file.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Reads an ignore file, or nothing when there is none; a special file (a pipe would block
/// the read forever) is refused.
fn read_ignore_file(path: &Path) -> Result<Option<String>, ContextError> {
    let io_error = |source| ContextError::Io { path: path.to_owned(), source };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e)),
        Ok(meta) if !meta.is_file() => return Err(ContextError::NotAFile(path.to_owned())),
        Ok(_) => {}
    }
    std::fs::read_to_string(path).map(Some).map_err(io_error)
}

/// The files of a plan's context, listed, and the files made in memory.
#[derive(Debug)]
pub struct Context {
    /// By name in the archive, so the archive is in one order whatever the walk's.
    entries: BTreeMap<String, Entry>,
    /// Files made in memory (the dependency skeleton, the freshness script, the SBOM), by
    /// archive path.
    generated: Vec<(String, String)>,
}

impl Context {
    /// Lists the context of a plan. `workspace_root` holds the `.dockerignore`; `never` (the
    /// target directory, the file `--print-context` writes) is never sent.
    pub fn of(plan: &Plan, workspace_root: &Path, never: &[&Path]) -> Result<Context, ContextError> {
        let ignore = Context::dockerignore(workspace_root)?;
        let root = PathBuf::from(&plan.context.root);
        let canonical = |relative: &String| {
            let dir = root.join(relative);
            std::fs::canonicalize(&dir).map_err(|source| ContextError::Io { path: dir, source })
        };
        let ignore_base = workspace_root.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
        let mut lister = Lister {
            roots: plan.context.roots.iter().map(canonical).collect::<Result<_, _>>()?,
            never: never
                .iter()
                .flat_map(|path| std::iter::once(path.to_path_buf()).chain(std::fs::canonicalize(path).ok()))
                .collect(),
            canonical_root: std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone()),
            root,
            dockerignore: Arc::new(Dockerignore { ignore, base: ignore_base }),
            entries: BTreeMap::new(),
            links: Vec::new(),
        };
        for package in &plan.context.packages {
            lister.package(package)?;
        }
        for path in &plan.context.copies {
            lister.named(SOURCES_DIR, path)?;
        }
        for include in plan.context.include.iter().filter(|i| i.from.is_none()) {
            lister.named(INCLUDE_DIR, &include.src)?;
        }
        let skeleton = plan.context.skeleton.iter().map(|f| (format!("{SKELETON_DIR}/{}", f.path), f.contents.clone()));
        let mut generated: Vec<(String, String)> = skeleton.collect();
        if !plan.builder.cache_mounts.is_empty() {
            generated.push((freshness::CONTEXT_PATH.to_owned(), freshness::SCRIPT.to_owned()));
        }
        if let Some(sbom) = &plan.runtime.sbom {
            generated.push((SBOM_CONTEXT.to_owned(), sbom.document.clone()));
        }
        lister.resolve_links()?;
        Ok(Context { entries: lister.entries, generated })
    }

    /// The workspace's `.dockerignore` (none is no patterns): read on its own, it can be
    /// checked before any engine is asked anything.
    pub fn dockerignore(workspace_root: &Path) -> Result<DockerIgnore, ContextError> {
        match read_ignore_file(&workspace_root.join(".dockerignore"))? {
            Some(text) => Ok(DockerIgnore::parse(&text)?),
            None => Ok(DockerIgnore::default()),
        }
    }

    /// A context of files made in memory only.
    #[cfg(test)]
    pub(crate) fn generated(generated: Vec<(String, String)>) -> Context {
        Context { entries: BTreeMap::new(), generated }
    }

    /// The size of the files as listed.
    pub fn size(&self) -> ContextSize {
        let files = self.entries.len() + self.generated.len();
        let bytes = self.entries.values().map(|e| e.len).chain(self.generated.iter().map(|(_, c)| c.len() as u64));
        ContextSize { files: files as u64, bytes: bytes.sum() }
    }

    /// The directories that make most of the context, largest first, at the depth where their
    /// bytes are (`assets/video` rather than `assets` when that is where they are); at most
    /// three, each with its bytes.
    pub fn largest_directories(&self) -> Vec<(String, u64)> {
        let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
        for (name, entry) in &self.entries {
            let mut dir = name.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                *sizes.entry(parent).or_default() += entry.len;
                dir = parent;
            }
        }
        let top = [SOURCES_DIR, INCLUDE_DIR, ".containerize"];
        let dominated = |dir: &str, bytes: u64| {
            sizes.iter().any(|(other, size)| {
                other.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')) && *size * 10 >= bytes * 8
            })
        };
        let mut largest: Vec<(String, u64)> = sizes
            .iter()
            .filter(|(dir, bytes)| !top.contains(dir) && !dominated(dir, **bytes))
            .map(|(dir, bytes)| (shown(dir).to_owned(), *bytes))
            .collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(3);
        largest
    }

    /// Writes the context, with `dockerfile` added, as a tar archive to `out`.
    pub fn write<W: Write>(&self, dockerfile: &str, out: W) -> Result<ContextSize, ContextError> {
        let mut tar = tar::Builder::new(out);
        let mut size = ContextSize::default();
        for (name, entry) in &self.entries {
            let io_error = |source| ContextError::Io { path: entry.path.clone(), source };
            match entry.kind {
                Kind::File => size.bytes += append_file(&mut tar, name, entry)?,
                Kind::Link => {
                    let meta = std::fs::symlink_metadata(&entry.path).map_err(io_error)?;
                    let target = std::fs::read_link(&entry.path).map_err(io_error)?;
                    let mut header = tar::Header::new_gnu();
                    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
                    tar.append_link(&mut header, name, &target).map_err(io_error)?;
                }
            }
            size.files += 1;
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
}

/// A directory as the user knows it: its path in the project.
fn shown(name: &str) -> &str {
    [SOURCES_DIR, INCLUDE_DIR].iter().find_map(|top| name.strip_prefix(top)?.strip_prefix('/')).unwrap_or(name)
}

/// Appends a file's content as it is now; one that grows or shrinks while it is read fails,
/// rather than leaving a header that lies about what follows (a corrupt archive), and so does
/// one that is no longer the file that was listed (checked before a byte is read).
fn append_file<W: Write>(tar: &mut tar::Builder<W>, name: &str, entry: &Entry) -> Result<u64, ContextError> {
    let path = &entry.path;
    let io_error = |source| ContextError::Io { path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if identity(&meta) != entry.identity || !meta.is_file() {
        return Err(ContextError::Changed(path.to_owned()));
    }
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
    header.set_mode(normal_mode(std::os::unix::fs::PermissionsExt::mode(&meta.permissions())));
    let len = meta.len();
    let mut exact = Exact { file: (&mut file).take(len), left: len };
    tar.append_data(&mut header, name, &mut exact).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ContextError::Changed(path.to_owned()),
        _ => io_error(e),
    })?;
    if file.read(&mut [0]).map_err(io_error)? != 0 {
        return Err(ContextError::Changed(path.to_owned()));
    }
    Ok(len)
}

/// A file's mode as git keeps it: 0755 if anyone may run it, else 0644. The checkout's umask,
/// setuid bits and private modes never reach an image (or its id), and every file the image
/// gets from the project is readable by its non-root user; `include`'s `mode` sets any other.
fn normal_mode(mode: u32) -> u32 {
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

/// Reads exactly the length the header announced, or fails.
struct Exact<R> {
    file: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The `.gitignore` files that count for a package at `dir`, as git reads them: those of
/// its directory and every directory above, up to the root of the git checkout that holds
/// it, or up to the context root outside one (a stray `*` in a home directory outside any
/// checkout must not empty the context). For each path the nearest file with a say decides,
/// so a nearer `!pattern` re-includes what a farther one ignores.
struct GitIgnores {
    top: PathBuf,
    read: std::sync::Mutex<BTreeMap<PathBuf, Option<Arc<ignore::gitignore::Gitignore>>>>,
}

impl GitIgnores {
    fn new(dir: &Path, context_root: &Path) -> GitIgnores {
        let checkout = dir.ancestors().find(|d| d.join(".git").exists());
        GitIgnores { top: checkout.unwrap_or(context_root).to_owned(), read: Default::default() }
    }

    /// The matcher of `dir`'s `.gitignore`, read once.
    fn of(&self, dir: &Path) -> Result<Option<Arc<ignore::gitignore::Gitignore>>, ContextError> {
        if let Some(read) = self.read.lock().expect("not poisoned").get(dir) {
            return Ok(read.clone());
        }
        let file = dir.join(".gitignore");
        let matcher = match read_ignore_file(&file)? {
            None => None,
            Some(text) => {
                let error = |e: ignore::Error| ContextError::Pattern { dir: dir.to_owned(), message: e.to_string() };
                let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
                for line in text.lines() {
                    builder.add_line(Some(file.clone()), line).map_err(error)?;
                }
                Some(Arc::new(builder.build().map_err(error)?))
            }
        };
        self.read.lock().expect("not poisoned").insert(dir.to_owned(), matcher.clone());
        Ok(matcher)
    }

    fn ignores(&self, path: &Path, is_dir: bool) -> Result<bool, ContextError> {
        for dir in path.ancestors().skip(1).take_while(|d| d.starts_with(&self.top)) {
            if let Some(matcher) = self.of(dir)? {
                let found = matcher.matched_path_or_any_parents(path.strip_prefix(dir).unwrap_or(path), is_dir);
                if !found.is_none() {
                    return Ok(found.is_ignore());
                }
            }
        }
        Ok(false)
    }
}

/// Whether a file (or directory) is a dotenv file, the classic leaked secret: never sent
/// unless named.
fn is_dotenv(name: &str) -> bool {
    name == ".env" || name == ".envrc" || name.starts_with(".env.")
}

/// The workspace's `.dockerignore`, for paths relative to the context root.
struct Dockerignore {
    ignore: DockerIgnore,
    /// Where its patterns are relative to, as a path under the context root.
    base: String,
}

impl Dockerignore {
    fn under_base<'p>(&self, relative: &'p str) -> Option<&'p str> {
        if self.base.is_empty() {
            Some(relative)
        } else {
            relative.strip_prefix(&self.base).and_then(|r| r.strip_prefix('/'))
        }
    }

    fn excludes(&self, relative: &str) -> bool {
        self.under_base(relative).is_some_and(|r| self.ignore.excludes(r))
    }

    /// Whether a directory is left out with everything under it.
    fn prunes(&self, relative: &str) -> bool {
        self.under_base(relative).is_some_and(|r| self.ignore.excludes(r) && !self.ignore.must_descend(r))
    }
}

/// Walks the project and lists what goes.
struct Lister {
    root: PathBuf,
    /// Canonical directories nothing may come from outside of.
    roots: Vec<PathBuf>,
    /// Paths never sent, as given and canonical.
    never: Vec<PathBuf>,
    /// The context root, canonical.
    canonical_root: PathBuf,
    dockerignore: Arc<Dockerignore>,
    entries: BTreeMap<String, Entry>,
    /// Links that lead inside the roots, by archive name, with where they lead: resolved once
    /// every walk is done, against what the walks chose.
    links: Vec<(String, PathBuf, PathBuf)>,
}

impl Lister {
    /// `path` relative to the context root, as a name in the archive; refused when it can't
    /// be carried (the freshness record and Dockerfile words rely on one-line names).
    fn relative(&self, path: &Path) -> Result<String, ContextError> {
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        match relative.to_str() {
            Some(text) if !text.chars().any(char::is_control) => Ok(text.to_owned()),
            _ => Err(ContextError::Name(path.to_owned())),
        }
    }

    fn add(&mut self, under: &str, relative: &str, path: PathBuf, kind: Kind, meta: &std::fs::Metadata) {
        let (len, identity) = if kind == Kind::File { (meta.len(), identity(meta)) } else { (0, None) };
        self.entries.insert(format!("{under}/{relative}"), Entry { path, kind, len, identity });
    }

    /// A symlink met in a directory: one leading inside the roots waits for
    /// [`Lister::resolve_links`]; any other goes as a link.
    fn link(&mut self, under: &'static str, relative: &str, path: &Path) -> Result<(), ContextError> {
        match std::fs::canonicalize(path) {
            Ok(target) if self.roots.iter().any(|root| target.starts_with(root)) => {
                self.links.push((format!("{under}/{relative}"), path.to_owned(), target));
                Ok(())
            }
            _ => self.add_link(format!("{under}/{relative}"), path),
        }
    }

    fn add_link(&mut self, name: String, path: &Path) -> Result<(), ContextError> {
        let meta =
            std::fs::symlink_metadata(path).map_err(|source| ContextError::Io { path: path.to_owned(), source })?;
        self.entries.insert(name, Entry { path: path.to_owned(), kind: Kind::Link, len: meta.len(), identity: None });
        Ok(())
    }

    /// Each link inside the roots is sent as what the context holds where it leads: the file,
    /// or the directory's chosen files; as a link when that is nothing (an ignored file, a
    /// directory no package sends). One level: what a link leads to is sent as it was chosen.
    fn resolve_links(&mut self) -> Result<(), ContextError> {
        // Most projects have no such link: no need to resolve every file's real path.
        if self.links.is_empty() {
            return Ok(());
        }
        let real: BTreeMap<PathBuf, &Entry> = self
            .entries
            .values()
            .filter(|e| e.kind == Kind::File)
            .filter_map(|e| Some((std::fs::canonicalize(&e.path).ok()?, e)))
            .collect();
        let mut followed = Vec::new();
        let mut unresolved = Vec::new();
        for (name, path, target) in std::mem::take(&mut self.links) {
            let under = real.range(target.clone()..).take_while(|(p, _)| p.starts_with(&target));
            let found: Vec<(String, Entry)> = under
                .map(|(p, e)| {
                    let rest = p.strip_prefix(&target).unwrap_or(Path::new("")).to_string_lossy().into_owned();
                    let at = if rest.is_empty() { name.clone() } else { format!("{name}/{rest}") };
                    (at, Entry { path: e.path.clone(), ..**e })
                })
                .collect();
            if found.is_empty() { unresolved.push((name, path)) } else { followed.extend(found) }
        }
        self.entries.extend(followed);
        for (name, path) in unresolved {
            self.add_link(name, &path)?;
        }
        Ok(())
    }

    /// A package's directory, as `cargo package` chooses its files, then `.gitignore` and
    /// `.dockerignore`.
    fn package(&mut self, package: &PackageTree) -> Result<(), ContextError> {
        let dir = self.root.join(&package.dir);
        let pattern_error = |e: ignore::Error| ContextError::Pattern { dir: dir.clone(), message: e.to_string() };
        let patterns = |list: &[String]| {
            let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
            for pattern in list {
                builder.add_line(None, pattern).map_err(pattern_error)?;
            }
            builder.build().map_err(pattern_error)
        };
        let include = patterns(&package.files.include)?;
        let exclude = patterns(&package.files.exclude)?;
        let gitignores = Arc::new(GitIgnores::new(&dir, &self.root));
        // Met while walking, reported after: the walk's filter can't fail.
        let problem = Arc::new(std::sync::Mutex::new(None::<ContextError>));
        let found_problem = Arc::clone(&problem);
        let walk_ignores = Arc::clone(&gitignores);
        // With `package.include`, cargo takes the listed files whatever `.gitignore` says.
        let gitignore_counts = package.files.include.is_empty();
        let walk_root = dir.clone();
        let never = self.never.clone();
        let root = self.root.clone();
        let dockerignore = Arc::clone(&self.dockerignore);
        let walk = ignore::WalkBuilder::new(&dir)
            .standard_filters(false)
            .require_git(false)
            .follow_links(false)
            .sort_by_file_name(std::cmp::Ord::cmp)
            .filter_entry(move |entry| {
                let path = entry.path();
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let nested_package = is_dir && entry.depth() > 0 && path.join("Cargo.toml").is_file();
                let package_target = entry.depth() == 1 && is_dir && entry.file_name() == "target";
                let relative = path.strip_prefix(&root).unwrap_or(path).to_string_lossy();
                let pruned = is_dir && dockerignore.prunes(&relative);
                let dotenv = is_dir && is_dotenv(&entry.file_name().to_string_lossy());
                let ignored = gitignore_counts
                    && walk_ignores.ignores(path, is_dir).unwrap_or_else(|e| {
                        found_problem.lock().expect("not poisoned").get_or_insert(e);
                        true
                    });
                !(entry.file_name() == ".git"
                    || never.iter().any(|n| path == n)
                    || nested_package
                    || package_target
                    || pruned
                    || dotenv
                    || ignored)
            })
            .build();
        for entry in walk {
            let entry = entry.map_err(|e| ContextError::Io { path: walk_root.clone(), source: io::Error::other(e) })?;
            let Some(file_type) = entry.file_type() else { continue };
            if file_type.is_dir() || !(file_type.is_file() || file_type.is_symlink()) {
                continue;
            }
            let path = entry.path();
            let in_package = path.strip_prefix(&dir).unwrap_or(path);
            let is_manifest = in_package == Path::new("Cargo.toml");
            let chosen = if package.files.include.is_empty() {
                !exclude.matched_path_or_any_parents(in_package, false).is_ignore()
            } else {
                is_manifest || include.matched_path_or_any_parents(in_package, false).is_ignore()
            };
            let name = entry.file_name().to_string_lossy();
            if !chosen || is_dotenv(&name) {
                continue;
            }
            let relative = self.relative(path)?;
            if self.dockerignore.excludes(&relative) {
                continue;
            }
            if file_type.is_symlink() {
                self.link(SOURCES_DIR, &relative, path)?;
                continue;
            }
            let meta = entry
                .metadata()
                .map_err(|e| ContextError::Io { path: path.to_owned(), source: io::Error::other(e) })?;
            self.add(SOURCES_DIR, &relative, path.to_owned(), Kind::File, &meta);
        }
        match problem.lock().expect("not poisoned").take() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// A path the plan names: sent whatever `.gitignore` says (`.dockerignore` still applies),
    /// with its symlinks followed only while they stay inside the project.
    fn named(&mut self, under: &'static str, relative: &str) -> Result<(), ContextError> {
        if relative.starts_with("../") || relative == ".." || Path::new(relative).is_absolute() {
            return Err(ContextError::Outside(self.root.join(relative).display().to_string()));
        }
        let path = self.root.join(relative);
        let resolved = self.inside(&path)?;
        if !self.roots.iter().any(|root| resolved.starts_with(root)) {
            return Err(ContextError::Outside(path.display().to_string()));
        }
        // Where it really is counts too: a link must not carry what is left out there.
        let real = resolved.strip_prefix(&self.canonical_root).unwrap_or(&resolved).to_string_lossy().into_owned();
        for name in [relative, real.as_str()] {
            if self.dockerignore.excludes(name) {
                return Err(ContextError::Excluded(name.to_owned()));
            }
        }
        if resolved.components().any(|c| c.as_os_str() == ".git") || self.never.iter().any(|n| resolved.starts_with(n))
        {
            return Err(ContextError::Excluded(real));
        }
        self.tree(under, relative, &resolved, true)
    }

    /// Where `path` leads, provided every symlink on it stays inside the roots.
    fn inside(&self, path: &Path) -> Result<PathBuf, ContextError> {
        let io_error = |source| ContextError::Io { path: path.to_owned(), source };
        // Links above the context root are the machine's business, not the project's.
        let mut prefix = self.root.clone();
        for component in path.strip_prefix(&self.root).unwrap_or(path).components() {
            prefix.push(component);
            let meta = std::fs::symlink_metadata(&prefix).map_err(io_error)?;
            if meta.file_type().is_symlink() {
                let target = std::fs::canonicalize(&prefix).unwrap_or_else(|_| {
                    prefix.parent().unwrap_or(Path::new("/")).join(std::fs::read_link(&prefix).unwrap_or_default())
                });
                if !self.roots.iter().any(|root| target.starts_with(root)) {
                    let link_target = std::fs::read_link(&prefix).unwrap_or(target);
                    return Err(ContextError::LinkOutside { link: prefix, target: link_target });
                }
            }
        }
        std::fs::canonicalize(path).map_err(io_error)
    }

    /// A named file, or a directory walked whole (its links as [`Lister::link`] says). `named` is true for the path the plan names itself, which may be a dotenv file.
    fn tree(&mut self, under: &'static str, relative: &str, path: &Path, named: bool) -> Result<(), ContextError> {
        let io_error = |source| ContextError::Io { path: path.to_owned(), source };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name == ".git" || self.never.iter().any(|n| path == n) || (!named && is_dotenv(&name)) {
            return Ok(());
        }
        if relative.chars().any(char::is_control) {
            return Err(ContextError::Name(path.to_owned()));
        }
        let meta = std::fs::symlink_metadata(path).map_err(io_error)?;
        let excluded = self.dockerignore.excludes(relative);
        if meta.is_dir() {
            if self.dockerignore.prunes(relative) {
                return Ok(());
            }
            let mut children: Vec<_> =
                std::fs::read_dir(path).map_err(io_error)?.collect::<Result<_, _>>().map_err(io_error)?;
            children.sort_by_key(std::fs::DirEntry::file_name);
            for child in children {
                let Some(child_name) = child.file_name().to_str().map(str::to_owned) else {
                    return Err(ContextError::Name(child.path()));
                };
                self.tree(under, &format!("{relative}/{child_name}"), &child.path(), false)?;
            }
        } else if !excluded && meta.file_type().is_symlink() {
            self.link(under, relative, path)?;
        } else if !excluded && meta.is_file() {
            self.add(under, relative, path.to_owned(), Kind::File, &meta);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
