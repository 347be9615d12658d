//! htpasswd Basic: known users in, everyone else out.

use std::sync::Arc;

use oci_digest::Digest;
use oci_server_core::{BasicAuthorizer, auth::parse_htpasswd};
use reqwest::StatusCode;

use crate::common::{TestRegistry, content, header};

#[tokio::test]
async fn htpasswd_basic_lets_known_users_in() {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let users = parse_htpasswd(&format!("carol:{hash}\n")).unwrap();
    let server = TestRegistry::with_authorizer(Arc::new(BasicAuthorizer::new(users))).await;
    let anonymous = server.get("/v2/").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&anonymous, "www-authenticate"),
        r#"Basic realm="oci-registry""#
    );
    let wrong = server
        .http
        .get(server.url("/v2/"))
        .basic_auth("carol", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let blob = content(1000, 1);
    let digest = Digest::compute(&blob);
    let pushed = server
        .http
        .post(server.url(&format!("/v2/c/blobs/uploads/?digest={digest}")))
        .basic_auth("carol", Some("pw"))
        .body(blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let pulled = server
        .http
        .get(server.url(&format!("/v2/c/blobs/{digest}")))
        .basic_auth("carol", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.bytes().await.unwrap(), blob);
    let refused = server.get(&format!("/v2/c/blobs/{digest}")).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
