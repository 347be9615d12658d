//! The token endpoint (`/token` unless configured otherwise), as Docker clients speak to it
//! (the conventions of the Docker token service):
//!
//! - `GET ?service=&scope=...&scope=...[&account=][&client_id=][&offline_token=true]` with
//!   optional Basic credentials: an access token for the scopes asked for that the caller's
//!   grants allow (anonymous callers get the anonymous grants), plus a refresh token when
//!   `offline_token=true`. An `account` other than the Basic user is refused (400);
//!   `client_id` only names the client.
//! - `POST` form `grant_type=password&username=&password=&scope=` or
//!   `grant_type=refresh_token&refresh_token=&scope=` (OAuth2, `scope` space-separated or
//!   repeated, `client_id` optional): an access token and a refresh token.
//!
//! Answers are `{"token", "access_token", "expires_in", "issued_at", "refresh_token"?,
//! "scope"?}`. Access tokens are Docker-token JWTs when a JWT signer is configured, HMAC
//! tokens otherwise.

use http::{HeaderMap, Method, Request, Response, StatusCode, header::AUTHORIZATION};
use serde::Serialize;

use super::{
    AuthFailure, Grant, Permissions, RepoPattern, Scope, TokenAuthorizer, TokenError, challenge,
    jwt::{DockerClaims, ResourceActions},
    token::{Claims, TokenKind, rfc3339},
    users::basic_credentials,
};
use crate::{
    body::{ByteStream, ResponseBody, read_capped},
    error::Error,
    query::Query,
    response::{error_response, json, json_media_type},
};

/// The largest token request form read.
const MAX_FORM: u64 = 64 * 1024;

