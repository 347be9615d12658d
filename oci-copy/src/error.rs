//! The crate's error type.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use oci_digest::{Digest, DigestError};
use oci_spec_types::{ManifestError, MediaType, Platform, PlatformError, ReferenceError};

/// Everything that can go wrong while planning, copying or mirroring.
///
/// Display shows one level: the message, never the cause as well; the cause comes from
/// [`source`](std::error::Error::source), so printing the chain repeats nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("cannot read or write {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// Content did not match its digest or size.
    #[error("content of {digest} did not verify")]
    Verify {
        /// The digest the content was expected to have.
        digest: Digest,
        /// What differed.
        #[source]
        source: Box<DigestError>,
    },
    /// A digest was malformed or uses an algorithm that cannot be computed.
    #[error(transparent)]
    Digest(Box<DigestError>),
    /// Manifest bytes could not be parsed.
    #[error("manifest {digest} is invalid")]
    Manifest {
        /// Digest of the manifest bytes.
        digest: Digest,
        /// Why they were refused.
        #[source]
        source: ManifestError,
    },
    /// A manifest built in memory (a filtered index, a synthesised image) could not be
    /// encoded.
    #[error("cannot build a manifest")]
    BuildManifest(#[source] ManifestError),
    /// A manifest was found where a blob was expected or the other way round, or a
    /// manifest of a kind the operation cannot take.
    #[error("{digest} has media type {media_type}, which {end} cannot take here")]
    UnexpectedMediaType {
        /// The content.
        digest: Digest,
        /// Its media type.
        media_type: MediaType,
        /// The end that refused it.
        end: String,
    },
    /// An image reference could not be parsed.
    #[error("invalid reference {input:?}")]
    Reference {
        /// The text given.
        input: String,
        /// Why it was refused.
        #[source]
        source: Box<ReferenceError>,
    },
    /// A `transport:` reference names no transport this crate knows.
    #[error(
        "unknown transport {transport:?} in {input:?} (known: docker://, oci:, oci-archive:, docker-archive:)"
    )]
    UnknownTransport {
        /// The text given.
        input: String,
        /// The transport prefix found.
        transport: String,
    },
    /// The tag asked for is not in the source.
    #[error("{end} has no tag {tag:?}")]
    TagNotFound {
        /// The end searched.
        end: String,
        /// The tag.
        tag: String,
    },
    /// A manifest or blob is not in the end it was asked from.
    #[error("{end} has no content {digest}")]
    ContentNotFound {
        /// The end searched.
        end: String,
        /// The content.
        digest: Digest,
    },
    /// An image was asked for by a position the source does not have.
    #[error("{end} holds {count} images, so none at position @{position} (counted from 0)")]
    PositionNotFound {
        /// The end.
        end: String,
        /// The position asked for.
        position: usize,
        /// How many images it holds.
        count: usize,
    },
    /// The source holds several images and nothing said which one to take.
    #[error("{end} holds {count} images; name one with :tag, or @N for the Nth from 0")]
    AmbiguousImage {
        /// The end.
        end: String,
        /// How many images it holds.
        count: usize,
    },
    /// The source holds no image at all.
    #[error("{end} holds no image")]
    NoImage {
        /// The end.
        end: String,
    },
    /// No manifest of an index runs on the platforms asked for.
    #[error("no manifest of {digest} matches {}", platforms_text(wanted))]
    PlatformNotFound {
        /// The index.
        digest: Digest,
        /// The platforms asked for.
        wanted: Vec<Platform>,
    },
    /// Several platforms were asked for, but the destination holds one image per name.
    #[error(
        "{end} holds one platform per image, but {} were asked for: name one",
        platforms_text(found)
    )]
    SeveralPlatforms {
        /// The destination.
        end: String,
        /// The platforms asked for that the index has.
        found: Vec<Platform>,
    },
    /// An image layout folder is malformed.
    #[error("image layout {}: {problem}", path.display())]
    Layout {
        /// The layout's root folder (or archive).
        path: PathBuf,
        /// What is wrong with it.
        problem: LayoutProblem,
    },
    /// A tar archive is malformed or lacks something.
    #[error("archive {}: {problem}", path.display())]
    Archive {
        /// The archive file.
        path: PathBuf,
        /// What is wrong with it.
        problem: ArchiveProblem,
    },
    /// A JSON file inside a layout or archive could not be read.
    #[error("{} is not the JSON expected", path.display())]
    Json {
        /// The file (inside the layout or archive).
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// Content is larger than this crate reads into memory (manifests, `index.json`).
    #[error("{what} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        /// What was read.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The operation is not possible with this end.
    #[error("{end} does not support {operation}")]
    Unsupported {
        /// The end.
        end: String,
        /// What was asked.
        operation: &'static str,
    },
    /// A platform could not be parsed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// A tag filter's regular expression is invalid.
    #[error("invalid tag regex")]
    Regex(#[from] regex::Error),
    /// A tag filter's semver range is invalid.
    #[error("invalid semver range {range:?}")]
    SemverRange {
        /// The range given.
        range: String,
        /// The parser's complaint.
        #[source]
        source: semver::Error,
    },
    /// A sync file could not be parsed.
    #[error("sync file {} is invalid", path.display())]
    SyncFile {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The registry client failed.
    #[error(transparent)]
    Registry(Box<oci_distribution_client::Error>),
    /// A background task died.
    #[error("a worker task failed")]
    Task(#[from] tokio::task::JoinError),
    /// A tag could not be written.
    #[error("cannot point tag {tag:?} of {destination} at {digest}")]
    TagFailed {
        /// The tag.
        tag: String,
        /// The destination repository (or layout, or archive).
        destination: String,
        /// The manifest it was to point at.
        digest: Digest,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// Some steps of a plan failed or could not run.
    #[error("{failed} of {total} steps did not complete; the first failure follows")]
    StepsFailed {
        /// How many steps failed or could not run.
        failed: usize,
        /// How many steps the plan has.
        total: usize,
        /// The first failure.
        #[source]
        first: Box<Error>,
    },
}

/// What is wrong with an image layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutProblem {
    /// There is no `oci-layout` file.
    #[error("no oci-layout file")]
    NotALayout,
    /// The layout's version is not 1.x.
    #[error("unsupported imageLayoutVersion {0:?}")]
    UnsupportedVersion(String),
    /// There is no `index.json`.
    #[error("no index.json")]
    MissingIndex,
}

/// What is wrong with a tar archive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveProblem {
    /// A member the format requires is missing.
    #[error("no member {0:?}")]
    MissingMember(String),
    /// A link member points outside the archive or into a loop.
    #[error("link {0:?} cannot be resolved")]
    BadLink(String),
    /// `manifest.json` lists no image.
    #[error("manifest.json lists no image")]
    Empty,
    /// No image of a Docker archive carries the name asked for.
    #[error("no image is named {0:?}")]
    NoSuchName(String),
    /// The image in the archive is not the kind the operation needs (e.g. an index
    /// written to a Docker archive, which holds single-platform images only).
    #[error("{0}")]
    NotSingleImage(&'static str),
    /// A layer count mismatch between `manifest.json` and the image config.
    #[error("manifest.json lists {layers} layers but the config has {diff_ids} diff_ids")]
    LayerCountMismatch {
        /// Layers in `manifest.json`.
        layers: usize,
        /// `rootfs.diff_ids` in the config.
        diff_ids: usize,
    },
}

fn platforms_text(platforms: &[Platform]) -> String {
    let names: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    names.join(", ")
}

impl From<DigestError> for Error {
    fn from(error: DigestError) -> Self {
        Error::Digest(Box::new(error))
    }
}

impl From<oci_distribution_client::Error> for Error {
    fn from(error: oci_distribution_client::Error) -> Self {
        Error::Registry(Box::new(error))
    }
}

impl Error {
    /// An [`Error::Reference`] for `input`.
    pub(crate) fn reference(input: impl Into<String>, source: ReferenceError) -> Self {
        Error::Reference {
            input: input.into(),
            source: Box::new(source),
        }
    }

    /// Whether trying the same step again may succeed: broken transfers, transient registry
    /// answers (5xx, 429, connection errors) and task failures. Content that does not match
    /// its digest or size is final: the source holds it that way, and another read gives
    /// the same bytes. So are missing content, malformed input and unsupported operations.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Io { .. } | Error::Task(_) => true,
            Error::Registry(inner) => registry_error_is_retryable(inner),
            Error::TagFailed { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether a registry refused a manifest because it lacks content the manifest names
    /// (`MANIFEST_BLOB_UNKNOWN`).
    pub fn is_manifest_blob_unknown(&self) -> bool {
        match self {
            Error::Registry(inner) => inner
                .error_codes()
                .any(|code| *code == oci_spec_types::ErrorCode::ManifestBlobUnknown),
            Error::TagFailed { source, .. } => source.is_manifest_blob_unknown(),
            _ => false,
        }
    }

    /// The wait the registry asked for (`Retry-After`) before the step is tried again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Registry(inner) => inner.retry_after(),
            _ => None,
        }
    }

    /// Checks bytes held in memory (manifests, configs) against `digest`: an
    /// [`Error::Verify`] when they differ, an [`Error::Digest`] when the algorithm cannot be
    /// computed.
    pub(crate) fn check(digest: &Digest, bytes: &[u8]) -> Result<()> {
        digest.verify(bytes).map_err(|source| match source {
            DigestError::Mismatch { .. } => Error::Verify {
                digest: digest.clone(),
                source: Box::new(source),
            },
            other => Error::Digest(Box::new(other)),
        })
    }

    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Registry errors worth another try at the step level: what the client could not retry
/// itself (a transient status to a request whose streamed body it could not send again, a
/// transfer that broke after the answer began), but not a status the client's policy already
/// retried (retrying on top would multiply the attempts: one layer per kind of failure), an
/// answer that will not change, a wait longer than the client's default policy honours, or
/// content that failed verification.
fn registry_error_is_retryable(error: &oci_distribution_client::Error) -> bool {
    use oci_distribution_client::Error as Client;
    if caused_by_final_error(error) || error.retried_by_client() {
        return false;
    }
    let longest_wait = oci_distribution_client::RetryPolicy::default().max_retry_after();
    match error.status() {
        Some(status) => {
            oci_distribution_client::retry::is_retryable_status(status.as_u16())
                && error.retry_after().is_none_or(|wait| wait <= longest_wait)
        }
        None => {
            // A transport error is transient unless TLS refused the client's settings.
            matches!(error, Client::Source(_) | Client::UploadOffset { .. })
                || matches!(error, Client::Transport { .. } | Client::Relay { .. })
                    && error.is_transient()
        }
    }
}

/// Whether a registry error was caused by content we sent failing its own checks: the
/// upload reads the blob through our verifying stream, so a [`Error::Verify`] arrives
/// wrapped in an `io::Error` (and that, for a streamed body, in the HTTP client's error),
/// and another try would send the same bytes.
fn caused_by_final_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(ours) = current.downcast_ref::<Error>() {
            return !ours.is_retryable();
        }
        cause = match current.downcast_ref::<io::Error>() {
            // `io::Error::source` skips the wrapped error itself; `get_ref` is it.
            Some(wrapper) => match wrapper.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => None,
            },
            None => current.source(),
        };
    }
    false
}

