//! Copying a blob from one registry to another without its bytes entering user space
//! (Linux, plain HTTP/1.1): the blob is fetched with a `GET` on a raw TCP connection and
//! sent on in the upload's finishing `PUT ?digest=` on another ([`Client::relay_blob`]), or
//! in `PATCH`es of an open upload session, resumable chunk by chunk
//! ([`Client::relay_chunks`]); the body moves socket → pipe → socket by `splice(2)`.
//!
//! The requests are the ones the usual path sends (same headers, the `Authorization` of the
//! client's auth state for the same scopes); only the HTTP stack differs. Anything unusual
//! declines before the destination is touched, for the caller to copy the usual way: TLS, a
//! proxy, `registries.conf` mirrors, a source answering other than `200` with a
//! `Content-Length` of the blob's size (a redirect, a `401`, chunked transfer), another
//! platform. The bytes are not hashed: the destination checks the digest, as every registry
//! does by protocol, and a source that ends early leaves the `PUT` short of its
//! `Content-Length`, so nothing is committed.

#[cfg(target_os = "linux")]
mod chunks;
#[cfg(target_os = "linux")]
mod exchange;
#[cfg(target_os = "linux")]
mod source;
#[cfg(target_os = "linux")]
mod splice;
#[cfg(target_os = "linux")]
mod spliced;
#[cfg(target_os = "linux")]
mod wire;

use std::num::NonZeroU64;

use http::StatusCode;
use oci_digest::Digest;

use crate::client::Client;
use crate::endpoints::uploads::{PushedBlob, UploadSession};
use crate::error::Error;
use crate::repository::Repository;

/// What [`Client::relay_blob`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Relayed {
    /// The blob is in the destination repository.
    Pushed(PushedBlob),
    /// The relay does not apply; nothing was sent to the destination, so the blob is to be
    /// copied the usual way.
    Declined(Declined),
}

/// What [`Client::relay_chunks`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum RelayedChunks {
    /// The session holds every byte of the blob: [`Client::finish_upload`] ends it.
    Sent,
    /// The relay does not apply (or no longer does, say the session moved to HTTPS): the
    /// rest of the blob is to be sent the usual way, from the session's offset.
    Declined(Declined),
}

/// Why [`Client::relay_blob`] or [`Client::relay_chunks`] declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Declined {
    /// Not Linux: no `splice`.
    Platform,
    /// A registry is reached over TLS.
    Tls,
    /// A proxy is configured (or set in the environment), or `registries.conf` gives the
    /// source mirrors.
    Routing,
    /// The source answered the `GET` with this status, not `200` (a redirect, a `401`).
    SourceStatus(StatusCode),
    /// The source's `200` has no plain `Content-Length` equal to the blob's size (chunked
    /// transfer, no length, another length).
    SourceLength,
}

impl Client {
    /// Copies the blob `digest` of `size` bytes from `from`, read through `source` (which
    /// may be this client), into `to` through this client, moving the bytes with `splice`;
    /// `progress` hears the bytes moved so far after each piece. Declines (nothing sent to
    /// `to`) where only the usual path applies; see the [module](self) docs.
    pub async fn relay_blob(
        &self,
        source: &Client,
        from: &Repository,
        to: &Repository,
        digest: &Digest,
        size: u64,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Relayed, Error> {
        #[cfg(target_os = "linux")]
        {
            exchange::relay(source, self, from, to, digest, size, progress).await
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (source, from, to, digest, size, progress);
            Ok(Relayed::Declined(Declined::Platform))
        }
    }

    /// Sends the blob `digest` of `size` bytes from `from`, read through `source` (which
    /// may be this client), into the upload `session` of this client, from the bytes the
    /// session holds on, in `PATCH`es of `chunk_size` bytes (or the session's
    /// [`min_chunk_length`](UploadSession::min_chunk_length) when larger), moving the bytes
    /// with `splice`; `progress` hears the bytes the session holds or has been sent so far.
    ///
    /// After each chunk the registry took, `session` holds its new offset and location; when
    /// the relay fails midway, [`upload_status`](Self::upload_status) and another call go on
    /// from where it stopped. On [`RelayedChunks::Sent`], end the upload with
    /// [`finish_upload`](Self::finish_upload): the registry checks the digest then.
    #[allow(clippy::too_many_arguments)]
    pub async fn relay_chunks(
        &self,
        source: &Client,
        from: &Repository,
        session: &mut UploadSession,
        digest: &Digest,
        size: u64,
        chunk_size: NonZeroU64,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<RelayedChunks, Error> {
        #[cfg(target_os = "linux")]
        {
            chunks::relay_chunks(
                source, self, from, session, digest, size, chunk_size, progress,
            )
            .await
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (source, from, session, digest, size, chunk_size, progress);
            Ok(RelayedChunks::Declined(Declined::Platform))
        }
    }
}

/// Cancels an upload session the relay opened and will not finish.
#[cfg(target_os = "linux")]
async fn cancel(client: &Client, session: UploadSession) {
    if let Err(error) = client.cancel_upload(session).await {
        tracing::debug!(%error, "cancelling the relay's upload session failed");
    }
}
