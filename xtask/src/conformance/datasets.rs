//! Data sets, after the newer conformance harness: a named bundle of blobs and manifests that is
//! pushed, read back byte for byte, and deleted. The sets themselves are built in
//! [`super::dataset_builders`]; this module is the generic runner.

use super::basis::{Basis, Feature};
use super::checks::{Availability, Checks};
use super::client::{Api, Reply, blob_path, manifest_path};
use super::data::{Blob, Manifest};
use super::management::deleted;
use super::pull::PUSHED_CONTENT_TYPE;
use super::report::{Report, Scope, Workflow};

/// One manifest of a set and how it is pushed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The manifest.
    pub manifest: Manifest,
    /// Pushed under this tag; `None` pushes it by digest.
    pub tag: Option<String>,
    /// The `subject` digest, when the manifest has one (its PUT must answer `OCI-Subject`).
    pub subject: Option<String>,
}

/// What a set needs of the registry beyond the MUSTs of pushing manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing optional.
    Nothing,
    /// It names content it does not push: a registry may refuse it, with
    /// `MANIFEST_BLOB_UNKNOWN` (v1.1 §Push), and then does not offer the feature.
    Sparse(Feature),
    /// An optional feature that a registry without it refuses with a 4xx.
    Feature(Feature),
}

/// The basis of the sets that need nothing optional.
pub const DATA_SET: Basis = Basis::Must("v1.1 §Pushing Manifests; the newer harness's data sets");

/// Blobs and manifests pushed in order (blobs first, children before parents).
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Short name, used in case names.
    pub name: &'static str,
    /// What the push and pull cases rest on.
    pub basis: Basis,
    /// What the set needs of the registry.
    pub needs: Needs,
    /// Blobs to push (those a manifest names but the set deliberately leaves out are absent).
    pub blobs: Vec<Blob>,
    /// Manifests, children first.
    pub entries: Vec<Entry>,
}

