//! Upload session data on the filesystem: `uploads/<id>/data`, written at an offset, fsynced
//! before the session state may claim it, and renamed into the blob store on commit.

use std::{
    fs,
    io::{self, Seek},
    path::{Path, PathBuf},
};

use super::{
    atomic::{self, StagedFile},
    fs::blocking,
    fs_found::found,
    fs_write::{self, WriteFailure},
};
use crate::{body::ByteStream, error::StorageError, names::UploadId};

pub(super) fn data_path(dir: &Path) -> PathBuf {
    dir.join("data")
}

pub(super) async fn create(dir: PathBuf) -> Result<(), StorageError> {
    blocking(move || {
        atomic::create_dir_all_durable(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
        let data = data_path(&dir);
        fs::File::create(&data)
            .and_then(|f| f.sync_all())
            .and_then(|()| atomic::sync_dir(&dir))
            .map_err(|e| StorageError::io("create", data, e))
    })
    .await
}

pub(super) async fn write(
    dir: PathBuf,
    id: &UploadId,
    offset: u64,
    data: ByteStream<'_>,
) -> Result<u64, StorageError> {
    let path = data_path(&dir);
    let opened = path.clone();
    let missing = id.to_string();
    let file = blocking(move || {
        let mut file = match fs::OpenOptions::new().write(true).open(&opened) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StorageError::UploadMissing { id: missing });
            }
            Err(e) => return Err(StorageError::io("open", opened, e)),
        };
        // Bytes past `offset` belong to a chunk that never completed: drop them.
        file.set_len(offset)
            .map_err(|e| StorageError::io("truncate", &opened, e))?;
        file.seek(io::SeekFrom::Start(offset))
            .map_err(|e| StorageError::io("seek", &opened, e))?;
        Ok(file)
    })
    .await?;
    fs_write::write_stream(file, &path, data)
        .await
        .map_err(|failure| match failure {
            WriteFailure::Source(e) => StorageError::Source(e),
            WriteFailure::Storage(e) => e,
        })
}

pub(super) async fn commit(
    dir: PathBuf,
    tmp: PathBuf,
    id: UploadId,
    size: u64,
    target: PathBuf,
) -> Result<(), StorageError> {
    blocking(move || {
        let dir = end_session(&dir, &tmp, &id)?;
        let data = data_path(&dir);
        if !target.exists() {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(&data)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => StorageError::UploadMissing { id: id.to_string() },
                    _ => StorageError::io("open", &data, e),
                })?;
            let len = file
                .metadata()
                .map_err(|e| StorageError::io("stat", &data, e))?
                .len();
            if len != size {
                file.set_len(size)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StorageError::io("truncate", &data, e))?;
            }
            StagedFile::synced(data)
                .publish(&target)
                .map_err(|e| StorageError::io("publish blob", &target, e))?;
        }
        remove_session(&dir).map(|_| ())
    })
    .await
}

/// Ends a session by moving its folder out of `uploads/` in one durable rename, into `tmp/`
/// (swept at the next open), where the commit goes on. Committing in place let a crash between
/// publishing the data and removing the folder leave a session whose state outlived its data:
/// one that reported its progress but failed every request to finish it.
fn end_session(dir: &Path, tmp: &Path, id: &UploadId) -> Result<PathBuf, StorageError> {
    let ended = tmp.join(format!("{:032x}", rand::random::<u128>()));
    match fs::rename(dir, &ended) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StorageError::UploadMissing { id: id.to_string() });
        }
        Err(e) => return Err(StorageError::io("end session", dir, e)),
    }
    dir.parent()
        .map_or(Ok(()), atomic::sync_dir)
        .map_err(|e| StorageError::io("end session", dir, e))?;
    Ok(ended)
}

pub(super) async fn delete(dir: PathBuf) -> Result<bool, StorageError> {
    blocking(move || remove_session(&dir)).await
}

fn remove_session(dir: &Path) -> Result<bool, StorageError> {
    Ok(found(fs::remove_dir_all(dir), "remove", dir)?.is_some())
}
