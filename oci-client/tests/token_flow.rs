//! The Docker token flow end to end: a token server, a proxy that wants bearer tokens with
//! the right scopes, the workspace's registry behind it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use oci_auth::{Authenticator, CredentialStore, Credentials, ManualClock};
use oci_distribution_client::{
    Client, Error, ErrorKind, ManifestReference, MountOutcome, Repository, UploadMethod,
};
use oci_test_support::Proxy;
use oci_test_support::TestRegistry;

use crate::support::token::{self, TokenRegistry};
use crate::support::{self, content};

fn credentials(host: &str, password: &str) -> CredentialStore {
    CredentialStore::new().with_credentials(host, Credentials::basic(token::USERNAME, password))
}

async fn setup() -> (TestRegistry, TokenRegistry) {
    let registry = TestRegistry::start().await;
    let tokens = TokenRegistry::start(registry.host()).await;
    (registry, tokens)
}

#[tokio::test]
async fn bearer_tokens_are_fetched_per_scope_and_cached() {
    let (_registry, tokens) = setup().await;
    let host = tokens.host();
    let client = Client::new(
        support::config()
            .credentials(credentials(&host, token::PASSWORD))
            .build(),
    )
    .unwrap();
    let repo = Repository::new(&host, "secured/app").unwrap();

    client.ping(&host).await.unwrap();
    let manifest = content::image(&client, &repo, &[5_000, 6_000], 61).await;
    let tag = ManifestReference::tag("v1").unwrap();
    client.put_manifest(&repo, &tag, &manifest).await.unwrap();
    let pulled = client.get_manifest(&repo, &tag).await.unwrap();
    assert_eq!(pulled.digest, manifest.digest());
    let tags: Vec<String> = client.list_tags(&repo, None).try_collect().await.unwrap();
    assert_eq!(tags, ["v1"]);
    let catalog: Vec<String> = client.catalog(&host, None).try_collect().await.unwrap();
    assert_eq!(catalog, ["secured/app"]);
    let session = client.start_upload(&repo).await.unwrap();
    client.cancel_upload(session).await.unwrap();
    client.delete_manifest(&repo, &tag).await.unwrap();
    assert_eq!(client.head_manifest(&repo, &tag).await.unwrap(), None);

    let asked = tokens.scopes_asked();
    assert!(
        asked.contains(&"repository:secured/app:delete,pull".to_owned()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"repository:secured/app:pull,push".to_owned()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"repository:secured/app:pull".to_owned()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"registry:catalog:*".to_owned()),
        "{asked:?}"
    );
    // One token per scope set, however many requests used it.
    let grants = tokens.basic_grants() + tokens.refresh_grants();
    assert_eq!(grants, asked.len());
    assert!(grants <= 5, "{asked:?}");
}

#[tokio::test]
async fn a_mount_asks_one_token_for_both_repositories() {
    let (_registry, tokens) = setup().await;
    let host = tokens.host();
    let client = Client::new(
        support::config()
            .credentials(credentials(&host, token::PASSWORD))
            .build(),
    )
    .unwrap();
    let source = Repository::new(&host, "team/source").unwrap();
    let target = Repository::new(&host, "team/target").unwrap();
    let pushed = client
        .push_blob_bytes(&source, content::blob(4_000, 62), UploadMethod::Monolithic)
        .await
        .unwrap();
    let outcome = client
        .mount_blob(&target, &pushed.digest, &source)
        .await
        .unwrap();
    assert!(matches!(outcome, MountOutcome::Mounted(_)), "{outcome:?}");
    let asked = tokens.scopes_asked();
    assert!(
        asked.contains(&"repository:team/source:pull repository:team/target:pull,push".to_owned()),
        "{asked:?}"
    );
}

