//! Validators for single setting values, shared by every front end.
//!
//! Each turns a string into a typed value or says why it can't be one. They are also the
//! first line of the rule that no user value may inject a Dockerfile instruction: the
//! renderer quotes everything, and these keep values to what each field can mean.

use serde::Serialize;
use std::fmt;

/// Why a value is not acceptable, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Invalid {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), help: None }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The result of a validator.
pub type Checked<T> = Result<T, Invalid>;

fn all_chars(s: &str, ok: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(ok)
}

/// Free text (an environment or label value): anything but control characters, which no
/// Dockerfile instruction can carry, and the Unicode line separators, which would show it on
/// two lines.
pub fn text(s: &str) -> Checked<String> {
    match s.chars().find(|&c| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')) {
        Some(c) => Err(Invalid::new(format!("contains the line-breaking or control character {c:?}"))
            .help("a Dockerfile value is one line: remove newlines, line separators and control characters")),
        None => Ok(s.to_owned()),
    }
}

/// An environment variable or build argument name.
pub fn variable_name(s: &str) -> Checked<String> {
    let valid = all_chars(s, |c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a valid variable name"))
            .help("use letters, digits and `_`, not starting with a digit, e.g. `RUST_LOG`"))
    }
}

/// A label key (reverse-DNS by OCI convention).
pub fn label_key(s: &str) -> Checked<String> {
    if all_chars(s, |c| c.is_ascii_alphanumeric() || "._-/".contains(c)) {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a valid label key"))
            .help("use letters, digits, `.`, `-`, `_` and `/`, e.g. `com.example.team`"))
    }
}

/// An absolute path inside the image.
pub fn image_path(s: &str) -> Checked<String> {
    let safe = all_chars(s, |c| c.is_ascii_alphanumeric() || "._/@+=,:~-".contains(c));
    if !s.starts_with('/') {
        Err(Invalid::new(format!("`{s}` is not an absolute path"))
            .help("paths in the image start with `/`, e.g. `/data`"))
    } else if !safe || s.split('/').any(|part| part == "..") {
        Err(Invalid::new(format!("`{s}` is not a plain path"))
            .help("use letters, digits and `._/@+=,:~-`; no spaces, quotes, `$` or `..`"))
    } else {
        Ok(s.to_owned())
    }
}

/// A path relative to the package directory, for files taken from the project. It may climb
/// with `..` (a sibling member's `../api/schema.json`): the context refuses whatever leads out
/// of the workspace root and the local packages.
pub fn project_path(s: &str) -> Checked<String> {
    let safe = all_chars(s, |c| c.is_ascii_alphanumeric() || "._/@+=,:~-".contains(c));
    if s.starts_with('/') || !safe {
        Err(Invalid::new(format!("`{s}` is not a plain relative path"))
            .help("name a file or directory of the project, relative to the package, e.g. `config/app.toml`"))
    } else {
        Ok(s.trim_end_matches('/').to_owned())
    }
}

/// A user, as `USER` takes it: `name`, `uid`, or either with `:group`.
pub fn user(s: &str) -> Checked<String> {
    let part_ok = |p: &str| all_chars(p, |c| c.is_ascii_alphanumeric() || "._-".contains(c)) && !p.starts_with('-');
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() <= 2 && parts.iter().all(|p| part_ok(p)) {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a user")).help("write `65532`, `65532:65532` or `app:app`"))
    }
}

/// A port the image exposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Port {
    /// The port number.
    pub number: u16,
    /// `tcp` or `udp`.
    pub protocol: Protocol,
}

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        write!(f, "{}/{protocol}", self.number)
    }
}

/// A port: `8080`, `"8080"`, `"8080/tcp"` or `"53/udp"`.
pub fn port(s: &str) -> Checked<Port> {
    let (number, protocol) = s.split_once('/').unwrap_or((s, "tcp"));
    let protocol = match protocol {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => {
            return Err(Invalid::new(format!("unknown protocol `{protocol}`")).help("use `tcp` or `udp`"));
        }
    };
    Ok(Port { number: port_number(number)?, protocol })
}

