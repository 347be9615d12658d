//! Upload sessions in the bucket. Each write becomes one part object named by its start
//! offset; the session state (offset and hashing state, written by the store layer) sits
//! beside them. Nothing lives in process memory, so any instance sharing the bucket can
//! continue a session another began.
//!
//! The state's offset is the truth. Parts that start at or past the offset of a new write
//! come from writes that failed or whose state was never saved: they are deleted first.
//! Reading trims every part at the start of the next one and at the length asked for, so a
//! stale tail can never leak into a blob.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};
use oci_digest::Digest;

use super::{
    ObjectStorage,
    keys::part_start,
    stream::{Span, exists, object_error, put_stream, read_spans},
};
use crate::{body::ByteStream, error::StorageError, names::UploadId};

/// The largest object S3 copies in one request (5 GiB); bigger blobs are streamed.
const COPY_LIMIT: u64 = 5 << 30;

/// One stored part of a session's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Part {
    path: Path,
    start: u64,
    size: u64,
}

/// Where the stored parts fail to cover the bytes asked for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Gap {
    at: u64,
}

/// The spans that give the first `len` bytes of an upload made of `parts` (sorted by start):
/// each part counts from its start up to the next part's start.
pub(super) fn plan(parts: &[Part], len: u64) -> Result<Vec<Span>, Gap> {
    let mut spans = Vec::new();
    let mut position = 0u64;
    for (index, part) in parts.iter().enumerate() {
        if position >= len {
            break;
        }
        if part.start > position {
            return Err(Gap { at: position });
        }
        let next_start = parts.get(index + 1).map_or(u64::MAX, |next| next.start);
        let end = part
            .start
            .saturating_add(part.size)
            .min(next_start)
            .min(len);
        if end > position {
            spans.push(Span {
                path: part.path.clone(),
                range: position - part.start..end - part.start,
            });
            position = end;
        }
    }
    if position < len {
        return Err(Gap { at: position });
    }
    Ok(spans)
}

impl ObjectStorage {
    pub(super) async fn create_session(&self, id: &UploadId) -> Result<(), StorageError> {
        let marker = self.layout.upload_marker(id)?;
        self.store
            .put(&marker, PutPayload::new())
            .await
            .map_err(object_error("create upload", &marker))?;
        Ok(())
    }

    pub(super) async fn write_part(
        &self,
        id: &UploadId,
        offset: u64,
        data: ByteStream<'_>,
    ) -> Result<u64, StorageError> {
        let marker = self.layout.upload_marker(id)?;
        if !exists(self.store.as_ref(), &marker).await? {
            return Err(missing(id));
        }
        for stale in self.parts(id).await?.iter().filter(|p| p.start >= offset) {
            self.delete_object(&stale.path).await?;
        }
        // A request without data (the closing PUT of most uploads) adds no empty part.
        let mut data = data;
        let Some(first) = data.next().await else {
            return Ok(0);
        };
        let data: ByteStream<'_> =
            Box::pin(futures_util::stream::once(async { first }).chain(data));
        let target = self.layout.upload_part(id, offset)?;
        put_stream(self.store.as_ref(), &target, data).await
    }

