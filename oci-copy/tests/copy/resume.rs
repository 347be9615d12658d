//! Broken connections: a download cut mid-blob resumes, an upload cut mid-chunk goes on
//! from what the registry holds (also when the chunks are relayed from another registry by
//! the kernel), and the copy ends with the right content either way.

use oci_copy::CopyOptions;
use oci_copy::end::{LayoutSink, RegistryOptions};
use oci_test_support::peers::{Distribution, OciRegistry};
use oci_test_support::{Action, Fault, Proxy};

use crate::common::fixtures::{self, image, layer};
use crate::common::{copy, ends, opener_with, root_digest, text, try_copy};

/// A one-platform image with a 1 MiB layer, in a layout; returns the layout reference,
/// the image, and the big layer's digest.
async fn big_image(dir: &std::path::Path) -> (String, fixtures::Image) {
    let image = image("linux/amd64", vec![layer(200, 1024 * 1024)]);
    let layout = dir.join("layout");
    fixtures::write(
        &LayoutSink::create(&layout).await.unwrap(),
        std::slice::from_ref(&image),
        None,
        "v1",
    )
    .await;
    (format!("oci:{}:v1", text(&layout)), image)
}

/// Chunked, resumable uploads for anything over 64 KiB, in 256 KiB chunks.
fn chunked() -> oci_copy::Opener {
    opener_with(RegistryOptions {
        single_request_limit: 0,
        streamed_limit: 64 * 1024,
        chunk_size: std::num::NonZeroU64::new(256 * 1024).unwrap(),
        upload_resumes: 3,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_cut_mid_blob_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = big_image(dir.path()).await;
    let (source_registry, destination) = (OciRegistry::start(), OciRegistry::start());
    copy(&layout, &format!("{}/app:v1", source_registry.host())).await;
    let big = &image.layers[0].descriptor.digest;
    let fault = Fault::new(
        "GET",
        format!("/blobs/{big}"),
        Action::Cut { after: 300 * 1024 },
    );
    let proxy = Proxy::with_faults(source_registry.host(), vec![fault]).await;

    let (plan, report) = copy(
        &format!("{}/app:v1", proxy.host()),
        &format!("{}/app:v1", destination.host()),
    )
    .await;
    assert_eq!(proxy.injected(), 1);
    let gets = proxy
        .requests()
        .iter()
        .filter(|line| line.starts_with("GET") && line.contains(big.as_str()))
        .count();
    assert_eq!(
        gets,
        2,
        "one cut download, one resumed: {:#?}",
        proxy.requests()
    );
    assert!(report.is_success());
    assert_eq!(root_digest(&plan), image.manifest.descriptor.digest);
    let (_, sink, _, _) = ends(&layout, &format!("{}/app", destination.host())).await;
    assert!(sink.has_blob(&image.layers[0].descriptor).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_cut_mid_chunk_goes_on_from_what_the_registry_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = big_image(dir.path()).await;
    let registry = OciRegistry::start();
    let fault = Fault::new(
        "PATCH",
        "/blobs/uploads/",
        Action::Cut { after: 100 * 1024 },
    );
    let proxy = Proxy::with_faults(registry.host(), vec![fault]).await;
    let opener = chunked();
    let to = format!("{}/app:v1", proxy.host());
    let (_, report) = try_copy(&opener, &layout, &to, &CopyOptions::default())
        .await
        .unwrap();
    assert!(report.is_success());
    assert_eq!(proxy.injected(), 1);
    let patches = proxy
        .requests()
        .iter()
        .filter(|line| line.starts_with("PATCH"))
        .count();
    assert!(
        patches > 4,
        "the 1 MiB layer takes 5 chunks, one of them sent twice: {:#?}",
        proxy.requests()
    );
    let (_, sink, _, _) = ends(&layout, &format!("{}/app", registry.host())).await;
    assert!(sink.has_blob(&image.layers[0].descriptor).await.unwrap());
    assert_eq!(
        sink.tagged("v1").await.unwrap(),
        Some(image.manifest.descriptor.digest.clone())
    );
}

/// Cuts the first `PATCH` after 100 KiB.
fn chunk_cut() -> Fault {
    Fault::new(
        "PATCH",
        "/blobs/uploads/",
        Action::Cut { after: 100 * 1024 },
    )
}

/// Copies [`big_image`] from a fresh oci-registry into the registry at `destination`, in
/// relayed chunks, through a proxy that injects `fault`; checks that the copy succeeded with
/// the fault injected and that `destination` holds the image. Returns the proxy, for what it
/// saw.
async fn relay_with_a_fault(destination: &str, fault: Fault) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = big_image(dir.path()).await;
    let source = OciRegistry::start();
    copy(&layout, &format!("{}/app:v1", source.host())).await;
    let proxy = Proxy::with_faults(destination, vec![fault]).await;

    let from = format!("{}/app:v1", source.host());
    let to = format!("{}/app:v1", proxy.host());
    let (_, report) = try_copy(&chunked(), &from, &to, &CopyOptions::default())
        .await
        .unwrap();
    assert!(report.is_success());
    assert_eq!(proxy.injected(), 1);
    let (_, sink, _, _) = ends(&layout, &format!("{destination}/app")).await;
    assert!(sink.has_blob(&image.layers[0].descriptor).await.unwrap());
    assert_eq!(
        sink.tagged("v1").await.unwrap(),
        Some(image.manifest.descriptor.digest.clone())
    );
    proxy
}

#[tokio::test(flavor = "multi_thread")]
async fn relayed_chunks_cut_midway_go_on_from_what_the_registry_holds() {
    let destination = OciRegistry::start();
    let proxy = relay_with_a_fault(destination.host(), chunk_cut()).await;
    let patches = proxy.seen_matching("PATCH", "/blobs/uploads/");
    assert!(
        patches.len() > 4,
        "the 1 MiB layer takes 4 chunks, one of them sent twice: {:#?}",
        proxy.requests()
    );
    // The relay's raw connections each carry one exchange and say so; the client's pooled
    // ones do not: every chunk was relayed, the one sent again too.
    for patch in &patches {
        assert_eq!(patch.header("connection"), Some("close"), "{}", patch.line);
    }
    assert_eq!(sessions_patched(&proxy), 1, "{:#?}", proxy.requests());
}

/// How many upload sessions the `PATCH`es that went through `proxy` went to.
fn sessions_patched(proxy: &Proxy) -> usize {
    let sessions: std::collections::HashSet<_> = proxy
        .seen_matching("PATCH", "/blobs/uploads/")
        .into_iter()
        .map(|patch| patch.line.split('?').next().unwrap_or_default().to_owned())
        .collect();
    sessions.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relayed_chunk_refused_with_416_is_reconciled_through_the_upload_status() {
    let destination = OciRegistry::start();
    // The proxy answers 416 instead of forwarding the first chunk, as a registry would after
    // a lost answer; the status query says what it holds, and the relay goes on from there.
    let refused = Fault::new("PATCH", "/blobs/uploads/", Action::status(416));
    let proxy = relay_with_a_fault(destination.host(), refused).await;
    let statuses = proxy.seen_matching("GET", "/blobs/uploads/");
    assert_eq!(statuses.len(), 1, "{:#?}", proxy.requests());
    assert_eq!(sessions_patched(&proxy), 1, "{:#?}", proxy.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn relayed_chunks_cut_midway_into_docker_registry_start_a_new_session() {
    if !Distribution::available() {
        eprintln!("SKIPPED: /usr/bin/docker-registry is not installed");
        return;
    }
    let destination = Distribution::start();
    let proxy = relay_with_a_fault(destination.host(), chunk_cut()).await;
    // docker-registry dropped the session whose chunk broke off: a second one took the blob.
    assert_eq!(sessions_patched(&proxy), 2, "{:#?}", proxy.requests());
}