/// A port number alone.
pub fn port_number(s: &str) -> Checked<u16> {
    match s.parse::<u16>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(Invalid::new(format!("`{s}` is not a port number")).help("use a number from 1 to 65535")),
    }
}

/// An HTTP path to probe: absolute, printable, no spaces.
pub fn http_path(s: &str) -> Checked<String> {
    if s.starts_with('/') && s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not an HTTP path")).help("write a path such as `/healthz`"))
    }
}

/// A duration as Docker writes it: `30s`, `1m30s`, `500ms`. The engine holds it in signed
/// 64-bit nanoseconds and counts healthcheck times in whole milliseconds: `0s` or at least
/// `1ms`, at most some 292 years.
pub fn duration(s: &str) -> Checked<String> {
    match nanos(s)? {
        1..NANOS_PER_MILLI => Err(Invalid::new(format!("`{s}` is less than a millisecond"))
            .help("the engine counts these times in milliseconds: write `1ms` or more")),
        _ => Ok(s.to_owned()),
    }
}

/// A healthcheck's `interval` or `timeout`: a [`duration`] that is not zero, which would give a
/// probe no time to answer (the engine would use its default interval, not none).
pub fn probe_time(s: &str) -> Checked<String> {
    match nanos(s)? {
        0 => Err(Invalid::new(format!("`{s}` is no time at all")).help("write e.g. `10s` or `500ms`")),
        _ => duration(s),
    }
}

const NANOS_PER_MILLI: u64 = 1_000_000;

/// A duration in whole milliseconds; `None` if it is not a valid [`duration`].
pub fn millis(s: &str) -> Option<u64> {
    nanos(s).ok().map(|n| n / NANOS_PER_MILLI)
}

/// A duration in nanoseconds, as the engine parses it (Go's `time.ParseDuration`, without
/// fractions), refused where it would not fit.
fn nanos(s: &str) -> Checked<u64> {
    let not_a_duration =
        || Invalid::new(format!("`{s}` is not a duration")).help("write e.g. `10s`, `1m30s` or `500ms`");
    let too_long = || {
        Invalid::new(format!("`{s}` is longer than the engine can count"))
            .help("durations go up to 2562047h, some 292 years")
    };
    if s.is_empty() {
        return Err(not_a_duration());
    }
    let mut total = 0u64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(not_a_duration)?;
        if digits == 0 {
            return Err(not_a_duration());
        }
        let (unit, per) = [("ns", 1), ("us", 1_000), ("ms", NANOS_PER_MILLI), ("s", 1_000_000_000)]
            .into_iter()
            .chain([("m", 60_000_000_000), ("h", 3_600_000_000_000)])
            .find(|(u, _)| rest[digits..].starts_with(u))
            .ok_or_else(not_a_duration)?;
        let part = rest[..digits].parse::<u64>().ok().and_then(|number| number.checked_mul(per));
        total = part.and_then(|part| total.checked_add(part)).ok_or_else(too_long)?;
        rest = &rest[digits + unit.len()..];
    }
    if total > i64::MAX as u64 {
        return Err(too_long());
    }
    Ok(total)
}

/// A number of retries: 1 to 100.
pub fn retries(s: &str) -> Checked<u32> {
    match s.parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(Invalid::new(format!("`{s}` is not a number of retries")).help("use a number from 1 to 100")),
    }
}

/// The signal names Docker takes (moby's `signal_linux.go`), without `SIG`; the aliases
/// `CLD`, `IOT` and `POLL` are written as the names they stand for.
const SIGNAL_NAMES: [&str; 31] = [
    "ABRT", "ALRM", "BUS", "CHLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "KILL", "PIPE", "PROF", "PWR", "QUIT",
    "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH",
    "XCPU", "XFSZ",
];

