//! Writing a stream of chunks to a file: chunks are gathered into one of two reused buffers of
//! [`WRITE_BATCH`] bytes, and each full buffer goes to the kernel on the blocking pool while
//! the other fills. One copy in user space, from a chunk just received (and hashed) while it
//! is still in the CPU's cache into a buffer that is too; the chunk's memory goes straight
//! back to the HTTP layer for the next read. Holding the chunks themselves until written
//! instead costs more: the HTTP layer then reads into fresh memory each time, and the
//! kernel's copy into the page cache reads cold memory (measured: about 25% more CPU per
//! GiB pushed).
//!
//! Every [`FLUSH_EVERY`] bytes an `fdatasync` starts on a second handle of the file in the
//! background, so the final one finds little left to write.

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
};

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::{body::ByteStream, error::StorageError};

/// The size of each buffer, and of each write.
const WRITE_BATCH: usize = 1 << 20;

/// After this many bytes, start flushing to disk in the background while receiving goes on.
const FLUSH_EVERY: u64 = 64 << 20;

/// Why [`write_stream`] stopped.
pub(super) enum WriteFailure {
    /// The stream itself failed (the client's body). Batches already started are written, the
    /// rest is dropped: the upload's saved offset, not the file's length, says what counts.
    Source(io::Error),
    /// Writing the file failed.
    Storage(StorageError),
}

/// Writes all of `data` to `file` from its current position and makes it durable; returns
/// the number of bytes written. On every outcome, no write to the file is still in flight when
/// it returns (a late write could otherwise land after the next request has truncated the
/// file, or committed it as a blob).
pub(super) async fn write_stream(
    file: File,
    path: &Path,
    mut data: ByteStream<'_>,
) -> Result<u64, WriteFailure> {
    let mut writer = Writer {
        state: State::Idle(file),
        spare: None,
        path: path.to_path_buf(),
        flush: None,
        flushed_at: 0,
    };
    let mut written = 0u64;
    let mut batch = BytesMut::with_capacity(WRITE_BATCH);
    while let Some(chunk) = data.next().await {
        let mut chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                writer.settle().await;
                return Err(WriteFailure::Source(e));
            }
        };
        written += chunk.len() as u64;
        while !chunk.is_empty() {
            let take = chunk.len().min(WRITE_BATCH - batch.len());
            batch.extend_from_slice(&chunk.split_to(take));
            if batch.len() == WRITE_BATCH {
                batch = writer.submit(batch).await?;
                writer.maybe_flush(written).await?;
            }
        }
    }
    writer.submit(batch).await?;
    writer.finish().await.map_err(WriteFailure::Storage)?;
    Ok(written)
}

enum State {
    /// No write in flight: the file is here.
    Idle(File),
    /// A buffer is being written; the task gives the file and the emptied buffer back.
    Writing(JoinHandle<io::Result<(File, BytesMut)>>),
    /// A write failed; the file is gone.
    Failed,
}

struct Writer {
    state: State,
    /// The buffer last written, emptied, to be filled next.
    spare: Option<BytesMut>,
    path: PathBuf,
    /// The background `fdatasync`, when one runs.
    flush: Option<JoinHandle<()>>,
    flushed_at: u64,
}

impl Writer {
    /// Waits for the write in flight (if any) and has the file back.
    async fn idle(&mut self) -> Result<&mut File, StorageError> {
        if matches!(self.state, State::Writing(_))
            && let State::Writing(task) = std::mem::replace(&mut self.state, State::Failed)
        {
            let (file, buffer) = task
                .await
                .map_err(io::Error::other)
                .and_then(|written| written)
                .map_err(|e| StorageError::io("write", &self.path, e))?;
            self.state = State::Idle(file);
            self.spare = Some(buffer);
        }
        match &mut self.state {
            State::Idle(file) => Ok(file),
            _ => Err(StorageError::io(
                "write",
                &self.path,
                io::Error::other("an earlier write failed"),
            )),
        }
    }

