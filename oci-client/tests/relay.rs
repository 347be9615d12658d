//! The blob relay between registries (`Client::relay_blob`, bytes moved by `splice`): into
//! the workspace's registry and Debian's `docker-registry`, with bearer tokens, declining a
//! redirecting source, and failing a source that closes early without a blob committed.
#![cfg(target_os = "linux")]

use http::StatusCode;
use oci_auth::{CredentialStore, Credentials};
use oci_distribution_client::{Client, Declined, Error, Relayed, Repository, UploadMethod};
use oci_test_support::peers::Distribution;
use oci_test_support::{Action, Fault, Proxy, TestRegistry};

use crate::support::token::{self, TokenRegistry};
use crate::support::{self, Repos, content};

/// Pushes `size` pseudo-random bytes to `repository`; returns them and their digest.
async fn pushed(
    client: &Client,
    repository: &Repository,
    size: usize,
    seed: u64,
) -> (bytes::Bytes, oci_spec_types::Digest) {
    let data = content::blob(size, seed);
    let pushed = client
        .push_blob_bytes(repository, data.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();
    (data, pushed.digest)
}

/// Relays and returns the outcome and the last progress figure heard.
async fn relay(
    client: &Client,
    from: &Repository,
    to: &Repository,
    digest: &oci_spec_types::Digest,
    size: u64,
) -> (Result<Relayed, Error>, u64) {
    let mut heard = 0;
    let outcome = client
        .relay_blob(client, from, to, digest, size, &mut |done| heard = done)
        .await;
    (outcome, heard)
}

#[tokio::test]
async fn a_relayed_blob_arrives_byte_exact_in_our_registry_and_in_docker_registry() {
    let source = TestRegistry::start().await;
    let ours = TestRegistry::start().await;
    let theirs = Distribution::start();
    let client = support::client();
    let from = source.repo("relay/from");
    let (data, digest) = pushed(&client, &from, 3_000_000, 1).await;

    for to in [ours.repo("relay/to"), theirs.repo("relay/to")] {
        let (outcome, heard) = relay(&client, &from, &to, &digest, data.len() as u64).await;
        match outcome.unwrap() {
            Relayed::Pushed(blob) => assert_eq!(blob.digest, digest),
            other => panic!("expected a relayed push into {to}, got {other:?}"),
        }
        assert_eq!(heard, data.len() as u64);
        let copied = content::pull(&client, &to, &digest, Some(data.len() as u64)).await;
        assert!(copied == data, "the bytes in {to} differ from the source's");
    }
}

#[tokio::test]
async fn a_source_that_closes_early_fails_typed_and_leaves_no_blob() {
    let source = TestRegistry::start().await;
    let destination = TestRegistry::start().await;
    let proxy = Proxy::start(source.host()).await;
    let client = support::client();
    let (data, digest) = pushed(&client, &source.repo("relay/from"), 2_000_000, 2).await;
    proxy.inject(Fault::new(
        "GET",
        "/blobs/sha256:",
        Action::Cut { after: 700_000 },
    ));
    let from = Repository::new(proxy.host(), "relay/from").unwrap();
    let to = destination.repo("relay/to");

    let (outcome, _) = relay(&client, &from, &to, &digest, data.len() as u64).await;
    match outcome {
        Err(Error::Relay { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof, "{source}")
        }
        other => panic!("expected a relay error, got {other:?}"),
    }
    assert!(client.head_blob(&to, &digest).await.unwrap().is_none());
}

#[tokio::test]
async fn a_redirecting_source_is_declined_before_the_destination_is_touched() {
    let source = TestRegistry::start().await;
    let tokens = TokenRegistry::start(source.host()).await;
    let destination = TestRegistry::start().await;
    let watched = Proxy::start(destination.host()).await;
    let host = tokens.host();
    let client = Client::new(support::config().credentials(bearer(&host)).build()).unwrap();
    let from = Repository::new(&host, "relay/from").unwrap();
    let (data, digest) = pushed(&client, &from, 500_000, 3).await;
    tokens.redirect_blobs_to(source.host());
    let to = Repository::new(watched.host(), "relay/to").unwrap();

    let (outcome, _) = relay(&client, &from, &to, &digest, data.len() as u64).await;
    match outcome.unwrap() {
        Relayed::Declined(Declined::SourceStatus(status)) => {
            assert_eq!(status, StatusCode::TEMPORARY_REDIRECT)
        }
        other => panic!("expected the redirect to decline the relay, got {other:?}"),
    }
    assert!(watched.seen_matching("POST", "/blobs/uploads/").is_empty());
    // The usual path follows the redirect.
    assert!(content::pull(&client, &from, &digest, None).await == data);
}

#[tokio::test]
async fn a_token_registry_gets_the_token_on_both_relayed_requests() {
    let (source, destination) = (TestRegistry::start().await, TestRegistry::start().await);
    let (from_tokens, to_tokens) = (
        TokenRegistry::start(source.host()).await,
        TokenRegistry::start(destination.host()).await,
    );
    let (from_host, to_host) = (from_tokens.host(), to_tokens.host());
    let credentials = CredentialStore::new()
        .with_credentials(&from_host, basic())
        .with_credentials(&to_host, basic());
    let client = Client::new(support::config().credentials(credentials).build()).unwrap();
    let from = Repository::new(&from_host, "relay/from").unwrap();
    let to = Repository::new(&to_host, "relay/to").unwrap();
    let (data, digest) = pushed(&client, &from, 1_500_000, 4).await;
    // The destination's challenge is learned first, as a copy's existence checks do.
    assert!(client.head_blob(&to, &digest).await.unwrap().is_none());

    let (outcome, _) = relay(&client, &from, &to, &digest, data.len() as u64).await;
    assert!(matches!(outcome, Ok(Relayed::Pushed(_))), "{outcome:?}");
    // The proxies let through only requests carrying a token of the right scope.
    assert!(content::pull(&client, &to, &digest, None).await == data);
}

#[tokio::test]
async fn a_source_of_another_length_is_declined() {
    let (source, destination) = (TestRegistry::start().await, TestRegistry::start().await);
    let client = support::client();
    let from = source.repo("relay/from");
    let (data, digest) = pushed(&client, &from, 100_000, 5).await;
    let to = destination.repo("relay/to");
    let (outcome, _) = relay(&client, &from, &to, &digest, data.len() as u64 + 1).await;
    assert!(
        matches!(outcome, Ok(Relayed::Declined(Declined::SourceLength))),
        "{outcome:?}"
    );
    assert!(client.head_blob(&to, &digest).await.unwrap().is_none());
}

fn basic() -> Credentials {
    Credentials::basic(token::USERNAME, token::PASSWORD)
}

fn bearer(host: &str) -> CredentialStore {
    CredentialStore::new().with_credentials(host, basic())
}
