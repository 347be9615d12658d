//! `GET`/`HEAD` (end-3), `PUT` (end-7, with `?tag=`) and `DELETE` (end-9) of
//! `/v2/<name>/manifests/<reference>`.
//!
//! A reference that is neither a valid tag nor a storable digest names a manifest that cannot
//! exist: reading or deleting it answers 404 `MANIFEST_UNKNOWN`, as the v1.1 conformance suite
//! expects of `.INVALID_MANIFEST_NAME`; pushing to it is refused with 400, since the client
//! asks to create something that cannot be named.

use http::{
    Response, StatusCode,
    header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION},
};
use oci_digest::Digest;
use oci_spec_types::Manifest;

use super::{Answer, Ctx, Incoming};
use crate::{
    body::{ByteStream, ResponseBody, read_capped},
    error::Error,
    names::{RepoName, parse_tag},
    response::{CONTENT_DIGEST, OCI_SUBJECT, OCI_TAG, finish, no_content},
    routes::{ManifestRef, manifest_location},
};

/// The stored bytes with the stored media type as `Content-Type`.
pub(crate) async fn get(
    ctx: &Ctx,
    name: RepoName,
    reference: Result<ManifestRef, String>,
    req: &Incoming,
) -> Answer {
    let reference = reference.map_err(cannot_exist)?;
    let unknown = || Error::ManifestUnknown {
        reference: reference.to_string(),
    };
    #[cfg(feature = "pull-through")]
    if let Some(cache) = &ctx.cache
        && let Some(hit) = cache
            .refresh_manifest(&ctx.store, &name, &reference)
            .await?
    {
        ctx.metrics.pull_through_lookup("manifest", hit);
    }
    let digest = ctx
        .store
        .resolve(&name, &reference)
        .await?
        .ok_or_else(unknown)?;
    let record = ctx
        .store
        .manifest(&name, &digest)
        .await?
        .ok_or_else(unknown)?;
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, record.media_type.as_str())
        .header(CONTENT_LENGTH, record.size)
        .header(CONTENT_DIGEST, digest.as_str());
    if req.head {
        return Ok(finish(builder, ResponseBody::empty()));
    }
    let content = ctx.store.manifest_content(&record, &digest).await?;
    Ok(finish(builder, ResponseBody::full(content)))
}

/// Validates and stores a manifest: size cap, strict parse, digest check for a push by
/// digest, referenced blobs present (for image manifests), then tags from the path and from
/// `?tag=` parameters.
pub(crate) async fn put(
    ctx: &Ctx,
    name: RepoName,
    reference: Result<ManifestRef, String>,
    req: &Incoming,
    body: ByteStream<'static>,
) -> Answer {
    // Parsed again for the precise refusal (a bad tag or a bad digest).
    let reference = reference.or_else(|raw| ManifestRef::parse(&raw))?;
    let limit = ctx.config.max_manifest_size;
    if req.content_length().is_some_and(|len| len > limit) {
        return Err(Error::ManifestTooLarge { limit });
    }
    let content_type = req
        .header(CONTENT_TYPE)
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let mut tags = Vec::new();
    let mut query_tags = Vec::new();
    for tag in req.query.all("tag") {
        query_tags.push(parse_tag(tag)?);
    }
    let bytes = read_capped(body, limit).await?;
    let manifest = Manifest::parse_strict(bytes, content_type.as_deref())
        .map_err(|e| Error::ManifestInvalid(Box::new(e)))?;
    let digest = match &reference {
        ManifestRef::Digest(expected) => {
            check_digest(expected, &manifest)?;
            expected.clone()
        }
        ManifestRef::Tag(tag) => {
            tags.push(tag.clone());
            manifest.digest()
        }
    };
    if ctx.config.require_manifest_blobs {
        for blob in manifest.blobs() {
            if ctx.store.blob_size(&name, &blob.digest).await?.is_none() {
                return Err(Error::ManifestBlobUnknown {
                    digest: blob.digest.clone(),
                });
            }
        }
    }
    tags.extend(query_tags.iter().cloned());
    ctx.store
        .put_manifest(&name, &digest, &manifest, &tags)
        .await?;

    let mut builder = Response::builder()
        .status(StatusCode::CREATED)
        .header(LOCATION, manifest_location(&name, &digest))
        .header(CONTENT_DIGEST, digest.as_str());
    if let Some(subject) = manifest.subject() {
        builder = builder.header(OCI_SUBJECT, subject.digest.as_str());
    }
    for tag in &query_tags {
        builder = builder.header(OCI_TAG, tag.as_str());
    }
    Ok(no_content(builder))
}

/// A push by digest must carry exactly the bytes of that digest.
fn check_digest(expected: &Digest, manifest: &Manifest) -> Result<(), Error> {
    let found = Digest::compute_with(expected.algorithm(), manifest.raw()).map_err(|_| {
        Error::UnsupportedAlgorithm {
            algorithm: expected.algorithm().as_str().to_owned(),
        }
    })?;
    if found != *expected {
        return Err(Error::DigestMismatch {
            expected: expected.clone(),
            found,
        });
    }
    Ok(())
}

/// Deletes a tag (the manifest stays) or a manifest by digest (its tags and referrers entry
/// go with it).
pub(crate) async fn delete(
    ctx: &Ctx,
    name: RepoName,
    reference: Result<ManifestRef, String>,
) -> Answer {
    let reference = reference.map_err(cannot_exist)?;
    let deleted = match &reference {
        ManifestRef::Tag(tag) => ctx.store.delete_tag(&name, tag).await?,
        ManifestRef::Digest(digest) => ctx.store.delete_manifest(&name, digest).await?,
    };
    if !deleted {
        return Err(Error::ManifestUnknown {
            reference: reference.to_string(),
        });
    }
    Ok(no_content(Response::builder().status(StatusCode::ACCEPTED)))
}

/// The answer to reading or deleting a manifest under a reference it cannot have.
fn cannot_exist(reference: String) -> Error {
    Error::ManifestUnknown { reference }
}
