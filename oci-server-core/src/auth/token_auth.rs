//! The token mode: requests carry `Authorization: Bearer <token>`. Tokens come from the
//! registry's own token endpoint (see `token_issuer`), which grants exactly the scopes asked
//! for that the user's grants allow, as HMAC tokens only registries sharing the key can read
//! or as Docker-token JWTs (see `jwt_signer`); and, with a [`JwtVerifier`], from any token
//! service whose keys the registry trusts, as distribution's `auth.token` takes them. A
//! registry can also only verify ([`TokenAuthorizer::without_endpoint`]), behind an
//! external token service.

use std::sync::Arc;

use http::{HeaderMap, Request, Response, header::AUTHORIZATION};

use super::{
    AuthConfigError, AuthFailure, AuthFuture, Authorizer, Grant, JwtSigner, JwtVerifier,
    Permissions, Scope, TokenError, TrustedKeys, Users, challenge,
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

/// Bearer tokens issued by the registry itself or by a trusted token service, with
/// per-repository grants.
#[derive(Debug)]
pub struct TokenAuthorizer {
    pub(super) users: Users,
    pub(super) anonymous: Vec<Grant>,
    pub(super) signer: TokenSigner,
    pub(super) jwt_signer: Option<JwtSigner>,
    jwt_verifier: Option<JwtVerifier>,
    serves_endpoint: bool,
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
            jwt_signer: None,
            jwt_verifier: None,
            serves_endpoint: true,
            clock: Arc::new(SystemClock),
            settings,
        }
    }

    /// Issues Docker-token JWTs signed by `signer` instead of HMAC access tokens, and accepts
    /// them. Refresh tokens stay HMAC tokens: only this registry reads them.
    pub fn with_jwt_signer(mut self, signer: JwtSigner) -> Result<Self, AuthConfigError> {
        let verifier = match self.jwt_verifier.take() {
            Some(verifier) => verifier,
            None => JwtVerifier::new(
                TrustedKeys::new(),
                signer.issuer(),
                self.settings.service.clone(),
            ),
        };
        self.jwt_signer = Some(signer);
        self.with_jwt_verifier(verifier)
    }

    /// Accepts the Docker-token JWTs `verifier` accepts (and, when it signs JWTs, its own).
    pub fn with_jwt_verifier(mut self, verifier: JwtVerifier) -> Result<Self, AuthConfigError> {
        let mut verifier = verifier;
        if let Some(signer) = &self.jwt_signer {
            signer.trust_in(verifier.keys_mut())?;
            verifier = verifier.with_issuer(signer.issuer());
        }
        self.jwt_verifier = Some(verifier);
        Ok(self)
    }

    /// Serves no token endpoint: every token comes from the external token service that
    /// [`TokenSettings::realm`] names.
    pub fn without_endpoint(mut self) -> Self {
        self.serves_endpoint = false;
        self
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
        self.verify(token).map_err(|reason| {
            // The answer says only `invalid_token`; the operator's log says why.
            tracing::debug!(%reason, "bearer token refused");
            AuthFailure::InvalidToken(reason)
        })
    }

    /// The permissions an access token carries: a JWT (three parts) by the verifier, an HMAC
    /// token (two parts) by the key.
    fn verify(&self, token: &str) -> Result<Permissions, TokenError> {
        let now = self.clock.now();
        if token.split('.').count() == 3 {
            let verifier = self.jwt_verifier.as_ref().ok_or(TokenError::UnknownKey)?;
            let claims = verifier.verify(token, now)?;
            let ours = self
                .jwt_signer
                .as_ref()
                .is_some_and(|signer| signer.issuer() == claims.iss);
            let permissions = claims.permissions();
            return Ok(if ours {
                permissions.issued_here()
            } else {
                permissions
            });
        }
        let claims = self.signer.verify(token)?;
        claims.check(TokenKind::Access, &self.settings.service, now)?;
        Ok(Permissions::new(claims.sub, claims.access, claims.catalog).issued_here())
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
        scopes: &[Scope],
        failure: &AuthFailure,
    ) -> Option<String> {
        let realm =
            challenge::realm_url(headers, self.settings.realm.as_deref(), &self.settings.path);
        Some(challenge::bearer(
            &realm,
            &self.settings.service,
            scopes,
            failure,
        ))
    }

    /// A token this registry issued speaks for one of its accounts (or for anonymous
    /// callers): what that account is granted now. A token of another service speaks only
    /// for itself.
    fn account_permissions(&self, permissions: &Permissions) -> Permissions {
        if !permissions.is_issued_here() {
            return permissions.clone();
        }
        match permissions.subject() {
            Some(user) => self
                .users
                .permissions(user)
                .unwrap_or_else(|| permissions.clone()),
            None => Permissions::new(None, self.anonymous.clone(), false),
        }
    }

    fn retry_with_scope(&self, _: &Permissions) -> bool {
        true
    }

    fn endpoint(&self) -> Option<&str> {
        self.serves_endpoint.then_some(self.settings.path.as_str())
    }

    fn serve_endpoint<'a>(
        &'a self,
        request: Request<ByteStream<'static>>,
    ) -> AuthFuture<'a, Response<ResponseBody>> {
        Box::pin(self.serve_token(request))
    }
}
