//! Choosing and naming images in archives and layouts: `docker save` names with their
//! registry, one platform per Docker archive, `FILE:name`, `FILE@N` and `oci:DIR@digest`.

use std::os::unix::fs::PermissionsExt;

use oci_copy::end::{DockerArchiveSink, LayoutSink, Sink};
use oci_test_support::peers::Distribution;

use crate::common::fixtures::{self, image, layer, two_platforms};
use crate::common::processes::run_oci_copy;
use crate::common::{copy, repo_tags, text};

#[tokio::test(flavor = "multi_thread")]
async fn docker_exports_name_the_registry_refuse_two_platforms_and_are_readable() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(80, 4096);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let registry = Distribution::start();
    let image = format!("{}/field/app:v1", registry.host());
    copy(&format!("oci:{}:v1", text(&layout)), &image).await;

    let both = dir.path().join("both.tar");
    let (code, _, stderr) = run_oci_copy(&[
        "export",
        "--format",
        "docker",
        "--platform",
        "linux/amd64,linux/arm64",
        &image,
        text(&both),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("one platform per image"), "{stderr}");
    assert!(!both.exists());

    let amd64 = dir.path().join("amd64.tar");
    let (code, _, stderr) = run_oci_copy(&[
        "export",
        "--format",
        "docker",
        "--platform",
        "linux/amd64",
        &image,
        text(&amd64),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(repo_tags(&amd64), [image]);
    // As readable as any file created here (the umask decides), not owner-only.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"").unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&amd64), mode(&plain));
}

#[tokio::test(flavor = "multi_thread")]
async fn import_and_layouts_choose_images_by_name_position_and_digest() {
    let dir = tempfile::tempdir().unwrap();
    let first = image("linux/amd64", vec![layer(81, 1024)]);
    let second = image("linux/amd64", vec![layer(82, 1024)]);
    let archive = dir.path().join("two.tar");
    let sink = DockerArchiveSink::create(&archive, Some("team/app".into()))
        .await
        .unwrap();
    fixtures::write(&sink, std::slice::from_ref(&first), None, "a").await;
    fixtures::write(&sink, std::slice::from_ref(&second), None, "b").await;

    let unused = format!("oci:{}:x", text(&dir.path().join("unused")));
    let (code, _, stderr) = run_oci_copy(&["import", text(&archive), &unused]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("name one with :tag, or @N"), "{stderr}");

    let imported = dir.path().join("imported");
    for (chosen, tag) in [(":b", "by-name"), ("@0", "by-position")] {
        let (code, _, stderr) = run_oci_copy(&[
            "import",
            &format!("{}{chosen}", text(&archive)),
            &format!("oci:{}:{tag}", text(&imported)),
        ]);
        assert_eq!(code, Some(0), "{chosen}: {stderr}");
    }
    let layout = LayoutSink::create(&imported).await.unwrap();
    assert!(layout.has_blob(&second.config.descriptor).await.unwrap());
    assert!(layout.has_blob(&first.config.descriptor).await.unwrap());
    let by_position = layout.tagged("by-position").await.unwrap().unwrap();
    let by_name = layout.tagged("by-name").await.unwrap().unwrap();
    assert_ne!(by_position, by_name);

    // A layout image by digest: `oci:DIR@sha256:...`.
    let copied = dir.path().join("copied");
    let (code, _, stderr) = run_oci_copy(&[
        "copy",
        &format!("oci:{}@{by_name}", text(&imported)),
        &format!("oci:{}:again", text(&copied)),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let copied = LayoutSink::create(&copied).await.unwrap();
    assert_eq!(copied.tagged("again").await.unwrap(), Some(by_name));
}
