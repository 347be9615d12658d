//! Data sets, after the newer conformance harness: a named bundle of blobs and manifests that is
//! pushed, read back byte for byte, and deleted. The sets themselves are built in
//! [`super::dataset_builders`]; this module is the generic runner.

use super::client::{Api, blob_path, manifest_path};
use super::data::{Blob, Manifest};
use super::report::{Checks, Report, Scope, Workflow};

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

/// Blobs and manifests pushed in order (blobs first, children before parents).
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Short name, used in case names.
    pub name: &'static str,
    /// Blobs to push (those a manifest names but the set deliberately leaves out are absent).
    pub blobs: Vec<Blob>,
    /// Manifests, children first.
    pub entries: Vec<Entry>,
}

impl DataSet {
    /// A set with no content yet.
    pub fn new(name: &'static str) -> DataSet {
        DataSet {
            name,
            blobs: Vec::new(),
            entries: Vec::new(),
        }
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
            &format!("{name}: push blobs and manifests"),
            async |c| {
                pushed = push(c, api, repo, set).await;
            },
        )
        .await;
    report
        .case(
            Scope::newer(Workflow::Pull),
            &format!("{name}: HEAD and GET return the exact bytes, type and digest"),
            async |c| {
                if !pushed {
                    return c.skip("the push failed");
                }
                pull(c, api, repo, set).await;
            },
        )
        .await;
    report
        .case(
            Scope::newer(Workflow::ContentManagement),
            &format!("{name}: delete manifests and blobs, then they are gone"),
            async |c| {
                if !pushed {
                    return c.skip("the push failed");
                }
                delete(c, api, repo, set).await;
            },
        )
        .await;
}

async fn push(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) -> bool {
    for blob in &set.blobs {
        if !super::steps::push_blob_checked(c, api, repo, blob).await {
            return false;
        }
    }
    for entry in &set.entries {
        let manifest = &entry.manifest;
        let reference = entry.tag.as_deref().unwrap_or(&manifest.digest);
        let reply = api
            .put_manifest(repo, reference, manifest.media_type, manifest.bytes.clone())
            .await;
        if !c.check(reply.status == 201, || {
            format!("PUT manifest {reference}: {}", reply.describe())
        }) {
            return false;
        }
        c.location(&reply);
        c.header_eq_if_present(&reply, "docker-content-digest", &manifest.digest);
        if let Some(subject) = &entry.subject {
            c.header_eq(&reply, "oci-subject", subject);
        }
    }
    true
}

async fn pull(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) {
    for entry in &set.entries {
        let manifest = &entry.manifest;
        let references = std::iter::once(manifest.digest.as_str()).chain(entry.tag.as_deref());
        for reference in references {
            let got = api.get_manifest(repo, reference).await;
            c.status(&got, &[200]);
            c.body_eq(&got, &manifest.bytes);
            c.header_eq(&got, "content-type", manifest.media_type);
            c.content_headers(&got, manifest.bytes.len(), &manifest.digest);
            let head = api.head_manifest(repo, reference).await;
            c.status(&head, &[200]);
            c.content_headers(&head, manifest.bytes.len(), &manifest.digest);
        }
    }
    for blob in &set.blobs {
        let got = api.get(&blob_path(repo, &blob.digest)).await;
        c.status(&got, &[200]);
        c.body_eq(&got, &blob.bytes);
        c.content_headers(&got, blob.bytes.len(), &blob.digest);
    }
}

async fn delete(c: &mut Checks, api: &Api, repo: &str, set: &DataSet) {
    // Parents first, so no index is left pointing at a deleted child.
    for entry in set.entries.iter().rev() {
        let path = manifest_path(repo, &entry.manifest.digest);
        c.status(&api.delete(&path).await, &[202]);
        c.status(&api.head(&path).await, &[404]);
        if let Some(tag) = &entry.tag {
            c.status(&api.head_manifest(repo, tag).await, &[404]);
        }
    }
    for blob in &set.blobs {
        let path = blob_path(repo, &blob.digest);
        c.status(&api.delete(&path).await, &[202]);
        c.status(&api.head(&path).await, &[404]);
    }
}
