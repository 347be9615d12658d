//! Authorization: who a request comes from and what it may do.
//!
//! An [`Authorizer`] turns a request's headers into [`Permissions`] (or an
//! [`AuthFailure`]), and writes the `WWW-Authenticate` challenge of a 401. The registry maps
//! each route to what it needs (pull, push or delete on the repository, the catalog, or
//! nothing beyond being let in for `/v2/`) and checks it; a cross-repository mount also needs
//! pull on the source, else it falls back to a plain upload.
//!
//! Three modes:
//! - [`Anonymous`] (the default): everyone may do everything;
//! - [`BasicAuthorizer`]: HTTP Basic against an htpasswd file of bcrypt hashes; every known
//!   user may do everything;
//! - [`TokenAuthorizer`]: the Docker token flow with a token endpoint served by the registry
//!   itself (GET with Basic credentials; OAuth2 POST with `grant_type=password` or
//!   `refresh_token`), short-lived tokens (HMAC-SHA256 signed, or Docker-token JWTs signed by
//!   a [`JwtSigner`] that any distribution-compatible registry can be told to trust), and
//!   per-repository grants by glob from an [`AuthConfig`] file. With a [`JwtVerifier`] it
//!   also takes the JWTs of an external token service (docker_auth, GitLab, Harbor,
//!   Keycloak), whose `access` claim becomes the request's grants; it can do only that.

mod challenge;
mod config;
mod error;
mod grants;
mod htpasswd;
mod jwt;
mod jwt_signer;
mod scope;
mod token;
mod token_auth;
mod token_issuer;
mod trust;
mod users;

use std::{fmt, future::Future, pin::Pin};

use http::{HeaderMap, Request, Response, StatusCode};

pub use self::{
    config::{AuthConfig, UserConfig},
    error::{AuthConfigError, AuthFailure, TokenError},
    grants::{Action, Actions, Grant, Permissions, RepoPattern},
    htpasswd::{BasicAuthorizer, parse_htpasswd},
    jwt::{DEFAULT_LEEWAY_SECS, JwtVerifier},
    jwt_signer::JwtSigner,
    scope::Scope,
    token::{Clock, SystemClock, TokenSigner},
    token_auth::{TokenAuthorizer, TokenSettings},
    trust::TrustedKeys,
    users::{Users, basic_credentials},
};
use crate::body::{ByteStream, ResponseBody};

#[cfg(feature = "serve")]
pub(crate) use self::challenge::X_FORWARDED_PROTO;
pub(crate) use self::challenge::scopes_text;

/// The future authorizers return.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Decides who a request comes from and what it may do. Object safe: a registry holds an
/// `Arc<dyn Authorizer>`.
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The caller's permissions, from the request's headers (`Authorization`), or why it
    /// cannot be let in at all.
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<Permissions, AuthFailure>>;

    /// The `WWW-Authenticate` value of a 401 answer to a request with `headers` that needs
    /// `scopes` (none for `/v2/`); `None` sends no challenge.
    fn challenge(
        &self,
        headers: &HeaderMap,
        scopes: &[Scope],
        failure: &AuthFailure,
    ) -> Option<String>;

    /// Everything the caller's account may do, of which one request's token may carry only a
    /// part: what the catalog and search show, and whether a token for a wider scope would
    /// be granted. Default: what the request carries.
    fn account_permissions(&self, permissions: &Permissions) -> Permissions {
        permissions.clone()
    }

    /// Whether a caller lacking a scope is told to come back with it (401 and a challenge
    /// naming the scope) rather than refused (403 `DENIED`). Default: anonymous callers only.
    fn retry_with_scope(&self, permissions: &Permissions) -> bool {
        permissions.subject().is_none()
    }

    /// The path of an endpoint the authorizer answers itself (the token endpoint).
    fn endpoint(&self) -> Option<&str> {
        None
    }

    /// Answers a request to [`endpoint`](Self::endpoint).
    fn serve_endpoint<'a>(
        &'a self,
        request: Request<ByteStream<'static>>,
    ) -> AuthFuture<'a, Response<ResponseBody>> {
        drop(request);
        Box::pin(async {
            let mut response = Response::new(ResponseBody::empty());
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        })
    }
}

/// Everyone may do everything: the registry's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl Authorizer for Anonymous {
    fn authenticate<'a>(
        &'a self,
        _headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<Permissions, AuthFailure>> {
        Box::pin(async { Ok(Permissions::everything(None)) })
    }

    fn challenge(&self, _: &HeaderMap, _: &[Scope], _: &AuthFailure) -> Option<String> {
        None
    }
}
