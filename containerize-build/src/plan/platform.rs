//! The platform an image is for: Linux on the host's architecture (the default), or Windows on
//! amd64, cross-compiled in a Linux builder with mingw-w64 and shipped on a Windows base.

use super::*;

/// The operating system an image runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Os {
    /// Linux, on the host's architecture.
    Linux,
    /// Windows on amd64: the binary is cross-compiled for [`WINDOWS_TARGET`].
    Windows,
}

/// The target triple of Windows binaries: the GNU one, which a Linux builder can link with
/// mingw-w64 from Debian (the MSVC one needs Microsoft's linker and SDK).
pub(super) const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// The Debian package with mingw-w64's linker for [`WINDOWS_TARGET`].
const MINGW_PACKAGE: &str = "gcc-mingw-w64-x86-64";

/// mingw-w64's linker for [`WINDOWS_TARGET`], as that package installs it.
const MINGW_LINKER: &str = "x86_64-w64-mingw32-gcc";

/// Where a Windows image keeps its binary.
pub(super) const WINDOWS_BIN_DIR: &str = r"C:\app";

/// The user Windows images run as: the unprivileged account of nanoserver and servercore.
pub(super) const WINDOWS_USER: &str = "ContainerUser";

/// Docker's name of an architecture as Rust names it (`x86_64` is `amd64`).
pub(super) fn docker_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// What a Linux builder needs to link Windows binaries: mingw-w64 installed first, and cargo
/// told to link with it (the target's standard library comes from `rustup target add`).
pub(super) fn windows_linker(packages: &mut Vec<String>, env: &mut BTreeMap<String, String>) {
    if !packages.iter().any(|p| p == MINGW_PACKAGE) {
        packages.insert(0, MINGW_PACKAGE.to_owned());
    }
    let variable = format!("CARGO_TARGET_{}_LINKER", WINDOWS_TARGET.to_uppercase().replace('-', "_"));
    env.insert(variable, MINGW_LINKER.to_owned());
}

/// Reads `--platform`: `linux/<the host's architecture>` or `windows/amd64`.
pub(super) fn os(options: &Options) -> Result<Os, Diagnostic> {
    let host = format!("linux/{}", docker_arch(&options.arch));
    match options.platform.as_deref() {
        None => Ok(Os::Linux),
        Some(platform) if platform == host => Ok(Os::Linux),
        Some("windows/amd64") => Ok(Os::Windows),
        Some(other) => Err(Diagnostic::error(
            Origin::Flag("--platform"),
            format!("images can't be planned for `{other}`: the platforms are {host} (this host, the default) and windows/amd64"),
            "",
        )
        .with_help("leave out --platform, or use `--platform windows/amd64`")),
    }
}

/// The platform as Docker names it.
pub(super) fn platform_name(os: Os, arch: &str) -> String {
    match os {
        Os::Linux => format!("linux/{}", docker_arch(arch)),
        Os::Windows => "windows/amd64".to_owned(),
    }
}

/// Settings a Windows image can't have: Linux bases, Debian packages in the runtime, and a
/// stop signal (Windows has no signals; the engine refuses `STOPSIGNAL` there).
pub(super) fn windows_conflicts(s: &Settings, base: &Base) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let help = "build it for Linux (leave out --platform), or leave this setting out for Windows";
    if matches!(base, Base::Scratch | Base::DistrolessStatic | Base::DistrolessCc | Base::DebianSlim) {
        errors
            .push(Diagnostic::error(origin(&s.base), "a Windows image needs a Windows base", "a Linux base").with_help(
            "use `base = \"nanoserver\"` (the default for Windows) or `\"servercore\"`, e.g. with --base nanoserver",
        ));
    }
    if s.runtime_packages.is_some() {
        let message = "`runtime-packages` are Debian packages, which a Windows image can't install";
        errors.push(Diagnostic::error(origin(&s.runtime_packages), message, "Linux only").with_help(help));
    }
    if s.stop_signal.is_some() {
        let message = "`stop-signal` has no meaning on Windows, whose engine refuses STOPSIGNAL";
        errors.push(Diagnostic::error(origin(&s.stop_signal), message, "Linux only").with_help(help));
    }
    errors
}

/// A Windows base on a Linux image.
pub(super) fn linux_conflicts(s: &Settings, base: &Base) -> Option<Diagnostic> {
    matches!(base, Base::Nanoserver | Base::Servercore).then(|| {
        Diagnostic::error(origin(&s.base), "a Windows base needs a Windows image", "a Windows base")
            .with_help("add `--platform windows/amd64`, or choose a Linux base")
    })
}

/// The `objcopy` that strips a binary built for `os`.
pub(super) fn objcopy(os: Os) -> &'static str {
    match os {
        Os::Linux => "objcopy",
        Os::Windows => "x86_64-w64-mingw32-objcopy",
    }
}
