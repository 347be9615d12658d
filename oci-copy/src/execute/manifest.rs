//! Writing one manifest, and checking what it names when a registry says it lacks some.

use bytes::Bytes;
use futures_util::StreamExt;
use oci_spec_types::{Descriptor, Manifest};

use crate::end::{Sink, Source};
use crate::error::{Error, Result};

/// Existence checks run at once while confirming what a manifest names.
const CHECKS_AT_ONCE: usize = 8;

/// Content a manifest names.
enum Named {
    /// A child of an index.
    Manifest(Descriptor),
    /// A config or layer of an image.
    Blob(Descriptor),
}

impl Named {
    /// Whether `sink` has it.
    async fn found_in(self, sink: &dyn Sink) -> Result<bool> {
        match self {
            Named::Manifest(child) => sink.has_manifest(&child).await,
            Named::Blob(blob) => sink.has_blob(&blob).await,
        }
    }
}

/// Writes a manifest by digest: the bytes the plan holds (read while planning, or built),
/// else fetched from the source again. Checked against the digest either way.
pub(crate) async fn put(
    source: &dyn Source,
    sink: &dyn Sink,
    descriptor: &Descriptor,
    planned: Option<Bytes>,
) -> Result<()> {
    let bytes = bytes_of(source, descriptor, planned).await?;
    sink.put_manifest(descriptor, bytes).await
}

/// Whether the destination has every manifest and blob the manifest names, asked afresh
/// (`HEAD`s): a registry refusing it with `MANIFEST_BLOB_UNKNOWN` then raced with another
/// write (distribution rewrites links in place) and may take it on another try.
pub(crate) async fn references_present(
    source: &dyn Source,
    sink: &dyn Sink,
    descriptor: &Descriptor,
    planned: Option<Bytes>,
) -> Result<bool> {
    let bytes = bytes_of(source, descriptor, planned).await?;
    let manifest =
        Manifest::parse_lenient(bytes, Some(descriptor.media_type.as_str())).map_err(|source| {
            Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            }
        })?;
    let mut named: Vec<Named> = manifest
        .children()
        .into_iter()
        .map(|child| Named::Manifest(child.clone()))
        .collect();
    if let Some(image) = manifest.image() {
        let blobs = std::iter::once(&image.config).chain(&image.layers);
        named.extend(blobs.map(|blob| Named::Blob(blob.clone())));
    }
    let mut answers = futures_util::stream::iter(named)
        .map(|named| named.found_in(sink))
        .buffer_unordered(CHECKS_AT_ONCE);
    while let Some(present) = answers.next().await {
        if !present? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The manifest's bytes: the plan's, else the source's, checked against the digest.
async fn bytes_of(
    source: &dyn Source,
    descriptor: &Descriptor,
    planned: Option<Bytes>,
) -> Result<Bytes> {
    let bytes = match planned {
        Some(bytes) => bytes,
        None => source.manifest(descriptor).await?,
    };
    Error::check(&descriptor.digest, &bytes)?;
    Ok(bytes)
}
