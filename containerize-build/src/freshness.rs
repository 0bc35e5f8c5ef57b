//! Freshness that a shared target directory cannot fool.
//!
//! Cargo decides whether a local crate is fresh by comparing its source files' modification
//! times with the time of its last build. Under BuildKit the target directory is a cache mount
//! that outlives the build and is shared by every build of a package of that name: other copies
//! and clones of the project, other branches, an unrelated project with the same package name.
//! The modification times a context brings prove nothing there: a copy whose sources are older
//! than another copy's last build would pass for fresh, and its image would ship the other
//! copy's binary.
//!
//! So before cargo runs, [`SCRIPT`] gives every file under the build root the time at which its
//! content was last seen to *change* in this target directory, from a record kept in the target
//! directory itself (content hash and time per path). A crate built before that time is rebuilt;
//! one built after it has seen this very content and stays fresh, so incremental rebuilds keep
//! working. Directories get the latest time of the files under them and of the last file added
//! to or removed from them, for build scripts that watch a directory. The record is written
//! before cargo starts, so a build that fails or is interrupted half-way leaves no file looking
//! older than the crates it may have rebuilt. The cache mount is locked for the whole step, so
//! two builds never interleave on one record.
//!
//! It needs `sh`, `find`, `sort`, `xargs`, `sha256sum`, `date`, `touch` and `awk` in the
//! builder: every Debian-based Rust image has them. File names are one line each (the context
//! refuses names with line breaks), which the record's line format relies on.

/// Where the script sits in the build context.
pub const CONTEXT_PATH: &str = ".containerize/restamp.sh";

/// Where the script is copied in the builder, outside the build root it stamps.
pub const BUILDER_PATH: &str = "/usr/local/lib/containerize/restamp.sh";

/// The record's name, in the target directory.
pub const RECORD: &str = ".containerize-source-times";

/// The target-directory cache mount's id for a package of the checkout `checkout_key` names
/// (`Project::checkout_key`).
///
/// One per checkout, as on the host, where each has its own `target/`: stamping makes cargo's
/// own freshness check right, but a build script or proc macro may read files cargo does not
/// track, and only a target directory of its own keeps another checkout's output of those
/// away. One per freshness scheme too: a target directory filled by a different stamping
/// script or skeleton (another version of this tool) is never reused, since its record, or its
/// lack of one, would mislead this one.
pub fn target_cache_id(package: &str, checkout_key: &str) -> String {
    let scheme = [SCRIPT.as_bytes(), b"\0", crate::skeleton::MASKED_VERSION.as_bytes(), b"\0"];
    let hash = fnv1a(scheme.iter().copied().chain([checkout_key.as_bytes()]));
    format!("containerize-target-{package}-{hash:016x}")
}

/// FNV-1a: a small, stable hash (not for security: it names a cache, and a collision only
/// shares one between two workspaces, which stamping still keeps correct for tracked files).
fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.into_iter().flatten() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The command that runs the script on the build root.
pub fn command(build_root: &str) -> Vec<String> {
    vec!["sh".to_owned(), BUILDER_PATH.to_owned(), build_root.to_owned()]
}

/// The script; its one argument is the build root, and `CARGO_TARGET_DIR` is the target
/// directory (under the root, which is not stamped).
pub const SCRIPT: &str = r#"#!/bin/sh
# Written by cargo-containerize: gives every file under the build root the time its content last
# changed as seen by this target directory, so cargo's modification-time check is right even
# though the target directory is shared (see the `freshness` module of containerize-build).
set -eu
root=$1
record="$CARGO_TARGET_DIR/.containerize-source-times"
work=$(mktemp -d)
now=$(date +%s.%N)
fail() {
  echo "containerize: could not stamp the sources: $1 failed (the builder needs GNU find, sort, xargs, sha256sum, touch and awk)" >&2
  exit 1
}
cd "$root"
target="./${CARGO_TARGET_DIR#"$root"/}"
# No pipelines: `sh` has no pipefail, and a step that fails must fail the build rather than
# leave the sources unstamped. `-z`: names unescaped (they hold no line break).
find . -path "$target" -prune -o -type f -print0 >"$work/files" || fail find
LC_ALL=C sort -z "$work/files" >"$work/sorted" || fail sort
xargs -0r sha256sum -z <"$work/sorted" >"$work/sums0" || fail sha256sum
# Links still here lead out of the project, dangle or loop (the context sends the others as
# the files they name): what cargo reads through one changes with where it points.
find . -path "$target" -prune -o -type l -print0 >"$work/links" || fail find
xargs -0r sh -c 'for link; do
  hash=$( { printf "link:"; readlink "$link"; } | sha256sum) && printf "%.64s  %s\0" "$hash" "$link" || exit 1
