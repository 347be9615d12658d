//! `GET`/`HEAD /v2/<name>/blobs/<digest>` (end-2, with `Range`) and `DELETE` (end-10).

use http::{
    Response, StatusCode,
    header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE},
};
use oci_digest::Digest;

use super::{Answer, Ctx, Incoming};
use crate::{
    body::ResponseBody,
    error::Error,
    names::RepoName,
    range::{RangeRequest, content_range},
    response::{CONTENT_DIGEST, finish, no_content},
};

/// The blob, whole (200) or the single range asked for (206); 416 when the range selects
/// nothing. `HEAD` answers the same headers without the bytes.
pub(crate) async fn get(ctx: &Ctx, name: RepoName, digest: Digest, req: &Incoming) -> Answer {
    #[cfg(feature = "pull-through")]
    if let Some(cache) = ctx.cache.as_ref().filter(|cache| cache.mirrors(&name)) {
        let cached = ctx.store.blob_size(&name, &digest).await?.is_some();
        ctx.metrics.pull_through_lookup("blob", cached);
        let live = !req.head && req.header(RANGE).is_none();
        if !cached
            && let crate::pull_through::BlobMiss::Streaming(stream, size) =
                cache.fetch_blob(&ctx.store, &name, &digest, live).await
        {
            let builder = blob_headers(&digest, size).status(StatusCode::OK);
            return Ok(finish(builder, ResponseBody::stream(stream, size)));
        }
    }
    let unknown = || Error::BlobUnknown {
        digest: digest.clone(),
    };
    let size = ctx
        .store
        .blob_size(&name, &digest)
        .await?
        .ok_or_else(unknown)?;
    let range = match req.header(RANGE).and_then(RangeRequest::parse) {
        Some(request) => Some(
            request
                .resolve(size)
                .map_err(|_| Error::RangeNotSatisfiable { size })?,
        ),
        None => None,
    };
    let len = range.map_or(size, |r| r.len());
    let mut builder = blob_headers(&digest, len);
    builder = match range {
        Some(range) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(CONTENT_RANGE, content_range(range, size)),
        None => builder.status(StatusCode::OK),
    };
    if req.head {
        return Ok(finish(builder, ResponseBody::empty()));
    }
    let stream = ctx
        .store
        .storage()
        .blob_read(&digest, range)
        .await?
        .ok_or_else(unknown)?;
    Ok(finish(builder, ResponseBody::stream(stream, len)))
}

/// Unlinks the blob from the repository (202); other repositories keep it.
pub(crate) async fn delete(ctx: &Ctx, name: RepoName, digest: Digest) -> Answer {
    if !ctx.config.delete_enabled {
        return Err(Error::DeleteDisabled);
    }
    if !ctx.store.unlink_blob(&name, &digest).await? {
        return Err(Error::BlobUnknown { digest });
    }
    Ok(no_content(Response::builder().status(StatusCode::ACCEPTED)))
}

/// The headers of every blob answer carrying `len` bytes.
fn blob_headers(digest: &Digest, len: u64) -> http::response::Builder {
    Response::builder()
        .header(CONTENT_DIGEST, digest.as_str())
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(ACCEPT_RANGES, "bytes")
        .header(CONTENT_LENGTH, len)
}
