//! The relay's two exchanges on Linux: the source's `GET`, checked before the destination
//! is touched, then the destination's finishing `PUT`, its body spliced from the `GET`'s.

use std::borrow::Cow;
use std::io;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use oci_digest::Digest;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use url::Url;

use super::splice::{PumpError, Side, pump};
use super::wire::{self, Head};
use super::{Declined, Relayed};
use crate::client::{Client, pull_scopes, push_scopes};
use crate::endpoints::uploads::{
    OCTET_STREAM, PushedBlob, UPLOAD_FINISHED, UploadSession, finishing_url,
};
use crate::error::Error;
use crate::progress::Direction;
use crate::repository::Repository;
use crate::response::{MAX_ERROR_BODY, check_content_digest, location, status_error};

/// See [`Client::relay_blob`].
pub(super) async fn relay(
    source: &Client,
    destination: &Client,
    from: &Repository,
    to: &Repository,
    digest: &Digest,
    size: u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Relayed, Error> {
    if proxied(source) || proxied(destination) {
        return Ok(Relayed::Declined(Declined::Routing));
    }
    let Some(from) = single_pull_source(source, from)? else {
        return Ok(Relayed::Declined(Declined::Routing));
    };
    let to = destination.route(to)?;
    let get_url = source.repository_url(&from, &format!("blobs/{digest}"))?;
    let get_url = plain_http(source, from.registry(), get_url).await;
    let destination_base = destination.transport().base_url(to.registry())?;
    let (Some(get_url), Some(_)) = (
        get_url,
        plain_http(destination, to.registry(), destination_base).await,
    ) else {
        return Ok(Relayed::Declined(Declined::Tls));
    };

    let _source_slot = source.transport().slot(from.registry()).await;
    let mut headers = common_headers(source);
    let scopes = pull_scopes(&from)?;
    authorize(source, from.registry(), &scopes, &mut headers).await?;
    let broken = |error| relay_error(Method::GET, &get_url, error);
    let mut download = wire::connect(&get_url).await.map_err(broken)?;
    wire::send_head(&mut download, &Method::GET, &get_url, &headers)
        .await
        .map_err(broken)?;
    let head = wire::read_head(&mut download).await.map_err(broken)?;
    if head.status != StatusCode::OK {
        return Ok(Relayed::Declined(Declined::SourceStatus(head.status)));
    }
    if head.is_transfer_coded() || head.content_length() != Some(size) {
        return Ok(Relayed::Declined(Declined::SourceLength));
    }

    let session = destination.start_upload_at(&to).await?;
    let put_url = finishing_url(&session, digest);
    if put_url.scheme() != "http" {
        cancel(destination, session).await;
        return Ok(Relayed::Declined(Declined::Tls));
    }
    let upload = Upload {
        destination,
        session: &session,
        url: &put_url,
        digest,
        size,
    };
    match upload.send(&download, head, progress).await {
        Ok(pushed) => Ok(Relayed::Pushed(pushed)),
        Err(error) => {
            // The `PUT` went short of its length (its connection is gone), so the session
            // holds nothing; clear it away as a courtesy.
            cancel(destination, session).await;
            Err(match error {
                Failed::Source(error) => relay_error(Method::GET, &get_url, error),
                Failed::Destination(error) => error,
            })
        }
    }
}

/// The finishing `PUT` of an upload session, with the body of the source's answer.
struct Upload<'a> {
    destination: &'a Client,
    session: &'a UploadSession,
    url: &'a Url,
    digest: &'a Digest,
    size: u64,
}

/// Which end of a relay failed.
enum Failed {
    Source(io::Error),
    Destination(Error),
}

