//! What the checker can find, named so that a reader can tell the kinds of loss apart.

use std::fmt;

/// How a client came to hold a blob in a repository before naming it in a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// It uploaded bytes the store did not hold before (as far as the history shows).
    Upload,
    /// It uploaded bytes that an earlier request had already stored (the server answers 201
    /// without writing anything).
    Reupload,
    /// It mounted the blob from another repository (`POST ?mount=&from=`, 201).
    Mount,
    /// It asked (`HEAD`, 200) and skipped the upload.
    Head,
    /// The history shows no acknowledgement of the blob in that repository.
    Unknown,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Via::Upload => "upload",
            Via::Reupload => "re-upload",
            Via::Mount => "mount",
            Via::Head => "head",
            Via::Unknown => "unacknowledged",
        }
    }
}

/// The kinds of violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A 5xx answer while every instance was up.
    ServerError,
    /// A request that got no answer while every instance was up.
    NoAnswer,
    /// An upload whose `PATCH` body trickled for longer than the grace period ended in a 5xx:
    /// the session was destroyed while being written.
    UploadDestroyed,
    /// An upload session written to within the window answered 404 `BLOB_UPLOAD_UNKNOWN`.
    UploadSessionLost,
    /// A manifest PUT was refused with `MANIFEST_BLOB_UNKNOWN` for a blob acknowledged in that
    /// repository within the window.
    BlobVanished(Via),
    /// An acknowledged manifest, not deleted since, cannot be read by digest (or its bytes do
    /// not hash to it).
    LostManifest,
    /// A blob named by such a manifest cannot be read from its repository (or its bytes do
    /// not hash to it).
    LostBlob(Via),
    /// A tag resolves to something no ordering of the acknowledged requests leaves it at.
    LostTag,
    /// A subject's referrers list lacks an acknowledged referrer that was not deleted.
    LostReferrer,
    /// A garbage collection run failed while every instance was up.
    GcFailed,
}

impl Kind {
    /// Which of issue #11's problems this kind shows, when it shows one: 1, a re-uploaded or
    /// mounted blob that GC still takes for old; 2, a blob skipped after a `HEAD` and lost to
    /// a concurrent sweep; 3, an upload destroyed while its `PATCH` was running.
    pub fn problem(self) -> Option<u8> {
        match self {
            Kind::BlobVanished(Via::Reupload | Via::Mount)
            | Kind::LostBlob(Via::Reupload | Via::Mount) => Some(1),
            Kind::BlobVanished(Via::Head) | Kind::LostBlob(Via::Head) => Some(2),
            Kind::UploadDestroyed => Some(3),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::ServerError => write!(f, "server-error"),
            Kind::NoAnswer => write!(f, "no-answer"),
            Kind::UploadDestroyed => write!(f, "upload-destroyed-while-written"),
            Kind::UploadSessionLost => write!(f, "upload-session-lost"),
            Kind::BlobVanished(via) => write!(f, "blob-vanished-before-manifest({})", via.label()),
            Kind::LostManifest => write!(f, "lost-manifest"),
            Kind::LostBlob(via) => write!(f, "lost-blob({})", via.label()),
            Kind::LostTag => write!(f, "lost-tag"),
            Kind::LostReferrer => write!(f, "lost-referrer"),
            Kind::GcFailed => write!(f, "gc-failed"),
        }
    }
}

/// One thing the history shows went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Its kind.
    pub kind: Kind,
    /// What exactly: the request or the state read, with digests and times.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind`.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Violation {
        Violation {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(problem) = self.kind.problem() {
            write!(f, " [problem {problem}]")?;
        }
        write!(f, ": {}", self.detail)
    }
}
