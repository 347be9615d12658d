//! Media types of the OCI image spec and of Docker's image formats.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A media type as it appears in a `mediaType` or `artifactType` field or in a
/// `Content-Type` header.
///
/// The well-known types get their own variant; anything else is kept verbatim in
/// [`MediaType::Other`], so no media type is ever lost or rewritten. Conversion from a
/// string never fails and never produces `Other` for a string that has a variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MediaType {
    /// `application/vnd.oci.image.manifest.v1+json`
    OciImageManifest,
    /// `application/vnd.oci.image.index.v1+json`
    OciImageIndex,
    /// `application/vnd.oci.image.config.v1+json`
    OciImageConfig,
    /// `application/vnd.oci.empty.v1+json`: the `{}` blob used as an artifact's config.
    OciEmpty,
    /// `application/vnd.oci.image.layer.v1.tar`
    OciLayerTar,
    /// `application/vnd.oci.image.layer.v1.tar+gzip`
    OciLayerTarGzip,
    /// `application/vnd.oci.image.layer.v1.tar+zstd`
    OciLayerTarZstd,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar`
    OciLayerNondistributableTar,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+gzip`
    OciLayerNondistributableTarGzip,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+zstd`
    OciLayerNondistributableTarZstd,
    /// `application/vnd.docker.distribution.manifest.v2+json` (Docker image manifest, schema 2)
    DockerManifestV2,
    /// `application/vnd.docker.distribution.manifest.list.v2+json` (Docker manifest list)
    DockerManifestList,
    /// `application/vnd.docker.container.image.v1+json` (Docker image configuration)
    DockerContainerConfig,
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip` (Docker layer)
    DockerLayerTarGzip,
    /// `application/vnd.docker.image.rootfs.foreign.diff.tar.gzip` (Docker layer fetched from `urls`)
    DockerForeignLayerTarGzip,
    /// `application/vnd.docker.distribution.manifest.v1+json` (schema 1: recognised, never accepted)
    DockerManifestV1,
    /// `application/vnd.docker.distribution.manifest.v1+prettyjws` (signed schema 1: recognised, never accepted)
    DockerManifestV1Signed,
    /// Any other media type, kept exactly as written.
    Other(String),
}

/// Every media type with a variant, paired with its text. One table drives both directions
/// of the conversion so they cannot drift apart.
const KNOWN: [(MediaType, &str); 17] = [
    (
        MediaType::OciImageManifest,
        "application/vnd.oci.image.manifest.v1+json",
    ),
    (
        MediaType::OciImageIndex,
        "application/vnd.oci.image.index.v1+json",
    ),
    (
        MediaType::OciImageConfig,
        "application/vnd.oci.image.config.v1+json",
    ),
    (MediaType::OciEmpty, "application/vnd.oci.empty.v1+json"),
    (
        MediaType::OciLayerTar,
        "application/vnd.oci.image.layer.v1.tar",
    ),
    (
        MediaType::OciLayerTarGzip,
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ),
    (
        MediaType::OciLayerTarZstd,
        "application/vnd.oci.image.layer.v1.tar+zstd",
    ),
    (
        MediaType::OciLayerNondistributableTar,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    ),
    (
        MediaType::OciLayerNondistributableTarGzip,
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ),
    (
        MediaType::OciLayerNondistributableTarZstd,
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    ),
    (
        MediaType::DockerManifestV2,
        "application/vnd.docker.distribution.manifest.v2+json",
    ),
    (
        MediaType::DockerManifestList,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ),
    (
        MediaType::DockerContainerConfig,
        "application/vnd.docker.container.image.v1+json",
    ),
    (
        MediaType::DockerLayerTarGzip,
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ),
    (
        MediaType::DockerForeignLayerTarGzip,
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    ),
    (
        MediaType::DockerManifestV1,
        "application/vnd.docker.distribution.manifest.v1+json",
    ),
    (
        MediaType::DockerManifestV1Signed,
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ),
];

/// The manifest media types this crate parses, most preferred first: the value of an
/// `Accept` header for a manifest request (schema 1 is deliberately absent).
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

