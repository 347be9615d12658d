//! Where credentials come from: explicit values, Docker's `config.json` (with its credential
//! helpers) and podman's `auth.json`; and how `login` and `logout` change those files.
//!
//! Every lookup here is a plain, synchronous function of explicit paths and an explicit
//! environment, so it can be tested without a network or the real home directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use base64::Engine as _;
use http::HeaderValue;
use http::header::InvalidHeaderValue;

use crate::error::Error;
use crate::secret::Secret;

mod docker_config;
mod helper;
mod login;
mod podman;

pub use docker_config::{AuthFile, docker_config_path};
pub use helper::CredentialHelper;
pub use login::{StoredIn, remove_login, store_login};
pub use podman::{podman_auth_paths, podman_auth_paths_for};

/// The server URL under which Docker stores Docker Hub credentials.
pub const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// The names Docker Hub goes by; [`canonical_registry`] maps them all to `docker.io`.
const DOCKER_HUB_ALIASES: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// What to authenticate with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No credentials: anonymous tokens, or no `Authorization` at all.
    #[default]
    Anonymous,
    /// A username and password (or personal access token).
    Basic {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`), good for the token POST flow only.
    IdentityToken(Secret),
    /// A registry token obtained elsewhere, sent as `Authorization: Bearer <token>` as it is,
    /// without asking a token server.
    Bearer(Secret),
}

impl Credentials {
    /// Shorthand for [`Credentials::Basic`].
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Shorthand for [`Credentials::Bearer`].
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Credentials::Bearer(token.into())
    }

    /// True for [`Credentials::Anonymous`].
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Credentials::Anonymous)
    }
}

/// The `Authorization: Basic ...` value for a username and password, marked sensitive.
pub fn basic_authorization(
    username: &str,
    password: &Secret,
) -> Result<HeaderValue, InvalidHeaderValue> {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The host a credentials key or registry name stands for: scheme and path dropped, lowercased,
/// and every Docker Hub alias (`index.docker.io`, `registry-1.docker.io`,
/// `https://index.docker.io/v1/`) mapped to `docker.io`.
///
/// ```
/// use oci_auth::canonical_registry;
///
/// assert_eq!(canonical_registry("https://index.docker.io/v1/"), "docker.io");
/// assert_eq!(canonical_registry("http://Registry.Example:5000/v2/"), "registry.example:5000");
/// ```
pub fn canonical_registry(key: &str) -> String {
    let key = key.trim();
    let without_scheme = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            key.get(..scheme.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
                .map(|_| &key[scheme.len()..])
        })
        .unwrap_or(key);
    let host = without_scheme
        .split('/')
        .next()
        .unwrap_or(without_scheme)
        .to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        "docker.io".to_owned()
    } else {
        host
    }
}

/// The server URL a credential helper is asked about for `registry`: Docker Hub's legacy URL,
/// otherwise the host itself (what `docker login` stores).
pub fn helper_server_url(registry: &str) -> String {
    let host = canonical_registry(registry);
    if host == "docker.io" {
        DOCKER_HUB_SERVER.to_owned()
    } else {
        host
    }
}

/// Credential sources for many registries, searched in this order: explicit credentials,
/// the containers auth files (podman's, skopeo's and `oci-copy login`'s), then the Docker
/// config file (`credHelpers`, then `credsStore`, then `auths`). Nothing found means
/// [`Credentials::Anonymous`]. The order is the containers tools' own, so a fresh login with
/// any of them is never shadowed by an old `docker login`.
///
/// Files are read at each lookup, so a later `docker login` is seen; callers that look up
/// often should keep the answer (the [`Authenticator`](crate::Authenticator) does).
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    explicit: BTreeMap<String, Credentials>,
    docker_config: Option<PathBuf>,
    podman_auth_files: Vec<PathBuf>,
    helper_search_path: Option<OsString>,
}

impl CredentialStore {
    /// A store with no source at all: every registry is anonymous until sources are added.
    pub fn new() -> Self {
        CredentialStore::default()
    }

