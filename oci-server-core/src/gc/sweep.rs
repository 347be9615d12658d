//! The sweep phase: remove what mark did not keep, when it is past the grace period and still
//! is once claimed (see `claim`).

use std::collections::HashSet;

use oci_digest::Digest;

use super::{
    GcOptions, GcReport, RemovedBlob, RemovedManifest,
    claim::{Claim, old},
    mark::Marked,
};
use crate::{
    error::Error,
    names::UploadId,
    storage::{BlobInfo, Key},
    store::{Store, liveness::Subject},
};

pub(super) async fn sweep(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    manifests(store, marked, options, report).await?;
    let listed = blobs(store, marked, options, report).await?;
    dangling_links(store, marked, &listed, options, report).await?;
    uploads(store, options, report).await
}

/// Untagged manifests (only marked as doomed with `untagged`): their record, tags and
/// referrers entry go; their content goes with the blobs. A manifest acknowledged since
/// (pushed again, tagged, named by a new index) stays.
async fn manifests(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    for (name, digest) in &marked.doomed {
        if !options.dry_run {
            let claim = Claim::take(store.storage(), Subject::Blob(digest)).await?;
            let removed = claim.mark_is_old(options).await?
                && claim.in_time()
                && store.delete_manifest(name, digest).await?;
            claim.release().await?;
            if !removed {
                continue;
            }
        }
        tracing::info!(repository = %name, %digest, dry_run = options.dry_run, "untagged manifest");
        report.manifests.push(RemovedManifest {
            repository: name.to_string(),
            digest: digest.clone(),
        });
    }
    Ok(())
}

/// Blobs no kept manifest references, whose content and liveness mark are past the grace
/// period, removed with their links. Returns the digest of every blob listed.
async fn blobs(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<HashSet<Digest>, Error> {
    let storage = store.storage();
    let mut listed = HashSet::new();
    for blob in storage.blob_list().await? {
        listed.insert(blob.digest.clone());
        if marked.blobs.contains(&blob.digest) {
            continue;
        }
        // The content's own age first: it is known from the listing, the mark costs a read.
        if !options.expired(blob.modified)
            || !old(
                options,
                storage.meta_modified(&Key::live_blob(&blob.digest)).await?,
            )
        {
            report.young_blobs += 1;
            continue;
        }
        let links = marked
            .links
            .get(&blob.digest)
            .map_or(&[][..], Vec::as_slice);
        if !options.dry_run && !remove_blob(store, &blob, links, options).await? {
            report.young_blobs += 1;
            continue;
        }
        tracing::info!(digest = %blob.digest, size = blob.size, dry_run = options.dry_run, "unreferenced blob");
        for name in links {
            report.links.push((name.to_string(), blob.digest.clone()));
        }
        report.blobs.push(RemovedBlob {
            digest: blob.digest,
            size: blob.size,
        });
    }
    Ok(listed)
}

/// Claims a blob, looks at its content and mark again, and removes its links, the blob and
/// its mark when both are still old; `false` when it was kept after all.
async fn remove_blob(
    store: &Store,
    blob: &BlobInfo,
    links: &[crate::names::RepoName],
    options: &GcOptions,
) -> Result<bool, Error> {
    let storage = store.storage();
    let claim = Claim::take(storage, Subject::Blob(&blob.digest)).await?;
    let still_old = old(options, storage.blob_modified(&blob.digest).await?)
        && claim.mark_is_old(options).await?;
    if !still_old || !claim.in_time() {
        claim.release().await?;
        return Ok(false);
    }
    // Links first: a crash after them leaves an unlinked blob, which the next sweep removes.
    for name in links {
        store.unlink_blob(name, &blob.digest).await?;
    }
    storage.blob_delete(&blob.digest).await?;
    claim.remove_mark().await?;
    claim.release().await?;
    Ok(true)
}

/// Links past the grace period to blobs the store does not hold (left by a crash, or by
/// older versions).
async fn dangling_links(
    store: &Store,
    marked: &Marked,
    listed: &HashSet<Digest>,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    let storage = store.storage();
    for (digest, names) in &marked.links {
        if listed.contains(digest) {
            continue;
        }
        for name in names {
            let key = Key::layer_link(name, digest);
            if !old(options, storage.meta_modified(&key).await?) {
                continue;
            }
            if !options.dry_run {
                // A commit may be writing the blob and its link again right now: claim,
                // then look at both again.
                let claim = Claim::take(storage, Subject::Blob(digest)).await?;
                let dangling = storage.blob_size(digest).await?.is_none()
                    && old(options, storage.meta_modified(&key).await?)
                    && claim.in_time()
                    && store.unlink_blob(name, digest).await?;
                claim.release().await?;
                if !dangling {
                    continue;
                }
            }
            report.links.push((name.to_string(), digest.clone()));
        }
    }
    Ok(())
}

/// Upload sessions nobody has held within the grace period (by their state, their creation
/// when the state was never written, and their liveness mark), and marks of sessions that
/// are gone.
async fn uploads(store: &Store, options: &GcOptions, report: &mut GcReport) -> Result<(), Error> {
    let storage = store.storage();
    let sessions = storage.meta_list(&Key::uploads()).await?;
    for id in &sessions {
        let Some(id) = UploadId::parse(id) else {
            continue;
        };
        if !upload_is_old(store, &id, options).await? {
            continue;
        }
        if !options.dry_run {
            let claim = Claim::take(storage, Subject::Upload(&id)).await?;
            let abandoned = upload_is_old(store, &id, options).await? && claim.in_time();
            if abandoned {
                storage.upload_delete(&id).await?;
                claim.remove_mark().await?;
            }
            claim.release().await?;
            if !abandoned {
                continue;
            }
        }
        tracing::info!(%id, dry_run = options.dry_run, "abandoned upload");
        report.uploads.push(id.to_string());
    }
    if !options.dry_run {
        for id in storage.meta_list(&Key::live_uploads()).await? {
            let mark = Key::live_uploads().child(&id);
            if !sessions.contains(&id) && old(options, storage.meta_modified(&mark).await?) {
                storage.meta_delete(&mark).await?;
            }
        }
    }
    Ok(())
}

/// Whether every trace of activity of an upload session is past the grace period.
async fn upload_is_old(store: &Store, id: &UploadId, options: &GcOptions) -> Result<bool, Error> {
    let storage = store.storage();
    // The progress record is rewritten after every chunk, the state only at checkpoints.
    let progressed = storage.meta_modified(&Key::upload_progress(id)).await?;
    let stated = storage.meta_modified(&Key::upload_state(id)).await?;
    let written = match stated.max(progressed) {
        Some(modified) => Some(modified),
        // No state: the process died between creating the session and saving its state,
        // so the session can only be aged by its creation.
        None => storage.upload_created(id).await?,
    };
    let held = storage.meta_modified(&Key::live_upload(id)).await?;
    Ok(written.is_some_and(|w| options.expired(w)) && old(options, held))
}