#[tokio::test]
async fn expired_tokens_are_renewed_with_the_refresh_token() {
    let (_registry, tokens) = setup().await;
    let host = tokens.host();
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let authenticator =
        Authenticator::builder(reqwest::Client::new(), credentials(&host, token::PASSWORD))
            .clock(clock.clone())
            .build();
    let client = Client::new(support::config().authenticator(authenticator).build()).unwrap();
    let repo = Repository::new(&host, "expiring").unwrap();
    let push = |seed| {
        let client = client.clone();
        let repo = repo.clone();
        async move {
            client
                .push_blob_bytes(&repo, content::blob(1_000, seed), UploadMethod::Monolithic)
                .await
                .unwrap()
        }
    };
    push(63).await;
    assert_eq!((tokens.basic_grants(), tokens.refresh_grants()), (1, 0));
    push(64).await;
    assert_eq!(
        (tokens.basic_grants(), tokens.refresh_grants()),
        (1, 0),
        "cached"
    );

    clock.advance(Duration::from_secs(token::LIFETIME_SECS + 1));
    push(65).await;
    assert_eq!(
        (tokens.basic_grants(), tokens.refresh_grants()),
        (1, 1),
        "renewed with the refresh token, not the password"
    );
}

#[tokio::test]
async fn a_token_refused_by_the_registry_is_replaced_once() {
    let (_registry, tokens) = setup().await;
    let host = tokens.host();
    let client = Client::new(
        support::config()
            .credentials(credentials(&host, token::PASSWORD))
            .build(),
    )
    .unwrap();
    let repo = Repository::new(&host, "revoked").unwrap();
    client
        .push_blob_bytes(&repo, content::blob(2_000, 66), UploadMethod::SinglePost)
        .await
        .unwrap();
    let before = tokens.basic_grants() + tokens.refresh_grants();
    tokens.revoke_all();
    let pushed = client
        .push_blob_bytes(&repo, content::blob(2_000, 67), UploadMethod::SinglePost)
        .await
        .unwrap();
    assert_eq!(tokens.basic_grants() + tokens.refresh_grants(), before + 1);
    assert_eq!(
        client
            .head_blob(&repo, &pushed.digest)
            .await
            .unwrap()
            .unwrap()
            .size,
        Some(2_000)
    );
}

#[tokio::test]
async fn wrong_credentials_and_no_credentials_fail() {
    let (_registry, tokens) = setup().await;
    let host = tokens.host();
    let wrong = Client::new(
        support::config()
            .credentials(credentials(&host, "nope"))
            .build(),
    )
    .unwrap();
    let error = wrong.ping(&host).await.unwrap_err();
    match &error {
        Error::Auth {
            source: oci_auth::Error::TokenStatus { status, .. },
            ..
        } => {
            assert_eq!(*status, http::StatusCode::UNAUTHORIZED);
        }
        other => panic!("expected a refused token request, got {other:?}"),
    }
    // The same kind and status as a wrong password refused by a Basic registry.
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    let anonymous = support::client();
    let error = anonymous.ping(&host).await.unwrap_err();
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
}

#[tokio::test]
async fn redirected_blob_downloads_do_not_carry_the_token() {
    let (registry, tokens) = setup().await;
    let storage = Proxy::start(registry.host()).await;
    let host = tokens.host();
    let client = Client::new(
        support::config()
            .credentials(credentials(&host, token::PASSWORD))
            .build(),
    )
    .unwrap();
    let repo = Repository::new(&host, "redirected").unwrap();
    let data = content::blob(50_000, 65);
    let pushed = client
        .push_blob_bytes(&repo, data.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();

    // "localhost" is another host than "127.0.0.1" as far as credentials go.
    tokens.redirect_blobs_to(&format!("localhost:{}", storage.port()));
    assert_eq!(
        content::pull(&client, &repo, &pushed.digest, None).await,
        data
    );
    let fetched = storage.seen_matching("GET", "/blobs/sha256:");
    assert_eq!(fetched.len(), 1);
    assert!(
        fetched[0].header("authorization").is_none(),
        "the token must not leave the registry's host"
    );
}
