//! The engine's push stream as [`PushEvent`]s, and what its errors mean.

use super::*;

/// The events in one item of the push stream. The engine names each layer by its id, which
/// bollard's model drops; the statuses are enough to count layers and bytes.
pub fn push_events(info: bollard::models::PushImageInfo) -> Vec<PushEvent> {
    let Some(status) = info.status else { return Vec::new() };
    let detail = info.progress_detail.unwrap_or_default();
    let bytes = |n: Option<i64>| n.unwrap_or_default().max(0).unsigned_abs();
    let event = match status.as_str() {
        "Preparing" => PushEvent::LayerFound,
        "Pushing" => PushEvent::LayerProgress { current: bytes(detail.current), total: bytes(detail.total) },
        "Pushed" => PushEvent::LayerDone { already: false },
        "Layer already exists" => PushEvent::LayerDone { already: true },
        mounted if mounted.starts_with("Mounted from ") => PushEvent::LayerDone { already: true },
        // `<tag>: digest: sha256:<hex> size: <bytes>`, as the docker CLI prints it.
        other => match other.split_once(": digest: ").and_then(|(_, rest)| rest.split_whitespace().next()) {
            Some(digest) if digest.starts_with("sha256:") => PushEvent::Digest(digest.to_owned()),
            _ => return Vec::new(),
        },
    };
    vec![event]
}

/// What the engine's message about a registry means: the registry refused the credentials,
/// could not be reached, refused the name, speaks plain http where only https is taken, or
/// something else. `anonymous` says no credentials were sent.
pub fn classify_registry_error(reference: &str, anonymous: bool, message: String) -> EngineError {
    let registry = registry_of(reference).to_owned();
    let message = unwrapped(message);
    let lower = message.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["server gave http response to https client"]) {
        EngineError::InsecureRegistry { registry }
    } else if is_refusal(&message) {
        EngineError::RegistryAuth { registry, anonymous, message }
    } else if has(&["name invalid", "invalid reference format", "repository name must", "invalid repository name"]) {
        EngineError::RepositoryInvalid { reference: reference.to_owned(), message }
    } else if is_unreachable(&message) {
        EngineError::RegistryUnreachable { registry, message }
    } else {
        EngineError::PushFailed { reference: reference.to_owned(), message }
    }
}

/// Podman's message without the list it wraps even one error in (`1 error occurred:\n\t* ...`):
/// its errors, joined by `; `.
fn unwrapped(message: String) -> String {
    let Some((_, list)) = message.split_once(" occurred:\n") else { return message };
    let errors: Vec<&str> = list.lines().filter_map(|line| line.trim_start().strip_prefix("* ")).collect();
    if errors.is_empty() { message } else { errors.join("; ") }
}

/// Whether the engine's message says no registry answered (or none in time).
pub fn is_unreachable(message: &str) -> bool {
    let lower = message.to_lowercase();
    [
        "dial tcp",
        "no such host",
        "connection refused",
        "i/o timeout",
        "tls handshake timeout",
        "context deadline exceeded",
        "network is unreachable",
        "no route to host",
        "connection reset",
        // Go's http client giving up on a registry that took the connection and said nothing.
        "client.timeout exceeded",
        "awaiting headers",
    ]
    .iter()
    .any(|n| lower.contains(n))
}

/// Whether the engine's message says the registry refused the credentials, or wanted some.
pub fn is_refusal(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["unauthorized", "authentication required", "no basic auth credentials", "denied", "incorrect username or password"]
        .iter()
        .any(|n| lower.contains(n))
}

/// Whether the engine's message says only that the tag or repository is not in the registry
/// yet: what asking about an image never pushed gives.
pub(super) fn is_absent(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["manifest unknown", "name unknown", "not found"].iter().any(|n| lower.contains(n))
}

/// Whether a registry is on this machine (`localhost`, `127.0.0.0/8`, `::1`): where Docker
/// takes plain http without being told, and where the tool tells Podman so.
pub(super) fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((host, _)) => host,
        None => registry.rsplit_once(':').map_or(registry, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Among `credentials`, the one for the registry `image` comes from.
pub fn credential_for<'a>(credentials: &'a [Credential], image: &str) -> Option<&'a Credential> {
    credentials.iter().find(|c| c.registry == registry_of(image))
}