impl DataSet {
    /// A set with no content yet, needing nothing optional.
    pub fn new(name: &'static str) -> DataSet {
        DataSet {
            name,
            basis: DATA_SET,
            needs: Needs::Nothing,
            blobs: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The set, resting on `basis` and needing `needs`.
    pub fn resting_on(mut self, basis: Basis, needs: Needs) -> DataSet {
        self.basis = basis;
        self.needs = needs;
        self
    }

    /// Adds a manifest pushed by digest.
    pub fn by_digest(&mut self, manifest: Manifest) -> &mut DataSet {
        self.entries.push(Entry {
            manifest,
            tag: None,
            subject: None,
        });
        self
    }

    /// Adds a manifest pushed under `tag`.
    pub fn by_tag(&mut self, manifest: Manifest, tag: &str) -> &mut DataSet {
        self.entries.push(Entry {
            manifest,
            tag: Some(tag.to_string()),
            subject: None,
        });
        self
    }

    /// Digests of manifests only an index of the set names, untagged: a registry may collect
    /// them together with their index.
    fn children(&self) -> Vec<String> {
        let mut children = Vec::new();
        for entry in &self.entries {
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&entry.manifest.bytes)
            else {
                continue;
            };
            for child in value["manifests"].as_array().into_iter().flatten() {
                children.extend(child["digest"].as_str().map(str::to_string));
            }
        }
        children
    }
}

/// Pushes, reads back and deletes `set` in `repo`: three cases, in the Push, Pull and Content
/// Management workflows.
pub async fn run_set(api: &Api, repo: &str, set: &DataSet, report: &mut Report) {
    let mut pushed = false;
    let name = set.name;
    report.group(&format!("Newer data set: {name}"));
    report
        .case(
            Scope::newer(Workflow::Push),
            set.basis,
            &format!("{name}: push blobs and manifests"),
            async |c| {
                pushed = push(c, api, repo, set).await;
            },
        )
        .await;
    report
        .case(
            Scope::newer(Workflow::Pull),
            set.basis,
            &format!("{name}: HEAD and GET return the exact bytes, type and digest"),
            async |c| {
                if !pushed {
                    return c.skip("the set was not pushed");
                }
                pull(c, api, repo, set).await;
            },
        )
        .await;
    report
        .case(
            Scope::newer(Workflow::ContentManagement),
            Basis::Feature(
                Feature::ManifestDelete,
                "v1.1 §Deleting Manifests, §Deleting Blobs",
            ),
            &format!("{name}: delete manifests and blobs, then they are gone"),
            async |c| {
                if !pushed {
                    return c.skip("the set was not pushed");
                }
                delete(c, api, repo, set).await;
            },
        )
        .await;
}

async fn push(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) -> bool {
    for blob in &set.blobs {
        let reply = super::steps::push_blob(api, repo, blob).await;
        if let Needs::Feature(feature) = set.needs
            && (400..500).contains(&reply.status)
        {
            let reason = format!("a blob of the set was refused with {}", reply.status);
            c.not_offered(feature, reason);
            return false;
        }
        if !c.check(reply.status == 201, || {
            format!("pushing blob {}: {}", blob.digest, reply.describe())
        }) {
            return false;
        }
    }
    for entry in &set.entries {
        let manifest = &entry.manifest;
        let reference = entry.tag.as_deref().unwrap_or(&manifest.digest);
        let reply = api
            .put_manifest(repo, reference, manifest.media_type, manifest.bytes.clone())
            .await;
        match set.needs {
            Needs::Sparse(feature) if reply.status != 201 => {
                c.sparse_answer(&reply, feature);
                return false;
            }
            Needs::Feature(feature) if (400..500).contains(&reply.status) => {
                let reason = format!("PUT manifest {reference} answered {}", reply.status);
                c.not_offered(feature, reason);
                return false;
            }
            _ => {}
        }
        if !c.check(reply.status == 201, || {
            format!("PUT manifest {reference}: {}", reply.describe())
        }) {
            return false;
        }
        if let Needs::Sparse(feature) | Needs::Feature(feature) = set.needs {
            c.offered(feature);
        }
        c.location(&reply);
        c.header_eq_if_present(&reply, "docker-content-digest", &manifest.digest);
        if let Some(subject) = &entry.subject {
            subject_header(c, api, repo, &reply, subject).await;
        }
    }
    true
}

/// `OCI-Subject` is a MUST where the registry offers the referrers API, and absent otherwise.
async fn subject_header(c: &mut Checks, api: &Api, repo: &str, reply: &Reply, subject: &str) {
    if reply.header("oci-subject").is_some() {
        c.header_eq(reply, "oci-subject", subject);
        return;
    }
    let offered = match c.availability(Feature::Referrers) {
        Some(availability) => *availability == Availability::Offered,
        None => super::referrers::probe(c, api, repo).await,
    };
    c.check(!offered, || {
        format!("missing OCI-Subject header (expected {subject:?}) from a registry with the referrers API")
    });
}

async fn pull(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) {
    for entry in &set.entries {
        let manifest = &entry.manifest;
        let references = std::iter::once(manifest.digest.as_str()).chain(entry.tag.as_deref());
        for reference in references {
            let got = api.get_manifest(repo, reference).await;
            c.status(&got, &[200]);
            c.body_eq(&got, &manifest.bytes);
            c.should(PUSHED_CONTENT_TYPE, |c| {
                c.header_eq(&got, "content-type", manifest.media_type)
            });
            c.content_headers(&got, &manifest.bytes, &manifest.digest);
            let head = api.head_manifest(repo, reference).await;
            c.status(&head, &[200]);
            c.content_headers(&head, &manifest.bytes, &manifest.digest);
        }
    }
    for blob in &set.blobs {
        let got = api.get(&blob_path(repo, &blob.digest)).await;
        c.status(&got, &[200]);
        c.body_eq(&got, &blob.bytes);
        c.content_headers(&got, &blob.bytes, &blob.digest);
    }
}

async fn delete(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) {
    let children = set.children();
    let mut deleted_parent = false;
    // Parents first, so no index is left pointing at a deleted child.
    for entry in set.entries.iter().rev() {
        let digest = entry.manifest.digest.as_str();
        let path = manifest_path(repo, digest);
        let reply = api.delete(&path).await;
        if reply.status == 404 && deleted_parent && children.iter().any(|child| child == digest) {
            c.note(format!("{digest} went with the index that named it"));
        } else if !deleted(c, &reply, Feature::ManifestDelete) {
            return;
        }
        deleted_parent = true;
        c.status(&api.head(&path).await, &[404]);
        if let Some(tag) = &entry.tag {
            c.status(&api.head_manifest(repo, tag).await, &[404]);
        }
    }
    if c.lacks(Feature::BlobDelete) {
        return c.note("the registry does not delete blobs");
    }
    for blob in &set.blobs {
        let path = blob_path(repo, &blob.digest);
        c.status(&api.delete(&path).await, &[202]);
        c.status(&api.head(&path).await, &[404]);
    }
}
