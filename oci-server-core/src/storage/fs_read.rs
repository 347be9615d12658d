//! Streaming a stored file out with one chunk read ahead.
//!
//! Each chunk is read on the blocking pool straight into the buffer that is sent (one copy out
//! of the page cache, none in user space), and the next read starts as soon as a chunk is
//! handed over, so the disk read of chunk N+1 overlaps the socket write of chunk N. At most two
//! chunks per stream are in memory, whatever the file's size. No blocking thread is held
//! between chunks, so a slow client pins nothing.

use std::{
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::fs_found::found;
use crate::{body::ByteStream, error::StorageError, range::ByteRange};

/// Size of each chunk read and sent.
const READ_CHUNK: u64 = 1024 * 1024;

/// A read in flight: gives the file back with the bytes it read.
type PendingRead = JoinHandle<io::Result<(File, Bytes)>>;

/// Opens `path` and streams `range` of it (or all of it); `None` when the file does not exist.
pub(super) async fn stream_file(
    path: &Path,
    range: Option<ByteRange>,
) -> Result<Option<ByteStream<'static>>, StorageError> {
    let owned = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || open_at(&owned, range))
        .await
        .map_err(|e| StorageError::io("join blocking task", path, io::Error::other(e)))?;
    let opened = found(opened, "open", path)?;
    Ok(opened.map(|(file, len)| chunks(file, len)))
}

/// The file positioned at the range's start, and how many bytes to send from there (all that
/// is left when no range is given).
fn open_at(path: &Path, range: Option<ByteRange>) -> io::Result<(File, u64)> {
    let mut file = File::open(path)?;
    match range {
        Some(range) => {
            file.seek(SeekFrom::Start(range.start))?;
            Ok((file, range.len()))
        }
        None => Ok((file, u64::MAX)),
    }
}

/// The stream of `remaining` bytes of `file` from its position, ending early at end of file.
fn chunks(file: File, remaining: u64) -> ByteStream<'static> {
    let first = read_next(file, remaining);
    Box::pin(futures_util::stream::unfold(
        (first, remaining),
        |(pending, remaining)| async move {
            let (file, chunk) = match pending?.await {
                Ok(Ok(read)) => read,
                Ok(Err(e)) => return Some((Err(e), (None, 0))),
                Err(e) => return Some((Err(io::Error::other(e)), (None, 0))),
            };
            if chunk.is_empty() {
                return None;
            }
            let remaining = remaining - chunk.len() as u64;
            let next = read_next(file, remaining);
            Some((Ok(chunk), (next, remaining)))
        },
    ))
}

/// Starts reading the next chunk of at most `remaining` bytes; `None` when nothing is left.
fn read_next(file: File, remaining: u64) -> Option<PendingRead> {
    let want = remaining.min(READ_CHUNK);
    (want > 0).then(|| tokio::task::spawn_blocking(move || read_chunk(file, want)))
}

/// Reads up to `want` bytes (fewer only at end of file) into a buffer of their own.
fn read_chunk(mut file: File, want: u64) -> io::Result<(File, Bytes)> {
    // `want` is at most READ_CHUNK, so it fits in usize.
    let mut buffer = Vec::with_capacity(want as usize);
    // read_to_end fills the spare capacity without zeroing it first.
    (&mut file).take(want).read_to_end(&mut buffer)?;
    Ok((file, Bytes::from(buffer)))
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    /// Two and a half chunks of bytes that differ from chunk to chunk and within each.
    fn content() -> Vec<u8> {
        let len = READ_CHUNK as usize * 5 / 2;
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// A temporary folder holding one file of `content`, and that file's path.
    fn stored(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    async fn read_all(path: &Path, range: Option<ByteRange>) -> Option<Vec<Bytes>> {
        let stream = stream_file(path, range).await.unwrap()?;
        Some(stream.try_collect().await.unwrap())
    }

    #[tokio::test]
    async fn whole_file_arrives_in_chunks_no_larger_than_read_chunk() {
        let content = content();
        let (_dir, path) = stored(&content);

        let chunks = read_all(&path, None).await.unwrap();
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|c| c.len() as u64 <= READ_CHUNK));
        assert_eq!(chunks.concat(), content);
    }

    #[tokio::test]
    async fn range_across_chunk_boundaries_is_exact() {
        let content = content();
        let (_dir, path) = stored(&content);

        let range = ByteRange {
            start: READ_CHUNK - 3,
            end: 2 * READ_CHUNK + 4,
        };
        let chunks = read_all(&path, Some(range)).await.unwrap();
        let expected = &content[range.start as usize..=range.end as usize];
        assert_eq!(chunks.concat(), expected);
    }

    #[tokio::test]
    async fn range_past_the_end_stops_at_the_end() {
        let (_dir, path) = stored(b"0123456789");

        let range = ByteRange { start: 6, end: 99 };
        let chunks = read_all(&path, Some(range)).await.unwrap();
        assert_eq!(chunks.concat(), b"6789");
    }

    #[tokio::test]
    async fn empty_file_is_an_empty_stream_and_missing_file_is_none() {
        let (dir, empty) = stored(b"");

        assert_eq!(read_all(&empty, None).await.unwrap(), Vec::<Bytes>::new());
        assert!(read_all(&dir.path().join("missing"), None).await.is_none());
    }
}
