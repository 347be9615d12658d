//! The blob relay between registries (`Client::relay_blob` and `Client::relay_chunks`, bytes
//! moved by `splice`): into the workspace's registry and Debian's `docker-registry`, with
//! bearer tokens, declining a redirecting source, failing a source that closes early without
//! a blob committed, and chunks that go on from what the registry holds.
#![cfg(target_os = "linux")]

use http::StatusCode;
use oci_auth::{CredentialStore, Credentials};
use std::num::NonZeroU64;

use oci_distribution_client::{
    Client, Declined, Error, Relayed, RelayedChunks, Repository, UploadMethod,
};
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
async fn a_token_registry_gets_the_token_on_every_relayed_request() {
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

    // And every chunk of a chunk relay.
    let (data, digest) = pushed(&client, &from, 2_600_000, 9).await;
    let chunked = Repository::new(&to_host, "relay/chunked").unwrap();
    let mut session = client.start_upload(&chunked).await.unwrap();
    let size = data.len() as u64;
    let (outcome, _) = relay_chunks(&client, &from, &mut session, &digest, size).await;
    assert!(matches!(outcome, Ok(RelayedChunks::Sent)), "{outcome:?}");
    client.finish_upload(session, &digest).await.unwrap();
    assert!(content::pull(&client, &chunked, &digest, None).await == data);
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

/// The chunk size of the chunk relays below: a 2.5 MiB blob takes three `PATCH`es.
const CHUNK: u64 = 1024 * 1024;

/// Relays into `session` in chunks of [`CHUNK`]; returns the outcome and the last progress
/// figure heard.
async fn relay_chunks(
    client: &Client,
    from: &Repository,
    session: &mut oci_distribution_client::UploadSession,
    digest: &oci_spec_types::Digest,
    size: u64,
) -> (Result<RelayedChunks, Error>, u64) {
    let mut heard = 0;
    let chunk = NonZeroU64::new(CHUNK).unwrap();
    let outcome = client
        .relay_chunks(client, from, session, digest, size, chunk, &mut |done| {
            heard = done
        })
        .await;
    (outcome, heard)
}

#[tokio::test]
async fn relayed_chunks_arrive_byte_exact_in_our_registry_and_in_docker_registry() {
    let source = TestRegistry::start().await;
    let ours = TestRegistry::start().await;
    let theirs = Distribution::start();
    let client = support::client();
    let from = source.repo("relay/from");
    let (data, digest) = pushed(&client, &from, 2_600_000, 6).await;
    let size = data.len() as u64;

    for destination in [ours.host(), theirs.host()] {
        let watched = Proxy::start(destination).await;
        let to = Repository::new(watched.host(), "relay/to").unwrap();
        let mut session = client.start_upload(&to).await.unwrap();
        let (outcome, heard) = relay_chunks(&client, &from, &mut session, &digest, size).await;
        assert!(matches!(outcome, Ok(RelayedChunks::Sent)), "{outcome:?}");
        assert_eq!((session.offset(), heard), (size, size));
        assert_eq!(
            watched.count("PATCH", "/blobs/uploads/"),
            3,
            "{:#?}",
            watched.requests()
        );
        client.finish_upload(session, &digest).await.unwrap();
        let copied = content::pull(&client, &to, &digest, Some(size)).await;
        assert!(
            copied == data,
            "the bytes in {destination} differ from the source's"
        );
    }
}

#[tokio::test]
async fn a_chunk_relay_cut_midway_goes_on_from_what_the_registry_holds() {
    let ours = TestRegistry::start().await;
    let theirs = Distribution::start();
    // The ranged `GET` read from our registry and from docker-registry. (Into
    // docker-registry, a chunk that broke off invalidates the session: its status query
    // answers `BLOB_UPLOAD_INVALID`, and oci-copy starts over.)
    for source in [ours.host(), theirs.host()] {
        let destination = TestRegistry::start().await;
        relay_cut_and_resumed(source, destination.host()).await;
    }
}

/// Relays a 2.5 MiB blob in chunks from `source` to `destination`, the source's first
/// answer cut after 1.5 MB, then again from what the destination holds.
async fn relay_cut_and_resumed(source: &str, destination: &str) {
    let client = support::client();
    let source_repo = Repository::new(source, "relay/from").unwrap();
    let (data, digest) = pushed(&client, &source_repo, 2_600_000, 7).await;
    let size = data.len() as u64;
    let cut = Fault::new("GET", "/blobs/sha256:", Action::Cut { after: 1_500_000 });
    let proxy = Proxy::with_faults(source, vec![cut]).await;
    let from = Repository::new(proxy.host(), "relay/from").unwrap();
    let to = Repository::new(destination, "relay/to").unwrap();
    let mut session = client.start_upload(&to).await.unwrap();

    let (outcome, _) = relay_chunks(&client, &from, &mut session, &digest, size).await;
    match outcome {
        Err(Error::Relay { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof, "{source}")
        }
        other => panic!("expected a relay error, got {other:?}"),
    }
    // The first chunk was taken whole; the second broke off and counts for nothing.
    assert_eq!(session.offset(), CHUNK);
    assert_eq!(client.upload_status(&mut session).await.unwrap(), CHUNK);

    let (outcome, heard) = relay_chunks(&client, &from, &mut session, &digest, size).await;
    assert!(matches!(outcome, Ok(RelayedChunks::Sent)), "{outcome:?}");
    assert_eq!(heard, size);
    let gets = proxy.seen_matching("GET", "/blobs/sha256:");
    assert_eq!(gets.len(), 2, "{:#?}", proxy.requests());
    assert_eq!(
        gets[1].header("range"),
        Some(format!("bytes={CHUNK}-").as_str())
    );
    client.finish_upload(session, &digest).await.unwrap();
    assert!(content::pull(&client, &to, &digest, Some(size)).await == data);
}

#[tokio::test]
async fn a_source_answering_503_is_asked_again_not_declined() {
    let (source, destination) = (TestRegistry::start().await, TestRegistry::start().await);
    let client = support::client();
    let (data, digest) = pushed(&client, &source.repo("relay/from"), 1_500_000, 8).await;
    let size = data.len() as u64;
    let unavailable = Fault::new("GET", "/blobs/sha256:", Action::status(503));
    let proxy = Proxy::with_faults(source.host(), vec![unavailable]).await;
    let from = Repository::new(proxy.host(), "relay/from").unwrap();
    let to = destination.repo("relay/to");
    let mut session = client.start_upload(&to).await.unwrap();

    let (outcome, _) = relay_chunks(&client, &from, &mut session, &digest, size).await;
    assert!(matches!(outcome, Ok(RelayedChunks::Sent)), "{outcome:?}");
    assert_eq!(proxy.injected(), 1);
    assert_eq!(proxy.count("GET", "/blobs/sha256:"), 2);
    client.finish_upload(session, &digest).await.unwrap();
    assert!(content::pull(&client, &to, &digest, Some(size)).await == data);
}

fn basic() -> Credentials {
    Credentials::basic(token::USERNAME, token::PASSWORD)
}

fn bearer(host: &str) -> CredentialStore {
    CredentialStore::new().with_credentials(host, basic())
}
