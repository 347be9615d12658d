//! Judging a history while it ran: which answers were wrong in themselves, given what was
//! acknowledged before them. (What the store holds at the end is judged by [`super::expect`].)
//!
//! The rules:
//! - no 5xx, and no request without an answer, unless an instance was down meanwhile;
//! - a blob acknowledged in a repository (uploaded, re-uploaded, mounted, or answered 200 to a
//!   `HEAD`) is still there for a manifest PUT that ends within the window after the
//!   acknowledgement began: the store may only forget unreferenced content older than that;
//! - an upload session written to within the window is still there;
//! - an upload whose `PATCH` outlives the grace period ends in success or a clean 404
//!   `BLOB_UPLOAD_UNKNOWN`, never a 5xx.

use std::collections::HashSet;

use oci_digest::Digest;

use super::history::{Action, History, Outcome, Request, SessionId, Span, short};
use super::violation::{Kind, Via, Violation};

/// One acknowledgement that a repository holds a blob.
#[derive(Debug, Clone)]
pub struct Ack {
    /// The repository.
    pub repo: String,
    /// The blob.
    pub digest: Digest,
    /// The acknowledging request's span.
    pub span: Span,
    /// How the client got it there.
    pub via: Via,
}

/// Every acknowledgement of a blob in a repository in a history, in the order they ended.
#[derive(Debug, Default)]
pub struct Acks(Vec<Ack>);

impl Acks {
    /// Collects the acknowledgements; an upload of bytes some request had already stored
    /// counts as a re-upload.
    pub fn of(history: &History) -> Acks {
        let mut acks: Vec<Ack> = Vec::new();
        for request in &history.requests {
            let (repo, digest, via) = match (&request.action, request.outcome.answered()) {
                (Action::BlobHead { repo, digest }, Some(200)) => (repo, digest, Via::Head),
                (Action::Mount { repo, digest, .. }, Some(201)) => (repo, digest, Via::Mount),
                (Action::UploadFinish { repo, digest, .. }, Some(201)) => {
                    let stored_before = acks
                        .iter()
                        .any(|ack| ack.digest == *digest && ack.span.end < request.span.start);
                    let via = if stored_before {
                        Via::Reupload
                    } else {
                        Via::Upload
                    };
                    (repo, digest, via)
                }
                _ => continue,
            };
            acks.push(Ack {
                repo: repo.clone(),
                digest: digest.clone(),
                span: request.span,
                via,
            });
        }
        Acks(acks)
    }

    /// How many acknowledgements came `via`.
    pub fn count(&self, via: Via) -> usize {
        self.0.iter().filter(|ack| ack.via == via).count()
    }

    /// The latest acknowledgement of `digest` in `repo` that ended before `moment`.
    pub fn latest_before(&self, repo: &str, digest: &Digest, moment: Span) -> Option<&Ack> {
        self.0
            .iter()
            .filter(|ack| ack.repo == repo && ack.digest == *digest)
            .filter(|ack| ack.span.end <= moment.start)
            .max_by_key(|ack| ack.span.start)
    }
}

/// Every violation the requests show by themselves.
pub fn runtime_violations(history: &History) -> Vec<Violation> {
    let acks = Acks::of(history);
    let slow = slow_sessions(history);
    let mut found = Vec::new();
    for (index, request) in history.requests.iter().enumerate() {
        let disturbed = history.disturbed(&request.span);
        let in_slow_session = session_of(request).is_some_and(|s| slow.contains(&s));
        match &request.outcome {
            Outcome::NoAnswer { .. } if !disturbed => {
                found.push(Violation::new(Kind::NoAnswer, request.to_string()));
            }
            Outcome::Answered { status, .. } if *status >= 500 && !disturbed => {
                let kind = if in_slow_session {
                    Kind::UploadDestroyed
                } else {
                    Kind::ServerError
                };
                found.push(Violation::new(kind, request.to_string()));
            }
            _ => {}
        }
        found.extend(vanished_blob(history, &acks, request));
        if !in_slow_session {
            found.extend(lost_session(history, index));
        }
    }
    found
}

/// A manifest PUT refused for a blob the client had just been told was there.
fn vanished_blob(history: &History, acks: &Acks, request: &Request) -> Option<Violation> {
    let Action::ManifestPut { repo, manifest, .. } = &request.action else {
        return None;
    };
    if request.outcome.code() != Some("MANIFEST_BLOB_UNKNOWN") {
        return None;
    }
    let named = match &request.outcome {
        Outcome::Answered {
            detail: Some(detail),
            ..
        } => manifest.blobs.iter().find(|blob| blob.as_str() == detail),
        _ => None,
    };
    // Without a digest in the answer, the blob acknowledged longest ago is the one most
    // likely gone.
    let ack = match named {
        Some(blob) => acks.latest_before(repo, blob, request.span),
        None => manifest
            .blobs
            .iter()
            .map(|blob| acks.latest_before(repo, blob, request.span))
            .min_by_key(|ack| ack.map(|ack| ack.span.start))
            .flatten(),
    }?;
    let age = request.span.end.checked_sub(ack.span.start)?;
    if age >= history.window || history.disturbed(&request.span) {
        return None;
    }
    Some(Violation::new(
        Kind::BlobVanished(ack.via),
        format!(
            "blob {} acknowledged in {repo} at {:.3}s, unknown to a manifest PUT {:.3}s later: {request}",
            short(&ack.digest),
            ack.span.start.as_secs_f64(),
            age.as_secs_f64(),
        ),
    ))
}

/// A 404 `BLOB_UPLOAD_UNKNOWN` on a session the previous request wrote to within the window.
fn lost_session(history: &History, index: usize) -> Option<Violation> {
    let request = &history.requests[index];
    let session = session_of(request)?;
    if request.outcome.code() != Some("BLOB_UPLOAD_UNKNOWN") {
        return None;
    }
    let previous = history.requests[..index]
        .iter()
        .rev()
        .find(|earlier| session_of(earlier) == Some(session))?;
    let accepted = previous
        .outcome
        .answered()
        .is_some_and(|status| status == 202);
    let age = request.span.end.checked_sub(previous.span.start)?;
    if !accepted || age >= history.window || history.disturbed(&request.span) {
        return None;
    }
    Some(Violation::new(
        Kind::UploadSessionLost,
        format!(
            "session written {:.3}s earlier is gone: {request}",
            age.as_secs_f64()
        ),
    ))
}

/// The sessions with a `PATCH` that trickled for longer than the grace period.
fn slow_sessions(history: &History) -> HashSet<SessionId> {
    history
        .requests
        .iter()
        .filter_map(|request| match &request.action {
            Action::UploadPatch {
                session,
                slow: true,
                ..
            } => Some(*session),
            _ => None,
        })
        .collect()
}

/// The upload session a request works on, if any.
pub fn session_of(request: &Request) -> Option<SessionId> {
    match &request.action {
        Action::Mount { session, .. }
        | Action::UploadOpen { session, .. }
        | Action::UploadPatch { session, .. } => Some(*session),
        Action::UploadFinish { session, .. } => *session,
        _ => None,
    }
}
