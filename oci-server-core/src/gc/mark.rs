//! The mark phase: which manifests each repository keeps, and every blob they reference.

use std::collections::{HashMap, HashSet, VecDeque};

use futures_util::future::try_join_all;
use oci_digest::Digest;
use oci_spec_types::Manifest;

use super::GcOptions;
use crate::{
    error::Error,
    names::{RepoName, Tag},
    storage::Key,
    store::Store,
};

/// The outcome of marking.
#[derive(Debug, Default)]
pub(super) struct Marked {
    /// Every blob a kept manifest references, and the kept manifests' own content.
    pub blobs: HashSet<Digest>,
    /// Manifests no root reaches (only with `untagged`), by repository.
    pub doomed: Vec<(RepoName, Digest)>,
    /// The repositories linking each blob, for removing a blob with its links.
    pub links: HashMap<Digest, Vec<RepoName>>,
}

pub(super) async fn mark(store: &Store, options: &GcOptions) -> Result<Marked, Error> {
    // A dry run changes nothing, not even the catalog index of a store written before it.
    let names = if options.dry_run {
        store.repositories_unchanged().await?
    } else {
        store.repositories().await?
    };
    let names: Vec<RepoName> = names
        .iter()
        .filter_map(|name| RepoName::parse(name).ok())
        .collect();
    // Repositories are independent: several are read at once (each read is a small
    // request or system call, mostly waiting), and merged in catalog order.
    let mut marked = Marked::default();
    for batch in names.chunks(REPOSITORIES_IN_FLIGHT) {
        let each = batch
            .iter()
            .map(|name| mark_repository(store, name, options));
        for one in try_join_all(each).await? {
            marked.blobs.extend(one.blobs);
            marked.doomed.extend(one.doomed);
            for (digest, names) in one.links {
                marked.links.entry(digest).or_default().extend(names);
            }
        }
    }
    Ok(marked)
}

/// Repositories marked at once.
const REPOSITORIES_IN_FLIGHT: usize = 16;

/// What one repository keeps, the manifests it drops, and the blobs it links.
async fn mark_repository(
    store: &Store,
    name: &RepoName,
    options: &GcOptions,
) -> Result<Marked, Error> {
    let mut marked = Marked::default();
    let records: HashSet<Digest> = store.manifest_digests(name).await?.into_iter().collect();
    let mut pending: VecDeque<Digest> = roots(store, name, &records, options).await?;
    let mut kept = HashSet::new();
    while let Some(digest) = pending.pop_front() {
        if !records.contains(&digest) || !kept.insert(digest.clone()) {
            continue;
        }
        marked.blobs.insert(digest.clone());
        let Some(record) = store.manifest(name, &digest).await? else {
            continue;
        };
        let Some(manifest) = store.parse_stored(&record, &digest).await else {
            tracing::warn!(repository = %name, %digest, "stored manifest cannot be read; its references are not marked");
            continue;
        };
        for child in references(&manifest) {
            marked.blobs.insert(child.clone());
            pending.push_back(child);
        }
        if options.untagged {
            // Artifacts attached to a kept manifest (signatures, SBOMs) stay with it.
            for referrer in store.referrers(name, &digest).await? {
                pending.push_back(referrer.digest);
            }
        }
    }
    marked.doomed.extend(
        records
            .into_iter()
            .filter(|d| !kept.contains(d))
            .map(|d| (name.clone(), d)),
    );
    for digest in store.linked_blobs(name).await? {
        marked.links.entry(digest).or_default().push(name.clone());
    }
    Ok(marked)
}

/// Where marking starts: every manifest, or with `untagged` the tagged ones and those still
/// within the grace period.
async fn roots(
    store: &Store,
    name: &RepoName,
    records: &HashSet<Digest>,
    options: &GcOptions,
) -> Result<VecDeque<Digest>, Error> {
    if !options.untagged {
        return Ok(records.iter().cloned().collect());
    }
    let mut roots = VecDeque::new();
    for text in store.tags(name).await? {
        let Ok(tag) = Tag::new(&text) else {
            continue;
        };
        roots.extend(store.tag(name, &tag).await?);
    }
    for digest in records {
        let modified = store
            .storage()
            .meta_modified(&Key::manifest(name, digest))
            .await?;
        if modified.is_none_or(|m| !options.expired(m)) {
            roots.push_back(digest.clone());
        }
    }
    Ok(roots)
}

/// Everything a manifest points at: config, layers (all of them, even those a registry need
/// not hold) and index children.
fn references(manifest: &Manifest) -> Vec<Digest> {
    let mut digests = Vec::new();
    if let Some(image) = manifest.image() {
        digests.push(image.config.digest.clone());
        digests.extend(image.layers.iter().map(|l| l.digest.clone()));
    }
    digests.extend(manifest.children().into_iter().map(|c| c.digest.clone()));
    digests
}
