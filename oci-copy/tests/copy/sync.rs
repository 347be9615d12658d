//! Mirroring from a sync file: tag filters, dry runs, and a second run that only reads
//! manifests and tags.

use std::path::Path;

use oci_copy::sync::{SyncFile, run_sync};
use oci_copy::{CopyOptions, ExecuteOptions};
use oci_test_support::Proxy;
use oci_test_support::peers::OciRegistry;

use crate::common::fixtures::{self, two_platforms};
use crate::common::{copy, opener, text};

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_file_mirrors_filtered_tags_and_a_second_run_only_reads_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(300, 128 * 1024);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let (upstream, mirror) = (OciRegistry::start(), OciRegistry::start());
    for tag in ["v1.0.0", "v1.2.0", "v2.0.0", "latest"] {
        copy(
            &format!("oci:{}:v1", text(&layout)),
            &format!("{}/team/app:{tag}", upstream.host()),
        )
        .await;
    }
    let (upstream_proxy, mirror_proxy) = (
        Proxy::start(upstream.host()).await,
        Proxy::start(mirror.host()).await,
    );
    let text_file = format!(
        r#"
        [[sync]]
        source = "docker://{up}/team/app"
        target = "docker://{down}/mirror/app"
        tags = {{ regex = "^v", semver = ">=1.1, <2" }}

        [[sync]]
        source = "oci:{layout}:v1"
        target = "{down}/from-layout"
        platforms = ["linux/arm64"]
        "#,
        up = upstream_proxy.host(),
        down = mirror_proxy.host(),
        layout = text(&layout),
    );
    let file = SyncFile::parse(&text_file, Path::new("sync.toml")).unwrap();
    let opener = opener();
    let (base, execute) = (CopyOptions::default(), ExecuteOptions::default());

    // A dry run plans without writing.
    let planned = run_sync(&file, &opener, &base, &execute, true)
        .await
        .unwrap();
    assert_eq!(planned.len(), 2);
    assert!(
        planned
            .iter()
            .all(|outcome| outcome.report.is_none() && !outcome.plan.is_noop())
    );
    assert!(
        !mirror_proxy
            .requests()
            .iter()
            .any(|line| !(line.starts_with("GET") || line.starts_with("HEAD")))
    );

    // The first run copies v1.2.0 only, and the arm64 image under v1.
    let first = run_sync(&file, &opener, &base, &execute, false)
        .await
        .unwrap();
    assert!(
        first
            .iter()
            .all(|outcome| outcome.report.as_ref().unwrap().is_success())
    );
    let (mirrored, _, _, _) = crate::common::ends(
        &format!("{}/mirror/app", mirror.host()),
        &format!("oci:{}", text(&dir.path().join("scratch"))),
    )
    .await;
    assert_eq!(mirrored.tags().await.unwrap(), ["v1.2.0"]);

    // The second run has nothing to do, and asks only for manifests and tag lists.
    let before = (
        upstream_proxy.requests().len(),
        mirror_proxy.requests().len(),
    );
    let second = run_sync(&file, &opener, &base, &execute, false)
        .await
        .unwrap();
    assert!(
        second.iter().all(|outcome| outcome.plan.is_noop()),
        "{}",
        second[0].plan.render()
    );
    let upstream_requests = &upstream_proxy.requests()[before.0..];
    let mirror_requests = &mirror_proxy.requests()[before.1..];
    for line in upstream_requests.iter().chain(mirror_requests) {
        let reads = line.starts_with("GET ") || line.starts_with("HEAD ");
        let about_manifests = line.contains("/manifests/") || line.contains("/tags/list");
        assert!(
            reads && about_manifests,
            "unexpected request on a run with nothing new: {line}"
        );
    }
    assert!(!mirror_requests.is_empty());
}
