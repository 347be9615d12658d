//! Requests the tests send to a [`TestRegistry`] over HTTP: plain `GET`/`HEAD`/`DELETE`, and
//! pushes of blobs, manifests and small images that assert they were accepted.

use oci_digest::Digest;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::TestRegistry;

/// The media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The media type of an OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

impl TestRegistry {
    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// `HEAD path`.
    pub async fn head(&self, path: &str) -> Response {
        self.http.head(self.url(path)).send().await.unwrap()
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().await.unwrap()
    }

    /// Pushes `content` in one POST and returns its digest.
    pub async fn push_blob(&self, repo: &str, content: &[u8]) -> Digest {
        let digest = Digest::compute(content);
        let answer = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
            .body(content.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::CREATED,
            "{}",
            answer.text().await.unwrap()
        );
        digest
    }

    /// PUTs a manifest document under `reference`.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Response {
        self.http
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Pushes a config blob and an image manifest (the fields of `extra`, say a subject, an
    /// artifact type or annotations, added to it) and returns the manifest bytes and digest.
    pub async fn push_image(&self, repo: &str, reference: &str, extra: Value) -> (Vec<u8>, Digest) {
        let config =
            serde_json::to_vec(&json!({ "seed": format!("{reference} {extra}") })).unwrap();
        let config_digest = self.push_blob(repo, &config).await;
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest.as_str(),
                "size": config.len(),
            },
            "layers": [],
        });
        if let (Value::Object(target), Value::Object(fields)) = (&mut manifest, extra) {
            target.extend(fields);
        }
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let answer = self
            .put_manifest(repo, reference, OCI_MANIFEST, &bytes)
            .await;
        assert_eq!(
            answer.status(),
            StatusCode::CREATED,
            "{}",
            answer.text().await.unwrap()
        );
        let digest = Digest::compute(&bytes);
        (bytes, digest)
    }
}
