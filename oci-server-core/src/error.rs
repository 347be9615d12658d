//! The crate's error types: [`Error`] for what a request can run into (each maps to one HTTP
//! status and one distribution-spec error code) and [`StorageError`] for the backends.

use std::{io, path::PathBuf, time::Duration};

use http::{Method, StatusCode};
use oci_digest::{Digest, DigestError};
use oci_spec_types::{ErrorCode, ManifestError};

use crate::auth::AuthFailure;

/// Everything a registry request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository name does not match the spec grammar.
    #[error("invalid repository name {name:?}")]
    NameInvalid {
        /// The name as given.
        name: String,
    },
    /// The repository does not exist.
    #[error("repository {name} is not known to this registry")]
    NameUnknown {
        /// The repository asked for.
        name: String,
    },
    /// The tag does not match the spec grammar.
    #[error("invalid tag {tag:?}")]
    TagInvalid {
        /// The tag as given.
        tag: String,
    },
    /// A digest that does not parse.
    #[error("invalid digest {input:?}")]
    DigestInvalid {
        /// The digest as given.
        input: String,
        /// Why it was refused.
        #[source]
        source: Box<DigestError>,
    },
    /// A request that must name a digest (`PUT` ending an upload) did not.
    #[error("the digest query parameter is missing")]
    DigestMissing,
    /// A digest whose algorithm this server cannot compute.
    #[error("digest algorithm {algorithm:?} is not supported")]
    UnsupportedAlgorithm {
        /// The algorithm named.
        algorithm: String,
    },
    /// The content does not hash to the digest the client gave.
    #[error("digest mismatch: expected {expected}, content hashes to {found}")]
    DigestMismatch {
        /// The digest the client announced.
        expected: Digest,
        /// The digest of what arrived.
        found: Digest,
    },
    /// The content length differs from what the client announced.
    #[error("size mismatch: expected {expected} bytes, received {found}")]
    SizeMismatch {
        /// The announced length.
        expected: u64,
        /// The length received.
        found: u64,
    },
    /// The blob is not in this repository.
    #[error("blob {digest} is unknown to this repository")]
    BlobUnknown {
        /// The blob asked for.
        digest: Digest,
    },
    /// The upload session does not exist (finished, cancelled, or never started).
    #[error("upload {id:?} is unknown")]
    UploadUnknown {
        /// The session id as given.
        id: String,
    },
    /// A chunk that does not start where the upload currently ends.
    #[error("chunk starts at {start} but the upload holds {offset} bytes")]
    UploadOutOfOrder {
        /// Bytes already received.
        offset: u64,
        /// Where the refused chunk started.
        start: u64,
        /// The upload's URL, for the client to resume.
        location: String,
    },
    /// A `Content-Range` header that does not parse (answered with 416, like a chunk out of
    /// order).
    #[error("invalid Content-Range {value:?}")]
    ContentRangeInvalid {
        /// The header value.
        value: String,
    },
    /// A blob `Range` that selects no byte of the blob.
    #[error("range not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable {
        /// The blob's size.
        size: u64,
    },
    /// No manifest under that tag or digest.
    #[error("manifest {reference} is unknown")]
    ManifestUnknown {
        /// The tag or digest asked for.
        reference: String,
    },
    /// The pushed manifest failed validation.
    #[error("invalid manifest")]
    ManifestInvalid(#[source] Box<ManifestError>),
    /// The pushed manifest references a blob this repository does not hold.
    #[error("manifest references blob {digest}, which is not in the repository")]
    ManifestBlobUnknown {
        /// The missing blob.
        digest: Digest,
    },
    /// The pushed manifest exceeds the configured size limit.
    #[error("manifest larger than the limit of {limit} bytes")]
    ManifestTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A query parameter with a value that cannot be used.
    #[error("invalid value {value:?} for query parameter {parameter}")]
    QueryInvalid {
        /// The parameter's name.
        parameter: &'static str,
        /// The value given.
        value: String,
    },
    /// Deleting is switched off in the configuration.
    #[error("deletes are disabled on this registry")]
    DeleteDisabled {
        /// The methods the endpoint does answer (the `Allow` header).
        allow: &'static str,
    },
    /// The endpoint exists but not for this method.
    #[error("method {method} is not allowed here")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the endpoint does answer (the `Allow` header).
        allow: &'static str,
    },
    /// No endpoint has this path.
    #[error("no endpoint at {path}")]
    RouteUnknown {
        /// The path asked for.
        path: String,
    },
    /// The caller is not let in: 401 with the challenge, or 403 `DENIED` for
    /// [`AuthFailure::Denied`].
    #[error("not authorized")]
    Auth {
        /// Why.
        #[source]
        failure: AuthFailure,
        /// The `WWW-Authenticate` value to answer with.
        challenge: Option<String>,
    },
    /// Too many upload sessions are open (in the registry, or in `repository`); answered 429
    /// with `Retry-After`.
    #[error("too many open upload sessions: the limit is {limit}")]
    TooManyUploads {
        /// The repository whose cap was reached, or `None` for the registry's.
        repository: Option<String>,
        /// The cap.
        limit: usize,
        /// When to try again.
        retry_after: Duration,
    },
    /// Reading the request body failed (for example the client went away).
    #[error("reading the request body failed")]
    Body(#[source] io::Error),
    /// The storage backend failed.
    #[error("storage failure")]
    Storage(#[source] StorageError),
    /// Encoding a JSON answer failed.
    #[error("encoding a JSON answer failed")]
    Encode(#[source] serde_json::Error),
    /// Signing a token at the token endpoint failed.
    #[error("signing a token failed")]
    TokenSigning(#[source] jsonwebtoken::errors::Error),
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NameUnknown { .. }
            | Error::BlobUnknown { .. }
            | Error::UploadUnknown { .. }
            | Error::ManifestUnknown { .. }
            | Error::RouteUnknown { .. } => StatusCode::NOT_FOUND,
            Error::UploadOutOfOrder { .. }
            | Error::ContentRangeInvalid { .. }
            | Error::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Error::ManifestTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyUploads { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::DeleteDisabled { .. } | Error::MethodNotAllowed { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            Error::Storage(_) | Error::Encode(_) | Error::TokenSigning(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Error::Auth {
                failure: AuthFailure::Denied { .. },
                ..
            } => StatusCode::FORBIDDEN,
            Error::Auth { .. } => StatusCode::UNAUTHORIZED,
            Error::NameInvalid { .. }
            | Error::TagInvalid { .. }
            | Error::DigestInvalid { .. }
            | Error::DigestMissing
            | Error::UnsupportedAlgorithm { .. }
            | Error::DigestMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::ManifestInvalid(_)
            | Error::ManifestBlobUnknown { .. }
            | Error::QueryInvalid { .. }
            | Error::Body(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The distribution-spec error code of the JSON error body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NameInvalid { .. } => ErrorCode::NameInvalid,
            Error::NameUnknown { .. } => ErrorCode::NameUnknown,
            Error::TagInvalid { .. } | Error::ManifestInvalid(_) => ErrorCode::ManifestInvalid,
            Error::DigestInvalid { .. }
            | Error::DigestMissing
            | Error::UnsupportedAlgorithm { .. }
            | Error::DigestMismatch { .. } => ErrorCode::DigestInvalid,
            Error::SizeMismatch { .. }
            | Error::ManifestTooLarge { .. }
            | Error::RangeNotSatisfiable { .. } => ErrorCode::SizeInvalid,
            Error::BlobUnknown { .. } => ErrorCode::BlobUnknown,
            Error::UploadUnknown { .. } => ErrorCode::BlobUploadUnknown,
            Error::UploadOutOfOrder { .. } | Error::ContentRangeInvalid { .. } | Error::Body(_) => {
                ErrorCode::BlobUploadInvalid
            }
            Error::ManifestUnknown { .. } => ErrorCode::ManifestUnknown,
            Error::TooManyUploads { .. } => ErrorCode::TooManyRequests,
            Error::ManifestBlobUnknown { .. } => ErrorCode::ManifestBlobUnknown,
            Error::QueryInvalid { .. }
            | Error::DeleteDisabled { .. }
            | Error::MethodNotAllowed { .. }
            | Error::RouteUnknown { .. } => ErrorCode::Unsupported,
            Error::Storage(_) | Error::Encode(_) | Error::TokenSigning(_) => {
                ErrorCode::Other("INTERNAL_ERROR".to_owned())
            }
            Error::Auth {
                failure: AuthFailure::Denied { .. },
                ..
            } => ErrorCode::Denied,
            Error::Auth { .. } => ErrorCode::Unauthorized,
        }
    }

    /// Structured detail for the JSON error body, when there is something a client can act on.
    pub fn detail(&self) -> Option<serde_json::Value> {
        match self {
            Error::DigestMismatch { expected, found } => Some(serde_json::json!({
                "expected": expected.as_str(), "found": found.as_str()
            })),
            Error::SizeMismatch { expected, found } => {
                Some(serde_json::json!({ "expected": expected, "found": found }))
            }
            Error::BlobUnknown { digest } | Error::ManifestBlobUnknown { digest } => {
                Some(serde_json::json!({ "digest": digest.as_str() }))
            }
            Error::ManifestTooLarge { limit } => Some(serde_json::json!({ "limit": limit })),
            Error::TooManyUploads {
                repository, limit, ..
            } => Some(serde_json::json!({ "limit": limit, "repository": repository })),
            Error::ManifestInvalid(source) => {
                Some(serde_json::json!({ "reason": source.to_string() }))
            }
            Error::Auth { failure, .. } => {
                Some(serde_json::json!({ "reason": failure.to_string() }))
            }
            _ => None,
        }
    }

    pub(crate) fn digest_invalid(input: &str, source: DigestError) -> Self {
        Error::DigestInvalid {
            input: input.to_owned(),
            source: Box::new(source),
        }
    }
}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        match err {
            // The stream being stored was the request body: the client's side failed.
            StorageError::Source(source) => Error::Body(source),
            other => Error::Storage(other),
        }
    }
}

/// What a storage backend can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A filesystem (or object store) operation failed.
    #[error("{operation} {path:?} failed")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// On what.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The stream being written failed; nothing of it was committed.
    #[error("the data stream being stored failed")]
    Source(#[source] io::Error),
    /// A stored metadata object cannot be read back.
    #[error("stored object {key} is corrupt: {reason}")]
    Corrupt {
        /// The object's key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key segment that could escape the store (empty, dot segments, separators, NUL).
    #[error("unsafe storage key segment {segment:?}")]
    UnsafeKey {
        /// The refused segment.
        segment: String,
    },
    /// The data of an upload session is gone.
    #[error("upload {id} has no data in the store")]
    UploadMissing {
        /// The session id.
        id: String,
    },
    /// An object-store request failed.
    #[error("{operation} {key} failed in the object store")]
    Object {
        /// What was being done.
        operation: &'static str,
        /// The object (or prefix) it was done on.
        key: String,
        /// The object store's error.
        #[source]
        source: crate::body::BoxError,
    },
    /// A storage location names a scheme this build cannot open (see the crate's features).
    #[error("unsupported storage location {location:?}: scheme {scheme:?} is not compiled in")]
    UnsupportedScheme {
        /// The location as given.
        location: String,
        /// Its scheme.
        scheme: String,
    },
    /// A storage location that cannot be opened (bad URL, missing setting).
    #[error("cannot open storage location {location:?}")]
    Config {
        /// The location as given.
        location: String,
        /// Why.
        #[source]
        source: crate::body::BoxError,
    },
}

impl StorageError {
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
