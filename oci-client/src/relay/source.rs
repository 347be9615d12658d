//! The relay's first exchange on Linux: whether it applies at all, then the source's `GET`,
//! checked before the destination is touched, its body left on the socket.

use std::borrow::Cow;
use std::io;

use bytes::Bytes;

use http::header::RANGE;
use http::{HeaderValue, Method, StatusCode};
use oci_digest::Digest;
use tokio::net::TcpStream;
use url::Url;

use super::Declined;
use super::spliced::{authorize, common_headers, refusal, relay_error};
use super::wire::{self, Head};
use crate::client::{Client, pull_scopes};
use crate::error::Error;
use crate::headers::content_range_start;
use crate::repository::Repository;
use crate::response::{Slot, retry_after};
use crate::retry::{Outcome, is_retryable_status};
use crate::transport::jitter;

/// The source's answer to the relay's `GET`, its head checked: the first body bytes (read
/// with the head) and the connection the rest of the body is on.
pub(super) struct Download {
    pub(super) stream: TcpStream,
    /// The body bytes read along with the head, not yet sent on.
    pub(super) leftover: Bytes,
    pub(super) url: Url,
    /// The `GET`'s place among the requests in flight to the source, held while its body is
    /// read.
    pub(super) _slot: Slot,
}

/// Opens the `GET` of the blob `digest` of `size` bytes from `offset` on, in `from` through
/// `source`, for a body to go to `to_registry` through `destination`; `Err(Declined)` when
/// the relay does not apply, before anything is sent to the destination.
///
/// From offset 0 the source must answer `200` with the blob's size as `Content-Length`;
/// from further on, `206` for exactly the rest.
pub(super) async fn open(
    source: &Client,
    destination: &Client,
    from: &Repository,
    to_registry: &str,
    digest: &Digest,
    size: u64,
    offset: u64,
) -> Result<Result<Download, Declined>, Error> {
    if proxied(source) || proxied(destination) {
        return Ok(Err(Declined::Routing));
    }
    let Some(from) = single_pull_source(source, from)? else {
        return Ok(Err(Declined::Routing));
    };
    let url = source.repository_url(&from, &format!("blobs/{digest}"))?;
    let url = plain_http(source, from.registry(), url).await;
    let destination_base = destination.transport().base_url(to_registry)?;
    let (Some(url), Some(_)) = (
        url,
        plain_http(destination, to_registry, destination_base).await,
    ) else {
        return Ok(Err(Declined::Tls));
    };

    let slot = source.transport().slot(from.registry()).await;
    let (stream, head) = get(source, &from, &url, offset).await?;
    let expected = match offset {
        0 => StatusCode::OK,
        _ => StatusCode::PARTIAL_CONTENT,
    };
    if head.status != expected {
        return Ok(Err(Declined::SourceStatus(head.status)));
    }
    let starts_at_offset = offset == 0
        || head
            .headers
            .get(http::header::CONTENT_RANGE)
            .and_then(|value| value.to_str().ok())
            .and_then(content_range_start)
            .is_some_and(|(first, _)| first == offset);
    if head.is_transfer_coded() || head.content_length() != Some(size - offset) || !starts_at_offset
    {
        return Ok(Err(Declined::SourceLength));
    }
    Ok(Ok(Download {
        stream,
        leftover: head.body_start,
        url,
        _slot: slot,
    }))
}

/// Sends the `GET` (from `offset` on) and reads the answer's head, trying again as the
/// client's retry policy says after a broken connection or a status a later attempt may
/// change (`429`, `503`: waiting the `Retry-After` asked for), as the usual path does. Such
/// a status still answered on the last attempt is an error, not a reason to decline: the
/// usual path would only ask again.
async fn get(
    source: &Client,
    from: &Repository,
    url: &Url,
    offset: u64,
) -> Result<(TcpStream, Head), Error> {
    let policy = source.config().retry;
    let broken = |error| relay_error(Method::GET, url, error);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut headers = common_headers(source);
        if offset > 0 {
            // Digits and ASCII punctuation always make a valid header value.
            let range = HeaderValue::from_str(&format!("bytes={offset}-"))
                .map_err(|error| broken(io::Error::other(error)))?;
            headers.insert(RANGE, range);
        }
        authorize(source, from.registry(), &pull_scopes(from)?, &mut headers).await?;
        let exchanged = async {
            let mut stream = wire::connect(url).await?;
            wire::send_head(&mut stream, &Method::GET, url, &headers).await?;
            let head = wire::read_head(&mut stream).await?;
            Ok::<_, io::Error>((stream, head))
        };
        let (mut stream, head) = match exchanged.await {
            Ok(answered) => answered,
            Err(error) => match policy.next_delay(attempt, Outcome::ConnectionFailed, jitter()) {
                Some(delay) => {
                    tracing::warn!(%error, attempt, ?delay, "relay download failed, retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                None => return Err(broken(error)),
            },
        };
        if !is_retryable_status(head.status.as_u16()) {
            return Ok((stream, head));
        }
        let outcome = Outcome::Status {
            status: head.status.as_u16(),
            retry_after: retry_after(&head.headers),
        };
        match policy.next_delay(attempt, outcome, jitter()) {
            Some(delay) => {
                tracing::warn!(%url, status = %head.status, attempt, ?delay, "retrying");
                tokio::time::sleep(delay).await;
            }
            None => return Err(refusal(&mut stream, head, Method::GET, url, attempt > 1).await),
        }
    }
}

/// `url` with the scheme learned for `registry`, when that is plain HTTP.
async fn plain_http(client: &Client, registry: &str, mut url: Url) -> Option<Url> {
    if let Some(scheme) = client.transport().learn_scheme(registry).await {
        // http and https are both special schemes, so the change cannot fail.
        let _ = url.set_scheme(scheme);
    }
    (url.scheme() == "http").then_some(url)
}

/// Whether the client's requests may go through a proxy: one configured, or one the
/// environment sets (reqwest reads it).
fn proxied(client: &Client) -> bool {
    client.config().proxy.is_some()
        || ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// The one repository a pull of `repository` by digest reads, or `None` when
/// `registries.conf` gives it mirrors to try first.
fn single_pull_source<'r>(
    client: &Client,
    repository: &'r Repository,
) -> Result<Option<Cow<'r, Repository>>, Error> {
    let routes = &client.config().routes;
    if routes.is_empty() {
        return Ok(Some(Cow::Borrowed(repository)));
    }
    let mut sources = routes.pull_sources(repository, true)?;
    Ok(match sources.len() {
        1 => sources.pop().map(Cow::Owned),
        _ => None,
    })
}