/// The JSON answer.
#[derive(Debug, Serialize)]
struct TokenAnswer {
    token: String,
    access_token: String,
    expires_in: u64,
    issued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl TokenAuthorizer {
    pub(super) async fn serve_token(
        &self,
        request: Request<ByteStream<'static>>,
    ) -> Response<ResponseBody> {
        let head = request.method() == Method::HEAD;
        let answer = match self.token_request(request).await {
            Ok(answer) => json(
                Response::builder().status(StatusCode::OK),
                json_media_type(),
                &answer,
            ),
            Err(err) => Err(err),
        };
        answer.unwrap_or_else(|err| error_response(&err, head))
    }

    async fn token_request(
        &self,
        request: Request<ByteStream<'static>>,
    ) -> Result<TokenAnswer, Error> {
        let (parts, body) = request.into_parts();
        match parts.method {
            Method::GET => {
                let query = Query::parse(parts.uri.query());
                self.check_service(&query)?;
                let permissions = self.caller(&parts.headers).await?;
                if let Some(account) = query.get("account")
                    && Some(account) != permissions.subject()
                {
                    // The client says it acts as another account than it authenticated as.
                    return Err(Error::QueryInvalid {
                        parameter: "account",
                        value: account.to_owned(),
                    });
                }
                let offline = query.get("offline_token") == Some("true");
                let scopes = Scope::parse_all(query.all("scope"));
                self.issue(&permissions, &scopes, offline, None, false)
            }
            Method::POST => {
                let form = read_capped(body, MAX_FORM).await?;
                let form = Query::parse(Some(&String::from_utf8_lossy(&form)));
                self.check_service(&form)?;
                let scopes = Scope::parse_all(form.all("scope"));
                match form.get("grant_type") {
                    Some("password") => {
                        let user = form.get("username").unwrap_or_default();
                        let password = form.get("password").unwrap_or_default();
                        let permissions =
                            self.users.verify(user, password).await.ok_or_else(|| {
                                self.refusal(AuthFailure::BadCredentials { user: user.into() })
                            })?;
                        self.issue(&permissions, &scopes, true, None, true)
                    }
                    Some("refresh_token") => {
                        let refresh = form.get("refresh_token").unwrap_or_default();
                        let permissions = self
                            .refreshed(refresh)
                            .map_err(|e| self.refusal(AuthFailure::InvalidToken(e)))?;
                        self.issue(&permissions, &scopes, false, Some(refresh), true)
                    }
                    other => Err(Error::QueryInvalid {
                        parameter: "grant_type",
                        value: other.unwrap_or_default().to_owned(),
                    }),
                }
            }
            method => Err(Error::MethodNotAllowed {
                method,
                allow: "GET, POST",
            }),
        }
    }

    /// A `service` other than ours is refused: the token would not work here.
    fn check_service(&self, query: &Query) -> Result<(), Error> {
        match query.get("service") {
            Some(service) if service != self.settings.service => Err(Error::QueryInvalid {
                parameter: "service",
                value: service.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The caller of a GET: a Basic-authenticated user, or anonymous.
    async fn caller(&self, headers: &HeaderMap) -> Result<Permissions, Error> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Permissions::new(None, self.anonymous.clone(), false));
        };
        let (user, password) = value
            .to_str()
            .ok()
            .and_then(basic_credentials)
            .ok_or_else(|| self.refusal(AuthFailure::MalformedCredentials))?;
        self.users
            .verify(&user, &password)
            .await
            .ok_or_else(|| self.refusal(AuthFailure::BadCredentials { user }))
    }

    /// The user behind a refresh token, with their grants as they are now.
    fn refreshed(&self, token: &str) -> Result<Permissions, TokenError> {
        let claims = self.signer.verify(token)?;
        claims.check(TokenKind::Refresh, &self.settings.service, self.clock.now())?;
        let user = claims.sub.ok_or(TokenError::Malformed)?;
        self.users
            .permissions(&user)
            .ok_or(TokenError::UnknownUser { user })
    }

    /// A 401 from the token endpoint, challenging for Basic credentials.
    fn refusal(&self, failure: AuthFailure) -> Error {
        Error::Auth {
            challenge: Some(challenge::basic(&self.settings.service)),
            failure,
        }
    }

    /// Signs an access token for the part of `scopes` that `permissions` allow, and a
    /// refresh token when asked for one (for a known user only).
    fn issue(
        &self,
        permissions: &Permissions,
        scopes: &[Scope],
        offline: bool,
        refresh: Option<&str>,
        oauth: bool,
    ) -> Result<TokenAnswer, Error> {
        let now = self.clock.now();
        let granted = granted_scopes(permissions, scopes);
        let subject = permissions.subject().map(str::to_owned);
        let token = self.access_token(subject.as_deref(), &granted, now)?;
        let refresh_token = match (refresh, subject) {
            (Some(existing), _) => Some(existing.to_owned()),
            (None, Some(user)) if offline => Some(self.signer.sign(&Claims {
                kind: TokenKind::Refresh,
                sub: Some(user),
                aud: self.settings.service.clone(),
                iat: now,
                exp: now.saturating_add(self.settings.refresh_ttl),
                access: Vec::new(),
                catalog: false,
            })),
            (None, _) => None,
        };
        Ok(TokenAnswer {
            access_token: token.clone(),
            token,
            expires_in: self.settings.access_ttl,
            issued_at: rfc3339(now),
            refresh_token,
            scope: oauth.then(|| challenge::scopes_text(&granted)),
        })
    }

    /// An access token for `granted`: a Docker-token JWT when a JWT signer is configured,
    /// else an HMAC token.
    fn access_token(
        &self,
        subject: Option<&str>,
        granted: &[Scope],
        now: u64,
    ) -> Result<String, Error> {
        let exp = now.saturating_add(self.settings.access_ttl);
        let grants = granted.iter().filter_map(|scope| match scope {
            Scope::Repository { name, actions } => Some(Grant {
                repository: RepoPattern::exact(name),
                actions: *actions,
            }),
            Scope::Catalog | Scope::Search => None,
        });
        let catalog = granted.contains(&Scope::Catalog);
        let Some(jwt) = &self.jwt_signer else {
            return Ok(self.signer.sign(&Claims {
                kind: TokenKind::Access,
                sub: subject.map(str::to_owned),
                aud: self.settings.service.clone(),
                iat: now,
                exp,
                access: grants.collect(),
                catalog,
            }));
        };
        let mut access: Vec<ResourceActions> =
            grants.map(|g| ResourceActions::repository(&g)).collect();
        if catalog {
            access.push(ResourceActions::catalog("*"));
        }
        if granted.contains(&Scope::Search) {
            access.push(ResourceActions::catalog("search"));
        }
        let claims = DockerClaims {
            iss: jwt.issuer().to_owned(),
            sub: subject.unwrap_or_default().to_owned(),
            aud: self.settings.service.clone(),
            exp,
            nbf: Some(now),
            iat: Some(now),
            jti: Some(hex::encode(rand::random::<[u8; 16]>())),
            access,
        };
        jwt.sign(&claims).map_err(Error::TokenSigning)
    }
}

/// The part of `scopes` that `permissions` allow: the actions granted on each repository
/// asked for, the catalog for those who may list it, and search for everyone let in.
fn granted_scopes(permissions: &Permissions, scopes: &[Scope]) -> Vec<Scope> {
    scopes
        .iter()
        .filter_map(|scope| match scope {
            Scope::Repository { name, actions } => {
                let allowed = actions.intersection(permissions.actions_on(name.as_str()));
                (!allowed.is_empty()).then(|| Scope::Repository {
                    name: name.clone(),
                    actions: allowed,
                })
            }
            Scope::Catalog => permissions.catalog().then_some(Scope::Catalog),
            Scope::Search => Some(Scope::Search),
        })
        .collect()
}
