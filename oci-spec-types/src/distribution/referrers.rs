//! The referrers index (`GET /v2/<name>/referrers/<digest>`) and its tag-schema fallback.

use oci_digest::Digest;

use crate::descriptor::Descriptor;
use crate::manifest::Manifest;
use crate::manifest::index::ImageIndex;
use crate::media_type::MediaType;

/// Longest algorithm part of a referrers tag.
const TAG_ALGORITHM_MAX: usize = 32;
/// Longest encoded part of a referrers tag.
const TAG_ENCODED_MAX: usize = 64;

impl ImageIndex {
    /// The referrers index: an OCI index (schema version 2, media type written) listing
    /// the descriptors of the manifests that refer to a subject.
    pub fn referrers(manifests: Vec<Descriptor>) -> ImageIndex {
        ImageIndex::new(manifests)
    }

    /// Keeps only the entries whose `artifactType` is `artifact_type` (the `artifactType`
    /// query parameter of the referrers API).
    pub fn retain_artifact_type(&mut self, artifact_type: &MediaType) {
        self.manifests
            .retain(|entry| entry.artifact_type.as_ref() == Some(artifact_type));
    }
}

impl Manifest {
    /// The descriptor of this manifest as an entry of its subject's referrers index:
    /// media type, digest, size, artifact type (by the referrers rule: `artifactType`,
    /// else an image's config media type) and the manifest's annotations.
    pub fn referrer_descriptor(&self) -> Descriptor {
        Descriptor {
            artifact_type: self.artifact_type(),
            annotations: self.annotations().cloned(),
            ..Descriptor::new(self.media_type(), self.digest(), self.size())
        }
    }
}

/// The tag under which clients without the referrers API keep a subject's referrers
/// index (the tag schema): `<algorithm>-<encoded>`, the parts cut to 32 and 64 characters.
pub fn referrers_tag(subject: &Digest) -> String {
    let algorithm = subject.algorithm().as_str();
    let encoded = subject.encoded();
    // Both parts are ASCII by the digest grammar, so any byte index is a char boundary.
    let algorithm = &algorithm[..algorithm.len().min(TAG_ALGORITHM_MAX)];
    let encoded = &encoded[..encoded.len().min(TAG_ENCODED_MAX)];
    format!("{algorithm}-{encoded}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;

    use super::*;
    use crate::manifest::image::ImageManifest;

    #[test]
    fn referrer_descriptor_follows_the_referrers_rule() {
        let mut artifact = ImageManifest::new(Descriptor::empty(), vec![]);
        artifact.subject = Some(Descriptor::new(
            MediaType::OciImageManifest,
            Digest::compute(b"x"),
            1,
        ));
        artifact.annotations = Some(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
        let manifest = Manifest::from_image(artifact.clone()).unwrap();
        let entry = manifest.referrer_descriptor();
        assert_eq!(entry.media_type, MediaType::OciImageManifest);
        assert_eq!(entry.digest, Digest::compute(manifest.raw()));
        assert_eq!(entry.size, manifest.raw().len() as u64);
        assert_eq!(
            entry.artifact_type,
            Some(MediaType::OciEmpty),
            "falls back to the config type"
        );
        assert_eq!(entry.annotation("k"), Some("v"));

        artifact.artifact_type = Some(MediaType::from("application/vnd.example.sbom"));
        let entry = Manifest::from_image(artifact)
            .unwrap()
            .referrer_descriptor();
        assert_eq!(
            entry.artifact_type,
            Some(MediaType::from("application/vnd.example.sbom"))
        );
    }

    #[test]
    fn referrers_index_is_an_oci_index_and_filters_by_artifact_type() {
        let sbom = MediaType::from("application/vnd.example.sbom");
        let mut entry = Descriptor::new(MediaType::OciImageManifest, Digest::compute(b"a"), 1);
        entry.artifact_type = Some(sbom.clone());
        let other = Descriptor::new(MediaType::OciImageManifest, Digest::compute(b"b"), 1);
        let mut index = ImageIndex::referrers(vec![entry.clone(), other]);
        let text = serde_json::to_vec(&index).unwrap();
        let parsed = Manifest::parse_strict(Bytes::from(text), None).unwrap();
        assert_eq!(parsed.media_type(), MediaType::OciImageIndex);
        index.retain_artifact_type(&sbom);
        assert_eq!(index.manifests, vec![entry]);
    }

    #[test]
    fn referrers_tag_is_algorithm_dash_encoded() {
        let digest = Digest::compute(b"");
        assert_eq!(
            referrers_tag(&digest),
            format!("sha256-{}", digest.encoded())
        );
        let long = Digest::parse(&format!("sha512:{}", "ab".repeat(64))).unwrap();
        assert_eq!(referrers_tag(&long), format!("sha512-{}", "ab".repeat(32)));
    }
}
