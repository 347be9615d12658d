//! Faults between two `oci-registry` processes, injected by the proxy on the source side
//! (pulls) or the destination side (pushes): connections cut mid-blob, `500`/`503`
//! answers, `429` with `Retry-After`, a trickled download, a `400` that must not be
//! retried, and an `oci-copy` process killed mid-copy and run again. Every copy that
//! succeeds is checked on the destination over plain HTTP, digest by digest, and every
//! test checks that the proxy did inject its faults.

use std::process::Stdio;
use std::time::Duration;

use oci_copy::end::RegistryOptions;
use oci_copy::{CopyOptions, Location, Opener, Plan, Report};
use oci_distribution_client::RetryPolicy;
use oci_test_support::peers::{KillOnDrop, OciRegistry};
use oci_test_support::{Action, Fault, Proxy};

use crate::common::fixtures::{self, Blob, Image, image, index, layer};
use crate::common::processes::oci_copy_command;
use crate::common::verify::{assert_stored, has_blob};
use crate::common::{opener, opener_with, try_copy};

/// A safety net against a copy that hangs, far above what any of these copies takes.
const HANG: Duration = Duration::from_secs(60);

/// An index over two platforms sharing a 600 KiB base layer, with one more layer each:
/// 200 KiB for amd64, 40 KiB for arm64.
fn layered(seed: u64) -> (Blob, Vec<Image>) {
    let base = layer(seed, 600 * 1024);
    let images = vec![
        image(
            "linux/amd64",
            vec![base.clone(), layer(seed + 1, 200 * 1024)],
        ),
        image("linux/arm64", vec![base, layer(seed + 2, 40 * 1024)]),
    ];
    (index(&images), images)
}

/// Pushes by size with every upload method on [`layered`]'s blobs: up to 64 KiB one
/// `POST` (configs, the 40 KiB layer), up to 256 KiB one streamed `PUT` (the 200 KiB
/// layer), larger in `PATCH` chunks of 256 KiB (the base layer).
fn every_upload_method() -> Opener {
    opener_with(RegistryOptions {
        single_request_limit: 64 * 1024,
        streamed_limit: 256 * 1024,
        chunk_size: std::num::NonZeroU64::new(256 * 1024).unwrap(),
        upload_resumes: 3,
    })
}

/// A fresh registry holding `images` (under `index` when given) as `app:v1`.
async fn registry_holding(images: &[Image], index: Option<&Blob>) -> OciRegistry {
    let registry = OciRegistry::start();
    let to: Location = format!("{}/app:v1", registry.host()).parse().unwrap();
    let sink = opener().sink(&to, None).await.unwrap();
    fixtures::write(sink.as_ref(), images, index, "v1").await;
    registry
}

/// Copies `app:v1` from the registry at `from` to the one at `to`.
async fn copy_app(opener: &Opener, from: &str, to: &str) -> oci_copy::Result<(Plan, Report)> {
    let (from, to) = (format!("{from}/app:v1"), format!("{to}/app:v1"));
    let options = CopyOptions::default();
    let copied = try_copy(opener, &from, &to, &options);
    tokio::time::timeout(HANG, copied).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_cut_mid_blob_resume_and_verify() {
    let (root, images) = layered(1000);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let (base, amd64) = (
        images[0].layers[0].descriptor.digest.encoded(),
        images[0].layers[1].descriptor.digest.encoded(),
    );
    let proxy = Proxy::with_faults(
        source.host(),
        vec![
            Fault::new("GET", base, Action::Cut { after: 200 * 1024 }),
            Fault::new("GET", amd64, Action::Cut { after: 50 * 1024 }),
        ],
    )
    .await;

    copy_app(&opener(), proxy.host(), destination.host())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 2, "{:#?}", proxy.requests());
    for cut in [base, amd64] {
        assert_eq!(
            proxy.count("GET", cut),
            2,
            "one cut download, one resumed: {:#?}",
            proxy.requests()
        );
    }
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_cut_mid_body_are_sent_again_and_verify() {
    let (root, images) = layered(1100);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let (streamed, single) = (
        images[0].layers[1].descriptor.digest.encoded(),
        images[1].layers[1].descriptor.digest.encoded(),
    );
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![
            Fault::new("PUT", streamed, Action::Cut { after: 64 * 1024 }),
            Fault::new("POST", single, Action::Cut { after: 10 * 1024 }),
            Fault::new(
                "PATCH",
                "/blobs/uploads/",
                Action::Cut { after: 100 * 1024 },
            ),
        ],
    )
    .await;

    copy_app(&every_upload_method(), source.host(), proxy.host())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 3, "{:#?}", proxy.requests());
    assert_eq!(proxy.count("PUT", streamed), 2, "{:#?}", proxy.requests());
    assert_eq!(proxy.count("POST", single), 2, "{:#?}", proxy.requests());
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_on_pulls_are_retried() {
    let (root, images) = layered(1200);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let proxy = Proxy::with_faults(
        source.host(),
        vec![
            Fault::new("GET", "/blobs/sha256:", Action::status(500)).times(3),
            Fault::new("GET", "/manifests/", Action::status(503)).times(2),
        ],
    )
    .await;

    copy_app(&opener(), proxy.host(), destination.host())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 5, "{:#?}", proxy.requests());
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

