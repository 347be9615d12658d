//! What a check rests on ([`Basis`]) and the optional features a registry may offer
//! ([`Feature`]).
//!
//! Only a MUST fails a run. A SHOULD, or an expectation of interoperability the spec does not
//! state as a MUST, is reported as a warning. An optional feature is a skip when the registry
//! does not offer it; when it does, the feature's checks are its MUSTs. `--require FEATURE`
//! turns the absence of a feature into a failure, for those who need it (the official v1.1
//! suite, for one, requires the referrers API).

use std::fmt;

/// What a check rests on, with the section of the distribution spec it cites. Sections name
/// the spec version: `v1.1` (distribution-spec v1.1) or `main` (newer than v1.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// A MUST of the spec: an unmet assertion fails the run.
    Must(&'static str),
    /// A SHOULD of the spec, or an interoperability expectation: an unmet assertion is a
    /// warning.
    Should(&'static str),
    /// A MUST of an optional feature: skipped when the registry does not offer the feature.
    Feature(Feature, &'static str),
}

impl Basis {
    /// The feature the check depends on, if any.
    pub fn feature(self) -> Option<Feature> {
        match self {
            Basis::Feature(feature, _) => Some(feature),
            Basis::Must(_) | Basis::Should(_) => None,
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Must(section) => write!(f, "MUST, {section}"),
            Basis::Should(section) => write!(f, "SHOULD, {section}"),
            Basis::Feature(feature, section) => write!(f, "MUST of {feature}, {section}"),
        }
    }
}

/// An optional feature: the spec lets a registry leave it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// `GET /v2/_catalog` (a Docker extension the spec does not define).
    Catalog,
    /// The referrers API and `OCI-Subject` (v1.1 §Listing Referrers: "if the registry supports
    /// the referrers API").
    Referrers,
    /// Mounting a blob with `?mount=&from=` (v1.1: "if a registry does not support
    /// cross-repository mounting ... it SHOULD return a 202").
    CrossMount,
    /// Mounting without `from` (v1.1: the registry "MAY treat the from parameter as optional").
    AnonymousMount,
    /// A blob in a single `POST` (v1.1: "Registries MAY support").
    SinglePost,
    /// Deleting tags (v1.1: "a registry MAY implement tag deletion").
    TagDelete,
    /// Deleting manifests (v1.1: "Registries MAY implement deletion or they MAY disable it").
    ManifestDelete,
    /// Deleting blobs.
    BlobDelete,
    /// Cancelling an upload with `DELETE <location>` (main).
    UploadCancel,
    /// An announced minimum chunk size, `OCI-Chunk-Min-Length` (v1.1).
    ChunkMinimum,
    /// Blob `Range` requests (v1.1: a registry SHOULD support them).
    Ranges,
    /// Blobs addressed by sha512 digests (a registry SHOULD accept them).
    Sha512Blobs,
    /// Manifests addressed by sha512 digests.
    Sha512Manifests,
    /// `?tag=` parameters on a manifest push by digest (main).
    TagParameters,
    /// An index naming manifests the registry does not hold (v1.1 §Push: a registry "MAY
    /// reject" it).
    SparseIndex,
    /// An image manifest naming a config or layer the registry does not hold (same section).
    SparseImage,
    /// An image naming non-distributable layers, with `urls`, that were never pushed.
    ForeignLayers,
}

impl Feature {
    /// Every feature, in the order `--help` lists them.
    pub const ALL: [Feature; 17] = [
        Feature::Catalog,
        Feature::Referrers,
        Feature::CrossMount,
        Feature::AnonymousMount,
        Feature::SinglePost,
        Feature::TagDelete,
        Feature::ManifestDelete,
        Feature::BlobDelete,
        Feature::UploadCancel,
        Feature::ChunkMinimum,
        Feature::Ranges,
        Feature::Sha512Blobs,
        Feature::Sha512Manifests,
        Feature::TagParameters,
        Feature::SparseIndex,
        Feature::SparseImage,
        Feature::ForeignLayers,
    ];

    /// The name used on the command line (`--require`).
    pub fn name(self) -> &'static str {
        match self {
            Feature::Catalog => "catalog",
            Feature::Referrers => "referrers",
            Feature::CrossMount => "mount",
            Feature::AnonymousMount => "anonymous-mount",
            Feature::SinglePost => "single-post",
            Feature::TagDelete => "tag-delete",
            Feature::ManifestDelete => "manifest-delete",
            Feature::BlobDelete => "blob-delete",
            Feature::UploadCancel => "upload-cancel",
            Feature::ChunkMinimum => "chunk-minimum",
            Feature::Ranges => "ranges",
            Feature::Sha512Blobs => "sha512-blobs",
            Feature::Sha512Manifests => "sha512-manifests",
            Feature::TagParameters => "tag-parameters",
            Feature::SparseIndex => "sparse-index",
            Feature::SparseImage => "sparse-image",
            Feature::ForeignLayers => "foreign-layers",
        }
    }

    /// The feature called `name` on the command line.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL
            .into_iter()
            .find(|feature| feature.name() == name)
    }

    /// Features the spec says a registry SHOULD offer: not offering one is a warning.
    pub fn recommended(self) -> Option<&'static str> {
        match self {
            Feature::Ranges => Some("v1.1 §Pulling blobs: a registry SHOULD support Range"),
            Feature::Sha512Blobs | Feature::Sha512Manifests => {
                Some("image-spec §Digests: sha512 SHOULD be supported")
            }
            _ => None,
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_a_unique_name_that_round_trips() {
        let mut names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
        for feature in Feature::ALL {
            assert_eq!(Feature::from_name(feature.name()), Some(feature));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Feature::ALL.len());
        assert_eq!(Feature::from_name("nonsense"), None);
    }

    #[test]
    fn a_basis_names_its_level_and_section() {
        assert_eq!(
            Basis::Must("v1.1 §Pulling blobs").to_string(),
            "MUST, v1.1 §Pulling blobs"
        );
        assert_eq!(
            Basis::Feature(Feature::Catalog, "Docker extension").to_string(),
            "MUST of catalog, Docker extension"
        );
    }
}
