//! The image index: a list of manifests, typically one image per platform.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::manifest::image::schema_version_2;
use crate::media_type::MediaType;
use crate::platform::Platform;

/// An OCI image index. A Docker manifest list has the same shape and is read into this
/// type too (see [`Manifest::DockerList`](crate::Manifest::DockerList)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2 for the formats this crate reads.
    #[serde(default = "schema_version_2")]
    pub schema_version: u32,
    /// `application/vnd.oci.image.index.v1+json` (or Docker's list type), when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// Type of artifact this index holds, when it is an artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The manifests this index lists.
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (referrers API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields not defined by the spec, kept for a faithful round-trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ImageIndex {
    /// An OCI image index (schema version 2, media type written) listing `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: schema_version_2(),
            media_type: Some(MediaType::OciImageIndex),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The first entry that runs on `wanted` (see [`Platform::matches`]), skipping
    /// attestation manifests and entries without a platform.
    pub fn find_platform(&self, wanted: &Platform) -> Option<&Descriptor> {
        self.manifests.iter().find(|entry| {
            !entry.is_attestation()
                && entry
                    .platform
                    .as_ref()
                    .is_some_and(|own| own.matches(wanted))
        })
    }
}
