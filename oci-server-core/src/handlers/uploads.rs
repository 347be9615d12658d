//! Blob uploads: `POST .../blobs/uploads/` (end-4a, end-4b monolithic, end-11 mount), and on
//! the session URL `PATCH` (end-5), `PUT` (end-6), `GET` (end-13) and `DELETE` (cancel).

use http::{
    Response, StatusCode,
    header::{CONTENT_RANGE, LOCATION, RANGE},
};
use oci_digest::{Algorithm, Digest};

use super::{Answer, Ctx, Incoming};
use crate::{
    auth::{Action, Actions, Scope},
    body::ByteStream,
    error::Error,
    gate,
    names::{RepoName, UploadId},
    range::{parse_chunk_range, upload_progress},
    response::{CONTENT_DIGEST, OCI_CHUNK_MIN_LENGTH, UPLOAD_UUID, no_content},
    routes::{blob_location, parse_digest, upload_location},
    store::{Chunk, UploadSession},
};

/// Starts an upload, or mounts (`?mount=&from=`), or takes a whole blob (`?digest=`).
pub(crate) async fn start(
    ctx: &Ctx,
    name: RepoName,
    req: &Incoming,
    body: ByteStream<'static>,
) -> Answer {
    if let Some(mount) = req.query.get("mount") {
        let digest = parse_digest(mount)?;
        if try_mount(ctx, &name, &digest, req).await? {
            return Ok(created(&name, &digest));
        }
    } else if let Some(digest) = req.query.get("digest") {
        let digest = parse_digest(digest)?;
        let declared_len = req.content_length();
        let chunk = Chunk {
            data: body,
            declared_len,
        };
        ctx.store.put_blob(&name, &digest, chunk).await?;
        return Ok(created(&name, &digest));
    }
    let algorithm = match req.query.get("digest-algorithm") {
        Some(text) => text
            .parse::<Algorithm>()
            .map_err(|_| Error::UnsupportedAlgorithm {
                algorithm: text.to_owned(),
            })?,
        None => Algorithm::Sha256,
    };
    let session = ctx.store.upload_start(&name, &algorithm).await?;
    let mut builder = progress(&name, &session).status(StatusCode::ACCEPTED);
    if let Some(min) = ctx.config.chunk_min_length {
        builder = builder.header(OCI_CHUNK_MIN_LENGTH, min);
    }
    Ok(no_content(builder))
}

/// Links `digest` into `name` when `from` holds it and the caller may pull from there, or
/// (without `from`, when automatic mounting is on and the caller's account may pull
/// everything) when any repository does; `false` means fall back to a new upload.
///
/// A token that lacks `pull` on `from` while the caller's account has it (a token client
/// that asked only for the target's scopes) gets a 401 whose challenge names both, so the
/// client comes back with a token that mounts; a caller whose account may not read `from`
/// gets the upload, never an error.
async fn try_mount(
    ctx: &Ctx,
    name: &RepoName,
    digest: &Digest,
    req: &Incoming,
) -> Result<bool, Error> {
    let available = match req.query.get("from") {
        // A source that is not a valid name, or that the caller may not read, holds
        // nothing to mount.
        Some(from) => match RepoName::parse(from) {
            Ok(from) if req.permissions.allows(&from, Action::Pull) => {
                ctx.store.blob_size(&from, digest).await?.is_some()
            }
            Ok(from)
                if ctx
                    .authorizer
                    .account_permissions(&req.permissions)
                    .allows(&from, Action::Pull)
                    && ctx.store.blob_size(&from, digest).await?.is_some() =>
            {
                return Err(gate::ask_for(
                    ctx.authorizer.as_ref(),
                    &req.headers,
                    &[
                        Scope::Repository {
                            name: name.clone(),
                            actions: Actions::NONE.with(Action::Pull).with(Action::Push),
                        },
                        Scope::Repository {
                            name: from,
                            actions: Actions::NONE.with(Action::Pull),
                        },
                    ],
                ));
            }
            _ => false,
        },
        // No scope can name "every repository", so no challenge could get a token client
        // the right to mount without `from`: what the caller's account may do decides (a
        // token of this registry's issuer speaks for its account; any other token only for
        // itself).
        None if ctx.config.automatic_cross_mount
            && ctx
                .authorizer
                .account_permissions(&req.permissions)
                .pulls_everything() =>
        {
            ctx.store.storage().blob_size(digest).await?.is_some()
        }
        None => false,
    };
    if available {
        ctx.store.link_blob(name, digest).await?;
    }
    Ok(available)
}

