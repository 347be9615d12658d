//! The auth config file of the token mode (format on [`AuthConfig`]).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use super::{
    AuthConfigError, DEFAULT_LEEWAY_SECS, Grant, JwtSigner, JwtVerifier, Permissions,
    TokenAuthorizer, TokenSettings, TokenSigner, TrustedKeys, Users,
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
///
/// Docker-token JWTs, both ways (file paths are relative to the config file):
///
/// ```toml
/// issuer = "registry-token-issuer"      # the `iss` issued and accepted
/// # Issue JWTs (ES256 or RS256) instead of HMAC access tokens; `x5c` carries the chain.
/// jwt_key = "token.key"                 # PEM: PKCS#8, or PKCS#1 for RSA
/// jwt_certificate = "token.pem"         # PEM chain, the key's certificate first
/// # Accept the JWTs of an external token service, as distribution's `auth.token` does.
/// rootcertbundle = "token-roots.pem"    # x5c chains ending in these, or a `kid` naming one
/// jwks = "token-keys.json"              # or a `kid` naming one of these keys
/// leeway_secs = 60                      # on `exp` and `nbf`
/// ```
///
/// With `rootcertbundle` or `jwks` and neither users nor anonymous grants, the registry only
/// verifies: it serves no token endpoint, and `realm` (the external service's) is required.
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
    /// The `iss` of the JWTs this registry issues and accepts.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The private key the token endpoint signs JWTs with (PEM).
    #[serde(default)]
    pub jwt_key: Option<PathBuf>,
    /// The certificate chain of [`jwt_key`](Self::jwt_key) (PEM, its certificate first).
    #[serde(default)]
    pub jwt_certificate: Option<PathBuf>,
    /// Certificates (PEM) whose keys sign the JWTs this registry accepts.
    #[serde(default)]
    pub rootcertbundle: Option<PathBuf>,
    /// A JWKS file whose keys sign the JWTs this registry accepts.
    #[serde(default)]
    pub jwks: Option<PathBuf>,
    /// Leeway on `exp` and `nbf` of accepted JWTs, in seconds; default 60.
    #[serde(default)]
    pub leeway_secs: Option<u64>,
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
        let mut config: Self = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| parse_error(Box::new(e)))?
        } else {
            toml::from_str(&text).map_err(|e| parse_error(Box::new(e)))?
        };
        if let Some(folder) = path.parent() {
            config.resolve_paths(folder);
        }
        Ok(config)
    }

    /// Makes the file paths it names relative to `folder` (where the config file is).
    fn resolve_paths(&mut self, folder: &Path) {
        for file in [
            &mut self.jwt_key,
            &mut self.jwt_certificate,
            &mut self.rootcertbundle,
            &mut self.jwks,
        ]
        .into_iter()
        .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
    }

    /// Whether it trusts an external token service's keys.
    pub fn verifies_external_tokens(&self) -> bool {
        self.rootcertbundle.is_some() || self.jwks.is_some()
    }

    /// Whether the registry serves its own token endpoint: unless it only verifies (trusted
    /// keys, and neither users nor anonymous grants to issue tokens for).
    pub fn serves_token_endpoint(&self) -> bool {
        !self.users.is_empty() || !self.anonymous.is_empty() || !self.verifies_external_tokens()
    }

    /// Builds the token authorizer this config describes (checking every password hash, the
    /// signing keys and certificates, and that the settings that go together are there).
    pub fn into_authorizer(self) -> Result<TokenAuthorizer, AuthConfigError> {
        let serves_endpoint = self.serves_token_endpoint();
        if !serves_endpoint && self.realm.is_none() {
            return Err(missing("realm", self.trust_setting()));
        }
        let defaults = TokenSettings::default();
        let service = self.service.clone().unwrap_or(defaults.service);
        let verifier = self.jwt_verifier(&service)?;
        let jwt_signer = self.jwt_signer()?;
        let mut users = Users::new();
        for (name, user) in self.users {
            let permissions = Permissions::new(Some(name.clone()), user.grants, user.catalog);
            users.insert(&name, &user.password, permissions)?;
        }
        let signer = match self.signing_key {
            Some(key) => TokenSigner::new(key.into_bytes())?,
            None => TokenSigner::random(),
        };
        let settings = TokenSettings {
            service,
            realm: self.realm,
            path: defaults.path,
            access_ttl: self.token_ttl_secs.unwrap_or(defaults.access_ttl),
            refresh_ttl: self.refresh_ttl_secs.unwrap_or(defaults.refresh_ttl),
        };
        let mut authorizer = TokenAuthorizer::new(users, self.anonymous, signer, settings);
        if let Some(verifier) = verifier {
            authorizer = authorizer.with_jwt_verifier(verifier)?;
        }
        if let Some(jwt_signer) = jwt_signer {
            authorizer = authorizer.with_jwt_signer(jwt_signer)?;
        }
        Ok(if serves_endpoint {
            authorizer
        } else {
            authorizer.without_endpoint()
        })
    }

    /// The setting that makes it trust external tokens, for error messages.
    fn trust_setting(&self) -> &'static str {
        if self.rootcertbundle.is_some() {
            "rootcertbundle"
        } else {
            "jwks"
        }
    }

    /// The verifier of external tokens, when keys are trusted.
    fn jwt_verifier(&self, service: &str) -> Result<Option<JwtVerifier>, AuthConfigError> {
        if !self.verifies_external_tokens() {
            return Ok(None);
        }
        let issuer = self
            .issuer
            .clone()
            .ok_or_else(|| missing("issuer", self.trust_setting()))?;
        let mut keys = TrustedKeys::new();
        if let Some(bundle) = &self.rootcertbundle {
            keys.add_certificate_bundle(bundle)?;
        }
        if let Some(jwks) = &self.jwks {
            keys.add_jwks(jwks)?;
        }
        let leeway = self.leeway_secs.unwrap_or(DEFAULT_LEEWAY_SECS);
        Ok(Some(
            JwtVerifier::new(keys, issuer, service).with_leeway(leeway),
        ))
    }

    /// The JWT signer of the token endpoint, when a key and certificate are configured.
    fn jwt_signer(&self) -> Result<Option<JwtSigner>, AuthConfigError> {
        match (&self.jwt_key, &self.jwt_certificate) {
            (Some(key), Some(chain)) => {
                let issuer = self
                    .issuer
                    .clone()
                    .ok_or_else(|| missing("issuer", "jwt_key"))?;
                JwtSigner::from_files(issuer, key, chain).map(Some)
            }
            (Some(_), None) => Err(missing("jwt_certificate", "jwt_key")),
            (None, Some(_)) => Err(missing("jwt_key", "jwt_certificate")),
            (None, None) => Ok(None),
        }
    }
}

fn missing(needed: &'static str, by: &'static str) -> AuthConfigError {
    AuthConfigError::Missing { needed, by }
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