/// A signal as Docker takes it (any case, with or without `SIG`, or a number from 1 to 64),
/// normalised to `SIGNAME` or the number.
pub fn signal(s: &str) -> Checked<String> {
    let refused = |why: &str| {
        Err(Invalid::new(format!("`{s}` can't be a stop signal: {why}"))
            .help("use a signal a process can catch, such as `SIGTERM`, `SIGINT` or `SIGQUIT`"))
    };
    if let Ok(number @ 1..=64) = s.parse::<u8>() {
        // As numbered on Linux: KILL, STOP, the faults, CHLD, and glibc's two internal ones.
        return match number {
            9 | 19 => refused("it can't be caught, so the app can't stop cleanly"),
            4 | 7 | 8 | 11 => refused("it reports a fault, and an init can't pass it on"),
            17 => refused("it says a child ended, and an init keeps it to reap children"),
            32 | 33 => refused("the C library keeps it for itself"),
            _ => Ok(number.to_string()),
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let name = match name {
        "CLD" => "CHLD",
        "IOT" => "ABRT",
        "POLL" => "IO",
        other => other,
    };
    // SIGRTMIN+1 to +15 and SIGRTMAX-14 to SIGRTMAX, as Docker numbers the real-time signals.
    let offset = |prefix: &str, sign: char| {
        name.strip_prefix(prefix).is_some_and(|rest| {
            rest.is_empty()
                || rest.strip_prefix(sign).is_some_and(|n| {
                    !n.starts_with('0')
                        && n.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n) && (sign == '+' || n < 15))
                })
        })
    };
    if ["KILL", "STOP"].contains(&name) {
        refused("it can't be caught, so the app can't stop cleanly")
    } else if ["SEGV", "BUS", "ILL", "FPE"].contains(&name) {
        refused("it reports a fault, and an init can't pass it on")
    } else if name == "CHLD" {
        refused("it says a child ended, and an init keeps it to reap children")
    } else if SIGNAL_NAMES.contains(&name) || offset("RTMIN", '+') || offset("RTMAX", '-') {
        Ok(format!("SIG{name}"))
    } else {
        Err(Invalid::new(format!("`{s}` is not a signal"))
            .help("write a name such as `SIGTERM` or `SIGQUIT`, or a number from 1 to 64"))
    }
}

/// A Debian package name, optionally pinned: `libssl-dev` or `libssl-dev=3.0.11-1`.
pub fn debian_package(s: &str) -> Checked<String> {
    let (name, version) = s.split_once('=').map_or((s, None), |(n, v)| (n, Some(v)));
    let name_ok = all_chars(name, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
        && name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    let version_ok = version.is_none_or(|v| all_chars(v, |c| c.is_ascii_alphanumeric() || ".+~:-".contains(c)));
    if name_ok && version_ok {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a Debian package name")).help("write a name such as `libssl-dev`"))
    }
}

/// A Cargo feature: `name`, `dep:name` or `package/name`.
pub fn feature(s: &str) -> Checked<String> {
    if all_chars(s, |c| c.is_ascii_alphanumeric() || "_-+./:".contains(c)) && !s.starts_with('-') {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a feature name"))
            .help("write a feature such as `tls` or `serde/derive`"))
    }
}

/// A Cargo target or profile name.
pub fn cargo_name(s: &str) -> Checked<String> {
    if all_chars(s, |c| c.is_ascii_alphanumeric() || "_-".contains(c)) && !s.starts_with('-') {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(format!("`{s}` is not a Cargo name")).help("use letters, digits, `-` and `_`"))
    }
}

/// A file mode: `"0644"`, `"755"` or an integer such as `0o755`.
pub fn mode(s: &str) -> Checked<u32> {
    match u32::from_str_radix(s.trim_start_matches("0o"), 8) {
        Ok(mode) if mode <= 0o7777 => Ok(mode),
        _ => {
            Err(Invalid::new(format!("`{s}` is not a file mode"))
                .help("write octal digits, e.g. `\"0644\"` or `0o755`"))
        }
    }
}

/// Validators and the parsed form of image references (`[registry/]path[:tag][@digest]`).
///
/// Written here rather than taken from `oci-spec`, whose `Reference` would pull some twenty
/// crates into every build script that uses `containerize-build`; the grammar is the
/// distribution project's `reference.go`.
pub mod image {
    use super::{Checked, Invalid};