/// An error and its causes on one line, `: `-joined (a cause whose text is already there is
/// left out): for a log line or a one-line message, since `Display` shows one level only.
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_mismatch() -> Error {
        Error::Verify {
            digest: Digest::compute(b"layer"),
            source: Box::new(DigestError::SizeMismatch {
                expected: 5,
                found: 4,
            }),
        }
    }

    #[test]
    fn content_that_fails_verification_is_final_even_inside_an_upload_error() {
        let verify = size_mismatch();
        assert!(!verify.is_retryable());
        // The digest in the message, the difference in its cause.
        let text = chain_text(&verify);
        assert!(
            text.contains(Digest::compute(b"layer").as_str())
                && text.contains("expected 5 bytes, found 4"),
            "{text}"
        );
        let wrapped = Error::from(oci_distribution_client::Error::Source(io::Error::other(
            size_mismatch(),
        )));
        assert!(!wrapped.is_retryable());
    }

    #[test]
    fn broken_transfers_are_tried_again() {
        let broken = || io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert!(Error::io("blob", broken()).is_retryable());
        let wrapped = Error::from(oci_distribution_client::Error::Source(io::Error::other(
            Error::io("blob", broken()),
        )));
        assert!(wrapped.is_retryable());
        let plain = Error::from(oci_distribution_client::Error::Source(broken()));
        assert!(plain.is_retryable());
    }
}
