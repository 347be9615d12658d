//! The relay of a blob into an open upload session on Linux, in `PATCH`es: one source `GET`
//! (ranged when the session already holds bytes), its body spliced into one `PATCH` after
//! another, each on a connection of its own. After each chunk the registry took, the
//! session says so, so a broken relay goes on from there as a chunked push does.

use std::io;
use std::num::NonZeroU64;

use http::header::CONTENT_RANGE;
use http::{HeaderMap, Method, StatusCode};
use oci_digest::Digest;

use super::source;
use super::spliced::{Failed, Spliced, refusal, relay_error, upload_progress};
use super::{Declined, RelayedChunks};
use crate::client::Client;
use crate::endpoints::uploads::{CHUNK_ACCEPTED, UploadSession, chunk_accepted, number_range};
use crate::error::Error;
use crate::repository::Repository;

/// See [`Client::relay_chunks`].
#[allow(clippy::too_many_arguments)]
pub(super) async fn relay_chunks(
    source: &Client,
    destination: &Client,
    from: &Repository,
    session: &mut UploadSession,
    digest: &Digest,
    size: u64,
    chunk_size: NonZeroU64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<RelayedChunks, Error> {
    let start = session.offset();
    if start >= size {
        return Ok(RelayedChunks::Sent);
    }
    let to = session.repository().clone();
    let mut download = match source::open(
        source,
        destination,
        from,
        to.registry(),
        digest,
        size,
        start,
    )
    .await?
    {
        Ok(download) => download,
        Err(declined) => return Ok(RelayedChunks::Declined(declined)),
    };
    let chunk = chunk_size
        .get()
        .max(session.min_chunk_length().unwrap_or(0));
    let mut moved = upload_progress(destination, &to, digest, size, start, progress);
    let _slot = destination.transport().slot(to.registry()).await;
    while session.offset() < size {
        let first = session.offset();
        let end = first + chunk.min(size - first) - 1;
        let url = session.location().clone();
        if url.scheme() != "http" {
            // The rest goes the usual way, from what the session holds.
            return Ok(RelayedChunks::Declined(Declined::Tls));
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_RANGE, number_range(first, end)?);
        let patch = Spliced {
            destination,
            to: &to,
            method: Method::PATCH,
            url: &url,
            headers,
            length: end + 1 - first,
        };
        let held = match patch
            .send(&download.stream, &mut download.leftover, &mut moved)
            .await
        {
            Ok((_, answer)) if CHUNK_ACCEPTED.contains(&answer.status) => {
                chunk_accepted(session, &answer.headers, &url, end)?
            }
            Ok((_, answer)) if answer.status == StatusCode::RANGE_NOT_SATISFIABLE => {
                // The registry holds another amount than the session says (an earlier answer
                // lost on the way): like a break, for the caller to reconcile through the
                // upload's status, as `upload_chunk` does.
                let error = io::Error::other(format!(
                    "the registry refused a chunk starting at {first} with 416"
                ));
                return Err(relay_error(Method::PATCH, &url, error));
            }
            Ok((mut connection, answer)) => {
                return Err(refusal(&mut connection, answer, Method::PATCH, &url, false).await);
            }
            Err(Failed::Source(error)) => {
                return Err(relay_error(Method::GET, &download.url, error));
            }
            Err(Failed::Destination(error)) => return Err(error),
        };
        if held != end + 1 {
            // The bytes it did not take are gone from the source's stream; the caller asks
            // the registry what it holds and relays again from there.
            let error = io::Error::other(format!(
                "the registry holds {held} bytes after a chunk that ended at {}",
                end + 1
            ));
            return Err(relay_error(Method::PATCH, &url, error));
        }
    }
    Ok(RelayedChunks::Sent)
}
