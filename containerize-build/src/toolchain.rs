//! Which Rust toolchain the builder image must carry.

use serde::Serialize;
use std::path::Path;

/// The toolchain the project asks for, and the one the host has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// The channel pinned by `rust-toolchain.toml` (or `rust-toolchain`), if any.
    pub pinned: Option<Pinned>,
    /// The host's `rustc` version, e.g. `1.95.0`.
    pub local: Option<String>,
}

/// A channel pinned in a toolchain file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pinned {
    /// The channel as written: `1.94.1`, `stable`, `nightly-2026-01-01`.
    pub channel: String,
    /// The file it was read from, relative to the workspace root.
    pub file: String,
}

/// Reads the toolchain file of `dir` or its nearest ancestor, as rustup does.
pub fn pinned_channel(dir: &Path, workspace_root: &Path) -> Option<Pinned> {
    dir.ancestors().find_map(|d| {
        ["rust-toolchain.toml", "rust-toolchain"].iter().find_map(|name| {
            let text = std::fs::read_to_string(d.join(name)).ok()?;
            let channel = channel_of(&text)?;
            let file = d.join(name);
            let file = file.strip_prefix(workspace_root).unwrap_or(&file).display().to_string();
            Some(Pinned { channel, file })
        })
    })
}

/// The channel of a toolchain file: TOML `[toolchain] channel = ".."`, or a bare legacy line.
fn channel_of(text: &str) -> Option<String> {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => table.get("toolchain")?.get("channel")?.as_str().map(str::to_owned),
        Err(_) => text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_owned),
    }
}

/// The version of the host's `rustc` (`$RUSTC` or `rustc`), run in `dir` so overrides apply.
pub fn local_version(dir: &Path) -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = std::process::Command::new(rustc).arg("-vV").current_dir(dir).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    text.lines().find_map(|l| l.strip_prefix("release: ")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn channels() {
        assert_eq!(super::channel_of("[toolchain]\nchannel = \"1.94.1\"\n").as_deref(), Some("1.94.1"));
        assert_eq!(super::channel_of("nightly-2026-01-01\n").as_deref(), Some("nightly-2026-01-01"));
    }
}
