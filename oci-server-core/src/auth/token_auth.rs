//! The token mode: requests carry `Authorization: Bearer <token>`, tokens come from the
//! registry's own token endpoint (see `token_issuer`) and grant exactly the scopes asked for
//! that the user's grants allow.

use std::sync::Arc;

use http::{HeaderMap, Request, Response, header::AUTHORIZATION};

use super::{
    AuthFailure, AuthFuture, Authorizer, Grant, Permissions, Scope, Users, challenge,
    token::{Clock, SystemClock, TokenKind, TokenSigner},
};
use crate::body::{ByteStream, ResponseBody};

/// How tokens are issued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenSettings {
    /// The service name tokens are issued for (`service=` in challenges). Default:
    /// `oci-registry`.
    pub service: String,
    /// The token endpoint's absolute URL for challenges; default: `http://<Host><path>`.
    pub realm: Option<String>,
    /// The path the registry serves the token endpoint on. Default: `/token`.
    pub path: String,
    /// Lifetime of access tokens, in seconds. Default: 300.
    pub access_ttl: u64,
    /// Lifetime of refresh tokens, in seconds. Default: 7 days.
    pub refresh_ttl: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            service: "oci-registry".to_owned(),
            realm: None,
            path: "/token".to_owned(),
            access_ttl: 300,
            refresh_ttl: 7 * 24 * 3600,
        }
    }
}

/// Bearer tokens issued by the registry itself, with per-repository grants.
#[derive(Debug)]
pub struct TokenAuthorizer {
    pub(super) users: Users,
    pub(super) anonymous: Vec<Grant>,
    pub(super) signer: TokenSigner,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: TokenSettings,
}

impl TokenAuthorizer {
    /// An authorizer for `users`; `anonymous` is what callers without credentials may get
    /// tokens for.
    pub fn new(
        users: Users,
        anonymous: Vec<Grant>,
        signer: TokenSigner,
        settings: TokenSettings,
    ) -> Self {
        Self {
            users,
            anonymous,
            signer,
            clock: Arc::new(SystemClock),
            settings,
        }
    }

    /// Replaces the clock (tests move time without sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    fn bearer(&self, headers: &HeaderMap) -> Result<Permissions, AuthFailure> {
        let value = headers
            .get(AUTHORIZATION)
            .ok_or(AuthFailure::MissingCredentials)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthFailure::MalformedCredentials)?;
        let claims = self
            .signer
            .verify(token)
            .map_err(AuthFailure::InvalidToken)?;
        claims
            .check(TokenKind::Access, &self.settings.service, self.clock.now())
            .map_err(AuthFailure::InvalidToken)?;
        Ok(Permissions::new(claims.sub, claims.access, claims.catalog))
    }
}

impl Authorizer for TokenAuthorizer {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<Permissions, AuthFailure>> {
        Box::pin(async move { self.bearer(headers) })
    }

    fn challenge(
        &self,
        headers: &HeaderMap,
        scope: Option<&Scope>,
        failure: &AuthFailure,
    ) -> Option<String> {
        let realm =
            challenge::realm_url(headers, self.settings.realm.as_deref(), &self.settings.path);
        Some(challenge::bearer(
            &realm,
            &self.settings.service,
            scope,
            failure,
        ))
    }

    fn retry_with_scope(&self, _: &Permissions) -> bool {
        true
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.settings.path)
    }

    fn serve_endpoint<'a>(
        &'a self,
        request: Request<ByteStream<'static>>,
    ) -> AuthFuture<'a, Response<ResponseBody>> {
        Box::pin(self.serve_token(request))
    }
}
