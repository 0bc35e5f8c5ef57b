//! Registry credentials, found as the docker CLI finds them: in `$DOCKER_CONFIG/config.json`
//! (else `~/.docker/config.json`), the registry's `credHelpers` entry, else its `auths` entry,
//! else `credsStore`; through the `docker_credential` crate, which runs the helpers as the CLI
//! does.

use crate::engine::{Credential, EngineError, Secret};
use crate::interrupt::Interruption;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the docker CLI keeps its configuration.
pub fn config_file() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// The server address the docker CLI files a registry's credentials under.
fn server(registry: &str) -> &str {
    if registry == "docker.io" { "https://index.docker.io/v1/" } else { registry }
}

/// The user's credentials for `registry` (`docker.io`, `ghcr.io`, `localhost:5000`) in the
/// docker configuration `config`; none when there is no configuration or it has nothing for
/// the registry. A configuration or helper that fails is an error, not an anonymous push.
pub fn find_in(config: Option<&Path>, registry: &str) -> Result<Option<Credential>, EngineError> {
    let unreadable = |message: String| EngineError::CredentialsUnreadable { registry: registry.to_owned(), message };
    let Some(config) = config.filter(|c| c.exists()) else { return Ok(None) };
    let bytes =
        crate::engine::discovery::read_capped(config).map_err(|e| unreadable(format!("{}: {e}", config.display())))?;
    let server = server(registry);
    let secret = match docker_credential::get_credential_from_reader(bytes.as_slice(), server) {
        Ok(DockerCredential::UsernamePassword(username, password)) => Secret::Password { username, password },
        Ok(DockerCredential::IdentityToken(token)) => Secret::IdentityToken(token),
        Err(CredentialRetrievalError::NoCredentialConfigured) => return Ok(None),
        // A helper that knows no credentials for this registry says so on stdout.
        Err(CredentialRetrievalError::HelperFailure { stdout, .. }) if stdout.contains("credentials not found") => {
            return Ok(None);
        }
        Err(CredentialRetrievalError::ConfigReadError) => {
            return Err(unreadable(format!("{} is not a docker configuration file", config.display())));
        }
        Err(other) => return Err(unreadable(described(other))),
    };
    Ok(Some(Credential { registry: registry.to_owned(), server: server.to_owned(), secret }))
}

/// What went wrong, in words that never hold what a helper wrote on stdout, where it writes
/// secrets.
fn described(error: CredentialRetrievalError) -> String {
    match error {
        CredentialRetrievalError::HelperFailure { helper, stderr, .. } => {
            let said = stderr.trim();
            let said = if said.is_empty() { String::new() } else { format!(": {said}") };
            format!("the credential helper `{helper}` failed{said}")
        }
        CredentialRetrievalError::HelperCommunicationError => "the credential helper named in the configuration could not be run (is its `docker-credential-<name>` program on PATH?)".into(),
        other => other.to_string(),
    }
}

/// How long a credential helper may take: long enough to type a passphrase it asks for
/// (`pass` through gpg's pinentry), short enough that a helper stuck on a locked keychain
/// does not hang a build with no word.
const HELPER_DEADLINE: Duration = Duration::from_secs(120);

/// When to say that a credential helper is being waited for.
const HELPER_NOTICE: Duration = Duration::from_secs(5);

/// The user's credentials for `registry`, from the docker CLI's configuration. A helper that
/// is slow is named after a few seconds; one that does not answer within two minutes, or
/// Ctrl-C, stops the wait. `docker_credential` runs the helper and waits for it, so it runs on
/// a thread of its own, which is left behind, with its helper, if the wait stops.
pub async fn find(registry: &str, interruption: &Interruption) -> Result<Option<Credential>, EngineError> {
    let (config, owned) = (config_file(), registry.to_owned());
    let lookup = move || find_in(config.as_deref(), &owned);
    within(lookup, registry, interruption, HELPER_NOTICE, HELPER_DEADLINE).await
}

