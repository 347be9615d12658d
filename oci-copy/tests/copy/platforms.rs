//! Platform subsets: a new index, a single manifest, a sparse index, and no match.

use oci_copy::end::{LayoutSink, Sink};
use oci_copy::filter::parse_platforms;
use oci_copy::plan::{Action, Note, build_plan};
use oci_copy::{CopyOptions, Error, ImagePair};
use oci_spec_types::{ImageIndex, Manifest};

use crate::common::fixtures::{self, image, layer};
use crate::common::{copy_with, ends, root_digest, text};

/// A layout with a three-platform index tagged `v1`; returns its folder and the images.
async fn three_platforms(
    dir: &std::path::Path,
) -> (std::path::PathBuf, fixtures::Blob, Vec<fixtures::Image>) {
    let base = layer(50, 4096);
    let images = vec![
        image("linux/amd64", vec![base.clone(), layer(51, 1000)]),
        image("linux/arm64/v8", vec![base.clone(), layer(52, 1000)]),
        image("linux/s390x", vec![base, layer(53, 1000)]),
    ];
    let index = fixtures::index(&images);
    let layout = dir.join("source");
    fixtures::write_layout(&layout, &images, &index).await;
    (layout, index, images)
}

fn with_platforms(list: &str, sparse: bool) -> CopyOptions {
    CopyOptions {
        platforms: parse_platforms(list).unwrap(),
        sparse_index: sparse,
        ..CopyOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_of_three_platforms_make_a_new_index() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, images) = three_platforms(dir.path()).await;
    let destination = dir.path().join("dest");
    let (plan, _) = copy_with(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}:v1", text(&destination)),
        &with_platforms("linux/amd64,linux/arm64", false),
    )
    .await;
    let root = root_digest(&plan);
    assert_ne!(root, index.descriptor.digest);
    assert!(
        plan.notes
            .iter()
            .any(|note| matches!(note, Note::NewIndex { kept: 2, of: 3, .. }))
    );
    assert!(plan.render().contains("NEW index"));
    let bytes = std::fs::read(destination.join("blobs/sha256").join(root.encoded())).unwrap();
    let new_index: ImageIndex = serde_json::from_slice(&bytes).unwrap();
    let kept: Vec<_> = new_index
        .manifests
        .iter()
        .map(|entry| entry.digest.clone())
        .collect();
    assert_eq!(
        kept,
        [
            images[0].manifest.descriptor.digest.clone(),
            images[1].manifest.descriptor.digest.clone()
        ]
    );
    let sink = LayoutSink::create(&destination).await.unwrap();
    assert!(
        !sink
            .has_manifest(&images[2].manifest.descriptor)
            .await
            .unwrap()
    );
    assert_eq!(
        plan.summary().blobs,
        5,
        "base once, two own layers, two configs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_platform_copies_its_image_manifest_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, images) = three_platforms(dir.path()).await;
    let destination = dir.path().join("dest");
    let (plan, _) = copy_with(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}:arm", text(&destination)),
        &with_platforms("linux/arm64", false),
    )
    .await;
    assert_eq!(root_digest(&plan), images[1].manifest.descriptor.digest);
    let sink = LayoutSink::create(&destination).await.unwrap();
    assert_eq!(
        sink.tagged("arm").await.unwrap(),
        Some(images[1].manifest.descriptor.digest.clone())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sparse_index_keeps_the_original_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, images) = three_platforms(dir.path()).await;
    let destination = dir.path().join("dest");
    let (plan, _) = copy_with(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}:v1", text(&destination)),
        &with_platforms("linux/s390x", true),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    assert!(
        plan.notes
            .iter()
            .any(|note| matches!(note, Note::SparseIndex { kept: 1, of: 3, .. }))
    );
    let sink = LayoutSink::create(&destination).await.unwrap();
    assert!(sink.has_manifest(&index.descriptor).await.unwrap());
    assert!(
        sink.has_manifest(&images[2].manifest.descriptor)
            .await
            .unwrap()
    );
    assert!(
        !sink
            .has_manifest(&images[0].manifest.descriptor)
            .await
            .unwrap()
    );
    let stored = std::fs::read(
        destination
            .join("blobs/sha256")
            .join(index.descriptor.digest.encoded()),
    )
    .unwrap();
    assert_eq!(
        Manifest::parse_lenient(stored.into(), None).unwrap().raw(),
        &index.bytes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absent_platform_is_an_error_and_a_plan_without_filters_copies_all() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = three_platforms(dir.path()).await;
    let (source, sink, _, _) = ends(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}", text(&dir.path().join("d"))),
    )
    .await;
    let images = [ImagePair::tag("v1")];
    let error = build_plan(
        source.as_ref(),
        sink.as_ref(),
        &images,
        &with_platforms("windows/amd64", false),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::PlatformNotFound { .. }));
    let plan = build_plan(
        source.as_ref(),
        sink.as_ref(),
        &images,
        &CopyOptions::default(),
    )
    .await
    .unwrap();
    let manifests = plan
        .steps
        .iter()
        .filter(|step| step.action == Action::PutManifest)
        .count();
    assert_eq!(manifests, 4, "the index and three images");
}
