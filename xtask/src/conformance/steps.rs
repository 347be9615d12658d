//! Multi-request steps shared by setups and teardowns: push a blob, push an image, clean up.

use super::checks::Checks;
use super::client::{Api, Reply};
use super::data::{Blob, Image, Manifest};

/// Pushes `blob` to `repo` with `POST` then a monolithic `PUT`; returns the last answer (the
/// `POST` answer when it did not open an upload).
pub async fn push_blob(api: &Api, repo: &str, blob: &Blob) -> Reply {
    let started = api.start_upload(repo).await;
    let Some(location) = started.location().map(str::to_string) else {
        return started;
    };
    if started.status != 202 {
        return started;
    }
    api.finish_upload(&location, &blob.digest, blob.bytes.clone())
        .await
}

/// Pushes `blob` and asserts it was created (201).
pub async fn push_blob_checked(c: &mut Checks, api: &Api, repo: &str, blob: &Blob) -> bool {
    let reply = push_blob(api, repo, blob).await;
    c.check(reply.status == 201, || {
        format!("pushing blob {}: {}", blob.digest, reply.describe())
    })
}

/// Pushes `manifest` as `reference` (a tag or its digest) and asserts it was created (201).
pub async fn push_manifest_checked(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    reference: &str,
    manifest: &Manifest,
) -> bool {
    let reply = api
        .put_manifest(repo, reference, manifest.media_type, manifest.bytes.clone())
        .await;
    c.check(reply.status == 201, || {
        format!(
            "pushing manifest {} as {reference}: {}",
            manifest.digest,
            reply.describe()
        )
    })
}

/// Pushes an image's blobs, then its manifest as `reference`.
pub async fn push_image_checked(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    reference: &str,
    image: &Image,
) -> bool {
    for blob in image.blobs() {
        if !push_blob_checked(c, api, repo, blob).await {
            return false;
        }
    }
    push_manifest_checked(c, api, repo, reference, &image.manifest).await
}

/// Deletes manifests (by digest) then blobs, accepting 202, 404 (already gone), and 400 or 405
/// (deletes disabled, v1.1 §Content Management): a teardown must not fail because a test
/// already deleted something.
pub async fn delete_all(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    manifest_digests: &[&str],
    blob_digests: &[&str],
) {
    let manifests = manifest_digests
        .iter()
        .map(|digest| format!("/v2/{repo}/manifests/{digest}"));
    let blobs = blob_digests
        .iter()
        .map(|digest| format!("/v2/{repo}/blobs/{digest}"));
    for path in manifests.chain(blobs) {
        let reply = api.delete(&path).await;
        c.check([202, 400, 404, 405].contains(&reply.status), || {
            format!("DELETE {path}: {}", reply.describe())
        });
    }
}
