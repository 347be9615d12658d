//! Writing a stream of chunks to a file: each chunk goes to the kernel on the task that
//! received it, right after it was hashed, while it is still in the CPU's cache; its memory
//! then goes straight back to the HTTP layer for the next read. Handing chunks to the blocking
//! pool instead (through a buffer gathering them into larger writes) cost a copy in user space,
//! a thread switch or two per write, and a page-cache copy from memory gone cold on another
//! core: measured, about 25% more server CPU per GiB pushed to tmpfs.
//!
//! A buffered write into the page cache takes microseconds, short enough for an async task;
//! but when the disk falls behind (or a journal commit is under way), the kernel makes writers
//! wait. After a write that took longer than [`STALL`], the next chunks go to the blocking
//! pool, one at a time, until one is quick again: a slow disk holds a runtime thread for one
//! write, not for every write.
//!
//! Every [`FLUSH_EVERY`] bytes an `fdatasync` starts on the blocking pool, so the final one
//! (when the caller asks for [`Durability::Now`]) finds little left to write.

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::Durability;
use crate::{body::ByteStream, error::StorageError};

/// A write on the receiving task that took longer than this waited for the disk: the next
/// write goes to the blocking pool. Well above a page-cache write of a chunk (under 1 ms) and
/// a time slice lost to another process on a busy machine; below the kernel's throttling
/// pauses (10 to 200 ms) and the waits seen on ext4 while the background flush commits the
/// journal (12-20 ms, about once per [`FLUSH_EVERY`]).
const STALL: Duration = Duration::from_millis(10);

/// After this many bytes, start flushing to disk in the background while receiving goes on.
const FLUSH_EVERY: u64 = 64 << 20;

/// Why [`write_stream`] stopped.
pub(super) enum WriteFailure {
    /// The stream itself failed (the client's body). Chunks received before the failure are
    /// written: the upload's saved offset, not the file's length, says what counts.
    Source(io::Error),
    /// Writing the file failed.
    Storage(StorageError),
}

/// Writes all of `data` to `file` from its current position and makes it durable when
/// `durability` says now; returns the number of bytes written. On every outcome, no write to
/// the file is still in flight when it returns (a late write could otherwise land after the
/// next request has truncated the file, or committed it as a blob).
pub(super) async fn write_stream(
    file: File,
    path: &Path,
    data: ByteStream<'_>,
    durability: Durability,
) -> Result<u64, WriteFailure> {
    write_stream_with(file, path, data, durability, STALL).await
}

/// [`write_stream`] with the stall limit given.
async fn write_stream_with(
    file: File,
    path: &Path,
    mut data: ByteStream<'_>,
    durability: Durability,
    stall: Duration,
) -> Result<u64, WriteFailure> {
    let mut writer = Writer {
        file: Arc::new(file),
        path: path.to_path_buf(),
        stall,
        stalled: false,
        flush: None,
        flushed_at: 0,
    };
    let mut written = 0u64;
    while let Some(chunk) = data.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                writer.settle().await;
                return Err(WriteFailure::Source(e));
            }
        };
        written += chunk.len() as u64;
        if let Err(e) = writer.write(chunk).await {
            writer.settle().await;
            return Err(WriteFailure::Storage(e));
        }
        writer.maybe_flush(written);
    }
    writer.settle().await;
    if durability == Durability::Now {
        writer.sync().await.map_err(WriteFailure::Storage)?;
    }
    Ok(written)
}

/// Writes all of `bytes` at the file's position; says how long it took.
fn timed_write(mut file: &File, bytes: &[u8]) -> (io::Result<()>, Duration) {
    let started = Instant::now();
    let written = file.write_all(bytes);
    (written, started.elapsed())
}

struct Writer {
    file: Arc<File>,
    path: PathBuf,
    stall: Duration,
    /// The last write took longer than `stall`: the next one goes to the blocking pool.
    stalled: bool,
    /// The background `fdatasync`, when one runs.
    flush: Option<JoinHandle<()>>,
    flushed_at: u64,
}