    /// Starts writing `batch` once the previous one is written; returns the empty buffer to
    /// fill next.
    async fn submit(&mut self, mut batch: BytesMut) -> Result<BytesMut, WriteFailure> {
        self.idle().await.map_err(WriteFailure::Storage)?;
        let next = self
            .spare
            .take()
            .unwrap_or_else(|| BytesMut::with_capacity(WRITE_BATCH));
        if batch.is_empty() {
            return Ok(next);
        }
        if let State::Idle(file) = std::mem::replace(&mut self.state, State::Failed) {
            self.state = State::Writing(tokio::task::spawn_blocking(move || {
                let mut file = file;
                file.write_all(&batch)?;
                batch.clear();
                Ok((file, batch))
            }));
        }
        Ok(next)
    }

    /// Starts a background `fdatasync` when enough has been written since the last one and
    /// none is running. Its result does not matter: the final one is the one that counts.
    async fn maybe_flush(&mut self, written: u64) -> Result<(), WriteFailure> {
        let running = self.flush.as_ref().is_some_and(|task| !task.is_finished());
        if written - self.flushed_at < FLUSH_EVERY || running {
            return Ok(());
        }
        // Only bytes already handed to the kernel can be flushed.
        let file = self.idle().await.map_err(WriteFailure::Storage)?;
        if let Ok(handle) = file.try_clone() {
            self.flushed_at = written;
            self.flush = Some(tokio::task::spawn_blocking(move || {
                let _ = handle.sync_data();
            }));
        }
        Ok(())
    }

    /// Waits for the write and the flush in flight, ignoring a failed write (the caller is
    /// already failing).
    async fn settle(&mut self) {
        let _ = self.idle().await;
        if let Some(task) = self.flush.take() {
            let _ = task.await;
        }
    }

    /// Waits for everything in flight, then makes the file durable.
    async fn finish(mut self) -> Result<(), StorageError> {
        self.idle().await?;
        if let Some(task) = self.flush.take() {
            let _ = task.await;
        }
        let State::Idle(file) = self.state else {
            return Err(StorageError::io(
                "fsync",
                &self.path,
                io::Error::other("no file"),
            ));
        };
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

    use bytes::Bytes;
    use futures_util::stream;

    use super::*;

    /// Chunks of uneven sizes that together pass several batches.
    fn chunks() -> Vec<Vec<u8>> {
        (0..40u32)
            .map(|i| {
                let len = 1 + (i as usize * 7919) % (WRITE_BATCH / 3);
                (0..len)
                    .map(|j| (j as u32 ^ i.wrapping_mul(2654435761)) as u8)
                    .collect()
            })
            .collect()
    }

    fn stream_of(parts: Vec<io::Result<Bytes>>) -> ByteStream<'static> {
        Box::pin(stream::iter(parts))
    }

    #[tokio::test]
    async fn every_chunk_lands_in_order_after_the_start_position() {
        let parts = chunks();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"head").unwrap();
        let path = Path::new("test");
        let data = stream_of(parts.iter().map(|p| Ok(Bytes::from(p.clone()))).collect());
        let written = match write_stream(file.try_clone().unwrap(), path, data).await {
            Ok(written) => written,
            Err(_) => panic!("the write failed"),
        };
        let expected: Vec<u8> = b"head".iter().copied().chain(parts.concat()).collect();
        assert_eq!(written, expected.len() as u64 - 4);
        let mut content = Vec::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_end(&mut content).unwrap();
        assert!(content == expected, "the file differs from the chunks");
    }

    #[tokio::test]
    async fn a_failing_source_waits_for_the_started_batch_and_says_so() {
        let file = tempfile::tempfile().unwrap();
        let data = stream_of(vec![
            Ok(Bytes::from(vec![7u8; WRITE_BATCH + 1])),
            Ok(Bytes::from_static(b"tail")),
            Err(io::Error::other("client went away")),
        ]);
        let failed = write_stream(file.try_clone().unwrap(), Path::new("t"), data).await;
        assert!(matches!(failed, Err(WriteFailure::Source(_))));
        // The first chunk filled a buffer, which was written; the rest was still gathering.
        assert_eq!(file.metadata().unwrap().len(), WRITE_BATCH as u64);
    }
}
