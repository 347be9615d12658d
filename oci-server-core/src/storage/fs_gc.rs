//! What garbage collection needs from the filesystem backend: every blob with its size and
//! age (a walk of `blobs/<alg>/<fan-out>/<encoded>`), and deleting one durably.

use std::{fs, io, path::Path};

use oci_digest::Digest;

use super::{
    BlobInfo,
    atomic::remove_durable,
    fs::blocking,
    fs_found::{folder, found},
};
use crate::error::StorageError;

/// Lists the blobs under `blobs`; files whose path is not a valid digest (never written by
/// this store) are skipped.
pub(super) async fn list_blobs(blobs: std::path::PathBuf) -> Result<Vec<BlobInfo>, StorageError> {
    blocking(move || {
        let mut found = Vec::new();
        for algorithm in entries(&blobs)? {
            for fan_out in entries(&algorithm.path())? {
                for blob in entries(&fan_out.path())? {
                    if let Some(info) = blob_info(&algorithm, &blob)? {
                        found.push(info);
                    }
                }
            }
        }
        Ok(found)
    })
    .await
}

fn blob_info(
    algorithm: &fs::DirEntry,
    blob: &fs::DirEntry,
) -> Result<Option<BlobInfo>, StorageError> {
    let text = format!(
        "{}:{}",
        algorithm.file_name().to_string_lossy(),
        blob.file_name().to_string_lossy()
    );
    let Ok(digest) = Digest::parse(&text) else {
        return Ok(None);
    };
    let path = blob.path();
    // `None` when deleted since the folder was read.
    let meta = match found(blob.metadata(), "stat", &path)? {
        Some(meta) if meta.is_file() => meta,
        _ => return Ok(None),
    };
    let modified = meta
        .modified()
        .map_err(|e| StorageError::io("stat", &path, e))?;
    Ok(Some(BlobInfo {
        digest,
        size: meta.len(),
        modified,
    }))
}

/// The entries of a folder; none when it does not exist or is not a folder.
fn entries(dir: &Path) -> Result<Vec<fs::DirEntry>, StorageError> {
    let Some(read) = folder(dir)? else {
        return Ok(Vec::new());
    };
    read.collect::<io::Result<Vec<_>>>()
        .map_err(|e| StorageError::io("list", dir, e))
}

/// Deletes one blob file (and makes that durable).
pub(super) async fn delete_blob(path: std::path::PathBuf) -> Result<bool, StorageError> {
    blocking(move || remove_durable(&path).map_err(|e| StorageError::io("remove", path, e))).await
}
