//! The relay of a whole blob on Linux: the source's `GET`, then the finishing `PUT` of a new
//! upload session, its body spliced from the `GET`'s.

use http::{HeaderMap, Method};
use oci_digest::Digest;

use super::source;
use super::spliced::{Failed, Spliced, refusal, relay_error, upload_progress};
use super::{Declined, Relayed, cancel};
use crate::client::Client;
use crate::endpoints::uploads::{UPLOAD_FINISHED, finishing_url, pushed_from};
use crate::error::Error;
use crate::repository::Repository;

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
    let to = destination.route(to)?;
    let mut download =
        match source::open(source, destination, from, to.registry(), digest, size, 0).await? {
            Ok(download) => download,
            Err(declined) => return Ok(Relayed::Declined(declined)),
        };
    let session = destination.start_upload_at(&to).await?;
    let url = finishing_url(&session, digest);
    if url.scheme() != "http" {
        cancel(destination, session).await;
        return Ok(Relayed::Declined(Declined::Tls));
    }
    let mut moved = upload_progress(destination, &to, digest, size, 0, progress);
    let put = Spliced {
        destination,
        to: &to,
        method: Method::PUT,
        url: &url,
        headers: HeaderMap::new(),
        length: size,
    };
    let _slot = destination.transport().slot(to.registry()).await;
    let answered = match put
        .send(&download.stream, &mut download.leftover, &mut moved)
        .await
    {
        Ok((_, answer)) if UPLOAD_FINISHED.contains(&answer.status) => {
            pushed_from(&answer.headers, &url, digest, Some(size))
        }
        Ok((mut connection, answer)) => {
            Err(refusal(&mut connection, answer, Method::PUT, &url, false).await)
        }
        Err(Failed::Source(error)) => Err(relay_error(Method::GET, &download.url, error)),
        Err(Failed::Destination(error)) => Err(error),
    };
    match answered {
        Ok(pushed) => Ok(Relayed::Pushed(pushed)),
        Err(error) => {
            // The `PUT` went short of its length or was refused, so the session holds
            // nothing; clear it away as a courtesy.
            cancel(destination, session).await;
            Err(error)
        }
    }
}