/// 204 with the upload's `Range` and `Location`.
pub(crate) async fn status(ctx: &Ctx, name: RepoName, id: UploadId) -> Answer {
    let session = ctx.store.upload_status(&name, &id).await?;
    Ok(no_content(
        progress(&name, &session).status(StatusCode::NO_CONTENT),
    ))
}

/// Appends a chunk (with `Content-Range`, which must start at the current end) or a stream
/// (without).
pub(crate) async fn patch(
    ctx: &Ctx,
    name: RepoName,
    id: UploadId,
    req: &Incoming,
    body: ByteStream<'static>,
) -> Answer {
    let (start, declared_len) = chunk_span(ctx, &name, &id, req).await?;
    let chunk = Chunk {
        data: body,
        declared_len,
    };
    let session = ctx.store.upload_append(&name, &id, start, chunk).await?;
    Ok(no_content(
        progress(&name, &session).status(StatusCode::ACCEPTED),
    ))
}

/// Ends the upload with `?digest=`, taking an optional last chunk.
pub(crate) async fn finish(
    ctx: &Ctx,
    name: RepoName,
    id: UploadId,
    req: &Incoming,
    body: ByteStream<'static>,
) -> Answer {
    let digest = parse_digest(req.query.get("digest").ok_or(Error::DigestMissing)?)?;
    let (start, declared_len) = chunk_span(ctx, &name, &id, req).await?;
    let chunk = Chunk {
        data: body,
        declared_len,
    };
    ctx.store
        .upload_finish(&name, &id, &digest, start, Some(chunk))
        .await?;
    Ok(created(&name, &digest))
}

/// Cancels the upload (204).
pub(crate) async fn cancel(ctx: &Ctx, name: RepoName, id: UploadId) -> Answer {
    ctx.store.upload_cancel(&name, &id).await?;
    Ok(no_content(
        Response::builder().status(StatusCode::NO_CONTENT),
    ))
}

/// Where a chunk starts (from `Content-Range`) and how long it says it is.
async fn chunk_span(
    ctx: &Ctx,
    name: &RepoName,
    id: &UploadId,
    req: &Incoming,
) -> Result<(Option<u64>, Option<u64>), Error> {
    let content_length = req.content_length();
    let Some(value) = req.headers.get(CONTENT_RANGE) else {
        return Ok((None, content_length));
    };
    // A value that is not visible ASCII is a malformed range, not a missing one: ignoring it
    // would append the chunk wherever the upload happens to end.
    let range = value
        .to_str()
        .ok()
        .and_then(parse_chunk_range)
        .ok_or_else(|| Error::ContentRangeInvalid {
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })?;
    if let Some(found) = content_length.filter(|&len| len != range.len()) {
        // Misplaced as well as mis-sized: refused for its place (416, with the offset to
        // resume from), as the reference implementation does and the spec requires.
        ctx.store.upload_check_start(name, id, range.start).await?;
        return Err(Error::SizeMismatch {
            expected: range.len(),
            found,
        });
    }
    Ok((Some(range.start), Some(range.len())))
}

/// Headers describing an upload in progress.
fn progress(name: &RepoName, session: &UploadSession) -> http::response::Builder {
    Response::builder()
        .header(LOCATION, upload_location(name, &session.id))
        .header(RANGE, upload_progress(session.offset))
        .header(UPLOAD_UUID, session.id.as_str())
}

/// 201 for a blob now in the repository.
fn created(name: &RepoName, digest: &Digest) -> Response<crate::body::ResponseBody> {
    no_content(
        Response::builder()
            .status(StatusCode::CREATED)
            .header(LOCATION, blob_location(name, digest))
            .header(CONTENT_DIGEST, digest.as_str()),
    )
}
