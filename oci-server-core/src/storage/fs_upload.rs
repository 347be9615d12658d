//! Upload session data on the filesystem: `uploads/<id>/data`, written at an offset, fsynced
//! before the session's durable state may claim it (its progress record, stamped with the
//! boot id, may claim it earlier: see `store::upload_record`), and renamed into the blob
//! store on commit.

use std::{
    fs,
    io::{self, Seek},
    path::{Path, PathBuf},
};

use super::{
    Durability,
    atomic::{self, StagedFile},
    fs::blocking,
    fs_found::found,
    fs_write::{self, WriteFailure},
};
use crate::{body::ByteStream, error::StorageError, names::UploadId};

/// The machine's boot id: writes in the kernel's page cache are seen by every process until
/// the machine stops, and a machine that boots again gets a new id. `None` where the kernel
/// does not tell it.
pub(super) fn boot_id() -> Option<std::sync::Arc<str>> {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.into())
}

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
    durability: Durability,
) -> Result<u64, StorageError> {
    let path = data_path(&dir);
    let opened = path.clone();
    let missing = id.to_string();
    let file = blocking(move || {
        let mut file = open_data(&opened, missing)?;
        // Bytes past `offset` belong to a chunk that never completed: drop them.
        file.set_len(offset)
            .map_err(|e| StorageError::io("truncate", &opened, e))?;
        file.seek(io::SeekFrom::Start(offset))
            .map_err(|e| StorageError::io("seek", &opened, e))?;
        Ok(file)
    })
    .await?;
    fs_write::write_stream(file, &path, data, durability)
        .await
        .map_err(|failure| match failure {
            WriteFailure::Source(e) => StorageError::Source(e),
            WriteFailure::Storage(e) => e,
        })
}

/// Makes the session's data durable.
pub(super) async fn sync(dir: PathBuf, id: &UploadId) -> Result<(), StorageError> {
    let path = data_path(&dir);
    let missing = id.to_string();
    blocking(move || {
        open_data(&path, missing)?
            .sync_data()
            .map_err(|e| StorageError::io("fsync", path, e))
    })
    .await
}

/// Opens the session's data for writing; a missing file is a missing session.
fn open_data(path: &Path, id: String) -> Result<fs::File, StorageError> {
    match fs::OpenOptions::new().write(true).open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StorageError::UploadMissing { id }),
        Err(e) => Err(StorageError::io("open", path, e)),
    }
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
            let file = open_data(&data, id.to_string())?;
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
