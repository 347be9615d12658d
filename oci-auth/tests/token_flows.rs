//! Token flows against a real HTTP token server on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{Behaviour, PASSWORD, SERVICE, TokenServer, USERNAME};
use http::StatusCode;
use oci_auth::{
    Authenticator, BearerChallenge, Challenge, CredentialStore, Credentials, Error, ManualClock,
    Scope, Scopes, Secret, TokenOptions,
};

const REGISTRY: &str = "registry.test";

fn pull(repository: &str) -> Scopes {
    Scope::pull(repository).unwrap().into()
}

fn store(credentials: Credentials) -> CredentialStore {
    CredentialStore::new().with_credentials(REGISTRY, credentials)
}

fn alice() -> Credentials {
    Credentials::basic(USERNAME, PASSWORD)
}

fn password_grant() -> TokenOptions {
    TokenOptions::default().with_password_grant(true)
}

fn authenticator(credentials: Credentials, options: TokenOptions) -> Authenticator {
    Authenticator::builder(reqwest::Client::new(), store(credentials))
        .options(options)
        .build()
}

/// Asks the server's `/v2/` for its challenge, as a client would.
async fn challenge_of(server: &TokenServer) -> Challenge {
    let response = reqwest::get(format!("{}/v2/", server.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenges =
        Challenge::from_headers(response.headers().get_all(http::header::WWW_AUTHENTICATE))
            .unwrap();
    Challenge::select(&challenges).unwrap().clone()
}

/// Status of `GET /v2/` with `authorization`.
async fn ping(server: &TokenServer, authorization: &http::HeaderValue) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/v2/", server.base))
        .header(http::header::AUTHORIZATION, authorization)
        .send()
        .await
        .unwrap()
        .status()
}

fn token_of(header: &http::HeaderValue) -> &str {
    header.to_str().unwrap().strip_prefix("Bearer ").unwrap()
}

#[tokio::test]
async fn get_flow_with_basic_credentials() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(alice(), TokenOptions::default());
    let challenge = challenge_of(&server).await;

    let header = auth
        .authorization_for(REGISTRY, &challenge, &pull("team/app"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token_of(&header), "tok-1");
    assert!(header.is_sensitive());
    assert_eq!(ping(&server, &header).await, StatusCode::OK);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, http::Method::GET);
    assert_eq!(seen[0].param("service"), Some(SERVICE));
    assert_eq!(seen[0].params_named("scope"), ["repository:team/app:pull"]);
    assert_eq!(seen[0].param("account"), Some(USERNAME));
    assert!(
        seen[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
}

#[tokio::test]
async fn get_flow_sends_one_scope_parameter_per_resource_merged_with_the_challenges() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(alice(), TokenOptions::default());
    let mut bearer = BearerChallenge::new(server.realm(), Some(SERVICE));
    bearer.params.insert("scope", "repository:dst:pull");
    let challenge = Challenge::Bearer(bearer);

    let scopes = Scopes::cross_mount("src", "dst").unwrap();
    auth.authorization_for(REGISTRY, &challenge, &scopes)
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(
        seen[0].params_named("scope"),
        ["repository:dst:pull,push", "repository:src:pull"]
    );
}

#[tokio::test]
async fn anonymous_get_flow_sends_no_credentials() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(Credentials::Anonymous, TokenOptions::default());
    let challenge = challenge_of(&server).await;
    let header = auth
        .authorization_for(REGISTRY, &challenge, &pull("library/alpine"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ping(&server, &header).await, StatusCode::OK);
    let seen = server.seen();
    assert_eq!(seen[0].authorization, None);
    assert_eq!(seen[0].param("account"), None);
}

#[tokio::test]
async fn wrong_password_is_a_token_status_error() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(
        Credentials::basic(USERNAME, "wrong"),
        TokenOptions::default(),
    );
    let challenge = challenge_of(&server).await;
    let result = auth
        .authorization_for(REGISTRY, &challenge, &pull("a"))
        .await;
    assert!(
        matches!(&result, Err(Error::TokenStatus { status, .. }) if *status == StatusCode::UNAUTHORIZED),
        "{result:?}"
    );
}

