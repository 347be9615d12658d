//! Nothing outside the store root can be read or written through crafted paths.

use std::path::Path;

use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::TestServer;

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Sends a request line exactly as written (an HTTP client would normalise `..`).
async fn raw(server: &TestServer, method: &str, path: &str) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test]
async fn crafted_paths_never_leave_the_store() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "top secret").unwrap();
    let server = TestServer::start().await;
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
            let (status, answer) = raw(&server, method, path).await;
            assert!(
                (400..500).contains(&status),
                "{method} {path} answered {status}: {answer}"
            );
            assert!(!answer.contains("top secret"), "{method} {path} leaked");
            assert!(!answer.contains("root:"), "{method} {path} leaked");
        }
    }
    // Writes through crafted names created nothing outside the store, and nothing odd inside.
    assert_eq!(files_under(outside.path()), vec![escape]);
    let (status, _) = raw(&server, "PUT", "/v2/../evil/manifests/x").await;
    assert!((400..500).contains(&status));
    assert!(
        files_under(server.root())
            .iter()
            .all(|f| !f.contains("evil"))
    );
    assert_eq!(server.get("/v2/_catalog").await.status(), StatusCode::OK);
}
