//! Blob reads of a mirrored repository (feature `pull-through`): what the cache answers
//! before the store is asked.
//!
//! - Linked here already: the store answers (a hit).
//! - Stored for another repository: linked once upstream confirms this repository has it,
//!   then the store answers; never downloaded twice.
//! - Missing: a `HEAD` is answered from upstream's `HEAD`; a `GET` (ranged or not) starts
//!   the fetch and streams the bytes as they arrive, a range cut from them.

use futures_util::StreamExt;
use http::Response;
use oci_digest::Digest;

use super::{
    Ctx, Incoming,
    blobs::{content_headers, requested_range},
};
use crate::{
    body::{ByteStream, ResponseBody},
    error::Error,
    names::RepoName,
    pull_through::{BlobMiss, PullThrough, Upstream},
    range::ByteRange,
    response::finish,
};

/// The cache's answer, or `None` when the store should answer (hit, or nothing to serve).
pub(super) async fn through(
    ctx: &Ctx,
    cache: &std::sync::Arc<PullThrough>,
    name: &RepoName,
    digest: &Digest,
    req: &Incoming,
) -> Result<Option<Response<ResponseBody>>, Error> {
    let hit = ctx.store.blob_size(name, digest).await?.is_some()
        || (ctx.store.keep_if_present(digest).await?
            && link_confirmed(ctx, cache, name, digest).await?);
    ctx.metrics.pull_through_lookup("blob", hit);
    if hit {
        return Ok(None);
    }
    if req.head {
        return Ok(match cache.upstream_blob_size(name, digest).await {
            Some(Upstream::Answered(Some(size))) => Some(finish(
                content_headers(digest, size, requested_range(req, size)?),
                ResponseBody::empty(),
            )),
            _ => None,
        });
    }
    match cache.fetch_blob(&ctx.store, name, digest, true).await {
        BlobMiss::Streaming(stream, size) => {
            let range = requested_range(req, size)?;
            let body = match range {
                Some(range) => ResponseBody::stream(window(stream, range), range.len()),
                None => ResponseBody::stream(stream, size),
            };
            Ok(Some(finish(content_headers(digest, size, range), body)))
        }
        BlobMiss::Settled => Ok(None),
    }
}

/// Links content the store holds for another repository into `name` when upstream says
/// `name` has it; `false` when it does not say so (or cannot).
async fn link_confirmed(
    ctx: &Ctx,
    cache: &PullThrough,
    name: &RepoName,
    digest: &Digest,
) -> Result<bool, Error> {
    if let Some(Upstream::Answered(_)) = cache.upstream_blob_size(name, digest).await {
        ctx.store.link_blob(name, digest).await?;
        return Ok(true);
    }
    Ok(false)
}

/// The bytes of `range` out of a stream of the whole blob (the body stops reading once it
/// has sent the range's length).
fn window(stream: ByteStream<'static>, range: ByteRange) -> ByteStream<'static> {
    let mut position = 0u64;
    Box::pin(stream.filter_map(move |chunk| {
        let start = position;
        let piece = chunk.map(|bytes| {
            let len = bytes.len() as u64;
            position += len;
            let from = range.start.saturating_sub(start).min(len);
            let to = (range.end + 1).saturating_sub(start).min(len);
            bytes.slice(from as usize..to as usize)
        });
        std::future::ready(match piece {
            Ok(bytes) if bytes.is_empty() => None,
            other => Some(other),
        })
    }))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::{StreamExt, stream};

    use super::*;

    #[tokio::test]
    async fn a_window_cuts_the_range_out_of_any_chunking() {
        let whole: Vec<u8> = (0..=255).collect();
        for chunk in [1, 7, 64, 256] {
            let chunks: Vec<std::io::Result<Bytes>> = whole
                .chunks(chunk)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let range = ByteRange { start: 10, end: 99 };
            let cut: Vec<u8> = window(Box::pin(stream::iter(chunks)), range)
                .map(|c| c.expect("chunk").to_vec())
                .concat()
                .await;
            assert_eq!(cut, whole[10..100], "chunks of {chunk}");
        }
    }
}