    fn path_component_ok(c: &str) -> bool {
        // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
        let bytes = c.as_bytes();
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(&bytes[0]) || !alnum(&bytes[bytes.len() - 1]) {
            return false;
        }
        let mut separators =
            c.split(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit()).filter(|s| !s.is_empty());
        c.bytes().all(|b| alnum(&b) || b"._-".contains(&b))
            && separators.all(|sep| sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-'))
    }

    fn domain_ok(d: &str) -> bool {
        let (host, port) = d.rsplit_once(':').map_or((d, None), |(h, p)| (h, Some(p)));
        port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p > 0))
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    }

    /// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    pub fn tag(s: &str) -> Checked<String> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with(['.', '-'])
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if ok {
            Ok(s.to_owned())
        } else {
            Err(Invalid::new(format!("`{s}` is not an image tag"))
                .help("use up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"))
        }
    }

    /// The placeholders a tag may hold, each with what it stands for.
    pub const TAG_PLACEHOLDERS: [(&str, &str); 2] = [
        ("version", "the package version (`+` written `_`)"),
        (
            "revision",
            "the git commit of the sources, 7 hex digits (`-dirty` after them when the workspace has changes)",
        ),
    ];

    /// A tag that may hold placeholders, `{version}-{revision}`: each placeholder known, and
    /// the rest what a tag may hold. A placeholder's value is checked once it is known.
    pub fn tag_template(s: &str) -> Checked<String> {
        let mut sample = String::new();
        let mut rest = s;
        while let Some(open) = rest.find(['{', '}']) {
            sample.push_str(&rest[..open]);
            let close = rest[open..].find('}').filter(|_| rest[open..].starts_with('{')).map(|i| open + i);
            let known =
                close.map(|close| &rest[open + 1..close]).filter(|p| TAG_PLACEHOLDERS.iter().any(|(n, _)| n == p));
            let (Some(close), Some(_)) = (close, known) else {
                let names: Vec<String> =
                    TAG_PLACEHOLDERS.iter().map(|(n, meaning)| format!("`{{{n}}}` ({meaning})")).collect();
                let what = close.map_or_else(
                    || "an unclosed `{` or a stray `}`".to_owned(),
                    |close| format!("the unknown placeholder `{}`", &rest[open..=close]),
                );
                return Err(Invalid::new(format!("tag `{s}` has {what}"))
                    .help(format!("a tag may hold {}", names.join(" and "))));
            };
            // A value that keeps the template's shape: a placeholder never starts a tag with
            // `.` or `-`.
            sample.push('0');
            rest = &rest[close + 1..];
        }
        sample.push_str(rest);
        tag(&sample).map_err(|e| Invalid { message: format!("`{s}` is not an image tag"), ..e })?;
        Ok(s.to_owned())
    }

    /// The registry host a repository names, if it names one (`ghcr.io`, `localhost:5000`);
    /// without one, the engine takes Docker Hub.
    pub fn domain(name: &str) -> Option<&str> {
        let (first, rest) = name.split_once('/')?;
        (!rest.is_empty() && (first.contains(['.', ':']) || first == "localhost")).then_some(first)
    }

    /// A registry, or a registry and a namespace, to put before image names: `ghcr.io/acme`,
    /// `localhost:5000`.
    pub fn registry(s: &str) -> Checked<String> {
        let host = s.split('/').next().unwrap_or(s);
        if !(host.contains(['.', ':']) || host == "localhost") {
            return Err(Invalid::new(format!("`{s}` names no registry host"))
                .help("write the registry's host first, e.g. `ghcr.io/acme` or `localhost:5000`"));
        }
        // A prefix with a host alone is checked with a name after it.
        repository(&format!("{s}/x"))
            .map_err(|e| Invalid { message: format!("`{s}` is not a registry prefix"), ..e })?;
        Ok(s.to_owned())
    }

    /// A repository name without tag or digest, e.g. `ghcr.io/acme/app`.
    pub fn repository(s: &str) -> Checked<String> {
        let mut parts: Vec<&str> = s.split('/').collect();
        let first = parts[0];
        let has_domain = domain(s).is_some();
        if has_domain && !domain_ok(first) {
            return Err(Invalid::new(format!("`{first}` is not a registry host"))
                .help("write a host name or address, with `:` and a port from 1 to 65535 if it needs one"));
        }
        if has_domain {
            parts.remove(0);
        }
        // The engine refuses a name that could be mistaken for an image id.
        let looks_like_an_id = s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if s.len() <= 255 && parts.iter().all(|p| path_component_ok(p)) && !looks_like_an_id {
            Ok(s.to_owned())
        } else {
            Err(Invalid::new(format!("`{s}` is not an image name"))
                .help("use lowercase letters, digits and separators (`.`, `_`, `-`, `/`), e.g. `ghcr.io/acme/app`"))
        }
    }

    /// Splits `name[:tag][@digest]`; the tag's colon is the last one after the last `/`.
    pub fn split(s: &str) -> (&str, Option<&str>, Option<&str>) {
        let (rest, digest) = s.split_once('@').map_or((s, None), |(r, d)| (r, Some(d)));
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..]), digest),
            None => (rest, None, digest),
        }
    }

    /// A reference to tag an image with, `name[:tag]`: a digest names content, so it can't be
    /// given to an image.
    pub fn tag_reference(s: &str) -> Checked<String> {
        let (name, tag_part, digest) = split(s);
        if digest.is_some() {
            return Err(Invalid::new(format!("`{s}` is a digest reference, which can't be a tag"))
                .help("write `name:tag`, e.g. `ghcr.io/acme/app:1.0`"));
        }
        repository(name)?;
        tag_part.map(tag).transpose()?;
        Ok(s.to_owned())
    }

    /// A full reference, `name[:tag][@digest]`.
    pub fn reference(s: &str) -> Checked<String> {
        let (name, tag_part, digest) = split(s);
        repository(name)?;
        if let Some(t) = tag_part {
            tag(t)?;
        }
        if let Some(d) = digest {
            let (algorithm, hex) = d.split_once(':').unwrap_or(("", ""));
            if algorithm.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Invalid::new(format!("`{d}` is not a digest")).help("write `sha256:` and 64 hex digits"));
            }
        }
        Ok(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in
            ["app", "ghcr.io/acme/app:1.0", "localhost:5000/a/b", "a__b", "a--b", "rust:1.95.0-slim-trixie", "scratch"]
        {
            assert!(image::reference(ok).is_ok(), "{ok}");
        }
        for bad in ["App", "a/", "-a", "a:b:c", "a\nFROM x", "a b", "ghcr.io/acme/app:-x", "a@sha256:zz"] {
            assert!(image::reference(bad).is_err(), "{bad}");
        }
        assert_eq!(image::split("localhost:5000/a:1"), ("localhost:5000/a", Some("1"), None));
    }

    #[test]
    fn tag_templates() {
        for ok in ["{version}", "{revision}", "v{version}-{revision}", "latest", "{version}_x"] {
            assert_eq!(image::tag_template(ok), Ok(ok.to_owned()), "{ok}");
        }
        let unknown = image::tag_template("{sha}").unwrap_err();
        assert_eq!(unknown.message, "tag `{sha}` has the unknown placeholder `{sha}`");
        assert!(unknown.help.unwrap().contains("`{version}`"));
        for bad in ["{version", "version}", "{}", "-{version}", "a b{version}", "{{version}}"] {
            assert!(image::tag_template(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_prefixes() {
        for ok in ["ghcr.io/acme", "localhost:5000", "127.0.0.1:5001/team/sub", "localhost/x"] {
            assert_eq!(image::registry(ok), Ok(ok.to_owned()), "{ok}");
        }
        for bad in
            ["acme", "ghcr.io/", "ghcr.io/Acme", "ghcr.io//a", "-x.io/a", "", "host:99999/x", "host:0", "host:+5"]
        {
            assert!(image::registry(bad).is_err(), "{bad}");
        }
        assert_eq!(image::domain("ghcr.io/acme/app"), Some("ghcr.io"));
        assert_eq!(image::domain("localhost:5000/app"), Some("localhost:5000"));
        assert_eq!(image::domain("acme/app"), None);
        assert_eq!(image::domain("app"), None);
    }

    #[test]
    fn a_tag_reference_has_no_digest() {
        let digest = format!("app@sha256:{}", "a".repeat(64));
        assert!(image::reference(&digest).is_ok());
        assert!(image::tag_reference(&digest).unwrap_err().message.contains("is a digest reference"));
        assert!(image::tag_reference(&format!("app:1{}", &digest[3..])).is_err());
        for bad in ["", "app:", ":1", "App:1", "a b:1", "app@", "a:b:c", "app:-1"] {
            assert!(image::tag_reference(bad).is_err(), "{bad}");
        }
        // A repository named like an image id, which the engine refuses to tag.
        assert!(image::tag_reference(&format!("{}:x", "a".repeat(64))).is_err());
        assert!(image::tag_reference(&format!("{}:x", "a".repeat(63))).is_ok());
        for ok in ["app", "app:1.0", "localhost:5000/a/b:x", "ghcr.io/acme/app"] {
            assert!(image::tag_reference(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn values_that_could_break_a_line_are_refused() {
        assert!(text("a\nRUN x").is_err());
        assert!(text("tab\tis fine, \"quotes\" and $ too").is_ok());
        assert!(image_path("/data dir").is_err());
        assert!(image_path("/$HOME").is_err());
        assert!(user("app\nUSER root").is_err());
        assert!(debian_package("curl && rm -rf /").is_err());
        assert_eq!(signal("TERM").unwrap(), "SIGTERM");
        assert!(signal("SIGQUIT\nRUN x").is_err());
    }

    #[test]
    fn signals_are_those_docker_takes() {
        for (written, normal) in [
            ("SIGQUIT", "SIGQUIT"),
            ("hup", "SIGHUP"),
            ("sigwinch", "SIGWINCH"),
            ("SIGPOLL", "SIGIO"),
            ("IOT", "SIGABRT"),
            ("SIGRTMIN", "SIGRTMIN"),
            ("SIGRTMIN+3", "SIGRTMIN+3"),
            ("SIGRTMIN+15", "SIGRTMIN+15"),
            ("rtmax-14", "SIGRTMAX-14"),
            ("SIGRTMAX", "SIGRTMAX"),
            ("10", "10"),
            ("64", "64"),
            ("+03", "3"),
        ] {
            assert_eq!(signal(written).as_deref(), Ok(normal), "{written}");
        }
        // Signals that can't stop an app through an init.
        for refused in ["SIGKILL", "stop", "SIGSEGV", "SIGCLD", "SIGCHLD", "9", "17", "32", "33"] {
            assert!(signal(refused).unwrap_err().message.contains("can't be a stop signal"), "{refused}");
        }
        for refused in [
            "SIGFOO",
            "SIG",
            "",
            "0",
            "65",
            "SIGRTMIN+16",
            "SIGRTMIN+0",
            "SIGRTMIN+03",
            "SIGRTMAX-15",
            "SIGRTMAX+1",
            "SIGUNUSED",
            "SIGINFO",
            "SIG TERM",
        ] {
            assert!(signal(refused).is_err(), "{refused}");
        }
        assert_eq!(port("53/udp").unwrap().to_string(), "53/udp");
        assert_eq!(mode("0o755").unwrap(), 0o755);
    }

    #[test]
    fn durations_fit_the_engine() {
        assert_eq!(millis("1m30s"), Some(90_000));
        assert_eq!(millis("1500us"), Some(1));
        assert_eq!(duration("2562047h").as_deref(), Ok("2562047h"));
        assert_eq!(duration("0s").as_deref(), Ok("0s"));
        for overflowing in
            ["2562048h", "6000000000000h", "18446744073709551615ms", "99999999999999999999s", "5124094h5124094h"]
        {
            let invalid = duration(overflowing).unwrap_err();
            assert!(invalid.message.contains("longer than the engine can count"), "{overflowing}: {invalid:?}");
            assert_eq!(millis(overflowing), None);
        }
        for bad in ["", "s", "10", "1.5s", "10 s", "-1s", "1d"] {
            assert!(duration(bad).unwrap_err().message.contains("is not a duration"), "{bad}");
        }
        assert!(duration("500us").unwrap_err().message.contains("less than a millisecond"));
        assert!(probe_time("0s").unwrap_err().message.contains("no time at all"));
        assert!(probe_time("0ms0s").is_err());
        assert_eq!(probe_time("1ms").as_deref(), Ok("1ms"));
    }
}
