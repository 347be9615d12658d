//! Which scheme a registry tried over TLS first speaks (loopback registries, by default):
//! learned once per registry on first contact, then used for every URL built for it.

use std::time::Duration;

use http::StatusCode;
use url::Url;

use super::{Transport, lock};
use crate::config::Scheme;
use crate::error::Error;

/// How long the TLS attempt of a registry tried over TLS first may take. A plain-HTTP
/// server may wait for the end of a request head that a TLS hello never sends; a TLS
/// server on a loopback address answers in milliseconds. Past this, plain HTTP is tried,
/// and its answer decides.
const TLS_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl Transport {
    /// `<scheme>://<registry>/v2/`. A registry tried over TLS first gets `https` until its
    /// scheme is learned; [`send`](Self::send) corrects the URLs built before that.
    pub(crate) fn base_url(&self, registry: &str) -> Result<Url, Error> {
        let scheme = match self.config.scheme(registry) {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::HttpsThenHttp => lock(&self.schemes)
                .get(&registry.to_ascii_lowercase())
                .copied()
                .unwrap_or("https"),
        };
        let text = format!("{scheme}://{registry}/v2/");
        Url::parse(&text).map_err(|source| Error::Url { url: text, source })
    }

    /// For a registry tried over TLS first, the scheme it speaks, learned once: `https` when
    /// a `GET /v2/` over TLS gets an answer or fails after the server spoke TLS (a
    /// certificate refused); else `http` when a plain `GET /v2/` gets a registry's answer
    /// (a TLS server answers plain HTTP with a 400, or not at all); else `https`.
    pub(super) async fn learn_scheme(&self, registry: &str) -> Option<&'static str> {
        if self.config.scheme(registry) != Scheme::HttpsThenHttp {
            return None;
        }
        let key = registry.to_ascii_lowercase();
        if let Some(known) = lock(&self.schemes).get(&key) {
            return Some(known);
        }
        let _learning = self.learning_scheme.lock().await;
        if let Some(known) = lock(&self.schemes).get(&key) {
            return Some(known);
        }
        let http = self.http_for_authority(registry);
        let over_tls = http.get(format!("https://{registry}/v2/")).send();
        let scheme = match tokio::time::timeout(TLS_PROBE_TIMEOUT, over_tls).await {
            Ok(Ok(_)) => "https",
            Ok(Err(error)) if tls_was_spoken(&error) => "https",
            tls_failure => match http.get(format!("http://{registry}/v2/")).send().await {
                Ok(answer) if looks_like_a_registry(&answer) => {
                    tracing::debug!(registry, ?tls_failure, "no TLS here, using plain HTTP");
                    "http"
                }
                // Neither works: keep TLS, whose failure says more.
                _ => "https",
            },
        };
        lock(&self.schemes).insert(key, scheme);
        Some(scheme)
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
/// looks like to rustls) sits in its chain of causes.
pub(crate) fn tls_was_spoken(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut pending = vec![error];
    while let Some(error) = pending.pop() {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return !matches!(tls, rustls::Error::InvalidMessage(_));
        }
        // io::Error hides its inner error from `source`, so look inside it too.
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        pending.extend(error.source());
    }
    false
}