done' sh <"$work/links" >>"$work/sums0" || fail readlink
tr '\0' '\n' <"$work/sums0" >"$work/sums" || fail tr
touch "$record"
: >"$record.new"
: >"$work/groups"
# Record lines: "<time> <sha256> <path>" for a file, "<time> / <path>" for a directory (the time
# a file was last added under it or removed from it). Files to stamp go to one list per time.
awk -v now="$now" -v record="$record" -v work="$work" '
function later(a, b) { return (a == "" || b + 0 > a + 0) ? b : a }
function stamp(path, time,   list) {
  if (!(time in group)) { group[time] = ++groups; print time, groups >> (work "/groups"); close(work "/groups") }
  list = work "/" group[time]
  print path >> list; close(list)
}
function listing_changed(path,   dir) {
  dir = path
  while (sub(/\/[^\/]*$/, "", dir)) listed[dir] = now
}
BEGIN {
  while ((getline line < record) > 0) {
    time = line; sub(/ .*/, "", time)
    rest = substr(line, length(time) + 2)
    hash = rest; sub(/ .*/, "", hash)
    path = substr(rest, length(hash) + 2)
    if (hash == "/") listed[path] = time
    else if (length(hash) == 64) { old_hash[path] = hash; old_time[path] = time }
  }
}
{
  hash = substr($0, 1, 64); path = substr($0, 67)
  if (!(path in old_hash)) listing_changed(path)
  time = (old_hash[path] == hash) ? old_time[path] : now
  seen[path] = 1
  print time, hash, path > (record ".new")
  stamp(path, time)
  dir = path
  while (sub(/\/[^\/]*$/, "", dir)) newest[dir] = later(newest[dir], time)
}
END {
  for (path in old_hash) if (!(path in seen)) listing_changed(path)
  for (dir in newest) {
    if (listed[dir] != "") print listed[dir], "/", dir > (record ".new")
    stamp(dir, later(newest[dir], listed[dir]))
  }
}' "$work/sums"
mv "$record.new" "$record"
# Oldest first: a file reached through a link as well as by its own name ends with the later
# of its two times.
LC_ALL=C sort -n "$work/groups" >"$work/order" || fail sort
while read -r time n; do
  xargs -d '\n' touch -c -m -d "@$time" -- <"$work/$n" || fail touch
done <"$work/order"
rm -rf "$work"
"#;

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;
    use std::process::Command;

    /// Runs the script on `root` with its target directory inside; `path` is searched first.
    fn restamp(root: &Path, path: Option<&Path>) -> std::process::Output {
        std::fs::write(root.join("restamp.sh"), SCRIPT).unwrap();
        let mut command = Command::new("sh");
        command.arg(root.join("restamp.sh")).arg(root).env("CARGO_TARGET_DIR", root.join("target"));
        if let Some(path) = path {
            command.env("PATH", format!("{}:{}", path.display(), std::env::var("PATH").unwrap()));
        }
        command.output().unwrap()
    }

    fn mtime(path: &Path) -> std::time::SystemTime {
        std::fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn a_repointed_link_gives_what_it_now_names_a_new_time() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("src/one.rs"), "1").unwrap();
        std::fs::write(root.join("src/two.rs"), "2").unwrap();
        // Where the builder's links lead: files that are not stamped, with old times.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("system.txt"), "os").unwrap();
        symlink(root.join("src/one.rs"), root.join("src/main.rs")).unwrap();
        assert!(restamp(root, None).status.success());
        let first = mtime(&root.join("src/two.rs"));
        std::fs::remove_file(root.join("src/main.rs")).unwrap();
        symlink(outside.path().join("system.txt"), root.join("src/main.rs")).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(outside.path().join("system.txt"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(restamp(root, None).status.success());
        assert!(mtime(&root.join("src/main.rs")) > first, "read through the link, the file is newer than any build");
        assert_eq!(mtime(&root.join("src/two.rs")), first, "unchanged content keeps its time");
    }

    #[test]
    fn a_tool_that_fails_fails_the_step_instead_of_leaving_sources_unstamped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("main.rs"), "fn main() {}").unwrap();
        // As busybox's sha256sum, which has no `-z`.
        let tools = tempfile::tempdir().unwrap();
        let fake = tools.path().join("sha256sum");
        std::fs::write(&fake, "#!/bin/sh\necho 'sha256sum: unrecognized option: z' >&2\nexit 1\n").unwrap();
        Command::new("chmod").arg("755").arg(&fake).status().unwrap();
        let output = restamp(root, Some(tools.path()));
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("could not stamp the sources: sha256sum failed"));
    }
}
