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
    range::{ByteRange, RangeRequest, content_range},
    response::{CONTENT_DIGEST, finish, no_content},
    zero_copy::{self, FileSlice},
};

/// The blob, whole (200) or the single range asked for (206); 416 when the range selects
/// nothing. `HEAD` answers the same headers without the bytes.
pub(crate) async fn get(ctx: &Ctx, name: RepoName, digest: Digest, req: &Incoming) -> Answer {
    #[cfg(feature = "pull-through")]
    if let Some(cache) = ctx.cache.as_ref().filter(|cache| cache.mirrors(&name))
        && let Some(answer) = super::blobs_cached::through(ctx, cache, &name, &digest, req).await?
    {
        return Ok(answer);
    }
    let unknown = || Error::BlobUnknown {
        digest: digest.clone(),
    };
    let size = ctx
        .store
        .blob_size(&name, &digest)
        .await?
        .ok_or_else(unknown)?;
    let range = requested_range(req, size)?;
    let builder = content_headers(&digest, size, range);
    if req.head {
        return Ok(finish(builder, ResponseBody::empty()));
    }
    let len = range.map_or(size, |r| r.len());
    let storage = ctx.store.storage();
    if let Some(files) = &req.files
        && let Some(file) = storage.blob_file(&digest).await?
    {
        let slice = FileSlice {
            file,
            offset: range.map_or(0, |r| r.start),
            remaining: len,
        };
        let stream = zero_copy::file_stream(files.clone(), slice);
        return Ok(finish(builder, ResponseBody::stream(stream, len)));
    }
    let stream = storage
        .blob_read(&digest, range)
        .await?
        .ok_or_else(unknown)?;
    Ok(finish(builder, ResponseBody::stream(stream, len)))
}

/// The range a request asks for within `size` bytes; 416 when it selects nothing.
pub(super) fn requested_range(req: &Incoming, size: u64) -> Result<Option<ByteRange>, Error> {
    match req.header(RANGE).and_then(RangeRequest::parse) {
        Some(request) => Ok(Some(
            request
                .resolve(size)
                .map_err(|_| Error::RangeNotSatisfiable { size })?,
        )),
        None => Ok(None),
    }
}

/// The status and headers of a blob answer: 200 for the whole blob of `size` bytes, or 206
/// for `range` of it.
pub(super) fn content_headers(
    digest: &Digest,
    size: u64,
    range: Option<ByteRange>,
) -> http::response::Builder {
    let builder = blob_headers(digest, range.map_or(size, |r| r.len()));
    match range {
        Some(range) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(CONTENT_RANGE, content_range(range, size)),
        None => builder.status(StatusCode::OK),
    }
}

/// Unlinks the blob from the repository (202); other repositories keep it.
pub(crate) async fn delete(ctx: &Ctx, name: RepoName, digest: Digest) -> Answer {
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
