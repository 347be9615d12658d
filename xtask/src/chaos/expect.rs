//! What the store must hold at the end of a history, and the verdict on what it does hold.
//!
//! - Every manifest whose PUT was acknowledged and that no DELETE may have removed since is
//!   readable by digest and hashes to it; so is every blob it names, in its repository. (An
//!   index's children are manifests pushed on their own, checked the same way.)
//! - Every tag resolves to a value some ordering of its writes leaves it at
//!   ([`super::finals`]): the last acknowledged PUT of it, or a concurrent or unanswered one.
//! - Every subject's referrers list holds each such manifest that names it as subject.

use std::collections::{BTreeMap, HashMap};

use oci_digest::Digest;

use super::finals::{Write, possible_finals};
use super::history::{Action, History, PushedManifest, Reference, Request, Span, short};
use super::model::Acks;
use super::violation::{Kind, Via, Violation};

/// A manifest that must be readable, with what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedManifest {
    /// The repository.
    pub repo: String,
    /// The manifest as its last acknowledged PUT pushed it.
    pub manifest: PushedManifest,
    /// How the client got each named blob into the repository before that PUT.
    pub blob_vias: Vec<Via>,
}

/// The values a tag may hold (`None`: no tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedTag {
    /// The repository.
    pub repo: String,
    /// The tag.
    pub tag: String,
    /// Every value allowed.
    pub allowed: Vec<Option<Digest>>,
}

/// What a history obliges the store to hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Manifests that must be readable.
    pub manifests: Vec<ExpectedManifest>,
    /// Tags that were written.
    pub tags: Vec<ExpectedTag>,
}

/// How something read back at the end turned out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Read whole, and it hashes to its digest.
    Intact,
    /// Not readable: the status or the failure.
    Missing(String),
    /// Read, but the bytes hash to another digest.
    Corrupt(Digest),
}

/// What the store held at the end, for the expectations' keys.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Manifests by repository and digest.
    pub manifests: HashMap<(String, Digest), Read>,
    /// Blobs by repository and digest.
    pub blobs: HashMap<(String, Digest), Read>,
    /// Tags by repository and tag: the digest, `None` for 404, or why it could not be read.
    pub tags: HashMap<(String, String), Result<Option<Digest>, String>>,
    /// Referrers lists by repository and subject, or why they could not be read.
    pub referrers: HashMap<(String, Digest), Result<Vec<Digest>, String>>,
}

impl Expectations {
    /// Derives the expectations from a history.
    pub fn of(history: &History) -> Expectations {
        Expectations {
            manifests: manifests(history),
            tags: tags(history),
        }
    }

    /// The referrers each (repository, subject) must list.
    pub fn referrers(&self) -> BTreeMap<(String, Digest), Vec<Digest>> {
        let mut lists: BTreeMap<(String, Digest), Vec<Digest>> = BTreeMap::new();
        for expected in &self.manifests {
            if let Some(subject) = &expected.manifest.subject {
                lists
                    .entry((expected.repo.clone(), subject.clone()))
                    .or_default()
                    .push(expected.manifest.digest.clone());
            }
        }
        lists
    }

    /// Every violation of these expectations that `observed` shows.
    pub fn check(&self, observed: &Observed) -> Vec<Violation> {
        let mut found = Vec::new();
        let unread = || Read::Missing("not read".into());
        for expected in &self.manifests {
            let repo = &expected.repo;
            let digest = &expected.manifest.digest;
            let read = observed.manifests.get(&(repo.clone(), digest.clone()));
            if let Some(problem) = problem(read.cloned().unwrap_or_else(unread)) {
                let detail = format!("manifest {repo}@{}: {problem}", short(digest));
                found.push(Violation::new(Kind::LostManifest, detail));
            }
            for (blob, via) in expected.manifest.blobs.iter().zip(&expected.blob_vias) {
                let read = observed.blobs.get(&(repo.clone(), blob.clone()));
                if let Some(problem) = problem(read.cloned().unwrap_or_else(unread)) {
                    let detail = format!(
                        "blob {} named by manifest {repo}@{}: {problem}",
                        short(blob),
                        short(digest)
                    );
                    found.push(Violation::new(Kind::LostBlob(*via), detail));
                }
            }
        }
        for expected in &self.tags {
            let key = (expected.repo.clone(), expected.tag.clone());
            let shown = match observed.tags.get(&key) {
                Some(Ok(value)) if expected.allowed.contains(value) => continue,
                Some(Ok(value)) => describe(value),
                Some(Err(reason)) => reason.clone(),
                None => "not read".into(),
            };
            let allowed: Vec<String> = expected.allowed.iter().map(describe).collect();
            let detail = format!(
                "tag {}:{} is {shown}, expected {}",
                expected.repo,
                expected.tag,
                allowed.join(" or ")
            );
            found.push(Violation::new(Kind::LostTag, detail));
        }
        for ((repo, subject), wanted) in self.referrers() {
            let listed = observed.referrers.get(&(repo.clone(), subject.clone()));
            for referrer in wanted {
                let problem = match listed {
                    Some(Ok(listed)) if listed.contains(&referrer) => continue,
                    Some(Ok(_)) => "not listed".to_string(),
                    Some(Err(reason)) => reason.clone(),
                    None => "not read".into(),
                };
                let detail = format!(
                    "referrer {} of {repo}@{}: {problem}",
                    short(&referrer),
                    short(&subject)
                );
                found.push(Violation::new(Kind::LostReferrer, detail));
            }
        }
        found
    }
}

