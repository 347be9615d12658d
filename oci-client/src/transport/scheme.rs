//! Which scheme a registry of two possible schemes speaks (loopback registries, tried over
//! plain HTTP first; registries.conf's `insecure` ones, tried over TLS first): learned once
//! per registry on first contact, then used for every URL built for it.

use std::time::Duration;

use http::StatusCode;
use url::Url;

use super::{Transport, lock};
use crate::config::Scheme;
use crate::error::Error;

/// How long the first attempt of a registry of two schemes may take. A plain-HTTP server may
/// wait for the end of a request head that a TLS hello never sends, and a TLS server for a
/// hello; a server of the other scheme on a loopback address answers (or hangs up) in
/// milliseconds. Past this, the other scheme is taken.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl Transport {
    /// `<scheme>://<registry>/v2/`. A registry of two schemes gets the one tried first until
    /// its scheme is learned; [`send`](Self::send) corrects the URLs built before that.
    pub(crate) fn base_url(&self, registry: &str) -> Result<Url, Error> {
        let scheme = match self.config.scheme(registry) {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::HttpsThenHttp => self.learned(registry).unwrap_or("https"),
            Scheme::HttpThenHttps => self.learned(registry).unwrap_or("http"),
        };
        let text = format!("{scheme}://{registry}/v2/");
        Url::parse(&text).map_err(|source| Error::Url { url: text, source })
    }

    /// The scheme learned for `registry`, if any yet.
    fn learned(&self, registry: &str) -> Option<&'static str> {
        lock(&self.schemes)
            .get(&registry.to_ascii_lowercase())
            .copied()
    }

    /// For a registry of two schemes, the scheme it speaks, learned once.
    ///
    /// Tried over TLS first: `https` when a `GET /v2/` over TLS gets an answer or fails after
    /// the server spoke TLS (a certificate refused); else `http` when a plain `GET /v2/` gets
    /// a registry's answer (a TLS server answers plain HTTP with a 400, or not at all); else
    /// `https`. Tried over plain HTTP first: `http` when a plain `GET /v2/` gets a
    /// registry's answer, else `https`, whose failure, if it fails too, says more.
    pub(crate) async fn learn_scheme(&self, registry: &str) -> Option<&'static str> {
        let tls_first = match self.config.scheme(registry) {
            Scheme::HttpsThenHttp => true,
            Scheme::HttpThenHttps => false,
            Scheme::Https | Scheme::Http => return None,
        };
        if let Some(known) = self.learned(registry) {
            return Some(known);
        }
        let _learning = self.learning_scheme.lock().await;
        if let Some(known) = self.learned(registry) {
            return Some(known);
        }
        let scheme = match tls_first {
            true => self.tls_then_plain(registry).await,
            false => match self.plain_answers(registry).await {
                true => "http",
                false => "https",
            },
        };
        lock(&self.schemes).insert(registry.to_ascii_lowercase(), scheme);
        Some(scheme)
    }

    async fn tls_then_plain(&self, registry: &str) -> &'static str {
        let over_tls = self
            .http_for_authority(registry)
            .get(format!("https://{registry}/v2/"))
            .send();
        match tokio::time::timeout(PROBE_TIMEOUT, over_tls).await {
            Ok(Ok(_)) => "https",
            Ok(Err(error)) if tls_was_spoken(&error) => "https",
            tls_failure => match self.plain_answers(registry).await {
                true => {
                    tracing::debug!(registry, ?tls_failure, "no TLS here, using plain HTTP");
                    "http"
                }
                // Neither works: keep TLS, whose failure says more.
                false => "https",
            },
        }
    }

    /// True when a registry answers a plain-HTTP `GET /v2/` at `registry` in time.
    async fn plain_answers(&self, registry: &str) -> bool {
        let plain = self
            .http_for_authority(registry)
            .get(format!("http://{registry}/v2/"))
            .send();
        match tokio::time::timeout(PROBE_TIMEOUT, plain).await {
            Ok(Ok(answer)) => looks_like_a_registry(&answer),
            _ => false,
        }
    }
}

/// A plain-HTTP answer to `GET /v2/` that comes from a registry, not from a TLS server
/// objecting to plain HTTP (which answers 400, as Go's does, without the API version).
fn looks_like_a_registry(answer: &reqwest::Response) -> bool {
    answer.status() != StatusCode::BAD_REQUEST
        || answer.headers().contains_key(crate::headers::API_VERSION)
}

/// True when a failed request got as far as a TLS exchange with a server that speaks TLS:
/// some rustls error other than a malformed message (which is what a plain-HTTP answer
/// looks like to rustls) sits in its chain of causes, or the server's fatal alert does.
pub(crate) fn tls_was_spoken(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut pending = vec![error];
    while let Some(error) = pending.pop() {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return !matches!(tls, rustls::Error::InvalidMessage(_));
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if is_fatal_alert(io) {
                return true;
            }
            // io::Error hides its inner error from `source`, so look inside it too.
            if let Some(inner) = io.get_ref() {
                pending.push(inner);
            }
        }
        pending.extend(error.source());
    }
    false
}

/// A fatal alert the server sent after the client's side of the handshake was done (a
/// client certificate refused under TLS 1.3, where the server judges it last): rustls hands
/// it to the reader as text in an `InvalidData` error, not as a `rustls::Error`, so its
/// words are all there is to know it by.
fn is_fatal_alert(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::InvalidData
        && error.to_string().starts_with("received fatal alert")
}
