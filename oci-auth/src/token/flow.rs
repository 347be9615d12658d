//! The token requests of the distribution token spec: `GET <realm>?service=&scope=` with Basic
//! credentials, and the OAuth2 `POST <realm>` form with a refresh token or a password.

use std::time::{Duration, SystemTime};

use http::StatusCode;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use url::Url;

use super::response::{Token, parse_token_response};
use crate::challenge::BearerChallenge;
use crate::credentials::{Credentials, basic_authorization};
use crate::error::Error;
use crate::scope::Scopes;
use crate::secret::Secret;

/// No token answer needs more than this; anything larger is refused rather than buffered.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// How tokens are asked for and kept. Start from [`TokenOptions::default`] and change what
/// differs with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenOptions {
    /// `client_id` sent in OAuth2 requests.
    pub client_id: String,
    /// Use the OAuth2 password grant (`POST`) for username and password, instead of `GET` with
    /// Basic. Registries that refuse the POST with 404 or 405 get the `GET` anyway.
    pub password_grant: bool,
    /// Lifetime of a token whose answer has no usable `expires_in` (the spec says 60 s).
    pub default_lifetime: Duration,
    /// Renew a cached token when less than this is left (capped at half its lifetime).
    pub renew_margin: Duration,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            client_id: concat!("oci-auth/", env!("CARGO_PKG_VERSION")).to_owned(),
            password_grant: false,
            default_lifetime: Duration::from_secs(60),
            renew_margin: Duration::from_secs(10),
        }
    }
}

impl TokenOptions {
    /// `client_id` sent in OAuth2 requests.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Use the OAuth2 password grant for username and password.
    pub fn with_password_grant(mut self, password_grant: bool) -> Self {
        self.password_grant = password_grant;
        self
    }

    /// Lifetime of a token whose answer has no usable `expires_in`.
    pub fn with_default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Renew a cached token when less than this is left.
    pub fn with_renew_margin(mut self, margin: Duration) -> Self {
        self.renew_margin = margin;
        self
    }
}

/// What a token request is for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TokenRequest<'a> {
    /// The registry's challenge: realm and service.
    pub challenge: &'a BearerChallenge,
    /// The scopes wanted.
    pub scopes: &'a Scopes,
    /// Who asks.
    pub credentials: &'a Credentials,
}

impl<'a> TokenRequest<'a> {
    /// A request for `scopes` by `credentials`, to the token server of `challenge`.
    pub fn new(
        challenge: &'a BearerChallenge,
        scopes: &'a Scopes,
        credentials: &'a Credentials,
    ) -> Self {
        TokenRequest {
            challenge,
            scopes,
            credentials,
        }
    }
}

/// Asks the token server named by the challenge for a token.
///
/// * identity token: OAuth2 `POST` with `grant_type=refresh_token`;
/// * username and password: `GET` with Basic, or with [`TokenOptions::password_grant`] an
///   OAuth2 `POST` with `grant_type=password`, falling back to the `GET` on 404 or 405;
/// * anonymous: `GET` without credentials;
/// * a bearer token: no request, the token itself (with the default lifetime).
///
/// `now` is the request time, the origin of the token's lifetime.
pub async fn fetch_token(
    http: &reqwest::Client,
    request: TokenRequest<'_>,
    options: &TokenOptions,
    now: SystemTime,
) -> Result<Token, Error> {
    let realm = request.challenge.realm().ok_or(Error::MissingRealm)?;
    let url = Url::parse(realm).map_err(|source| Error::InvalidRealm {
        realm: realm.to_owned(),
        source,
    })?;
    let fetch = Fetch {
        http,
        realm,
        url,
        service: request.challenge.service(),
        scopes: request.scopes,
        options,
        now,
    };
    match request.credentials {
        Credentials::IdentityToken(refresh_token) => {
            fetch.post(Grant::RefreshToken(refresh_token)).await
        }
        Credentials::Basic { username, password } if options.password_grant => {
            match fetch.post(Grant::Password { username, password }).await {
                Err(Error::TokenStatus { status, .. })
                    if status == StatusCode::NOT_FOUND
                        || status == StatusCode::METHOD_NOT_ALLOWED =>
                {
                    tracing::debug!(realm, %status, "token server refused the OAuth2 POST, using GET");
                    fetch.get(Some((username, password))).await
                }
                other => other,
            }
        }
        Credentials::Basic { username, password } => fetch.get(Some((username, password))).await,
        Credentials::Anonymous => fetch.get(None).await,
        Credentials::Bearer(token) => Ok(Token::new(token.clone(), now, options.default_lifetime)),
    }
}

