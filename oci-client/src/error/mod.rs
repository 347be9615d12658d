//! The crate's error type: what the registry said, what the network did, what did not verify,
//! and [`ErrorKind`], what a caller can do about it.
//!
//! Display shows one level: the message, never the cause as well; the cause comes from
//! [`source`](std::error::Error::source), so printing the chain repeats nothing.

mod kind;

pub use kind::ErrorKind;

use std::path::PathBuf;
use std::time::Duration;

use http::{Method, StatusCode};
use oci_digest::{Digest, DigestError};
use oci_spec_types::{ErrorCode, ErrorInfo, ManifestError, MediaType, ReferenceError};

use crate::tls::TlsError;

/// Everything that can go wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry answered with a status the operation does not accept. `errors` holds the
    /// spec error codes of the body (empty when the body was not a spec error body).
    #[error("{method} {url} answered {status}{}", describe_codes(errors))]
    Status {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// The status answered.
        status: StatusCode,
        /// The distribution-spec errors of the body.
        errors: Vec<ErrorInfo>,
        /// The wait the registry asked for before another try (`Retry-After`), when sent:
        /// a request the client could not replay is retried by its caller, who needs it.
        retry_after: Option<Duration>,
        /// Whether the client's [`RetryPolicy`](crate::RetryPolicy) already covered this
        /// request (its body could be sent again, so a transient status was retried as far
        /// as the policy allows): a caller that retries it again multiplies the attempts.
        retried: bool,
    },

    /// The request could not be sent, or the connection broke while reading the answer.
    #[error("{method} {url} failed")]
    Transport {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// What the HTTP stack said.
        #[source]
        source: reqwest::Error,
    },

    /// A blob relayed between registries ([`Client::relay_blob`](crate::Client::relay_blob))
    /// could not be moved: a connection failed or broke, the source ended before its
    /// length ([`std::io::ErrorKind::UnexpectedEof`]), or an answer was unreadable.
    #[error("{method} {url} failed (relayed)")]
    Relay {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// What the connection said.
        #[source]
        source: std::io::Error,
    },

    /// Credentials or a token could not be obtained.
    #[error("authentication with {registry} failed")]
    Auth {
        /// The registry that asked for authentication.
        registry: String,
        /// What went wrong.
        #[source]
        source: oci_auth::Error,
    },

    /// The registry's `WWW-Authenticate` header could not be parsed.
    #[error("{registry} sent an unreadable WWW-Authenticate challenge")]
    Challenge {
        /// The registry.
        registry: String,
        /// The parser's complaint.
        #[source]
        source: oci_auth::ChallengeError,
    },

    /// Content hashed to another digest than the one expected.
    #[error("digest mismatch: expected {expected}, found {found}")]
    DigestMismatch {
        /// The digest asked for (or announced by the registry).
        expected: Digest,
        /// The digest of the bytes received.
        found: Digest,
    },

    /// A blob ended with another length than the one expected.
    #[error("blob {digest} has {found} bytes, expected {expected}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The expected length.
        expected: u64,
        /// The length received.
        found: u64,
    },

    /// A blob went on past its expected length.
    #[error("blob {digest} exceeds its expected size of {expected} bytes")]
    SizeExceeded {
        /// The blob.
        digest: Digest,
        /// The expected length.
        expected: u64,
    },

    /// A digest could not be parsed or its algorithm cannot be computed.
    #[error(transparent)]
    Digest(#[from] DigestError),

    /// A manifest (or referrers index) is larger than the configured limit.
    #[error("{url} holds {size:?} bytes, more than the limit of {limit}")]
    ManifestTooLarge {
        /// Where it was read from or sent to.
        url: String,
        /// The limit in bytes.
        limit: u64,
        /// Its size when known.
        size: Option<u64>,
    },

    /// A manifest could not be parsed.
    #[error("invalid manifest")]
    Manifest(#[from] ManifestError),

    /// A manifest other than an image index sits where an index is required (the referrers
    /// tag schema).
    #[error("{tag} should hold an image index but holds {media_type}")]
    NotAnIndex {
        /// The tag.
        tag: String,
        /// What it holds.
        media_type: MediaType,
    },

    /// A referrer did not stay listed in its subject's fallback referrers index: after each
    /// write, another writer replaced the index with one that lacks it.
    #[error(
        "{referrer} is not listed in the fallback referrers index {tag}: another writer replaced the index after each of {writes} writes"
    )]
    FallbackIndexContended {
        /// The index's tag (`<alg>-<encoded>` of the subject).
        tag: String,
        /// The referrer that could not be added.
        referrer: Digest,
        /// How many times the index was written.
        writes: usize,
    },

    /// A manifest given to a referrer helper has no `subject`.
    #[error("the manifest has no subject")]
    NoSubject,

    /// A JSON body (tag list, catalog, referrers index) has the wrong shape.
    #[error("{url} answered JSON of an unexpected shape")]
    Json {
        /// Where it came from.
        url: String,
        /// The decoder's complaint.
        #[source]
        source: serde_json::Error,
    },

    /// A header the operation needs is missing.
    #[error("{url} answered without a {name} header")]
    MissingHeader {
        /// The request URL.
        url: String,
        /// The header name.
        name: &'static str,
    },

    /// A header has a value that does not parse.
    #[error("{url} answered an invalid {name} header {value:?}")]
    InvalidHeader {
        /// The request URL.
        url: String,
        /// The header name.
        name: &'static str,
        /// The value (lossily decoded).
        value: String,
    },

    /// A repository name, tag or reference does not follow the spec's grammar.
    #[error(transparent)]
    Reference(#[from] ReferenceError),

    /// A URL could not be built or resolved.
    #[error("invalid URL {url:?}")]
    Url {
        /// The text that did not parse.
        url: String,
        /// The parser's complaint.
        #[source]
        source: url::ParseError,
    },

    /// Redirects went on for too long.
    #[error("more than {limit} redirects from {url}")]
    TooManyRedirects {
        /// The first URL.
        url: String,
        /// The limit.
        limit: usize,
    },

    /// Pagination links went round in a circle.
    #[error("pagination from {url} links back to a page already read")]
    PaginationLoop {
        /// The repeated page.
        url: String,
    },

    /// An upload cannot continue: the registry holds `server_offset` bytes, but the data still
    /// at hand runs from `available_from` on.
    #[error(
        "upload at {location} cannot continue: the registry holds {server_offset} bytes, data is at hand from byte {available_from}"
    )]
    UploadOffset {
        /// The upload session.
        location: String,
        /// What the registry has.
        server_offset: u64,
        /// The first byte the client can still send.
        available_from: u64,
    },

    /// A ranged request to resume a download got an answer that does not continue it.
    #[error("resuming {url} at byte {offset} got {status}")]
    ResumeRefused {
        /// The blob URL.
        url: String,
        /// Where the download stopped.
        offset: u64,
        /// The status answered.
        status: StatusCode,
    },

    /// No entry of an index matches the platform asked for.
    #[error("index {index} has no manifest for {platform}")]
    NoMatchingPlatform {
        /// The index.
        index: Digest,
        /// The platform asked for.
        platform: String,
    },

    /// A manifest that should be an image manifest is something else.
    #[error("{digest} is {media_type}, not an image manifest")]
    NotAnImage {
        /// The manifest.
        digest: Digest,
        /// What it is.
        media_type: MediaType,
    },

    /// Writing pulled content failed.
    #[error("writing the pulled content failed")]
    Sink(#[source] std::io::Error),

    /// Reading the content to upload failed.
    #[error("reading the upload source failed")]
    Source(#[source] std::io::Error),

    /// The HTTP client could not be built from the configuration (a proxy URL that does
    /// not parse, say).
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),

    /// TLS settings could not be read or used.
    #[error(transparent)]
    Tls(#[from] TlsError),

    /// A configuration file or directory (`registries.conf`, `certs.d`) could not be read.
    #[error("cannot read {path}")]
    ConfigFile {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A `registries.conf` is not valid TOML of the expected shape.
    #[error("{path} is not a valid registries.conf")]
    RegistriesConf {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: Box<toml::de::Error>,
    },

    /// A `registries.conf` entry breaks the format's rules.
    #[error("{path}: {message}")]
    RegistriesConfEntry {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A `certs.d` directory holds half a client identity.
    #[error("{path}: {problem}")]
    CertsDir {
        /// The file without its partner.
        path: PathBuf,
        /// What is missing.
        problem: &'static str,
    },

    /// `registries.conf` blocks the repository.
    #[error("{repository} is blocked by the registries.conf entry {prefix:?}")]
    Blocked {
        /// The repository asked for.
        repository: String,
        /// The prefix of the blocking entry.
        prefix: String,
    },
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl Error {
    /// The HTTP status when the registry (or its token server) answered with an
    /// unexpected one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::ResumeRefused { status, .. } => Some(*status),
            Error::Auth { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether the client already retried this request as its policy allows (see
    /// [`Error::Status`]'s `retried`); `false` for every other error.
    pub fn retried_by_client(&self) -> bool {
        matches!(self, Error::Status { retried: true, .. })
    }

    /// The wait the registry asked for (`Retry-After`) with an unexpected status.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The spec error codes the registry sent, if any.
    pub fn error_codes(&self) -> impl Iterator<Item = &ErrorCode> {
        let errors: &[ErrorInfo] = match self {
            Error::Status { errors, .. } => errors,
            _ => &[],
        };
        errors.iter().map(|info| &info.code)
    }

    /// Maps a verification failure of the blob `digest` to the matching variant.
    pub(crate) fn from_verification(digest: &Digest, error: DigestError) -> Error {
        match error {
            DigestError::Mismatch { expected, found } => Error::DigestMismatch { expected, found },
            DigestError::SizeMismatch { expected, found } => Error::SizeMismatch {
                digest: digest.clone(),
                expected,
                found,
            },
            DigestError::SizeExceeded { expected } => Error::SizeExceeded {
                digest: digest.clone(),
                expected,
            },
            other => Error::Digest(other),
        }
    }
}

/// `": MANIFEST_UNKNOWN, NAME_UNKNOWN"`, or nothing without codes.
/// `: CODE: message (detail); CODE`: the registry's own words are often the only clue
/// (distribution says which field disagrees with which header only in `detail`).
fn describe_codes(errors: &[ErrorInfo]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let described: Vec<String> = errors.iter().map(describe_one).collect();
    format!(": {}", described.join("; "))
}

fn describe_one(error: &ErrorInfo) -> String {
    let mut text = error.code.as_str().to_owned();
    if !error.message.is_empty() {
        text = format!("{text}: {}", error.message);
    }
    match &error.detail {
        None | Some(serde_json::Value::Null) => text,
        Some(serde_json::Value::String(detail)) => format!("{text} ({detail})"),
        Some(detail) => format!("{text} ({detail})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_show_their_codes() {
        let error = Error::Status {
            method: Method::GET,
            url: "http://r/v2/a/manifests/x".into(),
            status: StatusCode::NOT_FOUND,
            errors: vec![ErrorInfo {
                code: ErrorCode::ManifestUnknown,
                message: String::new(),
                detail: None,
            }],
            retry_after: None,
            retried: true,
        };
        assert!(error.is_not_found());
        assert_eq!(
            error.error_codes().collect::<Vec<_>>(),
            [&ErrorCode::ManifestUnknown]
        );
        assert!(
            error
                .to_string()
                .ends_with("404 Not Found: MANIFEST_UNKNOWN")
        );
    }

    #[test]
    fn status_errors_show_the_registry_message_and_detail() {
        let error = Error::Status {
            method: Method::PUT,
            url: "http://r/v2/a/manifests/x".into(),
            status: StatusCode::BAD_REQUEST,
            errors: vec![ErrorInfo {
                code: ErrorCode::ManifestInvalid,
                message: "manifest invalid".into(),
                detail: Some(serde_json::json!("mediaType does not match")),
            }],
            retry_after: None,
            retried: true,
        };
        assert!(error.to_string().ends_with(
            "400 Bad Request: MANIFEST_INVALID: manifest invalid (mediaType does not match)"
        ));
    }

    #[test]
    fn verification_failures_keep_their_digests() {
        let expected = Digest::compute(b"a");
        let found = Digest::compute(b"b");
        let mapped = Error::from_verification(
            &expected,
            DigestError::Mismatch {
                expected: expected.clone(),
                found: found.clone(),
            },
        );
        assert!(
            matches!(mapped, Error::DigestMismatch { expected: e, found: f } if e == expected && f == found)
        );
        let short = Error::from_verification(
            &expected,
            DigestError::SizeMismatch {
                expected: 5,
                found: 3,
            },
        );
        assert!(matches!(
            short,
            Error::SizeMismatch {
                expected: 5,
                found: 3,
                ..
            }
        ));
    }
}
