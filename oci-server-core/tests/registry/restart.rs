//! Upload sessions live in the store: a restarted server finishes an upload begun before.

use oci_digest::{Algorithm, Digest};
use oci_server_core::RegistryConfig;
use reqwest::StatusCode;

use crate::common::{TestRegistry, content, digest_with, header};

#[tokio::test]
async fn a_chunked_upload_survives_a_restart() {
    let root = tempfile::tempdir().unwrap();
    for (algorithm, query) in [
        (Algorithm::Sha256, ""),
        (Algorithm::Sha512, "?digest-algorithm=sha512"),
    ] {
        let data = content(300_000, 42);
        let digest: Digest = digest_with(&algorithm, &data);

        let before = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
        let started = before
            .http
            .post(before.url(&format!("/v2/resume/blobs/uploads/{query}")))
            .send()
            .await
            .unwrap();
        let location = header(&started, "location").to_owned();
        let first = before
            .http
            .patch(before.url(&location))
            .header("content-range", "0-99999")
            .body(data[..100_000].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), StatusCode::ACCEPTED);
        before.stop().await;

        let after = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
        let status = after.get(&location).await;
        assert_eq!(status.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&status, "range"), "0-99999");
        let second = after
            .http
            .patch(after.url(&location))
            .header("content-range", "100000-199999")
            .body(data[100_000..200_000].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::ACCEPTED);
        let done = after
            .http
            .put(format!("{}?digest={digest}", after.url(&location)))
            .body(data[200_000..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            done.status(),
            StatusCode::CREATED,
            "{}",
            done.text().await.unwrap()
        );
        let pulled = after.get(&format!("/v2/resume/blobs/{digest}")).await;
        assert_eq!(pulled.bytes().await.unwrap(), data);
        after.stop().await;
    }
}