enum Grant<'a> {
    RefreshToken(&'a Secret),
    Password {
        username: &'a str,
        password: &'a Secret,
    },
}

/// One token request's fixed parts.
struct Fetch<'a> {
    http: &'a reqwest::Client,
    realm: &'a str,
    url: Url,
    service: Option<&'a str>,
    scopes: &'a Scopes,
    options: &'a TokenOptions,
    now: SystemTime,
}

impl Fetch<'_> {
    /// `GET <realm>?service=..&scope=..&scope=..[&account=..]`, Basic credentials when given.
    async fn get(&self, basic: Option<(&String, &Secret)>) -> Result<Token, Error> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(service) = self.service {
            pairs.push(("service", service.to_owned()));
        }
        pairs.extend(self.scopes.iter().map(|scope| ("scope", scope.to_string())));
        if let Some((username, _)) = basic {
            pairs.push(("account", username.clone()));
        }
        let mut url = self.url.clone();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        tracing::debug!(realm = self.realm, scopes = %self.scopes, basic = basic.is_some(), "GET token");
        let mut request = self.http.get(url);
        if let Some((username, password)) = basic {
            let header = basic_authorization(username, password).map_err(|source| {
                Error::InvalidHeaderValue {
                    host: self.realm.to_owned(),
                    source,
                }
            })?;
            request = request.header(AUTHORIZATION, header);
        }
        self.send(request).await
    }

    /// The OAuth2 form `POST <realm>`.
    async fn post(&self, grant: Grant<'_>) -> Result<Token, Error> {
        tracing::debug!(realm = self.realm, scopes = %self.scopes, "POST token");
        let request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(self.form(grant));
        self.send(request).await
    }

    /// The form fields of an OAuth2 token request. (A plain function: the form serializer is
    /// not `Send`, so it must not live across an await.)
    fn form(&self, grant: Grant<'_>) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match grant {
            Grant::RefreshToken(refresh_token) => {
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh_token.expose());
            }
            Grant::Password { username, password } => {
                form.append_pair("grant_type", "password")
                    .append_pair("username", username)
                    .append_pair("password", password.expose())
                    .append_pair("access_type", "offline");
            }
        }
        if let Some(service) = self.service {
            form.append_pair("service", service);
        }
        if !self.scopes.is_empty() {
            form.append_pair("scope", &self.scopes.to_string());
        }
        form.append_pair("client_id", &self.options.client_id);
        form.finish()
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Token, Error> {
        let transport = |source| Error::TokenTransport {
            realm: self.realm.to_owned(),
            source,
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::TokenStatus {
                realm: self.realm.to_owned(),
                status,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Error::TokenResponseTooLarge {
                    realm: self.realm.to_owned(),
                    limit: MAX_RESPONSE_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        parse_token_response(&body, self.realm, self.now, self.options.default_lifetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_challenge_without_a_usable_realm_fails_before_any_request() {
        let http = reqwest::Client::new();
        let scopes = Scopes::new();
        let no_realm = BearerChallenge::default();
        let bad_realm = BearerChallenge::new("not a url", None);
        let options = TokenOptions::default();
        for (challenge, expect_missing) in [(&no_realm, true), (&bad_realm, false)] {
            let request = TokenRequest {
                challenge,
                scopes: &scopes,
                credentials: &Credentials::Anonymous,
            };
            let result = fetch_token(&http, request, &options, SystemTime::now()).await;
            if expect_missing {
                assert!(matches!(result, Err(Error::MissingRealm)), "{result:?}");
            } else {
                assert!(
                    matches!(result, Err(Error::InvalidRealm { .. })),
                    "{result:?}"
                );
            }
        }
    }
}
