//! Image layouts written by us and read by skopeo and umoci, and the other way round.

use oci_copy::CopyOptions;
use oci_copy::end::{LayoutSink, Sink};
use oci_copy::filter::parse_platforms;
use oci_test_support::peers::{skopeo, umoci};

use crate::common::fixtures::{self, two_platforms};
use crate::common::{copy, copy_with, root_digest, text};

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_and_umoci_read_the_layouts_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(10, 64 * 1024);
    let source = dir.path().join("source");
    fixtures::write_layout(&source, &images, &index).await;

    let copied = dir.path().join("copied");
    let (plan, report) = copy(
        &format!("oci:{}:v1", text(&source)),
        &format!("oci:{}:v1", text(&copied)),
    )
    .await;
    assert_eq!(
        plan.summary().blobs,
        5,
        "two configs, a shared base and two own layers"
    );
    assert!(report.is_success());

    // skopeo sees the index byte for byte and can copy everything out of it.
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}:v1", text(&copied))]);
    assert_eq!(raw.as_bytes(), &index.bytes[..]);
    let again = dir.path().join("skopeo");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        &format!("oci:{}:v1", text(&copied)),
        &format!("oci:{}:v1", text(&again)),
    ]);
    assert_eq!(
        skopeo(&["inspect", "--raw", &format!("oci:{}:v1", text(&again))]).as_bytes(),
        &index.bytes[..]
    );

    // umoci lists the tag, and reads a single-platform image's config and history.
    let options = CopyOptions {
        platforms: parse_platforms("linux/amd64").unwrap(),
        ..CopyOptions::default()
    };
    copy_with(
        &format!("oci:{}:v1", text(&source)),
        &format!("oci:{}:amd64", text(&copied)),
        &options,
    )
    .await;
    let tags = umoci(&["ls", "--layout", text(&copied)]);
    assert_eq!(
        tags.lines().collect::<std::collections::BTreeSet<_>>(),
        ["amd64", "v1"].into()
    );
    let stat = umoci(&[
        "stat",
        "--image",
        &format!("{}:amd64", text(&copied)),
        "--json",
    ]);
    let stat: serde_json::Value = serde_json::from_str(&stat).unwrap();
    assert_eq!(stat["history"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn we_read_the_layouts_skopeo_and_umoci_write() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(20, 32 * 1024);
    let ours = dir.path().join("ours");
    fixtures::write_layout(&ours, &images, &index).await;

    // skopeo writes a layout of its own from ours; we copy out of it, digest intact.
    let theirs = dir.path().join("theirs");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        &format!("oci:{}:v1", text(&ours)),
        &format!("oci:{}:from-skopeo", text(&theirs)),
    ]);
    let back = dir.path().join("back");
    let (plan, _) = copy(
        &format!("oci:{}:from-skopeo", text(&theirs)),
        &format!("oci:{}:v1", text(&back)),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    let sink = LayoutSink::create(&back).await.unwrap();
    assert_eq!(
        sink.tagged("v1").await.unwrap(),
        Some(index.descriptor.digest.clone())
    );

    // umoci builds an image from scratch (gzip layer, its own config); we copy it whole.
    let built = dir.path().join("umoci");
    umoci(&["init", "--layout", text(&built)]);
    umoci(&["new", "--image", &format!("{}:fresh", text(&built))]);
    let content = dir.path().join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(content.join("hello.txt"), b"hello from umoci").unwrap();
    umoci(&[
        "insert",
        "--rootless",
        "--image",
        &format!("{}:fresh", text(&built)),
        text(&content),
        "/data",
    ]);
    let expected = skopeo(&["inspect", "--raw", &format!("oci:{}:fresh", text(&built))]);
    let (_, report) = copy(
        &format!("oci:{}:fresh", text(&built)),
        &format!("oci:{}:fresh", text(&back)),
    )
    .await;
    assert!(report.bytes_copied() > 0);
    assert_eq!(
        skopeo(&["inspect", "--raw", &format!("oci:{}:fresh", text(&back))]),
        expected
    );
    umoci(&["stat", "--image", &format!("{}:fresh", text(&back))]);
}
