//! Every route under every method, over HTTP: a 405 names in `Allow` exactly the methods the
//! route answers (RFC 9110 §15.5.6), and no method listed there is answered 405, with deletes
//! on and off.

use oci_server_core::RegistryConfig;
use reqwest::{Method, StatusCode};

use crate::common::TestRegistry;

const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn paths() -> Vec<String> {
    vec![
        "/v2/".to_owned(),
        "/v2/_catalog".to_owned(),
        "/v1/search?q=a".to_owned(),
        format!("/v2/a/blobs/{EMPTY}"),
        "/v2/a/blobs/uploads/".to_owned(),
        "/v2/a/blobs/uploads/0123456789abcdef0123456789abcdef".to_owned(),
        "/v2/a/manifests/v1".to_owned(),
        "/v2/a/tags/list".to_owned(),
        format!("/v2/a/referrers/{EMPTY}"),
    ]
}

fn methods() -> Vec<Method> {
    [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND",
    ]
    .iter()
    .map(|name| Method::from_bytes(name.as_bytes()).unwrap())
    .collect()
}

async fn check_allow_headers(server: &TestRegistry) -> usize {
    let mut refused = 0;
    for path in paths() {
        let mut answered = Vec::new();
        let mut allow_values = Vec::new();
        for method in methods() {
            let answer = server
                .http
                .request(method.clone(), server.url(&path))
                .send()
                .await
                .unwrap();
            if answer.status() == StatusCode::METHOD_NOT_ALLOWED {
                refused += 1;
                let allow = answer
                    .headers()
                    .get("allow")
                    .unwrap_or_else(|| panic!("{method} {path}: 405 without Allow"))
                    .to_str()
                    .unwrap()
                    .to_owned();
                let listed: Vec<&str> = allow.split(", ").collect();
                assert!(
                    !listed.contains(&method.as_str()),
                    "{method} {path}: 405 yet Allow: {allow}"
                );
                allow_values.push(allow);
            } else {
                answered.push(method.as_str().to_owned());
            }
        }
        allow_values.dedup();
        assert_eq!(allow_values.len(), 1, "{path}: one Allow, {allow_values:?}");
        let mut listed: Vec<String> = allow_values[0].split(", ").map(str::to_owned).collect();
        listed.sort();
        answered.sort();
        assert_eq!(listed, answered, "{path}: Allow lists what is answered");
    }
    refused
}

#[tokio::test]
async fn every_405_allows_exactly_the_methods_answered() {
    let with_deletes = TestRegistry::start().await;
    let refused_with = check_allow_headers(&with_deletes).await;
    let without_deletes = TestRegistry::with_config(RegistryConfig::default()).await;
    let refused_without = check_allow_headers(&without_deletes).await;
    // Switching deletes off refuses DELETE on blobs and manifests, never upload cancels.
    assert_eq!(refused_without, refused_with + 2);
}
