//! Nothing outside the store root can be read or written through crafted paths.

use std::path::PathBuf;

use reqwest::StatusCode;

use crate::common::{TestRegistry, files_under};

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[tokio::test]
async fn crafted_paths_never_leave_the_store() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "top secret").unwrap();
    let server = TestRegistry::start().await;
    let escape = format!("{}/secret", outside.path().display());
    let paths = [
        format!("/v2/../../../../{escape}/blobs/{D}"),
        format!("/v2/a/%2e%2e/%2e%2e/blobs/{D}"),
        "/v2/a/..%2f..%2f/manifests/latest".to_owned(),
        "/v2/a/manifests/..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/v2/a/manifests/../../../../etc/passwd".to_owned(),
        "/v2/a/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/v2/a/blobs/uploads/..%2f..%2frepositories".to_owned(),
        "/v2/a/blobs/uploads/../../../tmp".to_owned(),
        format!("/v2/{escape}/tags/list"),
        "/v2/a/tags/list?last=../../../../etc/passwd&n=1".to_owned(),
        format!("/v2/a%00b/blobs/{D}"),
        "/v2/a/referrers/sha256:../../../../etc".to_owned(),
    ];
    for path in &paths {
        for method in ["GET", "HEAD", "PUT", "DELETE", "PATCH", "POST"] {
            let answer = server.raw(method, path).await;
            let (status, answer) = (answer.status, answer.text);
            assert!(
                (400..500).contains(&status),
                "{method} {path} answered {status}: {answer}"
            );
            assert!(!answer.contains("top secret"), "{method} {path} leaked");
            assert!(!answer.contains("root:"), "{method} {path} leaked");
        }
    }
    // Writes through crafted names created nothing outside the store, and nothing odd inside.
    assert_eq!(files_under(outside.path()), vec![PathBuf::from(escape)]);
    let status = server.raw("PUT", "/v2/../evil/manifests/x").await.status;
    assert!((400..500).contains(&status));
    assert!(
        files_under(server.root())
            .iter()
            .all(|f| !f.to_string_lossy().contains("evil"))
    );
    assert_eq!(server.get("/v2/_catalog").await.status(), StatusCode::OK);
}
