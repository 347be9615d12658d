//! The record of one history: every request the clients sent, when it started and ended, what
//! it meant to do and how it was answered, and when instances were down. The checker
//! ([`super::model`]) judges a history from this record alone.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use oci_digest::Digest;

/// A stretch of time, measured from the start of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// When it began.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
}

impl Span {
    /// Whether the two spans share a moment.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// An upload session, numbered per client (the server's id is not needed to judge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId {
    /// The client that opened it.
    pub client: usize,
    /// Its number among that client's sessions.
    pub number: u32,
}

/// How a manifest PUT named its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `PUT .../manifests/<tag>`: stores the manifest and moves the tag to it.
    Tag(String),
    /// `PUT .../manifests/<digest>`.
    Digest,
}

/// What a pushed manifest is and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// Its digest (of the exact bytes pushed).
    pub digest: Digest,
    /// The blobs it names (config and layers of an image manifest).
    pub blobs: Vec<Digest>,
    /// The manifests it names (children of an index).
    pub children: Vec<Digest>,
    /// The manifest it refers to (`subject`), which lists it as a referrer.
    pub subject: Option<Digest>,
}

/// What a request meant to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `HEAD` of a blob: on 200 the client skips uploading it.
    BlobHead {
        /// The repository.
        repo: String,
        /// The blob.
        digest: Digest,
    },
    /// `POST ...?mount=&from=`: 201 links the blob, 202 opens `session` instead.
    Mount {
        /// The repository mounted into.
        repo: String,
        /// The blob.
        digest: Digest,
        /// The session a 202 opens.
        session: SessionId,
    },
    /// `POST .../blobs/uploads/`: opens a session.
    UploadOpen {
        /// The repository.
        repo: String,
        /// The session it opens.
        session: SessionId,
    },
    /// `PATCH` of a session's data.
    UploadPatch {
        /// The repository.
        repo: String,
        /// The session.
        session: SessionId,
        /// Whether the body trickles for longer than the grace period.
        slow: bool,
    },
    /// A request that ends with the blob in the repository: `POST ...?digest=` (no session)
    /// or `PUT <session>?digest=`.
    UploadFinish {
        /// The repository.
        repo: String,
        /// The blob.
        digest: Digest,
        /// The session it closes, if any.
        session: Option<SessionId>,
    },
    /// `PUT .../manifests/<reference>`.
    ManifestPut {
        /// The repository.
        repo: String,
        /// Tag or digest.
        reference: Reference,
        /// The manifest.
        manifest: PushedManifest,
    },
    /// `DELETE .../manifests/<digest>`: the manifest, its tags and its referrers entry.
    ManifestDelete {
        /// The repository.
        repo: String,
        /// The manifest.
        digest: Digest,
    },
    /// `DELETE .../manifests/<tag>`: the tag only.
    TagDelete {
        /// The repository.
        repo: String,
        /// The tag.
        tag: String,
    },
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The first error code of an error body.
        code: Option<String>,
        /// The digest an error body's `detail` names, when it names one.
        detail: Option<String>,
    },
    /// No answer arrived (connection refused or reset, timeout).
    NoAnswer {
        /// What the HTTP client said.
        reason: String,
    },
}

impl Outcome {
    /// The status, when answered.
    pub fn answered(&self) -> Option<u16> {
        match self {
            Outcome::Answered { status, .. } => Some(*status),
            Outcome::NoAnswer { .. } => None,
        }
    }

    /// Whether the request may have taken effect without saying so: no answer, or a 5xx.
    pub fn uncertain(&self) -> bool {
        self.answered().is_none_or(|status| status >= 500)
    }

    /// The error code of the answer, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Outcome::Answered { code, .. } => code.as_deref(),
            Outcome::NoAnswer { .. } => None,
        }
    }
}