impl MediaType {
    /// The media type's text, e.g. `application/vnd.oci.image.manifest.v1+json`.
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::Other(text) => text,
            known => KNOWN
                .iter()
                .find(|(variant, _)| variant == known)
                .map_or("", |(_, text)| text),
        }
    }

    /// Whether this is the media type of a single-image manifest (OCI or Docker schema 2).
    pub fn is_manifest(&self) -> bool {
        matches!(
            self,
            MediaType::OciImageManifest | MediaType::DockerManifestV2
        )
    }

    /// Whether this is the media type of an index (OCI image index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        matches!(
            self,
            MediaType::OciImageIndex | MediaType::DockerManifestList
        )
    }

    /// Whether this is any manifest type this crate parses: [`is_manifest`](Self::is_manifest)
    /// or [`is_index`](Self::is_index).
    pub fn is_any_manifest(&self) -> bool {
        self.is_manifest() || self.is_index()
    }

    /// Whether this is a Docker schema 1 manifest type, which is recognised but refused.
    pub fn is_schema1(&self) -> bool {
        matches!(
            self,
            MediaType::DockerManifestV1 | MediaType::DockerManifestV1Signed
        )
    }

    /// Whether blobs of this type are not expected to be in a registry: OCI
    /// non-distributable layers and Docker foreign layers.
    pub fn is_non_distributable(&self) -> bool {
        matches!(
            self,
            MediaType::OciLayerNondistributableTar
                | MediaType::OciLayerNondistributableTarGzip
                | MediaType::OciLayerNondistributableTarZstd
                | MediaType::DockerForeignLayerTarGzip
        )
    }

    /// Whether the text is a well-formed RFC 6838 media type without parameters:
    /// `type "/" subtype`, each a restricted name of 1 to 127 characters.
    pub fn is_well_formed(&self) -> bool {
        let Some((kind, subtype)) = self.as_str().split_once('/') else {
            return false;
        };
        is_restricted_name(kind) && is_restricted_name(subtype)
    }

    /// The media type named by a `Content-Type` header value: parameters such as
    /// `; charset=utf-8` and surrounding blanks are dropped, and the known types are
    /// matched without regard to ASCII case.
    pub fn from_content_type(header: &str) -> MediaType {
        let essence = header.split(';').next().unwrap_or_default().trim();
        KNOWN
            .iter()
            .find(|(_, text)| text.eq_ignore_ascii_case(essence))
            .map_or_else(
                || MediaType::Other(essence.to_owned()),
                |(variant, _)| variant.clone(),
            )
    }
}

/// RFC 6838 `restricted-name`: an alphanumeric first character, then up to 126 of
/// alphanumerics and `!#$&-^_.+`.
fn is_restricted_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && name.len() <= 127
        && chars.all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
}

impl From<&str> for MediaType {
    fn from(text: &str) -> Self {
        KNOWN.iter().find(|(_, known)| *known == text).map_or_else(
            || MediaType::Other(text.to_owned()),
            |(variant, _)| variant.clone(),
        )
    }
}

impl From<String> for MediaType {
    fn from(text: String) -> Self {
        match MediaType::from(text.as_str()) {
            MediaType::Other(_) => MediaType::Other(text),
            known => known,
        }
    }
}

impl FromStr for MediaType {
    type Err = Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(MediaType::from(text))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(MediaType::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_round_trips_through_its_text() {
        for (variant, text) in KNOWN {
            assert_eq!(variant.as_str(), text);
            assert_eq!(MediaType::from(text), variant);
        }
    }

    #[test]
    fn content_type_parameters_and_case_are_ignored() {
        assert_eq!(
            MediaType::from_content_type(
                " Application/VND.oci.image.index.v1+json ; charset=utf-8"
            ),
            MediaType::OciImageIndex
        );
        assert_eq!(
            MediaType::from_content_type("application/json; charset=utf-8"),
            MediaType::Other("application/json".into())
        );
    }

    #[test]
    fn well_formedness_follows_rfc_6838() {
        assert!(MediaType::OciLayerTarGzip.is_well_formed());
        assert!(MediaType::from("application/vnd.example+type").is_well_formed());
        for bad in [
            "",
            "application",
            "application/",
            "/json",
            "a/b c",
            "a/b;x=y",
            "a/b/c",
        ] {
            assert!(!MediaType::from(bad).is_well_formed(), "{bad:?}");
        }
    }
}