impl Writer {
    /// Writes `chunk` at the file's position: on this task while writes are quick, on the
    /// blocking pool after one that stalled, until one there is quick again.
    async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        let (written, took) = if self.stalled {
            let file = Arc::clone(&self.file);
            tokio::task::spawn_blocking(move || timed_write(&file, &chunk))
                .await
                .map_err(|e| StorageError::io("write", &self.path, io::Error::other(e)))?
        } else {
            timed_write(&self.file, &chunk)
        };
        self.stalled = took > self.stall;
        written.map_err(|e| StorageError::io("write", &self.path, e))
    }

    /// Starts a background `fdatasync` when enough has been written since the last one and
    /// none is running. Its result does not matter: the final one is the one that counts.
    fn maybe_flush(&mut self, written: u64) {
        let running = self.flush.as_ref().is_some_and(|task| !task.is_finished());
        if written - self.flushed_at < FLUSH_EVERY || running {
            return;
        }
        self.flushed_at = written;
        let file = Arc::clone(&self.file);
        self.flush = Some(tokio::task::spawn_blocking(move || {
            let _ = file.sync_data();
        }));
    }

    /// Waits for the flush in flight (the caller is already failing).
    async fn settle(&mut self) {
        if let Some(task) = self.flush.take() {
            let _ = task.await;
        }
    }

    /// Makes the file durable (once no flush is in flight).
    async fn sync(self) -> Result<(), StorageError> {
        let file = self.file;
        let path = self.path;
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(io::Error::other)
            .and_then(|synced| synced)
            .map_err(|e| StorageError::io("fsync", path, e))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    use futures_util::stream;

    use super::*;

    /// Chunks of uneven sizes, up to a few hundred KiB, as the HTTP layer hands them over.
    fn chunks() -> Vec<Vec<u8>> {
        (0..40u32)
            .map(|i| {
                let len = 1 + (i as usize * 7919) % (400 << 10);
                (0..len)
                    .map(|j| (j as u32 ^ i.wrapping_mul(2654435761)) as u8)
                    .collect()
            })
            .collect()
    }

    fn stream_of(parts: Vec<io::Result<Bytes>>) -> ByteStream<'static> {
        Box::pin(stream::iter(parts))
    }

    fn content(file: &mut File) -> Vec<u8> {
        let mut content = Vec::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_end(&mut content).unwrap();
        content
    }

    /// Writes the chunks after "head" with the stall limit given; checks the file.
    async fn every_chunk_lands_in_order(stall: Duration) {
        let parts = chunks();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"head").unwrap();
        let data = stream_of(parts.iter().map(|p| Ok(Bytes::from(p.clone()))).collect());
        let file_copy = file.try_clone().unwrap();
        let written = write_stream_with(file_copy, Path::new("t"), data, Durability::Now, stall);
        let Ok(written) = written.await else {
            panic!("the write failed");
        };
        let expected: Vec<u8> = b"head".iter().copied().chain(parts.concat()).collect();
        assert_eq!(written, expected.len() as u64 - 4);
        assert!(
            content(&mut file) == expected,
            "the file differs from the chunks"
        );
    }

    #[tokio::test]
    async fn every_chunk_lands_in_order_after_the_start_position() {
        every_chunk_lands_in_order(STALL).await;
    }

    #[tokio::test]
    async fn after_a_stall_the_blocking_pool_writes_every_chunk_in_order() {
        // Every write takes longer than nothing: all after the first go to the pool.
        every_chunk_lands_in_order(Duration::ZERO).await;
    }

    #[tokio::test]
    async fn a_failing_source_keeps_what_came_before_and_says_so() {
        let mut file = tempfile::tempfile().unwrap();
        let data = stream_of(vec![
            Ok(Bytes::from(vec![7u8; 300 << 10])),
            Ok(Bytes::from_static(b"tail")),
            Err(io::Error::other("client went away")),
            Ok(Bytes::from_static(b"never")),
        ]);
        let file_copy = file.try_clone().unwrap();
        let failed = write_stream(file_copy, Path::new("t"), data, Durability::Now).await;
        assert!(matches!(failed, Err(WriteFailure::Source(_))));
        let expected: Vec<u8> = [vec![7u8; 300 << 10], b"tail".to_vec()].concat();
        assert!(
            content(&mut file) == expected,
            "the file differs from the chunks"
        );
    }

    #[tokio::test]
    async fn a_failing_write_is_a_storage_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, b"").unwrap();
        let read_only = File::open(&path).unwrap();
        let data = stream_of(vec![Ok(Bytes::from_static(b"bytes"))]);
        let failed = write_stream(read_only, &path, data, Durability::Deferred).await;
        let Err(WriteFailure::Storage(error)) = failed else {
            panic!("writing a read-only file did not fail as storage");
        };
        assert!(error.to_string().contains("data"), "{error}");
    }
}
