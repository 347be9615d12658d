//! Sending one registry request: per-host concurrency slot, authentication (answering a
//! `401` challenge once), retries with backoff, and redirects followed by hand so that
//! `Authorization` never leaves the registry's host.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use http::header::{AUTHORIZATION, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, StatusCode};
use oci_auth::{Authenticator, BearerChallenge, Challenge, Scopes};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{ClientConfig, CredentialSource};
use crate::error::Error;
use crate::request::Request;
use crate::response::{Response, retry_after};
use crate::retry::Outcome;

/// Redirect hops followed at most.
const MAX_REDIRECTS: usize = 10;

/// The shared machinery behind every [`Client`](crate::Client) clone.
#[derive(Debug)]
pub(crate) struct Transport {
    config: ClientConfig,
    http: reqwest::Client,
    /// Used for hosts whose certificates go unchecked; `None` when no host is insecure.
    http_insecure: Option<reqwest::Client>,
    auth: Authenticator,
    /// The last challenge of each registry (its scope dropped), to authorise requests up
    /// front instead of collecting a 401 each time.
    challenges: Mutex<HashMap<String, Challenge>>,
    /// Registries probed with `GET /v2/` before a one-shot body was sent.
    probed: Mutex<HashSet<String>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Locks a map only ever changed by single inserts, so a poisoned lock holds whole entries.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Transport {
    /// Builds the HTTP clients and the authenticator.
    pub(crate) fn new(config: ClientConfig) -> Result<Transport, Error> {
        let builder = || {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(config.user_agent.clone())
                .connect_timeout(config.connect_timeout);
            if let Some(timeout) = config.read_timeout {
                builder = builder.read_timeout(timeout);
            }
            builder
        };
        let http = builder().build().map_err(Error::Build)?;
        let http_insecure = match config.insecure.is_empty() {
            true => None,
            false => Some(
                builder()
                    .tls_danger_accept_invalid_certs(true)
                    .build()
                    .map_err(Error::Build)?,
            ),
        };
        let auth = match &config.credentials {
            CredentialSource::Authenticator(auth) => auth.clone(),
            CredentialSource::Store(store) => Authenticator::new(http.clone(), store.clone()),
        };
        Ok(Transport {
            config,
            http,
            http_insecure,
            auth,
            challenges: Mutex::default(),
            probed: Mutex::default(),
            limits: Mutex::default(),
        })
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `<scheme>://<registry>/v2/`.
    pub(crate) fn base_url(&self, registry: &str) -> Result<Url, Error> {
        let text = format!("{}://{registry}/v2/", self.config.scheme_for(registry));
        Url::parse(&text).map_err(|source| Error::Url { url: text, source })
    }

    /// Sends `request`: waits for a slot on its registry, authorises it, answers one 401
    /// challenge, retries transient failures (when the body can be replayed) and follows
    /// redirects if asked. Any status comes back as a [`Response`]; only failures to get one
    /// are errors.
    pub(crate) async fn send(&self, mut request: Request) -> Result<Response, Error> {
        if !request.body.is_replayable() {
            // A one-shot body cannot be sent again after a 401, so learn the registry's
            // challenge first.
            self.probe_auth(&request.registry).await?;
        }
        let permit = self.slot(&request.registry).await;
        let policy = self.config.retry;
        let mut attempt = 0;
        let mut challenged = false;
        loop {
            attempt += 1;
            let authorization = self
                .authorization(&request.registry, &request.scopes)
                .await?;
            let body = request.body.for_attempt();
            let response = match self.exchange(&request, body, authorization.as_ref()).await {
                Ok(response) => response,
                Err(error @ Error::Transport { .. }) if request.body.is_replayable() => {
                    let Some(delay) =
                        policy.next_delay(attempt, Outcome::ConnectionFailed, jitter())
                    else {
                        return Err(error);
                    };
                    tracing::warn!(%error, attempt, ?delay, "request failed, retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !challenged && request.body.is_replayable() {
                challenged = true;
                if self
                    .answer_challenge(&request, &response, authorization.is_some())
                    .await?
                {
                    attempt -= 1;
                    continue;
                }
            }
            if request.body.is_replayable() {
                let outcome = Outcome::Status {
                    status: status.as_u16(),
                    retry_after: retry_after(response.headers()),
                };
                if let Some(delay) = policy.next_delay(attempt, outcome, jitter()) {
                    tracing::warn!(method = %request.method, url = %request.url, %status, attempt, ?delay, "retrying");
                    drop(response);
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            tracing::debug!(method = %request.method, url = %request.url, %status, "answered");
            return Ok(Response::new(request.method, request.url, response, permit));
        }
    }

    /// One exchange, following redirects by hand when the request allows it.
    async fn exchange(
        &self,
        request: &Request,
        mut body: Option<reqwest::Body>,
        authorization: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, Error> {
        let mut url = request.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut builder = self
                .http_for(&url)
                .request(request.method.clone(), url.clone())
                .headers(request.headers.clone());
            match authorization {
                Some(value) if same_authority(&url, &request.url) => {
                    builder = builder.header(AUTHORIZATION, value.clone());
                }
                _ => {}
            }
            if let Some(body) = body.take() {
                builder = builder.body(body);
            }
            let response = builder.send().await.map_err(|source| Error::Transport {
                method: request.method.clone(),
                url: url.to_string(),
                source,
            })?;
            if !request.follow_redirects || !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = response.headers().get(LOCATION) else {
                return Ok(response);
            };
            let location = location.to_str().map_err(|_| Error::InvalidHeader {
                url: url.to_string(),
                name: "Location",
                value: String::from_utf8_lossy(location.as_bytes()).into_owned(),
            })?;
            url = url.join(location).map_err(|source| Error::Url {
                url: location.to_owned(),
                source,
            })?;
            tracing::debug!(%url, "following redirect");
        }
        Err(Error::TooManyRedirects {
            url: request.url.to_string(),
            limit: MAX_REDIRECTS,
        })
    }

    fn http_for(&self, url: &Url) -> &reqwest::Client {
        let authority = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        };
        match &self.http_insecure {
            Some(insecure) if self.config.is_insecure(&authority) => insecure,
            _ => &self.http,
        }
    }

    /// The `Authorization` to send up front: a cached token, or an answer to the registry's
    /// remembered challenge (which may fetch a token).
    async fn authorization(
        &self,
        registry: &str,
        scopes: &Scopes,
    ) -> Result<Option<HeaderValue>, Error> {
        if let Some(cached) = self.auth.cached_authorization(registry, scopes) {
            return Ok(Some(cached));
        }
        let known = lock(&self.challenges).get(registry).cloned();
        match known {
            Some(challenge) => self
                .auth
                .authorization_for(registry, &challenge, scopes)
                .await
                .map_err(|source| Error::Auth {
                    registry: registry.to_owned(),
                    source,
                }),
            None => Ok(None),
        }
    }

    /// Learns the challenge of a 401 and prepares an answer; `false` when there is none
    /// (anonymous on a Basic challenge, an unknown scheme, no challenge at all).
    async fn answer_challenge(
        &self,
        request: &Request,
        response: &reqwest::Response,
        sent_authorization: bool,
    ) -> Result<bool, Error> {
        let registry = &request.registry;
        let headers = response.headers().get_all(WWW_AUTHENTICATE);
        if headers.iter().next().is_none() {
            return Ok(false);
        }
        let challenges = Challenge::from_headers(headers).map_err(|source| Error::Challenge {
            registry: registry.clone(),
            source,
        })?;
        let Some(challenge) = Challenge::select(&challenges) else {
            return Ok(false);
        };
        if sent_authorization {
            // The token sent was refused (expired or revoked on the server's side).
            self.auth.invalidate(registry, &request.scopes);
        }
        lock(&self.challenges).insert(registry.clone(), without_scope(challenge));
        let answer = self
            .auth
            .authorization_for(registry, challenge, &request.scopes)
            .await
            .map_err(|source| Error::Auth {
                registry: registry.clone(),
                source,
            })?;
        tracing::debug!(
            registry,
            scheme = challenge.scheme(),
            answered = answer.is_some(),
            "challenged"
        );
        Ok(answer.is_some())
    }

    /// Sends `GET /v2/` once per registry, so its challenge is known.
    async fn probe_auth(&self, registry: &str) -> Result<(), Error> {
        if lock(&self.challenges).contains_key(registry) || lock(&self.probed).contains(registry) {
            return Ok(());
        }
        let url = self.base_url(registry)?;
        let request = Request::new(Method::GET, url, registry, Scopes::new());
        Box::pin(self.send(request)).await?;
        lock(&self.probed).insert(registry.to_owned());
        Ok(())
    }

    /// A slot among the requests in flight to `registry`.
    async fn slot(&self, registry: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let semaphore = lock(&self.limits)
            .entry(registry.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.max_requests_per_host)))
            .clone();
        // The semaphore is never closed, so this only fails in theory; go on without a slot.
        semaphore.acquire_owned().await.ok()
    }
}

/// A Bearer challenge stripped of its `scope`, to be answered for other scopes later;
/// other challenges as they are.
fn without_scope(challenge: &Challenge) -> Challenge {
    match challenge {
        Challenge::Bearer(bearer) => match bearer.realm() {
            Some(realm) => Challenge::Bearer(BearerChallenge::new(realm, bearer.service())),
            None => challenge.clone(),
        },
        other => other.clone(),
    }
}

/// Same scheme, host and port.
fn same_authority(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A random fraction for the backoff's jitter.
pub(crate) fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_compares_scheme_host_and_port() {
        let url = |text| Url::parse(text).unwrap();
        assert!(same_authority(
            &url("https://r.example/v2/a"),
            &url("https://r.example:443/v2/b")
        ));
        assert!(!same_authority(
            &url("https://r.example/v2/"),
            &url("https://cdn.example/v2/")
        ));
        assert!(!same_authority(
            &url("http://127.0.0.1:5000/"),
            &url("http://127.0.0.1:5001/")
        ));
        assert!(!same_authority(
            &url("http://127.0.0.1:5000/"),
            &url("http://localhost:5000/")
        ));
    }

    #[test]
    fn remembered_challenges_lose_their_scope() {
        let parsed = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull""#,
        )
        .unwrap();
        let Challenge::Bearer(kept) = without_scope(&parsed[0]) else {
            panic!("still a Bearer challenge");
        };
        assert_eq!(kept.realm(), Some("https://auth.example/token"));
        assert_eq!(kept.service(), Some("reg"));
        assert_eq!(kept.scope(), None);
    }
}