/// One request of a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The client that sent it.
    pub client: usize,
    /// The client's operation it belongs to (operations are numbered per client).
    pub op: usize,
    /// The instance it went to.
    pub instance: usize,
    /// From sending to the end of the answer.
    pub span: Span,
    /// What it meant to do.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>8.3}s-{:.3}s c{} op{} i{} ",
            self.span.start.as_secs_f64(),
            self.span.end.as_secs_f64(),
            self.client,
            self.op,
            self.instance
        )?;
        match &self.action {
            Action::BlobHead { repo, digest } => write!(f, "HEAD {repo} blob {}", short(digest)),
            Action::Mount { repo, digest, .. } => write!(f, "MOUNT {} into {repo}", short(digest)),
            Action::UploadOpen { repo, session } => {
                write!(f, "POST {repo} upload s{}", session.number)
            }
            Action::UploadPatch {
                repo,
                session,
                slow,
            } => {
                let pace = if *slow { " (slow)" } else { "" };
                write!(f, "PATCH {repo} upload s{}{pace}", session.number)
            }
            Action::UploadFinish {
                repo,
                digest,
                session,
            } => match session {
                Some(session) => {
                    write!(f, "PUT {repo} upload s{} {}", session.number, short(digest))
                }
                None => write!(f, "POST {repo} blob {} (monolithic)", short(digest)),
            },
            Action::ManifestPut {
                repo,
                reference,
                manifest,
            } => {
                write!(f, "PUT {repo} manifest {}", short(&manifest.digest))?;
                if let Reference::Tag(tag) = reference {
                    write!(f, " as :{tag}")?;
                }
                let names: Vec<&str> = manifest.blobs.iter().map(short).collect();
                if !names.is_empty() {
                    write!(f, " blobs [{}]", names.join(" "))?;
                }
                let children: Vec<&str> = manifest.children.iter().map(short).collect();
                if !children.is_empty() {
                    write!(f, " children [{}]", children.join(" "))?;
                }
                if let Some(subject) = &manifest.subject {
                    write!(f, " subject {}", short(subject))?;
                }
                Ok(())
            }
            Action::ManifestDelete { repo, digest } => {
                write!(f, "DELETE {repo} manifest {}", short(digest))
            }
            Action::TagDelete { repo, tag } => write!(f, "DELETE {repo} tag :{tag}"),
        }?;
        match &self.outcome {
            Outcome::Answered { status, code, .. } => {
                write!(f, " -> {status}")?;
                match code {
                    Some(code) => write!(f, " {code}"),
                    None => Ok(()),
                }
            }
            Outcome::NoAnswer { reason } => write!(f, " -> no answer ({reason})"),
        }
    }
}

/// The first 12 hex digits of a digest, enough to tell a history's digests apart.
pub fn short(digest: &Digest) -> &str {
    let encoded = digest.encoded();
    encoded.get(..12).unwrap_or(encoded)
}

/// A whole history, ready to judge.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Every request, in the order they ended.
    pub requests: Vec<Request>,
    /// When an instance was down (from its kill to its restart's announcement).
    pub down: Vec<Span>,
    /// How long an acknowledgement must hold even for unreferenced content: the grace period
    /// less the liveness refresh interval and the store's timestamp resolution.
    pub window: Duration,
}

impl History {
    /// Whether any instance was down at some moment of `span`.
    pub fn disturbed(&self, span: &Span) -> bool {
        self.down.iter().any(|down| down.overlaps(span))
    }
}

/// Collects a history while clients, the killer and the collector run concurrently.
#[derive(Debug)]
pub struct Recorder {
    epoch: Instant,
    requests: Mutex<Vec<Request>>,
    down: Mutex<Vec<Span>>,
}

impl Recorder {
    /// Starts the clock of a history.
    pub fn new() -> Recorder {
        Recorder {
            epoch: Instant::now(),
            requests: Mutex::new(Vec::new()),
            down: Mutex::new(Vec::new()),
        }
    }

    /// The time since the history started.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Records a finished request.
    pub fn request(&self, request: Request) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Records that an instance was down during `span`.
    pub fn down(&self, span: Span) {
        self.down
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
    }

    /// The history recorded so far.
    pub fn history(&self, window: Duration) -> History {
        History {
            requests: self
                .requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            down: self
                .down
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            window,
        }
    }
}
