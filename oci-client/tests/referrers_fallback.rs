//! The referrers tag schema under concurrent writers, against Debian's `docker-registry`
//! (no referrers API): every referrer pushed ends up in the subject's fallback index,
//! whether the writers are tasks of one client or another tool overwrote the index right
//! after the client's write, and a writer that cannot get its entry to stay says so.

use bytes::Bytes;
use http::Method;
use oci_distribution_client::{
    Client, Error, MAX_FALLBACK_INDEX_WRITES, ManifestReference, ReferrersSource, Repository,
};
use oci_spec_types::{Digest, ImageIndex, Manifest, referrers_tag};

use crate::support::distribution::Distribution;
use crate::support::fault::{Fault, FaultProxy};
use crate::support::{self, content};

/// A pushed subject image and `count` referrers of it (not pushed), each of its own
/// artifact type.
async fn subject_and_referrers(
    client: &Client,
    repo: &Repository,
    seed: u64,
    count: usize,
) -> (Manifest, Vec<Manifest>) {
    let subject = content::image(client, repo, &[1_000], seed).await;
    client
        .put_manifest(repo, &ManifestReference::tag("v1").unwrap(), &subject)
        .await
        .unwrap();
    let mut referrers = Vec::new();
    for n in 0..count {
        let artifact_type = format!("application/vnd.example.kind-{seed}-{n}");
        referrers.push(content::referrer(client, repo, &subject, &artifact_type).await);
    }
    (subject, referrers)
}

/// The digests the fallback index of `subject` lists, sorted; checks they came from it.
async fn listed(client: &Client, repo: &Repository, subject: &Manifest) -> Vec<Digest> {
    let referrers = client
        .referrers(repo, &subject.digest(), None)
        .await
        .unwrap();
    assert_eq!(referrers.source, ReferrersSource::TagSchema);
    let mut digests: Vec<Digest> = referrers
        .descriptors
        .into_iter()
        .map(|entry| entry.digest)
        .collect();
    digests.sort();
    digests
}

/// The digests of `manifests`, sorted.
fn digests_of<'a>(manifests: impl IntoIterator<Item = &'a Manifest>) -> Vec<Digest> {
    let mut digests: Vec<Digest> = manifests.into_iter().map(Manifest::digest).collect();
    digests.sort();
    digests
}

/// Pushes every referrer at once, each from a task of its own, through `client`.
async fn push_all_at_once(client: &Client, repo: &Repository, referrers: &[Manifest]) {
    let mut tasks = tokio::task::JoinSet::new();
    for referrer in referrers {
        let (client, repo, referrer) = (client.clone(), repo.clone(), referrer.clone());
        tasks.spawn(async move { client.push_referrer(&repo, &referrer).await });
    }
    while let Some(pushed) = tasks.join_next().await {
        let pushed = pushed.unwrap().unwrap();
        assert!(pushed.fallback_tag.is_some(), "docker-registry has no API");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn referrers_pushed_at_once_by_many_tasks_all_land_in_the_fallback_index() {
    let registry = Distribution::start().await;
    let client = support::client();
    let repo = registry.repo("fallback/tasks");
    let (subject, referrers) = subject_and_referrers(&client, &repo, 500, 12).await;

    push_all_at_once(&client, &repo, &referrers).await;

    assert_eq!(
        listed(&client, &repo, &subject).await,
        digests_of(&referrers)
    );
}

/// The fallback index another writer holds for `subject`: its own referrer only, pushed
/// (by digest) so that the registry accepts an index naming it.
async fn other_writers_index(
    client: &Client,
    repo: &Repository,
    subject: &Manifest,
) -> (Manifest, Bytes) {
    let theirs = content::referrer(client, repo, subject, "application/vnd.example.theirs").await;
    client
        .put_manifest(repo, &ManifestReference::Digest(theirs.digest()), &theirs)
        .await
        .unwrap();
    let index =
        Manifest::from_index(ImageIndex::referrers(vec![theirs.referrer_descriptor()])).unwrap();
    (theirs, index.raw().clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referrer_another_writer_overwrote_is_merged_back_into_the_index() {
    let registry = Distribution::start().await;
    let proxy = FaultProxy::start(&registry.host()).await;
    let client = support::client();
    let repo = Repository::new(&proxy.host(), "fallback/overwritten").unwrap();
    let (subject, referrers) = subject_and_referrers(&client, &repo, 520, 1).await;
    let (theirs, their_index) = other_writers_index(&client, &repo, &subject).await;
    // Right after the client writes the index, the other writer puts back its own
    // (read before the client's write, so without the client's referrer).
    proxy.inject(
        Method::PUT,
        "/manifests/sha256-",
        Fault::Overwrite {
            content_type: "application/vnd.oci.image.index.v1+json",
            body: their_index,
        },
        1,
    );

    client.push_referrer(&repo, &referrers[0]).await.unwrap();

    assert_eq!(
        listed(&client, &repo, &subject).await,
        digests_of([&referrers[0], &theirs])
    );
    let tag_writes = proxy.seen(Method::PUT, "/manifests/sha256-").len();
    assert_eq!(
        tag_writes, 2,
        "the write, and the merge after the overwrite"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fallback_index_that_never_keeps_the_referrer_ends_in_a_typed_error() {
    let registry = Distribution::start().await;
    let proxy = FaultProxy::start(&registry.host()).await;
    let client = support::client();
    let repo = Repository::new(&proxy.host(), "fallback/contended").unwrap();
    let (subject, referrers) = subject_and_referrers(&client, &repo, 530, 1).await;
    let (_, their_index) = other_writers_index(&client, &repo, &subject).await;
    proxy.inject(
        Method::PUT,
        "/manifests/sha256-",
        Fault::Overwrite {
            content_type: "application/vnd.oci.image.index.v1+json",
            body: their_index,
        },
        usize::MAX,
    );

    let error = client
        .push_referrer(&repo, &referrers[0])
        .await
        .unwrap_err();

    match &error {
        Error::FallbackIndexContended {
            tag,
            referrer,
            writes,
        } => {
            assert_eq!(tag, &referrers_tag(&subject.digest()));
            assert_eq!(referrer, &referrers[0].digest());
            assert_eq!(*writes, MAX_FALLBACK_INDEX_WRITES);
        }
        other => panic!("unexpected error {other}"),
    }
    let tag_writes = proxy.seen(Method::PUT, "/manifests/sha256-").len();
    assert_eq!(tag_writes, MAX_FALLBACK_INDEX_WRITES);
    assert!(
        error
            .to_string()
            .contains(&referrers_tag(&subject.digest()))
    );
}
