//! The flags that choose who may do what: htpasswd Basic, the token mode's config file, and
//! the flags of distribution's `auth.token` (realm, service, issuer, rootcertbundle, JWKS) for
//! a registry behind an external token service. Each `--token-*` flag mirrors the config
//! file's setting of the same name and overrides it.

use std::{path::PathBuf, sync::Arc};

use clap::Args;
use oci_server_core::{
    Anonymous, Authorizer, BasicAuthorizer,
    auth::{AuthConfig, AuthConfigError},
};

/// Authentication flags.
#[derive(Debug, Args)]
pub(crate) struct AuthArgs {
    /// Require HTTP Basic credentials of a user of this htpasswd file (bcrypt entries, as
    /// `htpasswd -B` writes them); every such user may do everything.
    #[arg(long, conflicts_with_all = ["auth_config", "token_realm", "token_service", "token_issuer", "token_rootcertbundle", "token_jwks"])]
    htpasswd: Option<PathBuf>,
    /// Token authentication with per-repository grants from this TOML (or `.json`) file; the
    /// registry serves the token endpoint itself at `/token` (unless the file only trusts an
    /// external token service).
    #[arg(long)]
    auth_config: Option<PathBuf>,
    /// The token endpoint clients are sent to (`realm`; distribution's `auth.token.realm`).
    #[arg(long, env = "OCI_REGISTRY_TOKEN_REALM")]
    token_realm: Option<String>,
    /// The service tokens are for: their `aud`, the challenges' `service` (`service`).
    #[arg(long, env = "OCI_REGISTRY_TOKEN_SERVICE")]
    token_service: Option<String>,
    /// The `iss` of accepted (and issued) JWTs (`issuer`).
    #[arg(long, env = "OCI_REGISTRY_TOKEN_ISSUER")]
    token_issuer: Option<String>,
    /// Certificates (PEM) whose keys sign the JWTs to accept (`rootcertbundle`).
    #[arg(long, env = "OCI_REGISTRY_TOKEN_ROOTCERTBUNDLE")]
    token_rootcertbundle: Option<PathBuf>,
    /// A JWKS file whose keys sign the JWTs to accept, each by its `kid` (`jwks`).
    #[arg(long, env = "OCI_REGISTRY_TOKEN_JWKS")]
    token_jwks: Option<PathBuf>,
}

impl AuthArgs {
    /// The authorizer the flags ask for: htpasswd Basic, token auth, or none.
    pub(crate) fn authorizer(&self) -> Result<Arc<dyn Authorizer>, AuthConfigError> {
        if let Some(file) = &self.htpasswd {
            return Ok(Arc::new(BasicAuthorizer::from_htpasswd_file(file)?));
        }
        let flags_given = self.token_realm.is_some()
            || self.token_service.is_some()
            || self.token_issuer.is_some()
            || self.token_rootcertbundle.is_some()
            || self.token_jwks.is_some();
        let mut config = match &self.auth_config {
            Some(file) => AuthConfig::load(file)?,
            None if flags_given => AuthConfig::default(),
            None => return Ok(Arc::new(Anonymous)),
        };
        override_with(&mut config.realm, &self.token_realm);
        override_with(&mut config.service, &self.token_service);
        override_with(&mut config.issuer, &self.token_issuer);
        override_with(&mut config.rootcertbundle, &self.token_rootcertbundle);
        override_with(&mut config.jwks, &self.token_jwks);
        if self.auth_config.is_none() && !config.verifies_external_tokens() {
            // Without a config file there are no users to issue tokens for: the flags only
            // make sense naming the keys of the external token service.
            return Err(AuthConfigError::Missing {
                needed: "token-rootcertbundle or token-jwks",
                by: "token-realm",
            });
        }
        Ok(Arc::new(config.into_authorizer()?))
    }
}

fn override_with<T: Clone>(setting: &mut Option<T>, flag: &Option<T>) {
    if let Some(value) = flag {
        *setting = Some(value.clone());
    }
}