/// The registry a reference names, or Docker Hub's, where the engine sends it.
pub fn registry_of(reference: &str) -> &str {
    containerize_build::validate::image::domain(reference).unwrap_or("docker.io")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: &str, current: Option<i64>, total: Option<i64>) -> bollard::models::PushImageInfo {
        bollard::models::PushImageInfo {
            status: Some(status.into()),
            progress_detail: Some(bollard::models::ProgressDetail { current, total }),
            ..Default::default()
        }
    }

    #[test]
    fn the_push_stream_becomes_events() {
        let events: Vec<PushEvent> = [
            status("The push refers to repository [127.0.0.1:5001/hello]", None, None),
            status("Preparing", None, None),
            status("Waiting", None, None),
            status("Pushing", Some(512), Some(2048)),
            status("Pushed", None, None),
            status("Layer already exists", None, None),
            status("Mounted from acme/base", None, None),
            status(
                "1: digest: sha256:5eefb988841abfe0cb183ac0e6af6843d2a98fc267efa46e4c5a28b47155bb3d size: 527",
                None,
                None,
            ),
        ]
        .into_iter()
        .flat_map(push_events)
        .collect();
        assert_eq!(
            events,
            [
                PushEvent::LayerFound,
                PushEvent::LayerProgress { current: 512, total: 2048 },
                PushEvent::LayerDone { already: false },
                PushEvent::LayerDone { already: true },
                PushEvent::LayerDone { already: true },
                PushEvent::Digest("sha256:5eefb988841abfe0cb183ac0e6af6843d2a98fc267efa46e4c5a28b47155bb3d".into()),
            ]
        );
    }

    #[test]
    fn loopback_registries_are_told_apart() {
        for local in ["127.0.0.1:5000", "127.0.0.2", "localhost:5001", "LOCALHOST", "[::1]:5000"] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in ["ghcr.io", "docker.io", "10.0.0.1:5000", "localhost.example:5000", "[::2]:5000", "128.0.0.1"] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    /// Podman 4.3's messages through its compatible API, one per class.
    #[test]
    fn podmans_registry_errors_are_told_apart() {
        let classify = |reference: &str, message: &str| classify_registry_error(reference, false, message.into());
        let refused = "1 error occurred:\n\t* getting repository tags: unable to retrieve auth token: invalid username/password: unauthorized: authentication required";
        assert!(matches!(
            classify("127.0.0.1:5001/hello:1", refused),
            EngineError::RegistryAuth { message, .. } if message == "getting repository tags: unable to retrieve auth token: invalid username/password: unauthorized: authentication required"
        ));
        let unreachable = "1 error occurred:\n\t* getting repository tags: pinging container registry 127.0.0.1:5009: Get \"http://127.0.0.1:5009/v2/\": dial tcp 127.0.0.1:5009: connect: connection refused";
        assert!(matches!(classify("127.0.0.1:5009/hello:1", unreachable), EngineError::RegistryUnreachable { .. }));
        let insecure = "trying to reuse blob sha256:43aa at destination: pinging container registry 10.0.0.5:5000: Get \"https://10.0.0.5:5000/v2/\": http: server gave HTTP response to HTTPS client";
        assert!(matches!(classify("10.0.0.5:5000/hello:1", insecure), EngineError::InsecureRegistry { .. }));
        assert!(!is_absent(refused) && !is_absent(unreachable) && !is_absent(insecure));
    }

    /// The engine's own messages (Docker 20.10, a Distribution registry), one per class.
    #[test]
    fn registry_errors_are_told_apart() {
        let classify = |reference: &str, message: &str| classify_registry_error(reference, false, message.into());
        assert!(matches!(
            classify("127.0.0.1:5001/hello:1", "unauthorized: authentication required"),
            EngineError::RegistryAuth { registry, .. } if registry == "127.0.0.1:5001"
        ));
        assert!(matches!(
            classify(
                "127.0.0.1:5001/hello:1",
                "Head \"http://127.0.0.1:5001/v2/hello/manifests/1\": no basic auth credentials"
            ),
            EngineError::RegistryAuth { .. }
        ));
        assert!(matches!(
            classify("hello/app:1", "denied: requested access to the resource is denied"),
            EngineError::RegistryAuth { registry, .. } if registry == "docker.io"
        ));
        assert!(matches!(
            classify(
                "127.0.0.1:5009/hello:1",
                "Get \"http://127.0.0.1:5009/v2/\": dial tcp 127.0.0.1:5009: connect: connection refused"
            ),
            EngineError::RegistryUnreachable { .. }
        ));
        assert!(matches!(
            classify(
                "no-such-host.invalid/x:1",
                "Get \"https://no-such-host.invalid/v2/\": dial tcp: lookup no-such-host.invalid on 10.255.255.53:53: no such host"
            ),
            EngineError::RegistryUnreachable { .. }
        ));
        assert!(matches!(
            classify(
                "127.0.0.1:5099/x:1",
                "Put \"http://127.0.0.1:5099/v2/x/manifests/1\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
            ),
            EngineError::RegistryUnreachable { .. }
        ));
        assert!(matches!(
            classify("127.0.0.1:5099/x:1", "Get \"http://127.0.0.1:5099/v2/\": context deadline exceeded"),
            EngineError::RegistryUnreachable { .. }
        ));
        assert!(matches!(
            classify("172.17.0.1:5002/x:1", "Get \"https://172.17.0.1:5002/v2/\": http: server gave HTTP response to HTTPS client"),
            EngineError::InsecureRegistry { registry } if registry == "172.17.0.1:5002"
        ));
        assert!(matches!(
            classify("ghcr.io/acme/x:1", "name invalid: invalid repository name"),
            EngineError::RepositoryInvalid { .. }
        ));
        assert!(matches!(classify("ghcr.io/acme/x:1", "blob upload unknown"), EngineError::PushFailed { .. }));
        assert!(is_absent("manifest unknown: manifest unknown"));
        // Podman's answer for a repository the registry does not hold yet (its tags listed).
        assert!(is_absent(
            "1 error occurred:\n\t* getting repository tags: fetching tags list: invalid status code from registry 404 (Not Found)"
        ));
        assert!(!is_absent("unauthorized: authentication required"));
    }
}
