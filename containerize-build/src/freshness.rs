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

use crate::plan::BUILD_ROOT;

/// Where the script sits in the build context.
pub const CONTEXT_PATH: &str = ".containerize/restamp.sh";

/// Where the script is copied in the builder, outside the build root it stamps.
pub const BUILDER_PATH: &str = "/usr/local/lib/containerize/restamp.sh";

/// The record's name, in the target directory.
pub const RECORD: &str = ".containerize-source-times";

/// Names the target-directory cache mount's generation: a target directory filled by a
/// different freshness script or skeleton (another version of this tool) is never shared,
/// since its record, or its lack of one, would mislead this script. A hash of both, so no
/// change can forget to bump it; FNV-1a because it fits in a `const fn`.
pub const CACHE_GENERATION: u32 = {
    let mut hash: u32 = 0x811c_9dc5;
    let parts = [SCRIPT.as_bytes(), crate::skeleton::MASKED_VERSION.as_bytes()];
    let mut part = 0;
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            hash = (hash ^ parts[part][i] as u32).wrapping_mul(0x0100_0193);
            i += 1;
        }
        part += 1;
    }
    hash
};

/// The command that runs the script on the build root.
pub fn command() -> Vec<String> {
    vec!["sh".to_owned(), BUILDER_PATH.to_owned(), BUILD_ROOT.to_owned()]
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
cd "$root"
# `-z`: names unescaped (they hold no line break), one per line after `tr`.
find . -path "./${CARGO_TARGET_DIR#"$root"/}" -prune -o -type f -print0 | LC_ALL=C sort -z |
  xargs -0r sha256sum -z | tr '\0' '\n' >"$work/sums"
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
while read -r time n; do xargs -d '\n' touch -c -m -d "@$time" -- <"$work/$n"; done <"$work/groups"
rm -rf "$work"
"#;