/// A status the client's retry policy already covered is not retried again by the step:
/// one layer per kind of failure, so a registry that keeps failing sees the client's
/// attempts only, not the client's attempts times the step's.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_pull_is_retried_by_the_client_only() {
    let (root, images) = layered(1250);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let failing = &images[0].layers[1].descriptor.digest;
    let fault = Fault::new("GET", failing.encoded(), Action::status(503)).times(100);
    let proxy = Proxy::with_faults(source.host(), vec![fault]).await;

    copy_app(&opener(), proxy.host(), destination.host())
        .await
        .unwrap_err();
    let attempts = RetryPolicy::default().max_attempts().get() as usize;
    assert_eq!(
        proxy.count("GET", failing.encoded()),
        attempts,
        "{:#?}",
        proxy.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_on_pushes_are_retried() {
    let (root, images) = layered(1300);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let (chunked, streamed) = (
        images[0].layers[0].descriptor.digest.encoded(),
        images[0].layers[1].descriptor.digest.encoded(),
    );
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![
            Fault::new("POST", "/blobs/uploads/", Action::status(500)).times(2),
            Fault::new("PATCH", "/blobs/uploads/", Action::status(503)).times(2),
            // The one PUT that carries a blob, and the empty one ending a chunked upload.
            Fault::new("PUT", streamed, Action::status(500)),
            Fault::new("PUT", chunked, Action::status(503)),
            Fault::new("PUT", "/manifests/", Action::status(500)).times(2),
        ],
    )
    .await;

    copy_app(&every_upload_method(), source.host(), proxy.host())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 8, "{:#?}", proxy.requests());
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_requests_is_retried_after_the_wait_asked_for() {
    let (root, images) = layered(1400);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let (base, streamed, index) = (
        images[0].layers[0].descriptor.digest.encoded(),
        images[0].layers[1].descriptor.digest.encoded(),
        root.descriptor.digest.encoded(),
    );
    let too_many = Action::too_many_requests("1");
    let pulls = Proxy::with_faults(
        source.host(),
        vec![Fault::new("GET", base, too_many.clone())],
    )
    .await;
    let pushes = Proxy::with_faults(
        destination.host(),
        vec![
            // A streamed body the client cannot replay, and a manifest it can.
            Fault::new("PUT", streamed, too_many.clone()),
            Fault::new("PUT", index, too_many.clone()),
        ],
    )
    .await;

    copy_app(&every_upload_method(), pulls.host(), pushes.host())
        .await
        .unwrap();
    assert_eq!(pulls.injected() + pushes.injected(), 3);
    for (proxy, method, path) in [
        (&pulls, "GET", base),
        (&pushes, "PUT", streamed),
        (&pushes, "PUT", index),
    ] {
        let seen: Vec<_> = proxy
            .seen()
            .into_iter()
            .filter(|seen| seen.is(method, path))
            .collect();
        assert_eq!(seen.len(), 2, "refused, then retried: {seen:#?}");
        assert_eq!(seen[0].fault.as_ref(), Some(&too_many));
        let waited = seen[1].at - seen[0].at;
        assert!(
            waited >= Duration::from_secs(1),
            "{method} {path} was retried after {waited:?}, before the Retry-After of 1 s"
        );
    }
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickled_download_completes_verified() {
    let (root, images) = layered(1500);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let base = images[0].layers[0].descriptor.digest.encoded();
    let trickle = Fault::new("GET", base, Action::Trickle { piece: 1024 });
    let proxy = Proxy::with_faults(source.host(), vec![trickle]).await;

    copy_app(&opener(), proxy.host(), destination.host())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 1);
    assert_eq!(
        proxy.count("GET", base),
        1,
        "read to the end without starting over: {:#?}",
        proxy.requests()
    );
    assert_stored(destination.host(), "app", "v1", &root, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_request_is_not_retried_and_fails_the_copy() {
    let (root, images) = layered(1600);
    let source = registry_holding(&images, Some(&root)).await;
    let destination = OciRegistry::start();
    let refused = &images[0].layers[1].descriptor.digest;
    // Enough uses to refuse any retry too: the count below tells whether one came.
    let fault = Fault::new("GET", refused.encoded(), Action::status(400)).times(10);
    let proxy = Proxy::with_faults(source.host(), vec![fault]).await;

    let error = copy_app(&opener(), proxy.host(), destination.host())
        .await
        .unwrap_err();
    assert_eq!(
        proxy.count("GET", refused.encoded()),
        1,
        "{:#?}",
        proxy.requests()
    );
    assert_eq!(proxy.injected(), 1);
    let message = error_chain(&error);
    assert!(
        message.contains("400 Bad Request") && message.contains(refused.as_str()),
        "{message}"
    );
}

/// An error and its causes, one a line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(&format!("\n  caused by: {inner}"));
        cause = inner.source();
    }
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_cli_copy_reruns_without_uploading_what_arrived() {
    // One at a time (`--jobs 1`), largest first: 200, 150, then the stalled 100 KiB layer.
    let layers: Vec<Blob> = [200, 150, 100, 50]
        .into_iter()
        .enumerate()
        .map(|(i, kib)| layer(1700 + i as u64, kib * 1024))
        .collect();
    let images = vec![image("linux/amd64", layers)];
    let image = &images[0];
    let source = registry_holding(&images, None).await;
    let destination = OciRegistry::start();
    let stalled = image.layers[2].descriptor.digest.encoded();
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![Fault::new("POST", stalled, Action::Stall)],
    )
    .await;
    let (from, to) = (
        format!("{}/app:v1", source.host()),
        format!("{}/app:v1", proxy.host()),
    );
    let args = ["copy", "--jobs", "1", &from, &to].map(str::to_owned);

    let mut killed = KillOnDrop(
        oci_copy_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    tokio::time::timeout(HANG, proxy.wait_for_injected(1))
        .await
        .unwrap_or_else(|_| panic!("the upload never stalled: {:#?}", proxy.requests()));
    let status = killed.kill();
    assert!(!status.success());
    let arrived: Vec<_> = image
        .layers
        .iter()
        .chain([&image.config])
        .filter(|blob| has_blob(destination.host(), "app", &blob.descriptor.digest))
        .map(|blob| blob.descriptor.digest.encoded())
        .collect();
    let expected =
        [&image.layers[0], &image.layers[1]].map(|blob| blob.descriptor.digest.encoded());
    assert_eq!(
        arrived, expected,
        "the two largest layers went before the stall"
    );

    let rerun_from = proxy.seen().len();
    let rerun = tokio::task::spawn_blocking(move || oci_copy_command(args).output());
    let output = tokio::time::timeout(HANG, rerun)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_stored(destination.host(), "app", "v1", &image.manifest, &images);
    let rerun: Vec<_> = proxy.seen().split_off(rerun_from);
    for digest in arrived {
        let lines: Vec<_> = rerun
            .iter()
            .filter(|seen| seen.line.contains(digest))
            .map(|seen| seen.line.as_str())
            .collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|line| line.starts_with("HEAD ")),
            "only asked about {digest}: {lines:#?}"
        );
    }
    let uploads = rerun
        .iter()
        .filter(|seen| seen.line.contains("/blobs/uploads/") && !seen.line.starts_with("GET "))
        .count();
    assert_eq!(
        uploads, 3,
        "one upload each for the stalled layer, the last layer and the config: {rerun:#?}"
    );
}
