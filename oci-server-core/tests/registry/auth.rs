//! Authorization over HTTP: the token mode (token endpoint, scopes, tampered and expired
//! tokens with an injected clock, refresh tokens, cross-repository mounts) and htpasswd Basic.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use oci_digest::Digest;
use oci_server_core::{
    BasicAuthorizer, TokenAuthorizer,
    auth::{Actions, Clock, Grant, Permissions, RepoPattern, TokenSettings, TokenSigner, Users},
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::{OCI_MANIFEST, TestServer, content, error_code, header};

const SERVICE: &str = "test-registry";

/// A clock the test moves by hand.
#[derive(Debug)]
struct TestClock(AtomicU64);

impl TestClock {
    fn advance(&self, seconds: u64) {
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
/// writes `bob/**`; anyone reads `public/**`.
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
    users
}

async fn token_server() -> (TestServer, Arc<TestClock>) {
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
        TestServer::with_authorizer(Arc::new(authorizer)).await,
        clock,
    )
}

/// A token from the GET flow for `scopes`, with Basic credentials when given.
async fn token(server: &TestServer, user: Option<(&str, &str)>, scopes: &[&str]) -> String {
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
async fn post_form(server: &TestServer, pairs: &[(&str, &str)]) -> Response {
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

async fn send(request: RequestBuilder, token: &str) -> Response {
    request.bearer_auth(token).send().await.unwrap()
}

/// Asserts a 401 whose challenge names `scope` (and `error`, when given).
fn assert_challenge(answer: &Response, base: &str, scope: Option<&str>, error: Option<&str>) {
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
async fn push_image(server: &TestServer, repo: &str, token: &str) -> Digest {
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

#[tokio::test]
async fn anonymous_base_gets_a_bearer_challenge() {
    let (server, _) = token_server().await;
    let answer = server.get("/v2/").await;
    assert_challenge(&answer, &server.base, None, None);
    assert_eq!(error_code(answer).await, "UNAUTHORIZED");
    let head = server.head("/v2/").await;
    assert_challenge(&head, &server.base, None, None);

    // An anonymous token (no credentials) opens /v2/ and the anonymous grants only.
    let anonymous = token(&server, None, &["repository:public/x:pull,push"]).await;
    let base = send(server.http.get(server.url("/v2/")), &anonymous).await;
    assert_eq!(base.status(), StatusCode::OK);
    let tags = send(
        server.http.get(server.url("/v2/public/x/tags/list")),
        &anonymous,
    )
    .await;
    assert_eq!(
        tags.status(),
        StatusCode::NOT_FOUND,
        "let in, nothing there"
    );
    let push = send(
        server.http.post(server.url("/v2/public/x/blobs/uploads/")),
        &anonymous,
    )
    .await;
    assert_challenge(
        &push,
        &server.base,
        Some("repository:public/x:pull,push"),
        Some("insufficient_scope"),
    );
}

#[tokio::test]
async fn pull_needs_pull_scope_and_push_needs_push_scope() {
    let (server, _) = token_server().await;
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/app:pull,push"],
    )
    .await;
    push_image(&server, "alice/app", &alice).await;
    let manifest_url = server.url("/v2/alice/app/manifests/v1");

    let no_token = server.get("/v2/alice/app/manifests/v1").await;
    assert_challenge(
        &no_token,
        &server.base,
        Some("repository:alice/app:pull"),
        None,
    );

    // bob asks for pull and push but is granted pull only.
    let bob = token(
        &server,
        Some(("bob", "bob-pw")),
        &["repository:alice/app:pull,push"],
    )
    .await;
    assert_eq!(
        send(server.http.get(&manifest_url), &bob).await.status(),
        StatusCode::OK
    );
    let push = send(
        server.http.post(server.url("/v2/alice/app/blobs/uploads/")),
        &bob,
    )
    .await;
    assert_challenge(
        &push,
        &server.base,
        Some("repository:alice/app:pull,push"),
        Some("insufficient_scope"),
    );

    // A token for another repository does not open this one.
    let elsewhere = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/other:pull"],
    )
    .await;
    let pull = send(server.http.get(&manifest_url), &elsewhere).await;
    assert_challenge(
        &pull,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("insufficient_scope"),
    );

    // Deleting needs the delete action, which pull,push does not include.
    let delete = send(server.http.delete(&manifest_url), &alice).await;
    assert_challenge(
        &delete,
        &server.base,
        Some("repository:alice/app:delete"),
        Some("insufficient_scope"),
    );
    let deleter = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/app:delete"],
    )
    .await;
    assert_eq!(
        send(server.http.delete(&manifest_url), &deleter)
            .await
            .status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn catalog_needs_its_own_scope() {
    let (server, _) = token_server().await;
    let bob = token(&server, Some(("bob", "bob-pw")), &["registry:catalog:*"]).await;
    let refused = send(server.http.get(server.url("/v2/_catalog")), &bob).await;
    assert_challenge(
        &refused,
        &server.base,
        Some("registry:catalog:*"),
        Some("insufficient_scope"),
    );
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["registry:catalog:*"],
    )
    .await;
    let listed = send(server.http.get(server.url("/v2/_catalog")), &alice).await;
    assert_eq!(listed.status(), StatusCode::OK);
}

#[tokio::test]
async fn tampered_and_expired_tokens_are_rejected() {
    let (server, clock) = token_server().await;
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/app:pull"],
    )
    .await;
    let url = server.url("/v2/alice/app/tags/list");
    assert_eq!(
        send(server.http.get(&url), &alice).await.status(),
        StatusCode::NOT_FOUND
    );

    // Widen the grant inside the payload: the signature no longer matches.
    let (payload, signature) = alice.split_once('.').unwrap();
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
    claims["access"][0]["repository"] = json!("**");
    let forged = format!(
        "{}.{signature}",
        engine.encode(serde_json::to_vec(&claims).unwrap())
    );
    let answer = send(server.http.get(&url), &forged).await;
    assert_challenge(
        &answer,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("invalid_token"),
    );
    let garbage = send(server.http.get(&url), "not-a-token").await;
    assert_challenge(
        &garbage,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("invalid_token"),
    );

    clock.advance(299);
    assert_eq!(
        send(server.http.get(&url), &alice).await.status(),
        StatusCode::NOT_FOUND
    );
    clock.advance(1);
    let expired = send(server.http.get(&url), &alice).await;
    assert_challenge(
        &expired,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("invalid_token"),
    );
}

#[tokio::test]
async fn oauth2_password_and_refresh_grants() {
    let (server, clock) = token_server().await;
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-pw"),
        ("service", SERVICE),
        ("scope", "repository:alice/app:pull repository:bob/x:pull"),
        ("client_id", "test"),
    ];
    let answer = post_form(&server, &form).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["scope"], "repository:alice/app:pull",
        "bob/x is not alice's"
    );
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let url = server.url("/v2/alice/app/tags/list");

    // A refresh token is not an access token.
    let wrong_kind = send(server.http.get(&url), &refresh).await;
    assert_challenge(
        &wrong_kind,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("invalid_token"),
    );

    // Later, when the access token has expired, the refresh token gets a new one.
    clock.advance(3600);
    let old = send(
        server.http.get(&url),
        body["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("service", SERVICE),
        ("scope", "repository:alice/app:pull"),
    ];
    let answer = post_form(&server, &form).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let renewed: Value = answer.json().await.unwrap();
    assert_eq!(renewed["refresh_token"], refresh.as_str());
    let fresh = send(
        server.http.get(&url),
        renewed["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        fresh.status(),
        StatusCode::NOT_FOUND,
        "let in, nothing there"
    );

    // Wrong password, unknown grant type, a service that is not this one.
    let bad = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "nope"),
    ];
    let answer = post_form(&server, &bad).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&answer, "www-authenticate").starts_with("Basic "));
    let odd = [("grant_type", "client_credentials")];
    let answer = post_form(&server, &odd).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let answer = server
        .http
        .get(server.url("/token?service=elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let answer = server
        .http
        .get(server.url("/token"))
        .basic_auth("bob", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_repo_mount_needs_pull_on_the_source() {
    let (server, _) = token_server().await;
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &[
            "repository:alice/app:pull,push",
            "repository:alice/private:pull,push",
        ],
    )
    .await;
    let public = push_image(&server, "alice/app", &alice).await;
    let private = push_image(&server, "alice/private", &alice).await;

    let bob = token(
        &server,
        Some(("bob", "bob-pw")),
        &[
            "repository:bob/app:pull,push",
            "repository:alice/app:pull",
            "repository:alice/private:pull",
        ],
    )
    .await;
    let mount = |digest: &Digest, from: &str| {
        server.http.post(server.url(&format!(
            "/v2/bob/app/blobs/uploads/?mount={digest}&from={from}"
        )))
    };
    // bob may not read alice/private: no mount, a plain upload instead.
    let fallback = send(mount(&private, "alice/private"), &bob).await;
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
    assert!(header(&fallback, "location").contains("/blobs/uploads/"));
    let missing = send(
        server
            .http
            .head(server.url(&format!("/v2/bob/app/blobs/{private}"))),
        &bob,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Without `from`, mounting would search every repository: not for bob either.
    let anywhere = send(
        server
            .http
            .post(server.url(&format!("/v2/bob/app/blobs/uploads/?mount={private}"))),
        &bob,
    )
    .await;
    assert_eq!(anywhere.status(), StatusCode::ACCEPTED);

    // bob may read alice/app: mounted.
    let mounted = send(mount(&public, "alice/app"), &bob).await;
    assert_eq!(mounted.status(), StatusCode::CREATED);
    let present = send(
        server
            .http
            .head(server.url(&format!("/v2/bob/app/blobs/{public}"))),
        &bob,
    )
    .await;
    assert_eq!(present.status(), StatusCode::OK);
}

#[tokio::test]
async fn htpasswd_basic_lets_known_users_in() {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let users = oci_server_core::auth::parse_htpasswd(&format!("carol:{hash}\n")).unwrap();
    let server = TestServer::with_authorizer(Arc::new(BasicAuthorizer::new(users))).await;
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