    /// The sources the process environment points at: `DOCKER_CONFIG` or `~/.docker`,
    /// `REGISTRY_AUTH_FILE` or `$XDG_RUNTIME_DIR/containers/auth.json` (without
    /// `XDG_RUNTIME_DIR`, `/run/containers/$UID/auth.json`) and
    /// `~/.config/containers/auth.json`; helpers are searched on `PATH`.
    pub fn from_env() -> Self {
        CredentialStore::from_env_with(|name| std::env::var_os(name))
    }

    /// Like [`from_env`](Self::from_env), with the environment given as a lookup function.
    pub fn from_env_with(env: impl Fn(&str) -> Option<OsString>) -> Self {
        CredentialStore {
            explicit: BTreeMap::new(),
            docker_config: docker_config_path(&env),
            podman_auth_files: podman_auth_paths(&env),
            helper_search_path: env("PATH"),
        }
    }

    /// Uses `credentials` for `registry` (any alias of it), ahead of every file.
    pub fn with_credentials(mut self, registry: &str, credentials: Credentials) -> Self {
        self.explicit
            .insert(canonical_registry(registry), credentials);
        self
    }

    /// Reads Docker's `config.json` from `path`.
    pub fn with_docker_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.docker_config = Some(path.into());
        self
    }

    /// Also reads a containers `auth.json` from `path`, after the ones already added.
    pub fn with_podman_auth_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.podman_auth_files.push(path.into());
        self
    }

    /// Searches credential helpers in these directories (`PATH` syntax) instead of the
    /// process's `PATH`.
    pub fn with_helper_search_path(mut self, path: impl Into<OsString>) -> Self {
        self.helper_search_path = Some(path.into());
        self
    }

    /// The credentials for `registry` (a host, optionally with port; Docker Hub under any alias).
    ///
    /// This may run a credential helper and waits for it: from async code, call it through
    /// `spawn_blocking`.
    pub fn get(&self, registry: &str) -> Result<Credentials, Error> {
        let host = canonical_registry(registry);
        if let Some(credentials) = self.explicit.get(&host) {
            return Ok(credentials.clone());
        }
        let files = self.podman_auth_files.iter().chain(&self.docker_config);
        for path in files {
            let Some(file) = AuthFile::load(path)? else {
                continue;
            };
            if let Some(credentials) =
                file.credentials_for(registry, self.helper_search_path.as_deref())?
            {
                return Ok(credentials);
            }
        }
        Ok(Credentials::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_registry_strips_scheme_path_and_aliases() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "HTTPS://Registry-1.Docker.IO/v2/",
        ] {
            assert_eq!(canonical_registry(key), "docker.io", "{key}");
        }
        assert_eq!(canonical_registry("quay.io/ns/repo"), "quay.io");
        assert_eq!(canonical_registry("localhost:5000"), "localhost:5000");
        assert_eq!(canonical_registry("http:"), "http:");
    }

    #[test]
    fn helper_server_url_uses_docker_hubs_legacy_url() {
        assert_eq!(helper_server_url("registry-1.docker.io"), DOCKER_HUB_SERVER);
        assert_eq!(helper_server_url("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn basic_authorization_is_base64_and_sensitive() {
        let value = basic_authorization("user", &Secret::new("pass")).unwrap();
        assert_eq!(value.to_str().unwrap(), "Basic dXNlcjpwYXNz");
        assert!(value.is_sensitive());
    }

    #[test]
    fn explicit_credentials_match_any_alias() {
        let store = CredentialStore::new()
            .with_credentials("index.docker.io", Credentials::basic("u", "p"));
        assert_eq!(
            store.get("registry-1.docker.io").unwrap(),
            Credentials::basic("u", "p")
        );
        assert_eq!(store.get("ghcr.io").unwrap(), Credentials::Anonymous);
    }

    #[test]
    fn missing_files_mean_anonymous() {
        let store = CredentialStore::from_env_with(|name| match name {
            "HOME" => Some("/nonexistent/home".into()),
            _ => None,
        });
        assert_eq!(store.get("ghcr.io").unwrap(), Credentials::Anonymous);
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let printed = format!(
            "{:?} {:?}",
            Credentials::basic("alice", "pa55word"),
            Credentials::IdentityToken(Secret::new("refresh-xyz"))
        );
        assert!(printed.contains("alice"));
        assert!(
            !printed.contains("pa55word") && !printed.contains("refresh-xyz"),
            "{printed}"
        );
    }
}
