//! Authorization over HTTP: the token mode (scopes and challenges, tampered and expired
//! tokens with an injected clock, refresh tokens, cross-repository mounts, what the catalog
//! and search show each user), Docker-token JWTs both ways (external ones minted by PyJWT,
//! ours trusted by Debian's `docker-registry`), and htpasswd Basic.
//! This file holds the token-mode fixture: users, a registry with an injected clock, and
//! helpers to get tokens and check challenges.

mod basic;
mod distribution_trust;
mod external_jwt;
mod jwt_issuer;
mod pki;
mod scopes;
mod tokens;
mod visibility;

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use oci_digest::Digest;
use oci_server_core::{
    TokenAuthorizer,
    auth::{Actions, Clock, Grant, Permissions, RepoPattern, TokenSettings, TokenSigner, Users},
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::{OCI_MANIFEST, TestRegistry, content, header};

pub const SERVICE: &str = "test-registry";

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(AtomicU64);

impl TestClock {
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn grant(pattern: &str, actions: &str) -> Grant {
    Grant {
        repository: RepoPattern::new(pattern),
        actions: Actions::parse_list(actions),
    }
}

/// alice owns `alice/**` and reads `shared/**` and the catalog; bob reads `alice/app` and
/// writes `bob/**`; carol writes `carol/**` and `public/**` and may list the catalog; anyone
/// reads `public/**`.
fn users() -> Users {
    let mut users = Users::new();
    let alice = Permissions::new(
        Some("alice".into()),
        vec![grant("alice/**", "*"), grant("shared/**", "pull")],
        true,
    );
    let bob = Permissions::new(
        Some("bob".into()),
        vec![grant("alice/app", "pull"), grant("bob/**", "pull,push")],
        false,
    );
    users
        .insert("alice", &bcrypt::hash("alice-pw", 4).unwrap(), alice)
        .unwrap();
    users
        .insert("bob", &bcrypt::hash("bob-pw", 4).unwrap(), bob)
        .unwrap();
    let carol = Permissions::new(
        Some("carol".into()),
        vec![
            grant("carol/**", "pull,push"),
            grant("public/**", "pull,push"),
        ],
        true,
    );
    users
        .insert("carol", &bcrypt::hash("carol-pw", 4).unwrap(), carol)
        .unwrap();
    // An operator's account: reads everything, writes its own repositories.
    let dora = Permissions::new(
        Some("dora".into()),
        vec![grant("**", "pull"), grant("dora/**", "pull,push")],
        false,
    );
    users
        .insert("dora", &bcrypt::hash("dora-pw", 4).unwrap(), dora)
        .unwrap();
    users
}

pub async fn token_server() -> (TestRegistry, Arc<TestClock>) {
    let clock = Arc::new(TestClock(AtomicU64::new(1_700_000_000)));
    let mut settings = TokenSettings::default();
    settings.service = SERVICE.to_owned();
    let authorizer = TokenAuthorizer::new(
        users(),
        vec![grant("public/**", "pull")],
        TokenSigner::random(),
        settings,
    )
    .with_clock(clock.clone());
    (
        TestRegistry::with_authorizer(Arc::new(authorizer)).await,
        clock,
    )
}

/// A token from the GET flow for `scopes`, with Basic credentials when given.
pub async fn token(server: &TestRegistry, user: Option<(&str, &str)>, scopes: &[&str]) -> String {
    let mut query = vec![("service", SERVICE)];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    let mut request = server.http.get(server.url("/token")).query(&query);
    if let Some((user, password)) = user {
        request = request.basic_auth(user, Some(password));
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["token"], body["access_token"]);
    assert_eq!(body["expires_in"], 300);
    body["token"].as_str().unwrap().to_owned()
}

/// POSTs an OAuth2 form to the token endpoint.
pub async fn post_form(server: &TestRegistry, pairs: &[(&str, &str)]) -> Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    server
        .http
        .post(server.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn send(request: RequestBuilder, token: &str) -> Response {
    request.bearer_auth(token).send().await.unwrap()
}

/// Asserts a 401 whose challenge names `scope` (and `error`, when given).
pub fn assert_challenge(answer: &Response, base: &str, scope: Option<&str>, error: Option<&str>) {
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let mut expected = format!(r#"Bearer realm="{base}/token",service="{SERVICE}""#);
    if let Some(scope) = scope {
        expected.push_str(&format!(r#",scope="{scope}""#));
    }
    if let Some(error) = error {
        expected.push_str(&format!(r#",error="{error}""#));
    }
    assert_eq!(header(answer, "www-authenticate"), expected);
}

/// Pushes a one-blob image as `repo:v1` with `token` and returns the blob's digest.
pub async fn push_image(server: &TestRegistry, repo: &str, token: &str) -> Digest {
    let config = content(300, repo.len() as u8);
    let digest = Digest::compute(&config);
    let upload = server
        .http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
        .body(config.clone());
    assert_eq!(send(upload, token).await.status(), StatusCode::CREATED);
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest.as_str(), "size": config.len()},
        "layers": [],
    });
    let put = server
        .http
        .put(server.url(&format!("/v2/{repo}/manifests/v1")))
        .header("content-type", OCI_MANIFEST)
        .body(serde_json::to_vec(&manifest).unwrap());
    assert_eq!(send(put, token).await.status(), StatusCode::CREATED);
    digest
}