#[tokio::test]
async fn post_flow_with_an_identity_token() {
    let server = TokenServer::start(Behaviour::default()).await;
    let identity = Credentials::IdentityToken(Secret::new("identity-123"));
    let auth = authenticator(identity, TokenOptions::default());
    let challenge = challenge_of(&server).await;

    let scopes = Scopes::cross_mount("src", "dst").unwrap();
    let header = auth
        .authorization_for(REGISTRY, &challenge, &scopes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ping(&server, &header).await, StatusCode::OK);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, http::Method::POST);
    assert_eq!(seen[0].param("grant_type"), Some("refresh_token"));
    assert_eq!(seen[0].param("refresh_token"), Some("identity-123"));
    assert_eq!(seen[0].param("service"), Some(SERVICE));
    assert_eq!(
        seen[0].param("scope"),
        Some("repository:dst:pull,push repository:src:pull")
    );
    assert!(seen[0].param("client_id").is_some_and(|id| !id.is_empty()));
    assert_eq!(seen[0].authorization, None);
}

#[tokio::test]
async fn post_flow_with_a_password() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(alice(), password_grant());
    let challenge = challenge_of(&server).await;
    let header = auth
        .authorization_for(REGISTRY, &challenge, &pull("a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ping(&server, &header).await, StatusCode::OK);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, http::Method::POST);
    assert_eq!(seen[0].param("grant_type"), Some("password"));
    assert_eq!(seen[0].param("username"), Some(USERNAME));
    assert_eq!(seen[0].param("password"), Some(PASSWORD));
}

#[tokio::test]
async fn post_answered_404_or_405_falls_back_to_get() {
    for status in [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED] {
        let server = TokenServer::start(Behaviour {
            post_status: Some(status),
            ..Behaviour::default()
        })
        .await;
        let auth = authenticator(alice(), password_grant());
        let challenge = challenge_of(&server).await;
        let header = auth
            .authorization_for(REGISTRY, &challenge, &pull("a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ping(&server, &header).await, StatusCode::OK, "{status}");
        let methods: Vec<_> = server.seen().into_iter().map(|s| s.method).collect();
        assert_eq!(methods, [http::Method::POST, http::Method::GET], "{status}");
    }
}

#[tokio::test]
async fn refresh_token_post_has_no_get_fallback() {
    let server = TokenServer::start(Behaviour {
        post_status: Some(StatusCode::NOT_FOUND),
        ..Behaviour::default()
    })
    .await;
    let auth = authenticator(
        Credentials::IdentityToken(Secret::new("identity-123")),
        TokenOptions::default(),
    );
    let challenge = challenge_of(&server).await;
    let result = auth
        .authorization_for(REGISTRY, &challenge, &pull("a"))
        .await;
    assert!(
        matches!(&result, Err(Error::TokenStatus { status, .. }) if *status == StatusCode::NOT_FOUND),
        "{result:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn access_token_spelling_is_accepted() {
    let server = TokenServer::start(Behaviour {
        token_field: "access_token",
        ..Behaviour::default()
    })
    .await;
    let auth = authenticator(alice(), TokenOptions::default());
    let challenge = challenge_of(&server).await;
    let header = auth
        .authorization_for(REGISTRY, &challenge, &pull("a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token_of(&header), "tok-1");
    assert_eq!(ping(&server, &header).await, StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_cached_until_shortly_before_expiry() {
    let server = TokenServer::start(Behaviour::default()).await; // expires_in 300
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let auth = Authenticator::builder(reqwest::Client::new(), store(alice()))
        .clock(Arc::new(clock.clone()))
        .build(); // renew margin 10 s
    let challenge = challenge_of(&server).await;
    let scopes = pull("a");
    let fetch = || auth.authorization_for(REGISTRY, &challenge, &scopes);

    let first = fetch().await.unwrap().unwrap();
    assert_eq!(token_of(&first), "tok-1");
    assert!(
        auth.cached_authorization(REGISTRY, &pull("other"))
            .is_none()
    );

    clock.advance(Duration::from_secs(289));
    assert_eq!(token_of(&fetch().await.unwrap().unwrap()), "tok-1");
    assert_eq!(
        auth.cached_authorization(REGISTRY, &scopes)
            .as_ref()
            .map(token_of),
        Some("tok-1")
    );
    assert_eq!(server.seen().len(), 1);

    clock.advance(Duration::from_secs(1));
    assert!(auth.cached_authorization(REGISTRY, &scopes).is_none());
    assert_eq!(token_of(&fetch().await.unwrap().unwrap()), "tok-2");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn missing_expires_in_means_sixty_seconds() {
    let server = TokenServer::start(Behaviour {
        expires_in: None,
        ..Behaviour::default()
    })
    .await;
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let auth = Authenticator::builder(reqwest::Client::new(), store(alice()))
        .clock(Arc::new(clock.clone()))
        .build();
    let challenge = challenge_of(&server).await;
    auth.authorization_for(REGISTRY, &challenge, &pull("a"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(49));
    assert!(auth.cached_authorization(REGISTRY, &pull("a")).is_some());
    clock.advance(Duration::from_secs(1));
    assert!(auth.cached_authorization(REGISTRY, &pull("a")).is_none());
}

#[tokio::test]
async fn a_token_refused_with_401_is_invalidated_and_replaced() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(alice(), TokenOptions::default());
    let scopes = pull("a");
    let challenge = challenge_of(&server).await;
    let header = auth
        .authorization_for(REGISTRY, &challenge, &scopes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ping(&server, &header).await, StatusCode::OK);

    server.revoke_all_tokens();
    assert_eq!(ping(&server, &header).await, StatusCode::UNAUTHORIZED);
    // Without invalidation the cache would hand out the refused token again.
    let cached = auth
        .authorization_for(REGISTRY, &challenge, &scopes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token_of(&cached), "tok-1");

    auth.invalidate(REGISTRY, &scopes);
    let renewed = auth
        .authorization_for(REGISTRY, &challenge, &scopes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token_of(&renewed), "tok-2");
    assert_eq!(ping(&server, &renewed).await, StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_token_in_the_answer_is_used_for_later_requests() {
    let server = TokenServer::start(Behaviour {
        refresh_token: Some("learned-refresh".to_owned()),
        accepted_refresh_tokens: vec!["learned-refresh".to_owned()],
        ..Behaviour::default()
    })
    .await;
    let auth = authenticator(alice(), password_grant());
    let challenge = challenge_of(&server).await;
    auth.authorization_for(REGISTRY, &challenge, &pull("a"))
        .await
        .unwrap();
    auth.authorization_for(REGISTRY, &challenge, &pull("b"))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].param("grant_type"), Some("password"));
    assert_eq!(seen[1].param("grant_type"), Some("refresh_token"));
    assert_eq!(seen[1].param("refresh_token"), Some("learned-refresh"));

    // A refused refresh token is dropped, and the password used again.
    server.set_behaviour(|b| {
        b.accepted_refresh_tokens.clear();
        b.refresh_token = None;
    });
    let header = auth
        .authorization_for(REGISTRY, &challenge, &pull("c"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ping(&server, &header).await, StatusCode::OK);
    let grants: Vec<_> = server.seen()[2..]
        .iter()
        .map(|s| s.param("grant_type").unwrap().to_owned())
        .collect();
    assert_eq!(grants, ["refresh_token", "password"]);
}

#[tokio::test]
async fn concurrent_requests_fetch_one_token() {
    let server = TokenServer::start(Behaviour::default()).await;
    let auth = authenticator(alice(), TokenOptions::default());
    let challenge = challenge_of(&server).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let auth = auth.clone();
            let challenge = challenge.clone();
            tokio::spawn(async move {
                auth.authorization_for(REGISTRY, &challenge, &pull("a"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        let header = task.await.unwrap().unwrap().unwrap();
        assert_eq!(token_of(&header), "tok-1");
    }
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn an_unreachable_token_server_is_a_transport_error() {
    let port = oci_test_support::free_port();
    let auth = authenticator(alice(), TokenOptions::default());
    let challenge = Challenge::Bearer(BearerChallenge::new(
        format!("http://127.0.0.1:{port}/token"),
        None,
    ));
    let result = auth
        .authorization_for(REGISTRY, &challenge, &pull("a"))
        .await;
    assert!(
        matches!(result, Err(Error::TokenTransport { .. })),
        "{result:?}"
    );
}
