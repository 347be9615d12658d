//! Ready-made [`BlobContent`]: bytes held in memory ([`Bytes`]) and a file on disk
//! ([`FileContent`]), so callers that write blobs into a [`Sink`](super::Sink) need not
//! write their own.

use std::io::SeekFrom;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use tokio::io::AsyncSeekExt;
use tokio_util::io::ReaderStream;

use super::{BlobContent, BlobStream};
use crate::error::{Error, Result};

/// How much of a file is read at a time.
const FILE_CHUNK: usize = 256 * 1024;

#[async_trait]
impl BlobContent for Bytes {
    /// The bytes from `offset` on (none past the end).
    async fn open(&self, offset: u64) -> Result<BlobStream> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let rest = self.slice(start..);
        Ok(Box::pin(stream::once(async move { Ok(rest) })))
    }
}

/// A blob's content in a file, read in chunks when a sink asks for it.
#[derive(Debug, Clone)]
pub struct FileContent {
    path: PathBuf,
}

impl FileContent {
    /// The content of the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl BlobContent for FileContent {
    async fn open(&self, offset: u64) -> Result<BlobStream> {
        let mut file = tokio::fs::File::open(&self.path)
            .await
            .map_err(|e| Error::io(&self.path, e))?;
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(|e| Error::io(&self.path, e))?;
        let path = self.path.clone();
        let chunks = ReaderStream::with_capacity(file, FILE_CHUNK)
            .map(move |chunk| chunk.map_err(|e| Error::io(&path, e)));
        Ok(Box::pin(chunks))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    async fn read(content: &dyn BlobContent, offset: u64) -> Vec<u8> {
        let chunks: Vec<Bytes> = content
            .open(offset)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        chunks.concat()
    }

    #[tokio::test]
    async fn bytes_and_files_give_their_content_from_an_offset() {
        let bytes = Bytes::from_static(b"hello world");
        assert_eq!(read(&bytes, 0).await, b"hello world");
        assert_eq!(read(&bytes, 6).await, b"world");
        assert!(read(&bytes, 99).await.is_empty());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"hello world").unwrap();
        let file = FileContent::new(&path);
        assert_eq!(read(&file, 0).await, b"hello world");
        assert_eq!(read(&file, 6).await, b"world");
        let missing = FileContent::new(dir.path().join("absent"));
        assert!(matches!(missing.open(0).await, Err(Error::Io { .. })));
    }
}
