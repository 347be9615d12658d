//! Read access to a tree of files, whether a folder or the members of a tar archive, so
//! one layout reader serves both `oci:` and `oci-archive:`.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::end::BlobStream;
use crate::error::{Error, Result};

/// Size of the chunks files are read in: large enough to keep a copy fast, small enough
/// that many copies in flight hold little memory.
pub(crate) const CHUNK: usize = 256 * 1024;

/// A tree of files addressed by `/`-separated relative paths.
#[async_trait]
pub(crate) trait Files: Send + Sync {
    /// The folder or archive, for messages.
    fn location(&self) -> &Path;

    /// The size of a file, `None` when it does not exist.
    async fn size(&self, path: &str) -> Result<Option<u64>>;

    /// A whole small file, `None` when it does not exist. Files over `limit` bytes are
    /// refused, so hostile input cannot make us allocate without bound.
    async fn read(&self, path: &str, limit: u64) -> Result<Option<Bytes>>;

    /// A file's content from `offset` on.
    async fn open(&self, path: &str, offset: u64) -> Result<BlobStream>;
}

/// The files of a folder.
#[derive(Debug, Clone)]
pub(crate) struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        DirFiles { root: root.into() }
    }

    fn full(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}

#[async_trait]
impl Files for DirFiles {
    fn location(&self) -> &Path {
        &self.root
    }

    async fn size(&self, path: &str) -> Result<Option<u64>> {
        let full = self.full(path);
        match tokio::fs::metadata(&full).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(full, e)),
        }
    }

    async fn read(&self, path: &str, limit: u64) -> Result<Option<Bytes>> {
        let Some(size) = self.size(path).await? else {
            return Ok(None);
        };
        let full = self.full(path);
        let file = tokio::fs::File::open(&full)
            .await
            .map_err(|e| Error::io(&full, e))?;
        read_limited(file, size, limit, &full).await.map(Some)
    }

    async fn open(&self, path: &str, offset: u64) -> Result<BlobStream> {
        let full = self.full(path);
        let file = tokio::fs::File::open(&full)
            .await
            .map_err(|e| Error::io(&full, e))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| Error::io(&full, e))?
            .len();
        stream_range(file, full, offset, size.saturating_sub(offset)).await
    }
}

/// Reads `size` bytes of `file` (from where it stands) when `size <= limit`.
pub(crate) async fn read_limited(
    file: tokio::fs::File,
    size: u64,
    limit: u64,
    path: &Path,
) -> Result<Bytes> {
    if size > limit {
        return Err(Error::TooLarge {
            what: path.display().to_string(),
            size,
            limit,
        });
    }
    // `size <= limit`, and limits are a few MiB, so this fits in usize.
    let mut buffer = BytesMut::with_capacity(size as usize);
    let mut reader = file.take(size);
    while reader
        .read_buf(&mut buffer)
        .await
        .map_err(|e| Error::io(path, e))?
        > 0
    {}
    Ok(buffer.freeze())
}

/// `len` bytes of `file` starting at `offset`, as a stream of chunks.
pub(crate) async fn stream_range(
    mut file: tokio::fs::File,
    path: PathBuf,
    offset: u64,
    len: u64,
) -> Result<BlobStream> {
    if offset > 0 {
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(|e| Error::io(&path, e))?;
    }
    let stream =
        ReaderStream::with_capacity(file.take(len), CHUNK).map_err(move |e| Error::io(&path, e));
    Ok(Box::pin(stream))
}