    pub(super) async fn read_session(
        &self,
        id: &UploadId,
        len: u64,
    ) -> Result<ByteStream<'static>, StorageError> {
        let spans = self.spans(id, len).await?;
        Ok(read_spans(Arc::clone(&self.store), spans))
    }

    /// Publishes the first `size` bytes as the blob: a server-side copy when one part holds
    /// exactly them, else a multipart upload streaming the parts. Either appears atomically.
    pub(super) async fn commit_session(
        &self,
        id: &UploadId,
        size: u64,
        digest: &Digest,
    ) -> Result<(), StorageError> {
        let target = self.layout.blob(digest)?;
        if !exists(self.store.as_ref(), &target).await? {
            let spans = self.spans(id, size).await?;
            match spans.as_slice() {
                [only]
                    if size <= COPY_LIMIT
                        && only.range == (0..size)
                        && self.size_of(&only.path).await? == size =>
                {
                    self.store
                        .copy(&only.path, &target)
                        .await
                        .map_err(object_error("copy upload to blob", &target))?;
                }
                _ => {
                    let data = read_spans(Arc::clone(&self.store), spans);
                    put_stream(self.store.as_ref(), &target, data)
                        .await
                        .map_err(|e| match e {
                            StorageError::Source(source) => StorageError::Object {
                                operation: "read upload parts",
                                key: target.to_string(),
                                source: Box::new(source),
                            },
                            other => other,
                        })?;
                }
            }
        }
        self.delete_session(id).await.map(|_| ())
    }

    /// Deletes every object of the session; `false` when there was none.
    pub(super) async fn delete_session(&self, id: &UploadId) -> Result<bool, StorageError> {
        let folder = self.layout.upload(id)?;
        let objects: Vec<Path> = self
            .store
            .list(Some(&folder))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(object_error("list upload", &folder))?;
        // The marker goes last, so a session half-deleted by a crash still reads as one.
        let marker = self.layout.upload_marker(id)?;
        let (markers, others): (Vec<Path>, Vec<Path>) =
            objects.iter().cloned().partition(|p| *p == marker);
        // Listed just now, so no existence check each: one bulk delete for the data and
        // state (one S3 DeleteObjects request per 1,000), then one for the marker.
        for batch in [others, markers] {
            self.delete_all(batch, "delete upload", &folder).await?;
        }
        Ok(!objects.is_empty())
    }

    async fn spans(&self, id: &UploadId, len: u64) -> Result<Vec<Span>, StorageError> {
        let parts = self.parts(id).await?;
        plan(&parts, len).map_err(|gap| {
            tracing::error!(%id, at = gap.at, len, "upload data has a gap");
            missing(id)
        })
    }

    /// The session's parts, sorted by start.
    async fn parts(&self, id: &UploadId) -> Result<Vec<Part>, StorageError> {
        let folder = self.layout.upload_parts(id)?;
        let mut parts: Vec<Part> = self
            .store
            .list(Some(&folder))
            .try_filter_map(|meta| async move {
                let start = meta.location.filename().and_then(part_start);
                Ok(start.map(|start| Part {
                    start,
                    size: meta.size,
                    path: meta.location,
                }))
            })
            .try_collect()
            .await
            .map_err(object_error("list upload parts", &folder))?;
        parts.sort_by_key(|p| p.start);
        Ok(parts)
    }

    async fn size_of(&self, path: &Path) -> Result<u64, StorageError> {
        let meta = self
            .store
            .head(path)
            .await
            .map_err(object_error("stat", path))?;
        Ok(meta.size)
    }

    /// Deletes one object; `false` when it did not exist.
    pub(super) async fn delete_object(&self, path: &Path) -> Result<bool, StorageError> {
        if !exists(self.store.as_ref(), path).await? {
            return Ok(false);
        }
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(object_error("delete", path)(e)),
        }
    }
}

fn missing(id: &UploadId) -> StorageError {
    StorageError::UploadMissing { id: id.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn part(start: u64, size: u64) -> Part {
        Part {
            path: Path::from(format!("p/{start}")),
            start,
            size,
        }
    }

    fn ranges(spans: &[Span]) -> Vec<(String, std::ops::Range<u64>)> {
        spans
            .iter()
            .map(|s| (s.path.to_string(), s.range.clone()))
            .collect()
    }

    #[test]
    fn parts_are_trimmed_at_the_next_start_and_the_length() {
        let parts = [part(0, 10), part(6, 10), part(16, 4)];
        assert_eq!(
            ranges(&plan(&parts, 18).unwrap()),
            [
                ("p/0".to_owned(), 0..6),
                ("p/6".to_owned(), 0..10),
                ("p/16".to_owned(), 0..2)
            ]
        );
        assert_eq!(plan(&parts, 0).unwrap(), []);
    }

    #[test]
    fn gaps_and_short_data_are_found() {
        assert_eq!(plan(&[part(0, 4), part(5, 4)], 9), Err(Gap { at: 4 }));
        assert_eq!(plan(&[part(0, 4)], 5), Err(Gap { at: 4 }));
        assert_eq!(plan(&[], 1), Err(Gap { at: 0 }));
        assert_eq!(plan(&[part(1, 4)], 2), Err(Gap { at: 0 }));
    }

    proptest! {
        /// Writes at arbitrary (session-consistent) offsets, then a plan for the final
        /// length: it covers exactly that many bytes, in order, each byte from the last write
        /// that covered it.
        #[test]
        fn plans_cover_exactly_the_requested_bytes(sizes in proptest::collection::vec(0u64..20, 1..8), len_cut in 0u64..200) {
            let mut parts = Vec::new();
            let mut offset = 0;
            for size in sizes {
                if size > 0 {
                    parts.push(part(offset, size));
                }
                offset += size;
            }
            let len = len_cut.min(offset);
            let spans = plan(&parts, len).unwrap();
            let covered: u64 = spans.iter().map(|s| s.range.end - s.range.start).sum();
            prop_assert_eq!(covered, len);
            prop_assert!(spans.iter().all(|s| !s.range.is_empty()));
        }
    }
}
