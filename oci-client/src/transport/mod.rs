//! Sending one registry request: per-host concurrency slot, authentication (answering a
//! `401` challenge once), retries with backoff, and redirects followed by hand so that
//! `Authorization` never leaves the registry's host. Each host gets the HTTP client of its
//! TLS settings, and a registry of two possible schemes learns its scheme on first contact.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use http::header::{AUTHORIZATION, LOCATION};
use http::{HeaderValue, StatusCode};
use oci_auth::{Authenticator, Challenge};
use oci_digest::KeyedLocks;
use url::Url;

use crate::config::{ClientConfig, CredentialSource, host_of};
use crate::error::{Error, ErrorKind};
use crate::request::Request;
use crate::response::{Response, Slot, retry_after};
use crate::retry::Outcome;

mod auth;
mod scheme;

pub(crate) use scheme::tls_was_spoken;

/// Redirect hops followed at most.
const MAX_REDIRECTS: usize = 10;

/// The shared machinery behind every [`Client`](crate::Client) clone.
#[derive(Debug)]
pub(crate) struct Transport {
    config: ClientConfig,
    /// The HTTP clients of each distinct TLS profile; the first serves hosts without settings.
    http: Vec<ProfileClients>,
    /// The index in `http` of each configured registry (`host[:port]` or `host`).
    http_of_registry: HashMap<String, usize>,
    auth: Authenticator,
    /// The scheme learned for each registry of two possible schemes.
    schemes: Mutex<HashMap<String, &'static str>>,
    /// Held while a registry's scheme is being learned, so it is learned once.
    learning_scheme: tokio::sync::Mutex<()>,
    /// The last challenge of each registry (its scope dropped), to authorise requests up
    /// front instead of collecting a 401 each time.
    challenges: Mutex<HashMap<String, Challenge>>,
    /// Registries probed with `GET /v2/` before a one-shot body was sent.
    probed: Mutex<HashSet<String>>,
    /// Slots of the requests in flight, per registry.
    slots: KeyedLocks<String>,
}

/// The HTTP clients of one TLS profile.
#[derive(Debug)]
struct ProfileClients {
    /// Requests other than blob transfers: over TLS, HTTP/2 where the registry offers it, so
    /// that many small requests share one connection.
    shared: reqwest::Client,
    /// Blob transfers ([`Request::bulk`]) over TLS: HTTP/1.1 only, a connection each.
    bulk: reqwest::Client,
}

/// Locks a map only ever changed by single inserts, so a poisoned lock holds whole entries.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Transport {
    /// Builds the HTTP clients and the authenticator.
    pub(crate) fn new(config: ClientConfig) -> Result<Transport, Error> {
        let mut profiles = vec![config.tls.clone()];
        let mut http_of_registry = HashMap::new();
        for (registry, _) in config.registries.iter() {
            let profile = config.registries.tls_profile(registry, &config.tls);
            let index = match profiles.iter().position(|known| *known == profile) {
                Some(index) => index,
                None => {
                    profiles.push(profile);
                    profiles.len() - 1
                }
            };
            http_of_registry.insert(registry.to_owned(), index);
        }
        let http = profiles
            .iter()
            .map(|profile| {
                // One configuration for both, so that they share its certificate verifier
                // (which reads the trust store once, at the first handshake).
                let tls = profile.rustls_config()?;
                Ok(ProfileClients {
                    shared: http_client(&config, tls.clone(), Protocols::Http2AndHttp1)?,
                    bulk: http_client(&config, tls, Protocols::Http1)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let auth = match &config.credentials {
            CredentialSource::Authenticator(auth) => auth.clone(),
            CredentialSource::Store(store) => {
                Authenticator::new(http[0].shared.clone(), store.clone())
            }
        };
        let slots = KeyedLocks::with_slots(config.max_requests_per_host);
        Ok(Transport {
            config,
            http,
            http_of_registry,
            auth,
            schemes: Mutex::default(),
            learning_scheme: tokio::sync::Mutex::new(()),
            challenges: Mutex::default(),
            probed: Mutex::default(),
            slots,
        })
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends `request`: waits for a slot on its registry, authorises it, answers one 401
    /// challenge, retries transient failures (when the body can be replayed) and follows
    /// redirects if asked. Any status comes back as a [`Response`]; only failures to get one
    /// are errors.
    pub(crate) async fn send(&self, mut request: Request) -> Result<Response, Error> {
        if let Some(scheme) = self.learn_scheme(&request.registry).await
            && request.url.scheme() != scheme
            && authority(&request.url).eq_ignore_ascii_case(&request.registry)
        {
            // http and https are both special schemes, so the change cannot fail.
            let _ = request.url.set_scheme(scheme);
        }
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
                // A TLS refusal (a certificate not trusted, or refused) is the client's
                // configuration: asking again gets the same answer.
                Err(error @ Error::Transport { .. })
                    if request.body.is_replayable() && error.kind() != ErrorKind::Configuration =>
                {
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
            let replayable = request.body.is_replayable();
            return Ok(Response::new(
                request.method,
                request.url,
                response,
                permit,
                replayable,
            ));
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
                .http_for(&url, request.bulk)
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

    /// The client for a request to `url`: of the host's TLS settings, and for a blob
    /// transfer over TLS the HTTP/1.1 one (over plain HTTP every request is HTTP/1.1).
    fn http_for(&self, url: &Url, bulk: bool) -> &reqwest::Client {
        let clients = self.clients_of(&authority(url));
        match bulk && url.scheme() == "https" {
            true => &clients.bulk,
            false => &clients.shared,
        }
    }

    /// The shared client of `authority`'s TLS settings.
    fn http_for_authority(&self, authority: &str) -> &reqwest::Client {
        &self.clients_of(authority).shared
    }

    /// The clients of `authority`'s TLS settings (`host:port`, then `host`).
    fn clients_of(&self, authority: &str) -> &ProfileClients {
        let authority = authority.to_ascii_lowercase();
        let index = self
            .http_of_registry
            .get(&authority)
            .or_else(|| self.http_of_registry.get(host_of(&authority)))
            .copied()
            .unwrap_or(0);
        &self.http[index]
    }

    /// A slot among the requests in flight to `registry`.
    pub(crate) async fn slot(&self, registry: &str) -> Slot {
        self.slots.lock(&registry.to_ascii_lowercase()).await
    }
}

/// The HTTP versions a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocols {
    /// HTTP/2 where TLS's ALPN agrees on it, else HTTP/1.1.
    Http2AndHttp1,
    /// HTTP/1.1 only (and only it offered by ALPN).
    Http1,
}

/// An HTTP client with the configuration's network settings, the TLS settings `tls` and
/// `protocols`.
fn http_client(
    config: &ClientConfig,
    mut tls: rustls::ClientConfig,
    protocols: Protocols,
) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder();
    if protocols == Protocols::Http1 {
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        builder = builder.http1_only();
    }
    let mut builder = builder
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .tls_backend_preconfigured(tls);
    if let Some(timeout) = config.read_timeout {
        builder = builder.read_timeout(timeout);
    }
    if let Some(url) = &config.proxy {
        let proxy = reqwest::Proxy::all(url.as_str())
            .map_err(Error::Build)?
            .no_proxy(
                config
                    .no_proxy
                    .as_deref()
                    .and_then(reqwest::NoProxy::from_string),
            );
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(Error::Build)
}

/// `host[:port]` of a URL, the port only when explicit.
fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
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
}
