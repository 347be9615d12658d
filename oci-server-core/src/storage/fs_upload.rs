//! Upload session data on the filesystem: `uploads/<id>/data`, written at an offset, fsynced
//! before the session state may claim it, and renamed into the blob store on commit.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::{
    atomic::{self, StagedFile},
    fs::blocking,
};
use crate::{body::ByteStream, error::StorageError, names::UploadId};

/// Incoming chunks are gathered up to this size before each write.
const WRITE_CHUNK: usize = 1 << 20;

/// After this many bytes, start flushing to disk in the background while receiving goes on,
/// so the final fsync finds little left to write.
const FLUSH_EVERY: u64 = 64 << 20;

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
    mut data: ByteStream<'_>,
) -> Result<u64, StorageError> {
    let path = data_path(&dir);
    let io_err = |operation| {
        let path = path.clone();
        move |e| StorageError::io(operation, path, e)
    };
    let mut file = match tokio::fs::OpenOptions::new().write(true).open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StorageError::UploadMissing { id: id.to_string() });
        }
        Err(e) => return Err(io_err("open")(e)),
    };
    // Bytes past `offset` belong to a chunk that never completed: drop them.
    file.set_len(offset).await.map_err(io_err("truncate"))?;
    file.seek(io::SeekFrom::Start(offset))
        .await
        .map_err(io_err("seek"))?;
    let mut written = 0u64;
    let mut pending = BytesMut::with_capacity(WRITE_CHUNK);
    let mut flusher = BackgroundFlush::default();
    while let Some(chunk) = data.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                // tokio hands each write to the blocking pool and returns before it lands:
                // wait for it, or it could land after the next request on this session has
                // truncated the file (or committed it as a blob), corrupting it.
                let _ = file.flush().await;
                return Err(StorageError::Source(e));
            }
        };
        written += chunk.len() as u64;
        if pending.len() + chunk.len() > WRITE_CHUNK && !pending.is_empty() {
            file.write_all(&pending).await.map_err(io_err("write"))?;
            pending.clear();
        }
        if chunk.len() >= WRITE_CHUNK {
            file.write_all(&chunk).await.map_err(io_err("write"))?;
        } else {
            pending.extend_from_slice(&chunk);
        }
        flusher.maybe_start(&mut file, written).await;
    }
    file.write_all(&pending).await.map_err(io_err("write"))?;
    file.flush().await.map_err(io_err("flush"))?;
    flusher.finish().await;
    file.sync_data().await.map_err(io_err("fsync"))?;
    Ok(written)
}

/// At most one `fdatasync` running on a second handle of the file while writing goes on. Its
/// result does not matter: the final `fsync` is the one that counts.
#[derive(Default)]
struct BackgroundFlush {
    running: Option<tokio::task::JoinHandle<()>>,
    flushed_at: u64,
}

impl BackgroundFlush {
    async fn maybe_start(&mut self, file: &mut tokio::fs::File, written: u64) {
        if written - self.flushed_at < FLUSH_EVERY
            || self
                .running
                .as_ref()
                .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        // Writes handed to tokio's blocking pool must have reached the kernel first.
        if file.flush().await.is_err() {
            return;
        }
        if let Ok(handle) = file.try_clone().await {
            let handle = handle.into_std().await;
            self.flushed_at = written;
            self.running = Some(tokio::task::spawn_blocking(move || {
                let _ = handle.sync_data();
            }));
        }
    }

    async fn finish(self) {
        if let Some(task) = self.running {
            let _ = task.await;
        }
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
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StorageError::io("remove", dir, e)),
    }
}
