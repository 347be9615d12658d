//! The sweep phase: remove what mark did not keep, when it is past the grace period.

use std::collections::HashSet;

use oci_digest::Digest;

use super::{GcOptions, GcReport, RemovedBlob, RemovedManifest, mark::Marked};
use crate::{error::Error, names::UploadId, storage::Key, store::Store};

pub(super) async fn sweep(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    manifests(store, marked, options, report).await?;
    let removed = blobs(store, marked, options, report).await?;
    links(store, marked, &removed, options, report).await?;
    uploads(store, options, report).await
}

/// Untagged manifests (only marked as doomed with `untagged`): their record, tags and
/// referrers entry go; their content goes with the blobs.
async fn manifests(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    for (name, digest) in &marked.doomed {
        if !options.dry_run {
            store.delete_manifest(name, digest).await?;
        }
        tracing::info!(repository = %name, %digest, dry_run = options.dry_run, "untagged manifest");
        report.manifests.push(RemovedManifest {
            repository: name.to_string(),
            digest: digest.clone(),
        });
    }
    Ok(())
}

/// Blobs no kept manifest references and older than the grace period; returns their
/// digests.
async fn blobs(
    store: &Store,
    marked: &Marked,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<HashSet<Digest>, Error> {
    let mut removed = HashSet::new();
    for blob in store.storage().blob_list().await? {
        if marked.blobs.contains(&blob.digest) {
            continue;
        }
        if !options.expired(blob.modified) {
            report.young_blobs += 1;
            continue;
        }
        if !options.dry_run {
            store.storage().blob_delete(&blob.digest).await?;
        }
        tracing::info!(digest = %blob.digest, size = blob.size, dry_run = options.dry_run, "unreferenced blob");
        removed.insert(blob.digest.clone());
        report.blobs.push(RemovedBlob {
            digest: blob.digest,
            size: blob.size,
        });
    }
    Ok(removed)
}

/// Repository links to blobs removed now, or to blobs that are gone while the link is past
/// the grace period (a young link may belong to a blob being committed).
async fn links(
    store: &Store,
    marked: &Marked,
    removed: &HashSet<Digest>,
    options: &GcOptions,
    report: &mut GcReport,
) -> Result<(), Error> {
    let storage = store.storage();
    for name in &marked.repositories {
        for digest in store.linked_blobs(name).await? {
            let key = Key::layer_link(name, &digest);
            let dangling = removed.contains(&digest)
                || (storage.blob_size(&digest).await?.is_none()
                    && storage
                        .meta_modified(&key)
                        .await?
                        .is_some_and(|m| options.expired(m)));
            if !dangling {
                continue;
            }
            if !options.dry_run {
                store.unlink_blob(name, &digest).await?;
            }
            report.links.push((name.to_string(), digest));
        }
    }
    Ok(())
}

/// Upload sessions whose state nobody has written within the grace period, and sessions
/// created before it whose state was never written.
async fn uploads(store: &Store, options: &GcOptions, report: &mut GcReport) -> Result<(), Error> {
    let storage = store.storage();
    for id in storage.meta_list(&Key::uploads()).await? {
        let Some(id) = UploadId::parse(&id) else {
            continue;
        };
        let modified = match storage.meta_modified(&Key::upload_state(&id)).await? {
            Some(modified) => Some(modified),
            // No state: the process died between creating the session and saving its state,
            // so the session can only be aged by its creation.
            None => storage.upload_created(&id).await?,
        };
        if !modified.is_some_and(|m| options.expired(m)) {
            continue;
        }
        if !options.dry_run {
            storage.upload_delete(&id).await?;
        }
        tracing::info!(%id, dry_run = options.dry_run, "abandoned upload");
        report.uploads.push(id.to_string());
    }
    Ok(())
}
