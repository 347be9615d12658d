//! The piece a registry client holds: it answers a challenge with an `Authorization` value,
//! looking up credentials and fetching, caching and renewing tokens as needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;
use oci_digest::KeyedLocks;

use crate::challenge::{BearerChallenge, Challenge};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{CredentialStore, Credentials, basic_authorization, canonical_registry};
use crate::error::Error;
use crate::scope::Scopes;
use crate::secret::Secret;
use crate::token::{
    CacheKey, Token, TokenCache, TokenOptions, TokenRequest, cache_key, fetch_token,
};

/// Answers registry challenges. Cheap to clone (clones share one cache); `Send + Sync`.
///
/// A client's loop: send the request (with [`cached_authorization`](Self::cached_authorization)
/// when there is one); on 401, parse `WWW-Authenticate`, call
/// [`authorization_for`](Self::authorization_for) and retry once; if a token is refused with
/// 401 again, [`invalidate`](Self::invalidate) it first.
#[derive(Debug, Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    store: CredentialStore,
    options: TokenOptions,
    clock: Arc<dyn Clock>,
    tokens: TokenCache,
    /// Credentials per canonical registry, looked up once.
    credentials: Mutex<HashMap<String, Credentials>>,
    /// The latest refresh token a token server handed out, per registry.
    refresh_tokens: Mutex<HashMap<String, Secret>>,
    /// One lock per cache key, so concurrent requests fetch a token once.
    fetch_locks: KeyedLocks<CacheKey>,
}

/// Builds an [`Authenticator`] with non-default options or clock.
#[derive(Debug)]
pub struct AuthenticatorBuilder {
    http: reqwest::Client,
    store: CredentialStore,
    options: TokenOptions,
    clock: Arc<dyn Clock>,
}

impl AuthenticatorBuilder {
    /// Token request options (client id, password grant, lifetimes).
    pub fn options(mut self, options: TokenOptions) -> Self {
        self.options = options;
        self
    }

    /// The clock token expiry is judged by.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The authenticator.
    pub fn build(self) -> Authenticator {
        Authenticator {
            inner: Arc::new(Inner {
                tokens: TokenCache::new(self.options.renew_margin),
                http: self.http,
                store: self.store,
                options: self.options,
                clock: self.clock,
                credentials: Mutex::default(),
                refresh_tokens: Mutex::default(),
                fetch_locks: KeyedLocks::default(),
            }),
        }
    }
}

