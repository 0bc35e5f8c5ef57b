//! Registry credentials, found as the docker CLI finds them: in `$DOCKER_CONFIG/config.json`
//! (else `~/.docker/config.json`), the registry's `credHelpers` entry, else its `auths` entry,
//! else `credsStore`; through the `docker_credential` crate, which runs the helpers as the CLI
//! does.

use crate::engine::{Credential, EngineError, Secret};
use docker_credential::{CredentialRetrievalError, DockerCredential};
use std::path::{Path, PathBuf};

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
    let file = std::fs::File::open(config).map_err(|e| unreadable(format!("{}: {e}", config.display())))?;
    let server = server(registry);
    let secret = match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), server) {
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
        Err(other) => return Err(unreadable(other.to_string())),
    };
    Ok(Some(Credential { registry: registry.to_owned(), server: server.to_owned(), secret }))
}

/// The user's credentials for `registry`, from the docker CLI's configuration.
pub fn find(registry: &str) -> Result<Option<Credential>, EngineError> {
    find_in(config_file().as_deref(), registry)
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
}