fn problem(read: Read) -> Option<String> {
    match read {
        Read::Intact => None,
        Read::Missing(reason) => Some(format!("unreadable ({reason})")),
        Read::Corrupt(found) => Some(format!("bytes hash to {found}")),
    }
}

fn describe(value: &Option<Digest>) -> String {
    value
        .as_ref()
        .map_or("absent".to_string(), |digest| short(digest).to_string())
}

/// A write's span and whether it surely happened, or `None` when the server refused it.
fn effect(request: &Request, acknowledged: u16) -> Option<(Span, bool)> {
    if request.outcome.answered() == Some(acknowledged) {
        Some((request.span, true))
    } else if request.outcome.uncertain() {
        Some((request.span, false))
    } else {
        None
    }
}

/// The writes of every register the requests touch: `write_of` tells a request's register,
/// the value it writes and the status that acknowledges it (`None`: it writes nothing).
fn registers<K: Ord, V>(
    history: &History,
    write_of: impl Fn(&Request) -> Option<(K, V, u16)>,
) -> BTreeMap<K, Vec<Write<V>>> {
    let mut writes: BTreeMap<K, Vec<Write<V>>> = BTreeMap::new();
    for request in &history.requests {
        let Some((register, value, acknowledged)) = write_of(request) else {
            continue;
        };
        if let Some((span, sure)) = effect(request, acknowledged) {
            let write = Write { span, value, sure };
            writes.entry(register).or_default().push(write);
        }
    }
    writes
}

/// The manifests no DELETE may have removed after their last acknowledged PUT.
fn manifests(history: &History) -> Vec<ExpectedManifest> {
    let acks = Acks::of(history);
    // Writes to "is this manifest in this repository", keyed by repository and digest.
    let writes = registers(history, |request| match &request.action {
        Action::ManifestPut { repo, manifest, .. } => {
            let present = Some((manifest.clone(), request.span));
            Some(((repo.clone(), manifest.digest.clone()), present, 201))
        }
        Action::ManifestDelete { repo, digest } => {
            Some(((repo.clone(), digest.clone()), None, 202))
        }
        _ => None,
    });
    let mut expected = Vec::new();
    for ((repo, _), writes) in writes {
        let finals = possible_finals(&writes, None);
        if finals.iter().any(Option::is_none) {
            continue;
        }
        // Every possible final value is a PUT of these same bytes; the latest acknowledged
        // one tells how its blobs got there.
        let pushed = writes
            .iter()
            .filter(|write| write.sure)
            .filter_map(|write| write.value.clone())
            .max_by_key(|(_, span)| span.start);
        let Some((manifest, span)) = pushed else {
            continue;
        };
        let blob_vias = manifest
            .blobs
            .iter()
            .map(|blob| {
                acks.latest_before(&repo, blob, span)
                    .map_or(Via::Unknown, |ack| ack.via)
            })
            .collect();
        expected.push(ExpectedManifest {
            repo,
            manifest,
            blob_vias,
        });
    }
    expected
}

/// Every tag written, with the values it may hold.
fn tags(history: &History) -> Vec<ExpectedTag> {
    let mut writes = registers(history, |request| match &request.action {
        Action::ManifestPut {
            repo,
            reference: Reference::Tag(tag),
            manifest,
        } => Some((
            (repo.clone(), tag.clone()),
            Some(manifest.digest.clone()),
            201,
        )),
        Action::TagDelete { repo, tag } => Some(((repo.clone(), tag.clone()), None, 202)),
        _ => None,
    });
    // Deleting a manifest removes the tags pointing at it then: for a tag once set to it, a
    // removal that may or may not have happened.
    for request in &history.requests {
        let Action::ManifestDelete { repo, digest } = &request.action else {
            continue;
        };
        if effect(request, 202).is_none() {
            continue;
        }
        for ((tag_repo, _), tag_writes) in writes.iter_mut() {
            let once_set = tag_writes.iter().any(|write| {
                write.value.as_ref() == Some(digest) && write.span.start < request.span.end
            });
            if tag_repo == repo && once_set {
                tag_writes.push(Write {
                    span: request.span,
                    value: None,
                    sure: false,
                });
            }
        }
    }
    writes
        .into_iter()
        .map(|((repo, tag), writes)| ExpectedTag {
            allowed: possible_finals(&writes, None),
            repo,
            tag,
        })
        .collect()
}
