//! Token lifetimes and integrity: tampered, garbage and expired tokens are refused; the
//! OAuth2 password and refresh grants.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{SERVICE, assert_challenge, post_form, send, token, token_server};
use crate::common::header;

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
