//! Docker's manifest formats.
//!
//! Schema 2 (`application/vnd.docker.distribution.manifest.v2+json`) and the manifest
//! list (`...manifest.list.v2+json`) have exactly the fields of the OCI image manifest
//! and index that they share, so they are read into [`ImageManifest`] and [`ImageIndex`];
//! the [`Manifest`](crate::Manifest) variant records which format it was. Schema 1 is
//! only recognised, so it can be refused with a clear error instead of a confusing one.

use crate::manifest::image::ImageManifest;
use crate::manifest::index::ImageIndex;
use crate::manifest::parse::Probe;
use crate::media_type::MediaType;

/// A Docker image manifest, schema 2: the shape of an OCI image manifest.
pub type DockerManifest = ImageManifest;

/// A Docker manifest list: the shape of an OCI image index.
pub type DockerManifestList = ImageIndex;

/// Whether a manifest is Docker schema 1, judged by any of: the `Content-Type`, the
/// `mediaType` field, `schemaVersion: 1`, or the schema 1 `fsLayers` field.
pub(crate) fn is_schema1(probe: &Probe, content_type: Option<&MediaType>) -> bool {
    let named_schema1 =
        |media_type: Option<&MediaType>| media_type.is_some_and(MediaType::is_schema1);
    named_schema1(content_type)
        || named_schema1(probe.media_type.as_ref())
        || probe
            .schema_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            == Some(1)
        || probe.fs_layers.is_some()
}
