//! OCI and Docker archives, round trips with skopeo's `oci-archive:` and `docker-archive:`.

use oci_copy::CopyOptions;
use oci_copy::end::{LayoutSink, Sink};
use oci_copy::filter::parse_platforms;
use oci_copy::plan::Note;
use oci_spec_types::{Digest, Manifest};
use oci_test_support::peers::skopeo;

use crate::common::fixtures::{self, image, layer, two_platforms};
use crate::common::{copy, copy_with, repo_tags, root_digest, text};

#[tokio::test(flavor = "multi_thread")]
async fn oci_archives_round_trip_with_skopeo() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(30, 48 * 1024);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;

    // Ours, read by skopeo.
    let ours = dir.path().join("ours.tar");
    copy(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci-archive:{}:v1", text(&ours)),
    )
    .await;
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}:v1", text(&ours)),
    ]);
    assert_eq!(raw.as_bytes(), &index.bytes[..]);
    let extracted = dir.path().join("extracted");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        &format!("oci-archive:{}:v1", text(&ours)),
        &format!("oci:{}:v1", text(&extracted)),
    ]);

    // Skopeo's, read by us: every digest survives.
    let theirs = dir.path().join("theirs.tar");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci-archive:{}:v1", text(&theirs)),
    ]);
    let back = dir.path().join("back");
    let (plan, report) = copy(
        &format!("oci-archive:{}:v1", text(&theirs)),
        &format!("oci:{}:v1", text(&back)),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    assert_eq!(report.count(oci_copy::Outcome::Copied { bytes: 0 }), 5);
    for image in &images {
        assert!(
            LayoutSink::create(&back)
                .await
                .unwrap()
                .has_manifest(&image.manifest.descriptor)
                .await
                .unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_archives_keep_config_and_layer_digests_but_not_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let base = layer(40, 40 * 1024);
    let amd64 = fixtures::annotated(
        image("linux/amd64", vec![base.clone(), layer(41, 20 * 1024)]),
        "org.example.note",
        "kept?",
    );
    let images = vec![amd64, image("linux/arm64", vec![base, layer(42, 8)])];
    let index = fixtures::index(&images);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let amd64 = &images[0];

    // Ours (one platform picked out of the index), read by skopeo.
    let ours = dir.path().join("ours.tar");
    let options = CopyOptions {
        platforms: parse_platforms("linux/amd64").unwrap(),
        ..CopyOptions::default()
    };
    let (plan, _) = copy_with(
        &format!("oci:{}:v1", text(&layout)),
        &format!("docker-archive:{}:team/app:v1", text(&ours)),
        &options,
    )
    .await;
    assert!(
        plan.notes
            .iter()
            .any(|note| matches!(note, Note::ManifestNotPreserved { .. }))
    );
    assert_eq!(repo_tags(&ours), ["team/app:v1"]);
    let inspected: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("docker-archive:{}", text(&ours)),
    ]))
    .unwrap();
    assert_eq!(inspected["Architecture"], "amd64");
    let layers: Vec<&str> = inspected["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let expected: Vec<String> = amd64
        .layers
        .iter()
        .map(|l| l.descriptor.digest.to_string())
        .collect();
    assert_eq!(layers, expected, "uncompressed layers keep their digests");
    let config = skopeo(&[
        "inspect",
        "--config",
        "--raw",
        &format!("docker-archive:{}", text(&ours)),
    ]);
    assert_eq!(
        Digest::compute(config.trim_end().as_bytes()),
        amd64.config.descriptor.digest
    );

    // Skopeo's, read by us: config and layers as they were, the manifest regenerated.
    let theirs = dir.path().join("theirs.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}:v1", text(&layout)),
        &format!("docker-archive:{}:team/app:v1", text(&theirs)),
    ]);
    let back = dir.path().join("back");
    let (plan, _) = copy(
        &format!("docker-archive:{}", text(&theirs)),
        &format!("oci:{}:v1", text(&back)),
    )
    .await;
    let root = root_digest(&plan);
    assert_ne!(
        root, amd64.manifest.descriptor.digest,
        "a Docker archive has no manifest to preserve"
    );
    let bytes = std::fs::read(back.join("blobs/sha256").join(root.encoded())).unwrap();
    let manifest = Manifest::parse_lenient(bytes.into(), None).unwrap();
    let image = manifest.image().unwrap();
    assert_eq!(
        image.annotations, None,
        "manifest annotations have no place in a Docker archive"
    );
    assert_eq!(image.config.digest, amd64.config.descriptor.digest);
    let digests: Vec<&Digest> = image.layers.iter().map(|l| &l.digest).collect();
    let expected: Vec<&Digest> = amd64.layers.iter().map(|l| &l.descriptor.digest).collect();
    assert_eq!(digests, expected);

    // And back into a Docker archive of ours, which skopeo reads again.
    let twice = dir.path().join("twice.tar");
    copy(
        &format!("oci:{}:v1", text(&back)),
        &format!("docker-archive:{}:team/app:v2", text(&twice)),
    )
    .await;
    assert_eq!(repo_tags(&twice), ["team/app:v2"]);
    skopeo(&["inspect", &format!("docker-archive:{}", text(&twice))]);
}
