//! The crate's errors: one enum per kind of input, each variant carrying what a caller
//! needs to act on it.

use std::fmt;

use oci_digest::{Algorithm, Digest, DigestError};

use crate::media_type::MediaType;

/// Why bytes were refused as a manifest.
///
/// A registry answers all of these with `MANIFEST_INVALID`, except
/// [`Schema1Unsupported`](Self::Schema1Unsupported) and
/// [`UnsupportedMediaType`](Self::UnsupportedMediaType), which some answer with
/// `UNSUPPORTED`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The bytes are not JSON (or nest deeper than the parser's recursion limit).
    #[error("manifest is not valid JSON")]
    InvalidJson(#[source] serde_json::Error),
    /// The bytes are JSON, but not a JSON object.
    #[error("manifest is not a JSON object")]
    NotAnObject,
    /// A Docker schema 1 manifest, recognised by its media type, its `schemaVersion: 1`
    /// or its `fsLayers`: these are no longer accepted anywhere.
    #[error("Docker schema 1 manifests are not supported; push it as schema 2 or OCI")]
    Schema1Unsupported,
    /// `schemaVersion` is missing or is not 2 (strict mode).
    #[error("schemaVersion must be 2, found {}", found.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string))]
    SchemaVersion {
        /// The value found, if any.
        found: Option<serde_json::Value>,
    },
    /// The `mediaType` field and the `Content-Type` disagree (strict mode).
    #[error("mediaType field {declared} does not match Content-Type {content_type}")]
    MediaTypeMismatch {
        /// The `mediaType` field of the manifest.
        declared: MediaType,
        /// The `Content-Type` it was sent with.
        content_type: MediaType,
    },
    /// The `Content-Type` (or `mediaType` field) names something that is not a manifest
    /// type this crate reads (strict mode).
    #[error("{0} is not a supported manifest media type")]
    UnsupportedMediaType(MediaType),
    /// Neither a media type nor the fields tell whether this is an image or an index.
    #[error("cannot tell the kind of manifest: no media type, no `config`, no `manifests`")]
    UnknownKind,
    /// Both image fields (`config`, `layers`) and index fields (`manifests`) are present
    /// (strict mode).
    #[error("manifest mixes image fields (config, layers) with index fields (manifests)")]
    Hybrid,
    /// The JSON does not fit the manifest's schema (a required field is missing, a field
    /// has the wrong type, a digest is malformed, a size is negative, ...).
    #[error("invalid manifest: {0}")]
    Invalid(String),
    /// A media type or artifact type is not of the form `type/subtype` (strict mode).
    #[error("{location}: media type {media_type:?} is not well formed")]
    InvalidMediaType {
        /// Where the bad media type is.
        location: DescriptorLocation,
        /// The media type found.
        media_type: MediaType,
    },
    /// A descriptor's `data` field does not decode to the content it describes (strict mode).
    #[error("{location}: data field does not match the descriptor: {reason}")]
    DataMismatch {
        /// The descriptor whose data is wrong.
        location: DescriptorLocation,
        /// What is wrong with it (boxed: it holds two digests, and keeping
        /// `ManifestError` small keeps every `Result` of this crate cheap).
        #[source]
        reason: Box<DataError>,
    },
    /// A manifest built in memory could not be written as JSON.
    #[error("cannot encode manifest")]
    Encode(#[source] serde_json::Error),
}

/// Where in a manifest a descriptor (or field) sits, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DescriptorLocation {
    /// The manifest's own fields (e.g. its `artifactType`).
    Manifest,
    /// `config`
    Config,
    /// `layers[i]`
    Layer(usize),
    /// `manifests[i]`
    Entry(usize),
    /// `subject`
    Subject,
}

impl fmt::Display for DescriptorLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescriptorLocation::Manifest => f.write_str("manifest"),
            DescriptorLocation::Config => f.write_str("config"),
            DescriptorLocation::Layer(i) => write!(f, "layers[{i}]"),
            DescriptorLocation::Entry(i) => write!(f, "manifests[{i}]"),
            DescriptorLocation::Subject => f.write_str("subject"),
        }
    }
}

/// Why a descriptor's embedded `data` does not stand for the content it describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// `data` is not standard base64 with padding.
    #[error("data is not valid base64")]
    NotBase64,
    /// The decoded length differs from `size`.
    #[error("data is {found} bytes, size says {expected}")]
    SizeMismatch {
        /// The descriptor's `size`.
        expected: u64,
        /// Length of the decoded data.
        found: u64,
    },
    /// The decoded bytes hash to another digest.
    #[error("data hashes to {found}, digest says {expected}")]
    DigestMismatch {
        /// The descriptor's `digest`.
        expected: Digest,
        /// Digest of the decoded data.
        found: Digest,
    },
    /// The digest's algorithm cannot be computed here, so the data cannot be checked.
    #[error("cannot verify data: digest algorithm {0} is not supported")]
    UnverifiableAlgorithm(Algorithm),
}

/// Why a string was refused as an image reference, repository name or tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The reference is empty.
    #[error("empty image reference")]
    Empty,
    /// A registry with no repository after it, such as `localhost:5000` or `example.com/`.
    #[error("{input:?} names a registry but no repository")]
    MissingRepository {
        /// The whole reference.
        input: String,
    },
    /// The registry part is not `host[:port]`.
    #[error("invalid registry host {registry:?}")]
    InvalidRegistry {
        /// The registry part.
        registry: String,
    },
    /// The repository contains upper-case letters; repository names are lower case.
    #[error("repository name {repository:?} must be lower case")]
    UppercaseRepository {
        /// The repository part.
        repository: String,
    },
    /// The repository does not follow the distribution spec's name grammar.
    #[error("invalid repository name {repository:?}")]
    InvalidRepository {
        /// The repository part.
        repository: String,
    },
    /// The name (with the registry host) is longer than the spec allows.
    #[error("repository name is {length} characters long, at most {max} allowed")]
    NameTooLong {
        /// Length found.
        length: usize,
        /// Longest allowed.
        max: usize,
    },
    /// The tag does not match `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    #[error("invalid tag {tag:?}")]
    InvalidTag {
        /// The tag part.
        tag: String,
    },
    /// The part after `@` is not a valid digest.
    #[error("invalid digest in reference")]
    InvalidDigest(#[source] DigestError),
}

/// Why a string was refused as a platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// Not of the form `os/arch[/variant]` with non-empty, plain components.
    #[error("invalid platform {input:?}: expected os/arch[/variant]")]
    Malformed {
        /// The text given.
        input: String,
    },
}
