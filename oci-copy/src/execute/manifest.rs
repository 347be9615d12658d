//! Writing one manifest.

use bytes::Bytes;
use oci_spec_types::Descriptor;

use crate::end::{Sink, Source, check_digest};
use crate::error::Result;

/// Writes a manifest by digest: the bytes the plan holds (read while planning, or built),
/// else fetched from the source again. Checked against the digest either way.
pub(crate) async fn put(
    source: &dyn Source,
    sink: &dyn Sink,
    descriptor: &Descriptor,
    planned: Option<Bytes>,
) -> Result<()> {
    let bytes = match planned {
        Some(bytes) => bytes,
        None => source.manifest(descriptor).await?,
    };
    check_digest(&descriptor.digest, &bytes)?;
    sink.put_manifest(descriptor, bytes).await
}