/// Runs `lookup` on a thread of its own, named after `notice`, given up after `deadline`.
async fn within(
    lookup: impl FnOnce() -> Result<Option<Credential>, EngineError> + Send + 'static,
    registry: &str,
    interruption: &Interruption,
    notice: Duration,
    deadline: Duration,
) -> Result<Option<Credential>, EngineError> {
    let (sender, mut found) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || sender.send(lookup()));
    let unreadable = |message: String| EngineError::CredentialsUnreadable { registry: registry.to_owned(), message };
    let started = tokio::time::Instant::now();
    let mut told = false;
    loop {
        let wake = started + if told { deadline } else { notice };
        tokio::select! {
            biased;
            () = interruption.wait() => return Err(EngineError::Interrupted),
            result = &mut found => {
                return result.unwrap_or_else(|_| Err(unreadable("the credential lookup failed".into())));
            }
            () = tokio::time::sleep_until(wake) => {
                if told {
                    let message = format!("the credential helper did not answer within {} s", deadline.as_secs());
                    return Err(unreadable(message));
                }
                say!("waiting for the docker credential helper for {registry} (it may be asking for a passphrase)");
                told = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), json).unwrap();
        file
    }

    #[test]
    fn credentials_come_from_auths_by_registry() {
        // `tester:secret`, as `docker login` writes it.
        let file = config(
            r#"{"auths": {"127.0.0.1:5001": {"auth": "dGVzdGVyOnNlY3JldA=="}, "https://index.docker.io/v1/": {"identitytoken": "tok"}}}"#,
        );
        let found = find_in(Some(file.path()), "127.0.0.1:5001").unwrap().unwrap();
        assert!(found.secret == Secret::Password { username: "tester".into(), password: "secret".into() });
        assert_eq!(found.server, "127.0.0.1:5001");
        let hub = find_in(Some(file.path()), "docker.io").unwrap().unwrap();
        assert!(hub.secret == Secret::IdentityToken("tok".into()));
        assert_eq!(hub.server, "https://index.docker.io/v1/");
        assert_eq!(find_in(Some(file.path()), "ghcr.io").unwrap(), None);
        assert!(!format!("{found:?}").contains("secret"), "a password is never printed");
    }

    #[test]
    fn a_failing_helper_is_named_and_what_it_printed_on_stdout_never_shown() {
        let failure = CredentialRetrievalError::HelperFailure {
            helper: "docker-credential-leaky".into(),
            stdout: r#"{"Secret":"TOPSECRET"}"#.into(),
            stderr: "keychain locked\n".into(),
        };
        assert_eq!(described(failure), "the credential helper `docker-credential-leaky` failed: keychain locked");
        let missing = described(CredentialRetrievalError::HelperCommunicationError);
        assert!(missing.contains("on PATH"), "{missing}");
    }

    #[test]
    fn no_configuration_is_anonymous_and_a_broken_one_an_error() {
        assert_eq!(find_in(Some(Path::new("/nonexistent/config.json")), "ghcr.io").unwrap(), None);
        assert_eq!(find_in(None, "ghcr.io").unwrap(), None);
        let broken = config("{ not json");
        assert!(matches!(find_in(Some(broken.path()), "ghcr.io"), Err(EngineError::CredentialsUnreadable { .. })));
        let missing_helper = config(r#"{"credHelpers": {"ghcr.io": "containerize-no-such-helper"}}"#);
        assert!(matches!(
            find_in(Some(missing_helper.path()), "ghcr.io"),
            Err(EngineError::CredentialsUnreadable { .. })
        ));
    }

    /// A lookup that never ends stands for a helper that never answers.
    #[tokio::test]
    async fn a_lookup_that_never_answers_stops_at_its_deadline_or_at_ctrl_c() {
        let never = || {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(None)
        };
        let (_trigger, interruption) = Interruption::manual();
        let short = Duration::from_millis(50);
        let error = within(never, "ghcr.io", &interruption, short, short * 4).await.unwrap_err();
        assert!(
            matches!(&error, EngineError::CredentialsUnreadable { message, .. } if message.contains("did not answer within")),
            "{error:?}"
        );
        let (trigger, interruption) = Interruption::manual();
        trigger.interrupt();
        let error = within(never, "ghcr.io", &interruption, short, Duration::from_secs(60)).await;
        assert!(matches!(error, Err(EngineError::Interrupted)), "{error:?}");
    }

    #[test]
    fn a_configuration_that_is_not_a_file_is_refused_not_read() {
        let error = find_in(Some(Path::new("/dev/zero")), "ghcr.io").unwrap_err();
        assert!(
            matches!(&error, EngineError::CredentialsUnreadable { message, .. } if message.contains("not a regular file")),
            "{error:?}"
        );
    }
}
