//! A destination refusing a manifest with `400 MANIFEST_BLOB_UNKNOWN`, injected by the
//! proxy (docker-registry answers it only while racing with another write): the write is
//! tried again when `HEAD`s confirm that the destination has what the manifest names,
//! and not when something is missing; a tag that keeps failing is named with its
//! repository in the error.

use oci_test_support::peers::OciRegistry;
use oci_test_support::{Action, Fault, Proxy};

use crate::common::fixtures::layout_with_image;
use crate::common::processes::oci_copy_command;
use crate::common::verify::assert_stored;
use crate::common::{copy, try_copy};

/// The refusal docker-registry gives while it rewrites a child's links.
const BLOB_UNKNOWN: Action = Action::Refuse {
    status: 400,
    code: "MANIFEST_BLOB_UNKNOWN",
    retry_after: None,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_refused_for_content_the_destination_has_is_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let (source, index, images) = layout_with_image(dir.path(), 1_500).await;
    let destination = OciRegistry::start();
    let child = images[0].manifest.descriptor.digest.as_str().to_owned();
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![
            Fault::new("PUT", format!("/manifests/{child}"), BLOB_UNKNOWN),
            Fault::new("PUT", "/manifests/v1", BLOB_UNKNOWN),
        ],
    )
    .await;

    copy(&source, &format!("{}/app:v1", proxy.host())).await;

    assert_eq!(proxy.injected(), 2);
    assert_eq!(proxy.count("PUT", &format!("/manifests/{child}")), 2);
    assert_eq!(proxy.count("PUT", "/manifests/v1"), 2);
    // Before the tag's second try, its children were asked for again.
    let seen = proxy.seen();
    let refused_tag = seen
        .iter()
        .position(|seen| seen.is("PUT", "/manifests/v1"))
        .unwrap();
    let child_checked = seen[refused_tag..]
        .iter()
        .any(|seen| seen.is("HEAD", &format!("/manifests/{child}")));
    assert!(child_checked, "{:#?}", proxy.requests());
    assert_stored(destination.host(), "app", "v1", &index, &images);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_refused_for_content_the_destination_lacks_is_not_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _, images) = layout_with_image(dir.path(), 1_510).await;
    let destination = OciRegistry::start();
    let image = images[0].manifest.descriptor.digest.as_str().to_owned();
    let config = images[0].config.descriptor.digest.as_str().to_owned();
    // The config is missing for the planner (so it is copied) and again for the check
    // after the refusal.
    let missing_config = Fault::new("HEAD", format!("/blobs/{config}"), Action::status(404));
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![
            Fault::new("PUT", format!("/manifests/{image}"), BLOB_UNKNOWN),
            missing_config.times(2),
        ],
    )
    .await;

    let result = try_copy(
        &crate::common::opener(),
        &source,
        &format!("{}/app:v1", proxy.host()),
        &oci_copy::CopyOptions::default(),
    )
    .await;

    assert!(
        matches!(result, Err(oci_copy::Error::StepsFailed { .. })),
        "{result:?}"
    );
    assert_eq!(proxy.injected(), 3);
    assert_eq!(proxy.count("PUT", &format!("/manifests/{image}")), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_that_keeps_being_refused_fails_naming_the_tag_and_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _, _) = layout_with_image(dir.path(), 1_520).await;
    let destination = OciRegistry::start();
    let proxy = Proxy::with_faults(
        destination.host(),
        vec![Fault::new("PUT", "/manifests/v1", BLOB_UNKNOWN).times(10)],
    )
    .await;

    let output = oci_copy_command([
        "copy",
        "--retries",
        "1",
        &source,
        &format!("{}/team/app:v1", proxy.host()),
    ])
    .output()
    .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let named = format!("tag \"v1\" of docker://{}/team/app", proxy.host());
    assert!(
        stderr.contains(&named) && stderr.contains("MANIFEST_BLOB_UNKNOWN"),
        "{stderr}"
    );
    assert_eq!(
        proxy.count("PUT", "/manifests/v1"),
        2,
        "one try and one retry"
    );
}
