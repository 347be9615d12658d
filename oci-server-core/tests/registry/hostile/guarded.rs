//! A server whose store is watched: it lives in `<parent>/store` beside a canary file, holds
//! a victim image pushed before any hostile request, and [`GuardedStore::assert_intact`]
//! checks what no request may break.

use std::{
    ops::Deref,
    path::{Component, Path, PathBuf},
};

use oci_digest::Digest;
use oci_server_core::RegistryConfig;
use reqwest::{Response, StatusCode, header::HeaderValue};
use serde_json::json;
use tempfile::TempDir;

use crate::common::{TestRegistry, content, files_under, header};

/// The repository and tag of the content pushed before any hostile request.
pub const VICTIM: &str = "victim/app";
/// The victim's tag.
pub const VICTIM_TAG: &str = "stable";
/// What the canary beside the store holds; no answer may ever contain it.
pub const CANARY: &str = "canary: nothing may read or replace this";

/// The store's own folders (see `storage/fs.rs`).
const STORE_FOLDERS: [&str; 8] = [
    "blobs",
    "repositories",
    "uploads",
    "tmp",
    "gc",
    "tag-index",
    "catalog",
    "catalog-index",
];

/// A [`TestRegistry`] on a store in a folder of its own, with content that must survive.
pub struct GuardedStore {
    server: TestRegistry,
    parent: TempDir,
    /// URL paths whose answer must stay byte-identical, with those bytes.
    kept: Vec<(String, Vec<u8>)>,
    /// The victim's layer.
    pub layer: Digest,
    /// The victim's manifest.
    pub manifest: Digest,
}

impl GuardedStore {
    /// Deletes on (so crafted `DELETE`s reach their handlers), default limits.
    pub async fn start() -> Self {
        Self::with_config(RegistryConfig::default().with_delete(true)).await
    }

    pub async fn with_config(config: RegistryConfig) -> Self {
        let parent = tempfile::tempdir().unwrap();
        std::fs::write(parent.path().join("canary"), CANARY).unwrap();
        let server = TestRegistry::on_root(&parent.path().join("store"), config).await;
        let layer_bytes = content(100_000, 42);
        let layer = server.push_blob(VICTIM, &layer_bytes).await;
        let (manifest_bytes, manifest) = server.push_image(VICTIM, VICTIM_TAG, json!({})).await;
        let mut guarded = Self {
            server,
            parent,
            kept: Vec::new(),
            layer: layer.clone(),
            manifest: manifest.clone(),
        };
        guarded.keep(&format!("/v2/{VICTIM}/blobs/{layer}"), layer_bytes);
        guarded.keep(
            &format!("/v2/{VICTIM}/manifests/{manifest}"),
            manifest_bytes.clone(),
        );
        guarded.keep(
            &format!("/v2/{VICTIM}/manifests/{VICTIM_TAG}"),
            manifest_bytes,
        );
        guarded
    }

    /// Adds content that must keep answering `path` byte for byte.
    pub fn keep(&mut self, path: &str, bytes: Vec<u8>) {
        self.kept.push((path.to_owned(), bytes));
    }

    /// Starts an upload session in `repo` and returns its location.
    pub async fn start_upload(&self, repo: &str) -> String {
        let answer = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        header(&answer, "location").to_owned()
    }

    /// PATCHes `body` to the upload at `location` with `Content-Range: range`.
    pub async fn patch_chunk(&self, location: &str, range: HeaderValue, body: &[u8]) -> Response {
        self.http
            .patch(self.url(location))
            .header("content-range", range)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// The `Range` an upload's status reports.
    pub async fn upload_range(&self, location: &str) -> String {
        let answer = self.get(location).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{location}");
        header(&answer, "range").to_owned()
    }

    /// The folder holding the store and the canary.
    pub fn parent(&self) -> &Path {
        self.parent.path()
    }

    /// The invariants after any group of hostile requests:
    /// - beside the store there is still only the canary, unchanged;
    /// - the store root holds only its own folders, and no file name is a crafted one;
    /// - every file in the blob area hashes to the digest its path names;
    /// - everything pushed earlier still answers byte for byte.
    pub async fn assert_intact(&self) {
        let mut beside: Vec<_> = std::fs::read_dir(self.parent())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        beside.sort();
        assert_eq!(
            beside,
            ["canary", "store"],
            "files appeared beside the store"
        );
        assert_eq!(
            std::fs::read_to_string(self.parent().join("canary")).unwrap(),
            CANARY
        );

        let root = self.server.root();
        for entry in std::fs::read_dir(root).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                STORE_FOLDERS.contains(&name.as_str()),
                "stray {name:?} in the root"
            );
        }
        for file in files_under(root) {
            assert_plain_names(file.strip_prefix(root).unwrap());
        }
        let blobs = files_under(&root.join("blobs"));
        assert!(!blobs.is_empty(), "the victim's blobs are gone");
        for blob in blobs {
            assert_blob_verifies(&root.join("blobs"), &blob);
        }

        for (path, bytes) in &self.kept {
            let answer = self.server.get(path).await;
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
            if let Some(digest) = path.rsplit('/').next().filter(|r| r.contains(':')) {
                assert_eq!(header(&answer, "docker-content-digest"), digest, "{path}");
            }
            assert_eq!(
                &answer.bytes().await.unwrap()[..],
                &bytes[..],
                "{path} changed"
            );
        }
    }
}

impl Deref for GuardedStore {
    type Target = TestRegistry;

    fn deref(&self) -> &TestRegistry {
        &self.server
    }
}

/// Store file names come from validated names, tags, digests and ids: never a dot segment or
/// a character that only a crafted request could have brought in.
fn assert_plain_names(relative: &Path) {
    for component in relative.components() {
        let Component::Normal(name) = component else {
            panic!("odd path {relative:?} in the store");
        };
        let name = name.to_str().unwrap();
        assert!(
            !name.starts_with('.') && !name.contains(['%', '\\', ':', '\0']),
            "crafted name {relative:?} in the store"
        );
    }
}

/// `blobs/<alg>/<first two>/<encoded>` holds exactly the content of `<alg>:<encoded>`.
fn assert_blob_verifies(blobs: &Path, file: &PathBuf) {
    let parts: Vec<_> = file
        .strip_prefix(blobs)
        .unwrap()
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect();
    let [algorithm, fan_out, encoded] = parts[..] else {
        panic!("{file:?} is not at blobs/<alg>/<xx>/<encoded>");
    };
    let digest = Digest::parse(&format!("{algorithm}:{encoded}"))
        .unwrap_or_else(|e| panic!("{file:?} names no digest: {e}"));
    assert_eq!(
        fan_out,
        &encoded[..2],
        "{file:?} in the wrong fan-out folder"
    );
    let found = Digest::compute_with(digest.algorithm(), &std::fs::read(file).unwrap()).unwrap();
    assert_eq!(
        found, digest,
        "{file:?} holds other content than its digest"
    );
}
