//! Files written whole: the contents go to a temporary file of a unique name beside the target,
//! which is then renamed (or linked) into place, so no reader ever sees half a file, two
//! writers of one file never share a temporary name, and a failed or interrupted write leaves
//! nothing behind (the temporary file is removed when dropped).
//!
//! Shared by the CLI's `--print-context` file, the build script's Dockerfile and
//! plan, and the checkout key.

use std::fs::File;
use std::io;
use std::path::Path;

/// Writes `path` whole with `write`, replacing any file there.
pub fn replace<E>(
    path: &Path,
    io_error: impl Fn(io::Error) -> E,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let mut partial = beside(path).map_err(&io_error)?;
    write(partial.as_file_mut())?;
    partial.as_file().sync_all().map_err(&io_error)?;
    partial.persist(path).map(drop).map_err(|e| io_error(e.error))
}

/// Writes `path` whole with `contents` unless a file is there already, which is kept: of two
/// writers at once, exactly one succeeds and the other gets [`io::ErrorKind::AlreadyExists`].
pub fn create_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut partial = beside(path)?;
    io::Write::write_all(partial.as_file_mut(), contents)?;
    partial.persist_noclobber(path).map(drop).map_err(|e| e.error)
}

/// A temporary file named after `path`, in its directory, which is created if missing.
fn beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    // A new file's mode as a plain write gives it (0666 less the umask), not a temporary
    // file's private 0600: other tools and users read these files.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_file_written_whole_gets_the_mode_a_plain_write_gives() {
        // The build script's Dockerfile and plan, and --print-context's tar, are read by other
        // tools and users (a CI step, `docker build -f`): a temporary file's 0600 must not stay.
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let whole = dir.path().join("whole");
        super::replace(&whole, |e| e, |file| std::io::Write::write_all(file, b"x")).unwrap();
        assert_eq!(format!("{:o}", mode(&whole)), format!("{:o}", mode(&plain)));
        // A mode the writer sets is the file's, whatever the file it replaces had (`--output`
        // gives the binary the image's mode, never a leftover file's setuid bit).
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o4755)).unwrap();
        super::replace(&plain, |e| e, |file| file.set_permissions(std::fs::Permissions::from_mode(0o755))).unwrap();
        assert_eq!(format!("{:o}", mode(&plain)), "755");
    }
}
