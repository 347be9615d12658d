//! The store after a restart: on disk, and through the API against what was acknowledged.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use oci_digest::Digest;
use reqwest::StatusCode;
use serde_json::Value;

use super::{Model, wire::Server};
use crate::common::{OCI_INDEX, OCI_MANIFEST, error_code, files_under, header};

/// `blobs/<alg>/<first two>/<encoded>`, the filesystem backend's layout.
pub fn blob_file(root: &Path, digest: &Digest) -> PathBuf {
    let encoded = digest.encoded();
    let algorithm = digest.algorithm().as_str();
    root.join("blobs")
        .join(algorithm)
        .join(&encoded[..2])
        .join(encoded)
}

/// On disk: every blob file holds the content its path names (so no partial or stray file
/// is ever a blob), the start swept the staging folder, and every blob link and manifest
/// record names a stored blob.
pub fn check_files(root: &Path) {
    let blobs = root.join("blobs");
    for file in files_under(&blobs) {
        let relative = file.strip_prefix(&blobs).unwrap();
        let parts: Vec<&str> = relative.iter().map(|p| p.to_str().unwrap()).collect();
        let [algorithm, _, encoded] = parts[..] else {
            panic!("stray file {relative:?} among the blobs");
        };
        let digest = Digest::parse(&format!("{algorithm}:{encoded}")).unwrap();
        assert_eq!(blob_file(root, &digest), file, "misplaced blob");
        let content = std::fs::read(&file).unwrap();
        let found = Digest::compute_with(digest.algorithm(), &content).unwrap();
        assert_eq!(found, digest, "blob file {relative:?} holds other content");
    }
    assert_eq!(files_under(&root.join("tmp")), Vec::<PathBuf>::new());
    for file in files_under(&root.join("repositories")) {
        let mut up = file.iter().rev().map(|p| p.to_str().unwrap());
        if let (Some(encoded), Some(algorithm), Some("_layers" | "_manifests")) =
            (up.next(), up.next(), up.next())
        {
            let digest = Digest::parse(&format!("{algorithm}:{encoded}")).unwrap();
            assert!(blob_file(root, &digest).is_file(), "{file:?} names no blob");
        }
    }
}

/// Through the API: every tag of every repository in the catalog names a complete manifest,
/// and everything acknowledged is there, whole.
pub async fn audit(server: &Server, model: &Model) {
    let mut audit = Audit {
        server,
        checked: HashSet::new(),
    };
    let catalog = audit.json("/v2/_catalog").await;
    let repos = strings(&catalog["repositories"]);
    for (repo, _) in &model.blobs {
        assert!(repos.contains(repo), "{repo} missing from {catalog}");
    }
    for repo in &repos {
        let tags = audit.json(&format!("/v2/{repo}/tags/list")).await;
        for tag in strings(&tags["tags"]) {
            audit.complete(repo, tag).await;
        }
    }
    for (repo, digest) in &model.blobs {
        audit.blob(repo, digest, None).await;
    }
    for (repo, digest) in &model.manifests {
        audit.complete(repo, digest.as_str()).await;
    }
    for ((repo, tag), digest) in &model.tags {
        let found = manifest_digest(server, repo, tag).await;
        assert_eq!(
            found.as_ref(),
            Some(digest),
            "acknowledged {repo}:{tag} moved"
        );
    }
}

/// One pass over the API; what verified once is not fetched again.
struct Audit<'a> {
    server: &'a Server,
    checked: HashSet<(String, Digest)>,
}

impl Audit<'_> {
    async fn json(&self, path: &str) -> Value {
        let answer = self.server.http.get(self.server.url(path)).send().await;
        let answer = answer.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        answer.json().await.unwrap()
    }

    /// A manifest is there and verifies, and so does everything it names, down to the blobs.
    async fn complete(&mut self, repo: &str, reference: &str) {
        let Some(digest) = manifest_digest(self.server, repo, reference).await else {
            panic!("{repo}:{reference} names no manifest");
        };
        if !self.checked.insert((repo.to_owned(), digest.clone())) {
            return;
        }
        let manifest = self.json(&format!("/v2/{repo}/manifests/{digest}")).await;
        let layers = manifest["layers"].as_array().into_iter().flatten();
        for descriptor in layers.chain(manifest.get("config")) {
            let (named, size) = described(descriptor);
            self.blob(repo, &named, Some(size)).await;
        }
        for child in manifest["manifests"].as_array().into_iter().flatten() {
            let (named, _) = described(child);
            Box::pin(self.complete(repo, named.as_str())).await;
        }
    }

    async fn blob(&mut self, repo: &str, digest: &Digest, size: Option<u64>) {
        if !self.checked.insert((repo.to_owned(), digest.clone())) {
            return;
        }
        let url = self.server.url(&format!("/v2/{repo}/blobs/{digest}"));
        let answer = self.server.http.get(url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{repo}@{digest}");
        let content = answer.bytes().await.unwrap();
        assert_eq!(
            Digest::compute(&content),
            *digest,
            "{repo}@{digest} content"
        );
        if let Some(size) = size {
            assert_eq!(content.len() as u64, size, "{repo}@{digest} size");
        }
    }
}

/// The manifest a reference names (its content verified), `None` when unknown.
pub async fn manifest_digest(server: &Server, repo: &str, reference: &str) -> Option<Digest> {
    let url = server.url(&format!("/v2/{repo}/manifests/{reference}"));
    let accept = format!("{OCI_MANIFEST}, {OCI_INDEX}");
    let answer = server.http.get(url).header("accept", accept).send().await;
    let answer = answer.unwrap();
    if answer.status() == StatusCode::NOT_FOUND {
        assert_eq!(error_code(answer).await, "MANIFEST_UNKNOWN");
        return None;
    }
    assert_eq!(answer.status(), StatusCode::OK, "{repo}:{reference}");
    let named = header(&answer, "docker-content-digest").to_owned();
    let digest = Digest::compute(&answer.bytes().await.unwrap());
    assert_eq!(named, digest.as_str(), "{repo}:{reference} content");
    Some(digest)
}

fn strings(list: &Value) -> Vec<&str> {
    let items = list.as_array().into_iter().flatten();
    items.filter_map(Value::as_str).collect()
}

fn described(descriptor: &Value) -> (Digest, u64) {
    let digest = Digest::parse(descriptor["digest"].as_str().unwrap()).unwrap();
    (digest, descriptor["size"].as_u64().unwrap())
}
