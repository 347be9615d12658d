//! Copies into Debian's `docker-registry` at high parallelism, several rounds each. That
//! registry has no referrers API, so every referrer of a subject goes into one fallback
//! index that concurrent writers could overwrite; and it rewrites a manifest's links
//! non-atomically, so a manifest written while another that names it is being written
//! can be refused. Both were races: a round could lose referrers or fail a tag.

use std::process::Output;
use std::sync::Arc;

use oci_copy::end::Sink;
use oci_spec_types::{Descriptor, Digest};
use oci_test_support::peers::{Distribution, OciRegistry};

use crate::common::fixtures::{self, Blob, Image, two_platforms};
use crate::common::opener;
use crate::common::processes::oci_copy_command;
use crate::common::verify::{assert_stored, raw_request};

/// Parallelism of the copies: well above the number of writes that can race.
const JOBS: &str = "16";
/// Copies per test, each into a fresh repository.
const ROUNDS: usize = 4;

/// A sink writing into `repository` on `host`.
async fn registry_sink(host: &str, repository: &str) -> Arc<dyn Sink> {
    let location: oci_copy::Location = format!("{host}/{repository}").parse().unwrap();
    opener().sink(&location, None).await.unwrap()
}

/// Runs `oci-copy copy ARGS` and returns its output, failing the test on a non-zero exit.
fn oci_copy_copy(args: &[&str]) -> Output {
    let output = oci_copy_command(["copy"].iter().chain(args))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "oci-copy copy {args:?} exited with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Whether `docker-registry` is installed; says so loudly when it is not.
fn distribution_available() -> bool {
    let available = Distribution::available();
    if !available {
        eprintln!(
            "SKIPPED: /usr/bin/docker-registry is not installed (apt-get install docker-registry)"
        );
    }
    available
}

#[tokio::test(flavor = "multi_thread")]
async fn every_referrer_of_every_subject_reaches_a_registry_without_the_referrers_api() {
    if !distribution_available() {
        return;
    }
    let source = OciRegistry::start();
    let sink = registry_sink(source.host(), "signed").await;
    let (index, images) = two_platforms(900, 4 * 1024);
    fixtures::write(sink.as_ref(), &images, Some(&index), "v1").await;
    // Eight referrers of the index and six of one platform's image, of two artifact types.
    let subjects = [
        (&index.descriptor, 8_u64),
        (&images[0].manifest.descriptor, 6),
    ];
    let mut expected: Vec<(Descriptor, Vec<Digest>)> = Vec::new();
    for (seed, (subject, count)) in (910_u64..).step_by(100).zip(subjects) {
        let mut digests = Vec::new();
        for n in 0..count {
            let kind = ["signature", "sbom"][n as usize % 2];
            let (referrer, blobs) = fixtures::artifact(
                subject,
                &format!("application/vnd.example.{kind}"),
                seed + n,
            );
            fixtures::write_artifact(sink.as_ref(), &referrer, &blobs).await;
            digests.push(referrer.descriptor.digest);
        }
        digests.sort();
        expected.push((subject.clone(), digests));
    }

    let distribution = Distribution::start();
    let mut short_rounds = Vec::new();
    for round in 0..ROUNDS {
        let destination = format!("{}/signed{round}:v1", distribution.host());
        oci_copy_copy(&[
            "--referrers",
            "-j",
            JOBS,
            &format!("{}/signed:v1", source.host()),
            &destination,
        ]);
        let copied = opener()
            .source(&destination.parse().unwrap())
            .await
            .unwrap();
        for (subject, wanted) in &expected {
            let mut found: Vec<Digest> = copied
                .referrers(subject)
                .await
                .unwrap()
                .into_iter()
                .map(|entry| entry.digest)
                .collect();
            found.sort();
            if &found != wanted {
                short_rounds.push(format!(
                    "round {round}: {} of {} referrers of {} listed",
                    found.len(),
                    wanted.len(),
                    subject.digest
                ));
            }
        }
    }
    assert!(short_rounds.is_empty(), "{short_rounds:#?}");
}

/// One release of the source repository: a two-platform index and its images.
struct Release {
    index: Blob,
    images: Vec<Image>,
}

impl Release {
    /// Its four tags and the digest each points to: the index twice, each image once.
    fn tags(&self, number: usize) -> Vec<(String, Digest)> {
        let index = &self.index.descriptor.digest;
        vec![
            (format!("r{number}"), index.clone()),
            (format!("r{number}.0"), index.clone()),
            (
                format!("r{number}-amd64"),
                self.images[0].manifest.descriptor.digest.clone(),
            ),
            (
                format!("r{number}-arm64"),
                self.images[1].manifest.descriptor.digest.clone(),
            ),
        ]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_tags_of_a_multi_platform_repository_land_in_distribution_every_time() {
    if !distribution_available() {
        return;
    }
    let source = OciRegistry::start();
    let sink = registry_sink(source.host(), "releases").await;
    let mut releases = Vec::new();
    let mut tags: Vec<(String, Digest)> = Vec::new();
    for number in 0..6 {
        let (index, images) = two_platforms(1_000 + 10 * number as u64, 2 * 1024);
        let release = Release { index, images };
        let release_tags = release.tags(number);
        fixtures::write(
            sink.as_ref(),
            &release.images,
            Some(&release.index),
            &release_tags[0].0,
        )
        .await;
        for (tag, digest) in &release_tags[1..] {
            let root = [&release.index]
                .into_iter()
                .chain(release.images.iter().map(|image| &image.manifest))
                .find(|blob| &blob.descriptor.digest == digest)
                .unwrap();
            let mut root = root.descriptor.clone();
            root.platform = None;
            sink.tag(Some(tag), &root).await.unwrap();
        }
        tags.extend(release_tags);
        releases.push(release);
    }
    assert_eq!(tags.len(), 24);

    let distribution = Distribution::start();
    for round in 0..ROUNDS {
        let repository = format!("releases{round}");
        oci_copy_copy(&[
            "--all-tags",
            "-j",
            JOBS,
            &format!("{}/releases", source.host()),
            &format!("{}/{repository}", distribution.host()),
        ]);
        for (tag, digest) in &tags {
            let (status, body) = raw_request(
                distribution.host(),
                "GET",
                &format!("/v2/{repository}/manifests/{tag}"),
            );
            assert_eq!(status, 200, "round {round}: {repository}:{tag}");
            assert_eq!(
                &Digest::compute(&body),
                digest,
                "round {round}: {repository}:{tag}"
            );
        }
        for (number, release) in releases.iter().enumerate() {
            assert_stored(
                distribution.host(),
                &repository,
                &format!("r{number}"),
                &release.index,
                &release.images,
            );
        }
    }
}
