//! The credentials file format shared by Docker's `config.json` and containers' `auth.json`:
//! `auths` entries, `credHelpers` per registry and a default `credsStore`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use super::{CredentialHelper, Credentials, DOCKER_HUB_SERVER, canonical_registry};
use crate::error::Error;
use crate::secret::Secret;

/// Base64 as Docker writes it, accepting a missing `=` padding as some tools write it.
const AUTH_FIELD_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where Docker keeps its config: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(dir) = non_empty("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// One parsed credentials file.
#[derive(Debug, Default, Deserialize)]
pub struct AuthFile {
    #[serde(skip)]
    path: PathBuf,
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

/// One entry under `auths`.
#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<Secret>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
    #[serde(default)]
    identitytoken: Option<Secret>,
    /// A bearer token for the registry itself (Docker's `registrytoken`).
    #[serde(default)]
    registrytoken: Option<Secret>,
}

impl AuthFile {
    /// Reads and parses the file at `path`; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<AuthFile>, Error> {
        match std::fs::read(path) {
            Ok(bytes) => AuthFile::parse(path, &bytes).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::ReadConfig {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses the contents of a file; `path` is kept for error messages.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<AuthFile, Error> {
        let mut file: AuthFile =
            serde_json::from_slice(bytes).map_err(|source| Error::ParseConfig {
                path: path.to_owned(),
                source,
            })?;
        file.path = path.to_owned();
        Ok(file)
    }

    /// The credential helper this file names for `registry`: its `credHelpers` entry, else the
    /// `credsStore`.
    pub fn helper_for(&self, registry: &str) -> Option<&str> {
        find_entry(&self.cred_helpers, registry)
            .map(|(_, name)| name.as_str())
            .or(self.creds_store.as_deref())
            .filter(|name| !name.is_empty())
    }

    /// The credentials for `registry`, Docker's way: ask the helper when one is configured, and
    /// fall back to the `auths` entry when the helper has none.
    pub fn credentials_for(
        &self,
        registry: &str,
        helper_search_path: Option<&OsStr>,
    ) -> Result<Option<Credentials>, Error> {
        if let Some(name) = self.helper_for(registry) {
            let mut helper = CredentialHelper::new(name);
            if let Some(path) = helper_search_path {
                helper = helper.with_search_path(path);
            }
            if let Some(credentials) = helper.get(registry)? {
                return Ok(Some(credentials));
            }
        }
        self.stored_credentials(registry)
    }

    /// The credentials stored in `auths` for `registry`, without running any helper.
    ///
    /// Keys match by host (see [`canonical_registry`]); an exact key wins, and for Docker Hub
    /// the `https://index.docker.io/v1/` key Docker writes wins over the other spellings.
    pub fn stored_credentials(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        let Some((key, entry)) = find_entry(&self.auths, registry) else {
            return Ok(None);
        };
        if let Some(token) = entry.registrytoken.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::Bearer(token.clone())));
        }
        if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::IdentityToken(token.clone())));
        }
        if let Some(auth) = entry
            .auth
            .as_ref()
            .filter(|a| !a.expose().trim().is_empty())
        {
            return self.decode_auth_field(key, auth).map(Some);
        }
        Ok(match (&entry.username, &entry.password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Some(Credentials::basic(username.clone(), password.clone()))
            }
            _ => None,
        })
    }

    fn decode_auth_field(&self, key: &str, auth: &Secret) -> Result<Credentials, Error> {
        let decoded = AUTH_FIELD_ENGINE
            .decode(auth.expose().trim())
            .map_err(|source| Error::AuthFieldBase64 {
                path: self.path.clone(),
                key: key.to_owned(),
                source,
            })?;
        let format_error = || Error::AuthFieldFormat {
            path: self.path.clone(),
            key: key.to_owned(),
        };
        let text = String::from_utf8(decoded).map_err(|_| format_error())?;
        let (username, password) = text.split_once(':').ok_or_else(format_error)?;
        Ok(Credentials::basic(username, password))
    }
}

