//! Moving streams in and out of objects without holding them whole: a stream becomes one
//! object through a single put when it is small and a multipart upload otherwise, and byte
//! spans of several objects read back as one stream.

use std::{io, ops::Range, sync::Arc};

use futures_util::{StreamExt, TryStreamExt, stream};
use object_store::{
    GetOptions, ObjectStore, ObjectStoreExt, PutPayloadMut, WriteMultipart, path::Path,
};

use crate::{body::ByteStream, error::StorageError};

/// Size of each multipart part: above S3's 5 MiB minimum, and the unit of memory a write
/// holds. Streams shorter than this are stored with one put.
pub(super) const PART_SIZE: usize = 8 << 20;

/// Parts uploaded at the same time by one stream, so memory stays near
/// `(PARTS_IN_FLIGHT + 1) * PART_SIZE` whatever the stream's length.
const PARTS_IN_FLIGHT: usize = 2;

/// A byte range of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Span {
    /// The object.
    pub path: Path,
    /// The bytes of it, end exclusive.
    pub range: Range<u64>,
}

/// The error of a failed object-store request on `path`.
pub(super) fn object_error(
    operation: &'static str,
    path: &Path,
) -> impl FnOnce(object_store::Error) -> StorageError {
    let key = path.to_string();
    move |source| StorageError::Object {
        operation,
        key,
        source: Box::new(source),
    }
}

/// Stores `data` as the object at `path` and returns its length. The object appears whole
/// or not at all: a failing stream aborts the multipart upload. An error of `data` itself
/// comes back as [`StorageError::Source`].
pub(super) async fn put_stream(
    store: &dyn ObjectStore,
    path: &Path,
    mut data: ByteStream<'_>,
) -> Result<u64, StorageError> {
    let mut head = PutPayloadMut::new();
    let mut written = 0u64;
    let mut multipart: Option<WriteMultipart> = None;
    let fed: Result<(), StorageError> = async {
        while let Some(chunk) = data.next().await {
            let chunk = chunk.map_err(StorageError::Source)?;
            written += chunk.len() as u64;
            if let Some(upload) = multipart.as_mut() {
                upload
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(object_error("upload part", path))?;
                upload.put(chunk);
                continue;
            }
            head.push(chunk);
            if head.content_length() >= PART_SIZE {
                let upload = store
                    .put_multipart(path)
                    .await
                    .map_err(object_error("start multipart upload", path))?;
                let mut upload = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                for bytes in std::mem::take(&mut head).freeze() {
                    upload.put(bytes);
                }
                multipart = Some(upload);
            }
        }
        Ok(())
    }
    .await;
    match (fed, multipart) {
        (Err(e), Some(upload)) => {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %abort, %path, "cannot abort a multipart upload");
            }
            Err(e)
        }
        (Err(e), None) => Err(e),
        (Ok(()), Some(upload)) => {
            upload
                .finish()
                .await
                .map_err(object_error("complete multipart upload", path))?;
            Ok(written)
        }
        (Ok(()), None) => {
            store
                .put(path, head.freeze())
                .await
                .map_err(object_error("put", path))?;
            Ok(written)
        }
    }
}

/// The bytes of `spans`, one after the other, as one stream. Empty spans are skipped.
pub(super) fn read_spans(store: Arc<dyn ObjectStore>, spans: Vec<Span>) -> ByteStream<'static> {
    let spans = spans.into_iter().filter(|s| !s.range.is_empty());
    Box::pin(
        stream::iter(spans)
            .then(move |span| {
                let store = Arc::clone(&store);
                async move {
                    let options = GetOptions::new().with_range(Some(span.range));
                    let found = store
                        .get_opts(&span.path, options)
                        .await
                        .map_err(io::Error::other)?;
                    Ok::<_, io::Error>(found.into_stream().map_err(io::Error::other))
                }
            })
            .try_flatten(),
    )
}

/// Whether an object exists.
pub(super) async fn exists(store: &dyn ObjectStore, path: &Path) -> Result<bool, StorageError> {
    match store.head(path).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(object_error("stat", path)(e)),
    }
}
