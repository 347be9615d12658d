//! Content descriptors: the typed pointer from one piece of content to another.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use oci_digest::Digest;
use serde::{Deserialize, Serialize};

use crate::annotations::{ANNOTATION_DOCKER_REFERENCE_TYPE, DOCKER_REFERENCE_TYPE_ATTESTATION};
use crate::error::DataError;
use crate::media_type::MediaType;
use crate::platform::Platform;

/// Digest of the two-byte empty JSON object `{}`, the content of [`Descriptor::empty`].
pub const EMPTY_JSON_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// The content the empty descriptor points to.
pub const EMPTY_JSON: &[u8] = b"{}";

/// Describes content by media type, digest and size, with optional extras.
///
/// Fields this crate does not know are kept in [`extra`](Self::extra) and written back,
/// so a descriptor read from JSON and written again loses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: MediaType,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size of the referenced content in bytes.
    pub size: u64,
    /// Places the content may also be downloaded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The content itself, base64-encoded; must match `digest` and `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Type of an artifact when the descriptor points to an artifact manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// Platform the referenced image runs on (index entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Fields not defined by the spec, kept for a faithful round-trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Descriptor {
    /// A descriptor with just the three required fields.
    pub fn new(media_type: MediaType, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type,
            digest,
            size,
            urls: None,
            annotations: None,
            data: None,
            artifact_type: None,
            platform: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The empty descriptor: `application/vnd.oci.empty.v1+json`, the `{}` blob, with its
    /// content embedded in `data`. Artifacts without a config point to it.
    pub fn empty() -> Self {
        Descriptor {
            data: Some(BASE64.encode(EMPTY_JSON)),
            ..Descriptor::new(
                MediaType::OciEmpty,
                Digest::compute(EMPTY_JSON),
                EMPTY_JSON.len() as u64,
            )
        }
    }

    /// Whether the content is not expected to be in a registry: it has download `urls`
    /// or a non-distributable (or Docker foreign) layer media type.
    pub fn is_non_distributable(&self) -> bool {
        self.media_type.is_non_distributable()
            || self.urls.as_ref().is_some_and(|urls| !urls.is_empty())
    }

    /// Whether this index entry is a Docker build attestation (annotated
    /// `vnd.docker.reference.type: attestation-manifest`) rather than a runnable image.
    pub fn is_attestation(&self) -> bool {
        self.annotation(ANNOTATION_DOCKER_REFERENCE_TYPE) == Some(DOCKER_REFERENCE_TYPE_ATTESTATION)
    }

    /// The value of one annotation, if present.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The embedded content, decoded and checked against `size` and `digest`.
    /// `Ok(None)` when there is no `data` field.
    pub fn verified_data(&self) -> Result<Option<Vec<u8>>, DataError> {
        let Some(encoded) = &self.data else {
            return Ok(None);
        };
        let bytes = BASE64.decode(encoded).map_err(|_| DataError::NotBase64)?;
        let found_size = bytes.len() as u64;
        if found_size != self.size {
            return Err(DataError::SizeMismatch {
                expected: self.size,
                found: found_size,
            });
        }
        let algorithm = self.digest.algorithm();
        let found = Digest::compute_with(algorithm, &bytes)
            .map_err(|_| DataError::UnverifiableAlgorithm(algorithm.clone()))?;
        if found != self.digest {
            return Err(DataError::DigestMismatch {
                expected: self.digest.clone(),
                found,
            });
        }
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_descriptor_matches_the_spec_constant_and_verifies() {
        let empty = Descriptor::empty();
        assert_eq!(empty.digest.as_str(), EMPTY_JSON_DIGEST);
        assert_eq!(empty.size, 2);
        assert_eq!(empty.data.as_deref(), Some("e30="));
        assert_eq!(empty.verified_data().unwrap(), Some(b"{}".to_vec()));
    }

    #[test]
    fn data_that_disagrees_with_the_descriptor_is_reported() {
        let mut wrong = Descriptor::empty();
        wrong.data = Some("e30K".into()); // "{}\n": three bytes
        assert_eq!(
            wrong.verified_data(),
            Err(DataError::SizeMismatch {
                expected: 2,
                found: 3
            })
        );
        wrong.data = Some("W10=".into()); // "[]": right size, wrong digest
        assert!(matches!(
            wrong.verified_data(),
            Err(DataError::DigestMismatch { .. })
        ));
        wrong.data = Some("not base64!".into());
        assert_eq!(wrong.verified_data(), Err(DataError::NotBase64));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let text = r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"com.example/x":{"n":[1,2]}}"#;
        let parsed: Descriptor = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.extra["com.example/x"]["n"][1], 2);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }
}
