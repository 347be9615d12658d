//! Well-known annotation keys and values.
//!
//! The `org.opencontainers.image.*` keys are defined by the image spec; the
//! `vnd.docker.reference.*` keys are what Docker Buildx writes on the attestation
//! manifests it adds to an image index.

/// Date and time the image was built (RFC 3339).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Contact details of the people or organisation responsible for the image.
pub const ANNOTATION_AUTHORS: &str = "org.opencontainers.image.authors";
/// URL to find more information on the image.
pub const ANNOTATION_URL: &str = "org.opencontainers.image.url";
/// URL to get documentation on the image.
pub const ANNOTATION_DOCUMENTATION: &str = "org.opencontainers.image.documentation";
/// URL to the source code the image was built from.
pub const ANNOTATION_SOURCE: &str = "org.opencontainers.image.source";
/// Version of the packaged software.
pub const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";
/// Source control revision the image was built from.
pub const ANNOTATION_REVISION: &str = "org.opencontainers.image.revision";
/// Name of the distributing entity.
pub const ANNOTATION_VENDOR: &str = "org.opencontainers.image.vendor";
/// Licence(s) of the contained software, as an SPDX expression.
pub const ANNOTATION_LICENSES: &str = "org.opencontainers.image.licenses";
/// Name of a reference, e.g. the tag of an image in an OCI image layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Human-readable title of the image.
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// Human-readable description of the image.
pub const ANNOTATION_DESCRIPTION: &str = "org.opencontainers.image.description";
/// Digest of the image this image is based on.
pub const ANNOTATION_BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
/// Image reference of the image this image is based on.
pub const ANNOTATION_BASE_NAME: &str = "org.opencontainers.image.base.name";

/// Docker's marker of what an index entry is, e.g. [`DOCKER_REFERENCE_TYPE_ATTESTATION`].
pub const ANNOTATION_DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Digest of the image manifest a Docker attestation manifest describes.
pub const ANNOTATION_DOCKER_REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// Value of [`ANNOTATION_DOCKER_REFERENCE_TYPE`] on build attestations (SBOM, provenance).
pub const DOCKER_REFERENCE_TYPE_ATTESTATION: &str = "attestation-manifest";
