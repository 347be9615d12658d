//! A request to the destination whose body comes from the source's answer: the body bytes
//! read along with the source's head first, the rest spliced from its socket.

use std::io;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use oci_digest::Digest;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use url::Url;

use super::splice::{PumpError, Side, pump};
use super::wire::{self, Head};
use crate::client::{Client, push_scopes};
use crate::endpoints::uploads::OCTET_STREAM;
use crate::error::Error;
use crate::progress::Direction;
use crate::repository::Repository;
use crate::response::{MAX_ERROR_BODY, status_error};

/// Which end of a relayed request failed.
pub(super) enum Failed {
    /// Reading the source (it went quiet, or ended early).
    Source(io::Error),
    /// The destination: a broken connection or a refusal.
    Destination(Error),
}

/// One request to the destination repository `to` with a body of `length` bytes.
pub(super) struct Spliced<'a> {
    pub(super) destination: &'a Client,
    pub(super) to: &'a Repository,
    pub(super) method: Method,
    pub(super) url: &'a Url,
    /// Headers besides `User-Agent`, `Accept`, `Content-Type`, `Content-Length` and
    /// `Authorization`.
    pub(super) headers: HeaderMap,
    pub(super) length: u64,
}

impl Spliced<'_> {
    /// Sends the request: its body's first bytes from `leftover` (what is left of the bytes
    /// read with the source's head), the rest spliced from `download`; `moved` hears each
    /// piece's size. Returns the destination's answer head, and its connection for the
    /// answer's body. An answer that arrives before the whole body was taken (a refusal) is
    /// returned as the answer, not as the broken connection.
    pub(super) async fn send(
        self,
        download: &TcpStream,
        leftover: &mut Bytes,
        moved: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(TcpStream, Head), Failed> {
        let registry = self.to.registry();
        let mut headers = common_headers(self.destination);
        headers.extend(self.headers);
        headers.insert(CONTENT_TYPE, OCTET_STREAM);
        headers.insert(CONTENT_LENGTH, HeaderValue::from(self.length));
        let scopes = push_scopes(self.to).map_err(Failed::Destination)?;
        authorize(self.destination, registry, &scopes, &mut headers)
            .await
            .map_err(Failed::Destination)?;
        let method = self.method;
        let broken = |error| Failed::Destination(relay_error(method.clone(), self.url, error));
        let mut upload = wire::connect(self.url).await.map_err(broken)?;
        wire::send_head(&mut upload, &method, self.url, &headers)
            .await
            .map_err(broken)?;

        let start = leftover.split_to(
            leftover
                .len()
                .min(usize::try_from(self.length).unwrap_or(usize::MAX)),
        );
        upload.write_all(&start).await.map_err(broken)?;
        moved(start.len() as u64);
        let rest = self.length - start.len() as u64;
        let idle = self.destination.config().read_timeout;
        match pump(download, &upload, rest, idle, moved).await {
            Ok(()) => {}
            Err(PumpError {
                side: Side::Source,
                error,
            }) => return Err(Failed::Source(error)),
            Err(PumpError {
                side: Side::Destination,
                error,
            }) => {
                return match wire::read_head(&mut upload).await {
                    Ok(head) if !head.status.is_success() => Ok((upload, head)),
                    _ => Err(broken(error)),
                };
            }
        }
        let head = wire::read_head(&mut upload).await.map_err(broken)?;
        Ok((upload, head))
    }
}

/// The progress of a relayed upload of the blob `digest` of `size` bytes into `to` that
/// starts with `start` bytes held: each piece's size goes to the client's progress tracker,
/// and the bytes held or sent so far to `progress`.
pub(super) fn upload_progress<'a>(
    destination: &Client,
    to: &Repository,
    digest: &Digest,
    size: u64,
    start: u64,
    progress: &'a mut (dyn FnMut(u64) + Send),
) -> impl FnMut(u64) + Send + 'a {
    let mut tracker = destination.tracker(Direction::Upload, to, digest, Some(size));
    if start > 0 {
        tracker.advance(start);
    }
    let mut done = start;
    move |bytes| {
        done += bytes;
        tracker.advance(bytes);
        progress(done);
    }
}

/// The error a refusing answer stands for, its body (the registry's error codes) read from
/// `connection`; `retried` when the relay already tried again as the retry policy says.
pub(super) async fn refusal(
    connection: &mut TcpStream,
    head: Head,
    method: Method,
    url: &Url,
    retried: bool,
) -> Error {
    let length = head.content_length().unwrap_or(0);
    let body = wire::read_body(connection, head.body_start.clone(), length, MAX_ERROR_BODY)
        .await
        .ok();
    status_error(
        method,
        url.to_string(),
        head.status,
        &head.headers,
        body.as_deref(),
        retried,
    )
}

/// `User-Agent` and `Accept`, as the usual path sends them.
pub(super) fn common_headers(client: &Client) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(agent) = HeaderValue::from_str(&client.config().user_agent) {
        headers.insert(USER_AGENT, agent);
    }
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers
}

/// Adds the `Authorization` the client's auth state holds for `scopes` on `registry`.
pub(super) async fn authorize(
    client: &Client,
    registry: &str,
    scopes: &oci_auth::Scopes,
    headers: &mut HeaderMap,
) -> Result<(), Error> {
    if let Some(value) = client.transport().authorization(registry, scopes).await? {
        headers.insert(AUTHORIZATION, value);
    }
    Ok(())
}

pub(super) fn relay_error(method: Method, url: &Url, source: io::Error) -> Error {
    Error::Relay {
        method,
        url: url.to_string(),
        source,
    }
}