/// Locks a map whose entries are always whole (written by single inserts), so poisoning is moot.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Authenticator {
    /// An authenticator sending token requests through `http` (share the registry client's,
    /// so TLS settings match) and taking credentials from `store`.
    pub fn new(http: reqwest::Client, store: CredentialStore) -> Self {
        Authenticator::builder(http, store).build()
    }

    /// A builder to set options or the clock.
    pub fn builder(http: reqwest::Client, store: CredentialStore) -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            http,
            store,
            options: TokenOptions::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The `Authorization` value answering `challenge` from `registry` for `scopes`:
    ///
    /// * a [`Credentials::Bearer`] token: that token, whatever the challenge;
    /// * Basic: the credentials themselves, `None` when anonymous;
    /// * Bearer: a token for `scopes` plus any scope the challenge names, from the cache while
    ///   fresh, else from the token server;
    /// * any other scheme: `None`.
    pub async fn authorization_for(
        &self,
        registry: &str,
        challenge: &Challenge,
        scopes: &Scopes,
    ) -> Result<Option<HeaderValue>, Error> {
        if let Credentials::Bearer(token) = self.credentials_for(registry).await? {
            let token = Token::new(
                token,
                self.inner.clock.now(),
                self.inner.options.default_lifetime,
            );
            return self.bearer_header(registry, &token).map(Some);
        }
        match challenge {
            Challenge::Basic(_) => match self.credentials_for(registry).await? {
                Credentials::Anonymous => Ok(None),
                Credentials::Basic { username, password } => {
                    basic_authorization(&username, &password)
                        .map(Some)
                        .map_err(|source| Error::InvalidHeaderValue {
                            host: registry.to_owned(),
                            source,
                        })
                }
                Credentials::IdentityToken(_) => Err(Error::IdentityTokenForBasic {
                    registry: registry.to_owned(),
                }),
                // Answered above, before the challenge is looked at.
                Credentials::Bearer(_) => Ok(None),
            },
            Challenge::Bearer(bearer) => {
                let token = self.token_for(registry, bearer, scopes).await?;
                self.bearer_header(registry, &token).map(Some)
            }
            Challenge::Other { scheme, .. } => {
                tracing::debug!(registry, scheme, "unsupported authentication scheme");
                Ok(None)
            }
        }
    }

    /// A fresh cached token's `Authorization` value for `registry` and `scopes`, without any
    /// request: what a client sends up front once it has been challenged before.
    pub fn cached_authorization(&self, registry: &str, scopes: &Scopes) -> Option<HeaderValue> {
        let token = self
            .inner
            .tokens
            .get(registry, scopes, self.inner.clock.now())?;
        token.authorization().ok()
    }

    /// Drops the cached token for `registry` and `scopes`, e.g. after it earned a 401.
    pub fn invalidate(&self, registry: &str, scopes: &Scopes) {
        self.inner.tokens.invalidate(registry, scopes);
    }

    /// The credentials used for `registry`, looked up once in the store (on the blocking pool,
    /// as a credential helper may run) and remembered.
    pub async fn credentials_for(&self, registry: &str) -> Result<Credentials, Error> {
        let host = canonical_registry(registry);
        if let Some(credentials) = lock(&self.inner.credentials).get(&host) {
            return Ok(credentials.clone());
        }
        let store = self.inner.store.clone();
        let lookup_registry = registry.to_owned();
        let credentials = tokio::task::spawn_blocking(move || store.get(&lookup_registry))
            .await
            .map_err(|_| Error::LookupAborted {
                registry: registry.to_owned(),
            })??;
        lock(&self.inner.credentials).insert(host, credentials.clone());
        Ok(credentials)
    }

    /// Forgets the remembered credentials of `registry`, so the next request looks them up
    /// again (after a `docker login`, say).
    pub fn forget_credentials(&self, registry: &str) {
        lock(&self.inner.credentials).remove(&canonical_registry(registry));
    }

    fn bearer_header(&self, registry: &str, token: &Token) -> Result<HeaderValue, Error> {
        token
            .authorization()
            .map_err(|source| Error::InvalidHeaderValue {
                host: registry.to_owned(),
                source,
            })
    }

    async fn token_for(
        &self,
        registry: &str,
        challenge: &BearerChallenge,
        scopes: &Scopes,
    ) -> Result<Token, Error> {
        let tokens = &self.inner.tokens;
        if let Some(token) = tokens.get(registry, scopes, self.inner.clock.now()) {
            return Ok(token);
        }
        let key = cache_key(registry, scopes);
        let _fetching = self.inner.fetch_locks.lock(&key).await;
        // Another task may have fetched it while this one waited.
        if let Some(token) = tokens.get(registry, scopes, self.inner.clock.now()) {
            return Ok(token);
        }

        let mut wanted = scopes.clone();
        match challenge.scopes() {
            Ok(asked) => wanted.merge(&asked),
            Err(error) => {
                tracing::debug!(registry, %error, "ignoring the challenge's unreadable scope")
            }
        }
        let credentials = self.credentials_for(registry).await?;
        let token = self
            .fetch(registry, challenge, &wanted, &credentials)
            .await?;
        if let Some(refresh_token) = token.refresh_token() {
            lock(&self.inner.refresh_tokens)
                .insert(registry.to_ascii_lowercase(), refresh_token.clone());
        }
        tokens.insert(registry, scopes, token.clone());
        Ok(token)
    }

    /// Fetches a token, preferring a refresh token learned earlier from this registry's token
    /// server; a refused refresh token is forgotten and the configured credentials used.
    async fn fetch(
        &self,
        registry: &str,
        challenge: &BearerChallenge,
        scopes: &Scopes,
        credentials: &Credentials,
    ) -> Result<Token, Error> {
        let http = &self.inner.http;
        let options = &self.inner.options;
        let learned = lock(&self.inner.refresh_tokens)
            .get(&registry.to_ascii_lowercase())
            .cloned();
        if let Some(refresh_token) = learned.filter(|_| !credentials.is_anonymous()) {
            let refresh = Credentials::IdentityToken(refresh_token);
            let request = TokenRequest {
                challenge,
                scopes,
                credentials: &refresh,
            };
            match fetch_token(http, request, options, self.inner.clock.now()).await {
                Err(Error::TokenStatus { status, .. }) if status.is_client_error() => {
                    tracing::debug!(registry, %status, "learned refresh token refused, forgetting it");
                    lock(&self.inner.refresh_tokens).remove(&registry.to_ascii_lowercase());
                }
                result => return result,
            }
        }
        let request = TokenRequest {
            challenge,
            scopes,
            credentials,
        };
        fetch_token(http, request, options, self.inner.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticator_and_its_futures_are_send() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        fn assert_send<T: Send>(_: &T) {}
        assert_traits::<Authenticator>();

        let auth = Authenticator::new(reqwest::Client::new(), CredentialStore::new());
        let challenge = Challenge::Bearer(BearerChallenge::new("http://127.0.0.1:9/", None));
        let scopes = Scopes::new();
        // Only built, never polled: this checks the type, which is what a spawned task needs.
        assert_send(&auth.authorization_for("r", &challenge, &scopes));
        assert_send(&auth.credentials_for("r"));
    }

    #[tokio::test]
    async fn basic_challenges_answer_with_the_credentials() {
        let store = CredentialStore::new()
            .with_credentials("r.example", Credentials::basic("user", "pass"))
            .with_credentials("t.example", Credentials::IdentityToken(Secret::new("x")));
        let auth = Authenticator::new(reqwest::Client::new(), store);
        let basic = &Challenge::parse(r#"Basic realm="r""#).unwrap()[0];
        let header = auth
            .authorization_for("r.example", basic, &Scopes::new())
            .await
            .unwrap();
        assert_eq!(header.unwrap().to_str().unwrap(), "Basic dXNlcjpwYXNz");
        let anonymous = auth
            .authorization_for("anon.example", basic, &Scopes::new())
            .await
            .unwrap();
        assert!(anonymous.is_none());
        let refused = auth
            .authorization_for("t.example", basic, &Scopes::new())
            .await;
        assert!(
            matches!(refused, Err(Error::IdentityTokenForBasic { .. })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn other_schemes_get_no_answer() {
        let auth = Authenticator::new(reqwest::Client::new(), CredentialStore::new());
        let negotiate = &Challenge::parse("Negotiate abc").unwrap()[0];
        assert!(
            auth.authorization_for("r", negotiate, &Scopes::new())
                .await
                .unwrap()
                .is_none()
        );
    }
}
