//! The auth config file of the token mode (format on [`AuthConfig`]).

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

use super::{
    AuthConfigError, Grant, Permissions, TokenAuthorizer, TokenSettings, TokenSigner, Users,
};

/// The token mode's configuration, read from TOML (or JSON when the file name ends in
/// `.json`):
///
/// ```toml
/// service = "oci-registry"            # optional
/// realm = "https://registry.example/token"   # optional; default http://<Host>/token
/// signing_key = "at least 32 characters, shared by every instance"   # optional; random
/// token_ttl_secs = 300                # optional
/// refresh_ttl_secs = 604800           # optional
/// anonymous = [{ repository = "public/**", actions = ["pull"] }]
///
/// [users.alice]
/// password = "$2y$05$..."             # bcrypt, as `htpasswd -nB alice` prints it
/// catalog = true
/// grants = [
///     { repository = "alice/**", actions = ["pull", "push", "delete"] },
///     { repository = "**", actions = ["pull"] },
/// ]
/// ```
///
/// Repository globs: `*` within one component, `**` across components, `?` one character.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The service name; default `oci-registry`.
    #[serde(default)]
    pub service: Option<String>,
    /// The token endpoint's absolute URL announced in challenges.
    #[serde(default)]
    pub realm: Option<String>,
    /// The HMAC key (at least 32 bytes); random at start when absent, in which case tokens
    /// work only on the process that issued them.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// Access token lifetime in seconds.
    #[serde(default)]
    pub token_ttl_secs: Option<u64>,
    /// Refresh token lifetime in seconds.
    #[serde(default)]
    pub refresh_ttl_secs: Option<u64>,
    /// What callers without credentials may get tokens for.
    #[serde(default)]
    pub anonymous: Vec<Grant>,
    /// The users, by name.
    #[serde(default)]
    pub users: BTreeMap<String, UserConfig>,
}

/// One user of an [`AuthConfig`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The bcrypt hash of the password.
    pub password: String,
    /// What the user may do, by repository glob.
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Whether the user may list the catalog.
    #[serde(default)]
    pub catalog: bool,
}

impl AuthConfig {
    /// Reads a config file: JSON when its name ends in `.json`, TOML otherwise.
    pub fn load(path: &Path) -> Result<Self, AuthConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parse_error =
            |source: Box<dyn std::error::Error + Send + Sync>| AuthConfigError::Parse {
                path: path.to_owned(),
                source,
            };
        if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| parse_error(Box::new(e)))
        } else {
            toml::from_str(&text).map_err(|e| parse_error(Box::new(e)))
        }
    }

    /// Builds the token authorizer this config describes (checking every password hash and
    /// the signing key).
    pub fn into_authorizer(self) -> Result<TokenAuthorizer, AuthConfigError> {
        let mut users = Users::new();
        for (name, user) in self.users {
            let permissions = Permissions::new(Some(name.clone()), user.grants, user.catalog);
            users.insert(&name, &user.password, permissions)?;
        }
        let signer = match self.signing_key {
            Some(key) => TokenSigner::new(key.into_bytes())?,
            None => TokenSigner::random(),
        };
        let defaults = TokenSettings::default();
        let settings = TokenSettings {
            service: self.service.unwrap_or(defaults.service),
            realm: self.realm,
            path: defaults.path,
            access_ttl: self.token_ttl_secs.unwrap_or(defaults.access_ttl),
            refresh_ttl: self.refresh_ttl_secs.unwrap_or(defaults.refresh_ttl),
        };
        Ok(TokenAuthorizer::new(
            users,
            self.anonymous,
            signer,
            settings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Action, Authorizer};

    #[test]
    fn toml_and_json_configs_load() {
        let dir = tempfile::tempdir().unwrap();
        let hash = bcrypt::hash("pw", 4).unwrap();
        let toml_path = dir.path().join("auth.toml");
        std::fs::write(
            &toml_path,
            format!(
                r#"
service = "reg"
anonymous = [{{ repository = "public/**", actions = ["pull"] }}]
[users.alice]
password = "{hash}"
catalog = true
grants = [{{ repository = "alice/**", actions = ["pull", "push"] }}]
"#
            ),
        )
        .unwrap();
        let config = AuthConfig::load(&toml_path).unwrap();
        assert_eq!(
            config.users["alice"].grants[0].actions.to_string(),
            "pull,push"
        );
        assert!(config.anonymous[0].actions.contains(Action::Pull));
        let authorizer = config.into_authorizer().unwrap();
        assert_eq!(authorizer.settings().service, "reg");
        assert_eq!(authorizer.endpoint(), Some("/token"));

        let json_path = dir.path().join("auth.json");
        std::fs::write(
            &json_path,
            format!(r#"{{"users": {{"bob": {{"password": "{hash}"}}}}}}"#),
        )
        .unwrap();
        assert!(
            AuthConfig::load(&json_path)
                .unwrap()
                .users
                .contains_key("bob")
        );
    }

    #[test]
    fn bad_configs_are_refused_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.toml");
        std::fs::write(&path, "unknown_field = 1").unwrap();
        assert!(matches!(
            AuthConfig::load(&path),
            Err(AuthConfigError::Parse { .. })
        ));
        let short = AuthConfig {
            signing_key: Some("short".into()),
            ..AuthConfig::default()
        };
        assert!(matches!(
            short.into_authorizer(),
            Err(AuthConfigError::ShortKey { len: 5 })
        ));
        assert!(matches!(
            AuthConfig::load(&dir.path().join("missing.toml")),
            Err(AuthConfigError::Read { .. })
        ));
    }
}
