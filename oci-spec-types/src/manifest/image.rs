//! The image manifest: one image (or artifact) as a config blob plus layers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::media_type::MediaType;

/// An OCI image manifest. A Docker schema 2 manifest has the same shape and is read
/// into this type too (see [`Manifest::DockerV2`](crate::Manifest::DockerV2)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2 for the formats this crate reads.
    #[serde(default = "schema_version_2")]
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` (or Docker's schema 2 type), when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// Type of artifact this manifest holds, when it is not a runnable image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The configuration blob.
    pub config: Descriptor,
    /// Layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
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

/// The schema version every manifest this crate accepts carries; also the value assumed
/// when a stored manifest omits it.
pub(crate) fn schema_version_2() -> u32 {
    2
}

impl ImageManifest {
    /// An OCI image manifest (schema version 2, media type written) with the given config
    /// and layers.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        ImageManifest {
            schema_version: schema_version_2(),
            media_type: Some(MediaType::OciImageManifest),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The artifact type by the referrers rule: `artifactType` when set, else the config's
    /// media type.
    pub fn effective_artifact_type(&self) -> MediaType {
        self.artifact_type
            .clone()
            .unwrap_or_else(|| self.config.media_type.clone())
    }
}