impl Upload<'_> {
    /// Sends the `PUT`: the part of the body read with the source's head, the rest spliced
    /// from `download`; then reads the destination's answer.
    async fn send(
        &self,
        download: &TcpStream,
        source_head: Head,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<PushedBlob, Failed> {
        let registry = self.session.repository().registry();
        let _slot = self.destination.transport().slot(registry).await;
        let mut headers = common_headers(self.destination);
        headers.insert(CONTENT_TYPE, OCTET_STREAM);
        headers.insert(CONTENT_LENGTH, HeaderValue::from(self.size));
        let scopes = push_scopes(self.session.repository()).map_err(Failed::Destination)?;
        authorize(self.destination, registry, &scopes, &mut headers)
            .await
            .map_err(Failed::Destination)?;
        let broken = |error| Failed::Destination(relay_error(Method::PUT, self.url, error));
        let mut upload = wire::connect(self.url).await.map_err(broken)?;
        wire::send_head(&mut upload, &Method::PUT, self.url, &headers)
            .await
            .map_err(broken)?;

        let mut tracker = self.destination.tracker(
            Direction::Upload,
            self.session.repository(),
            self.digest,
            Some(self.size),
        );
        let mut done = 0;
        let mut moved = |bytes: u64| {
            done += bytes;
            tracker.advance(bytes);
            progress(done);
        };
        let start = source_head.body_start;
        let start = &start[..start
            .len()
            .min(usize::try_from(self.size).unwrap_or(usize::MAX))];
        upload.write_all(start).await.map_err(broken)?;
        moved(start.len() as u64);
        let rest = self.size - start.len() as u64;
        let idle = self.destination.config().read_timeout;
        match pump(download, &upload, rest, idle, &mut moved).await {
            Ok(()) => {}
            Err(PumpError {
                side: Side::Source,
                error,
            }) => return Err(Failed::Source(error)),
            Err(PumpError {
                side: Side::Destination,
                error,
            }) => {
                // The registry may have answered before taking the whole body (a refusal):
                // its answer says more than the broken pipe.
                return Err(Failed::Destination(
                    match wire::read_head(&mut upload).await {
                        Ok(head) => self
                            .answer(&mut upload, head)
                            .await
                            .err()
                            .unwrap_or_else(|| relay_error(Method::PUT, self.url, error)),
                        Err(_) => relay_error(Method::PUT, self.url, error),
                    },
                ));
            }
        }
        let head = wire::read_head(&mut upload).await.map_err(broken)?;
        self.answer(&mut upload, head)
            .await
            .map_err(Failed::Destination)
    }

    /// The blob pushed, or the error the destination's answer stands for.
    async fn answer(&self, upload: &mut TcpStream, head: Head) -> Result<PushedBlob, Error> {
        if UPLOAD_FINISHED.contains(&head.status) {
            check_content_digest(&head.headers, self.url, self.digest)?;
            return Ok(PushedBlob {
                digest: self.digest.clone(),
                size: Some(self.size),
                location: location(&head.headers, self.url, self.url).ok(),
                mounted: false,
            });
        }
        let length = head.content_length().unwrap_or(0);
        let body = wire::read_body(upload, head.body_start.clone(), length, MAX_ERROR_BODY)
            .await
            .ok();
        Err(status_error(
            Method::PUT,
            self.url.to_string(),
            head.status,
            &head.headers,
            body.as_deref(),
            false,
        ))
    }
}

/// `User-Agent` and `Accept`, as the usual path sends them.
fn common_headers(client: &Client) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(agent) = HeaderValue::from_str(&client.config().user_agent) {
        headers.insert(USER_AGENT, agent);
    }
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers
}

/// Adds the `Authorization` the client's auth state holds for `scopes` on `registry`.
async fn authorize(
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

/// Cancels an upload session the relay opened and will not finish.
async fn cancel(client: &Client, session: UploadSession) {
    if let Err(error) = client.cancel_upload(session).await {
        tracing::debug!(%error, "cancelling the relay's upload session failed");
    }
}

fn relay_error(method: Method, url: &Url, source: io::Error) -> Error {
    Error::Relay {
        method,
        url: url.to_string(),
        source,
    }
}
