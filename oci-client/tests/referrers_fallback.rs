//! The referrers tag schema under concurrent writers, against Debian's `docker-registry`
//! (no referrers API): every referrer pushed ends up in the subject's fallback index,
//! whether the writers are tasks of one client or another tool overwrote the index right
//! after the client's write, and a writer that cannot get its entry to stay says so.

use oci_distribution_client::{
    Client, Error, MAX_FALLBACK_INDEX_WRITES, ManifestReference, ReferrersSource, Repository,
};
use oci_spec_types::{Digest, ImageIndex, Manifest, referrers_tag};
use oci_test_support::peers::Distribution;
use oci_test_support::{Action, Fault, Proxy};

use crate::support::{self, Repos, content};

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
    let registry = Distribution::start();
    let client = support::client();
    let repo = registry.repo("fallback/tasks");
    let (subject, referrers) = subject_and_referrers(&client, &repo, 500, 12).await;

    push_all_at_once(&client, &repo, &referrers).await;

    assert_eq!(
        listed(&client, &repo, &subject).await,
        digests_of(&referrers)
    );
}

/// A subject with one referrer to push through a fault proxy, and another writer that
/// overwrites the fallback index right after each of the client's next `overwrites`
/// writes with its own index, read before the client's write: it lists only the other
/// writer's referrer (pushed by digest, so the registry accepts an index naming it).
struct OtherWriter {
    _registry: Distribution,
    proxy: Proxy,
    client: Client,
    repo: Repository,
    subject: Manifest,
    referrer: Manifest,
    theirs: Manifest,
}

impl OtherWriter {
    async fn start(name: &str, seed: u64, overwrites: usize) -> OtherWriter {
        let registry = Distribution::start();
        let proxy = Proxy::start(registry.host()).await;
        let client = support::client();
        let repo = Repository::new(proxy.host(), name).unwrap();
        let (subject, mut referrers) = subject_and_referrers(&client, &repo, seed, 1).await;
        let theirs =
            content::referrer(&client, &repo, &subject, "application/vnd.example.theirs").await;
        client
            .put_manifest(&repo, &ManifestReference::Digest(theirs.digest()), &theirs)
            .await
            .unwrap();
        let their_index =
            Manifest::from_index(ImageIndex::referrers(vec![theirs.referrer_descriptor()]))
                .unwrap();
        let overwrite = Action::Overwrite {
            content_type: "application/vnd.oci.image.index.v1+json",
            body: their_index.raw().to_vec(),
        };
        proxy.inject(Fault::new("PUT", FALLBACK_TAG_PATH, overwrite).times(overwrites));
        OtherWriter {
            _registry: registry,
            proxy,
            client,
            repo,
            subject,
            referrer: referrers.remove(0),
            theirs,
        }
    }

    /// How many times the fallback index was written through the proxy.
    fn fallback_writes(&self) -> usize {
        self.proxy.count("PUT", FALLBACK_TAG_PATH)
    }
}

/// What the path of a fallback index tag holds (a digest reference has `sha256:`).
const FALLBACK_TAG_PATH: &str = "/manifests/sha256-";

#[tokio::test(flavor = "multi_thread")]
async fn a_referrer_another_writer_overwrote_is_merged_back_into_the_index() {
    let other = OtherWriter::start("fallback/overwritten", 520, 1).await;

    other
        .client
        .push_referrer(&other.repo, &other.referrer)
        .await
        .unwrap();

    assert_eq!(
        listed(&other.client, &other.repo, &other.subject).await,
        digests_of([&other.referrer, &other.theirs])
    );
    assert_eq!(
        other.fallback_writes(),
        2,
        "the write, and the merge after the overwrite"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fallback_index_that_never_keeps_the_referrer_ends_in_a_typed_error() {
    let other = OtherWriter::start("fallback/contended", 530, usize::MAX).await;
    let tag = referrers_tag(&other.subject.digest());

    let error = other
        .client
        .push_referrer(&other.repo, &other.referrer)
        .await
        .unwrap_err();

    match &error {
        Error::FallbackIndexContended {
            tag: named,
            referrer,
            writes,
        } => {
            assert_eq!(named, &tag);
            assert_eq!(referrer, &other.referrer.digest());
            assert_eq!(*writes, MAX_FALLBACK_INDEX_WRITES);
        }
        unexpected => panic!("unexpected error {unexpected}"),
    }
    assert_eq!(other.fallback_writes(), MAX_FALLBACK_INDEX_WRITES);
    assert!(error.to_string().contains(&tag), "{error}");
}