/// The entry of `map` for `registry`: the exact key, else Docker's Docker Hub key, else the
/// first key naming the same host.
fn find_entry<'m, V>(map: &'m BTreeMap<String, V>, registry: &str) -> Option<(&'m str, &'m V)> {
    if let Some((key, value)) = map.get_key_value(registry) {
        return Some((key, value));
    }
    let host = canonical_registry(registry);
    if host == "docker.io"
        && let Some((key, value)) = map.get_key_value(DOCKER_HUB_SERVER)
    {
        return Some((key, value));
    }
    map.iter()
        .find(|(key, _)| canonical_registry(key) == host)
        .map(|(key, value)| (key.as_str(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> AuthFile {
        AuthFile::parse(Path::new("config.json"), json.as_bytes()).unwrap()
    }

    #[test]
    fn config_path_prefers_docker_config() {
        let env = |name: &str| match name {
            "DOCKER_CONFIG" => Some(OsString::from("/etc/docker-conf")),
            "HOME" => Some(OsString::from("/home/u")),
            _ => None,
        };
        assert_eq!(
            docker_config_path(env),
            Some(PathBuf::from("/etc/docker-conf/config.json"))
        );
        let home_only = |name: &str| (name == "HOME").then(|| OsString::from("/home/u"));
        assert_eq!(
            docker_config_path(home_only),
            Some(PathBuf::from("/home/u/.docker/config.json"))
        );
        assert_eq!(docker_config_path(|_| None), None);
    }

    #[test]
    fn auth_field_decodes_with_or_without_padding() {
        // "user:pa:ss" keeps the colon in the password.
        let file = parse(
            r#"{"auths":{"a.example":{"auth":"dXNlcjpwYTpzcw=="},"b.example":{"auth":"dXNlcjpwYTpzcw"}}}"#,
        );
        for registry in ["a.example", "b.example"] {
            assert_eq!(
                file.stored_credentials(registry).unwrap(),
                Some(Credentials::basic("user", "pa:ss"))
            );
        }
    }

    #[test]
    fn identity_token_wins_over_auth() {
        let file = parse(r#"{"auths":{"r.example":{"auth":"dTpw","identitytoken":"refresh"}}}"#);
        assert_eq!(
            file.stored_credentials("r.example").unwrap(),
            Some(Credentials::IdentityToken(Secret::new("refresh")))
        );
    }

    #[test]
    fn a_registry_token_is_a_bearer_credential() {
        let file = parse(
            r#"{"auths":{"r.example":{"auth":"dTpw","identitytoken":"refresh","registrytoken":"ready"}}}"#,
        );
        assert_eq!(
            file.stored_credentials("r.example").unwrap(),
            Some(Credentials::bearer("ready"))
        );
    }

    #[test]
    fn username_and_password_fields() {
        let file = parse(r#"{"auths":{"r.example":{"username":"u","password":"p"}}}"#);
        assert_eq!(
            file.stored_credentials("r.example").unwrap(),
            Some(Credentials::basic("u", "p"))
        );
    }

    #[test]
    fn empty_entries_and_unknown_hosts_give_nothing() {
        let file = parse(r#"{"auths":{"r.example":{}},"HttpHeaders":{"X":"y"}}"#);
        assert_eq!(file.stored_credentials("r.example").unwrap(), None);
        assert_eq!(file.stored_credentials("other.example").unwrap(), None);
    }

    #[test]
    fn docker_hub_spellings_all_match() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "https://registry-1.docker.io/v2/",
        ] {
            let file = parse(&format!(r#"{{"auths":{{"{key}":{{"auth":"dTpw"}}}}}}"#));
            for registry in ["docker.io", "registry-1.docker.io", "index.docker.io"] {
                assert_eq!(
                    file.stored_credentials(registry).unwrap(),
                    Some(Credentials::basic("u", "p")),
                    "key {key}, registry {registry}"
                );
            }
        }
    }

    #[test]
    fn exact_key_then_docker_hub_key_win() {
        let file = parse(
            r#"{"auths":{"docker.io":{"auth":"YTpi"},"https://index.docker.io/v1/":{"auth":"dTpw"},"index.docker.io":{"auth":"eDp5"}}}"#,
        );
        assert_eq!(
            file.stored_credentials("index.docker.io").unwrap(),
            Some(Credentials::basic("x", "y"))
        );
        assert_eq!(
            file.stored_credentials("registry-1.docker.io").unwrap(),
            Some(Credentials::basic("u", "p"))
        );
    }

    #[test]
    fn keys_with_scheme_and_path_match_by_host() {
        let file = parse(r#"{"auths":{"https://r.example:5000/v2/":{"auth":"dTpw"}}}"#);
        assert_eq!(
            file.stored_credentials("r.example:5000").unwrap(),
            Some(Credentials::basic("u", "p"))
        );
        assert_eq!(file.stored_credentials("r.example").unwrap(), None);
    }

    #[test]
    fn helper_for_prefers_cred_helpers_over_creds_store() {
        let file = parse(r#"{"credHelpers":{"https://gcr.io":"gcloud"},"credsStore":"desktop"}"#);
        assert_eq!(file.helper_for("gcr.io"), Some("gcloud"));
        assert_eq!(file.helper_for("ghcr.io"), Some("desktop"));
        assert_eq!(parse(r#"{"credsStore":""}"#).helper_for("ghcr.io"), None);
    }

    #[test]
    fn bad_auth_fields_give_typed_errors() {
        let file = parse(r#"{"auths":{"a":{"auth":"not base64!"},"b":{"auth":"bm9jb2xvbg=="}}}"#);
        assert!(matches!(
            file.stored_credentials("a"),
            Err(Error::AuthFieldBase64 { key, .. }) if key == "a"
        ));
        assert!(matches!(
            file.stored_credentials("b"),
            Err(Error::AuthFieldFormat { key, .. }) if key == "b"
        ));
    }

    #[test]
    fn bad_json_gives_a_typed_error() {
        let result = AuthFile::parse(Path::new("/x/config.json"), b"{\"auths\": [");
        assert!(
            matches!(result, Err(Error::ParseConfig { path, .. }) if path == Path::new("/x/config.json"))
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let file = parse(
            r#"{"auths":{"r":{"auth":"dTpw","password":"topsecret","identitytoken":"tok-123"}}}"#,
        );
        let printed = format!("{file:?}");
        assert!(
            !printed.contains("dTpw")
                && !printed.contains("topsecret")
                && !printed.contains("tok-123"),
            "{printed}"
        );
    }
}
