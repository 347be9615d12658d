//! Layouts and archives as other tools write them, which our own sinks never produce:
//! a Docker schema 2 manifest behind an OCI descriptor, a Docker 25 `docker save` with
//! `"manifests": null`, and referrers kept in `sha256-<digest>` fallback entries.

use oci_copy::CopyOptions;
use oci_copy::end::{LayoutSink, Sink};
use oci_spec_types::{ImageIndex, Manifest, MediaType, referrers_tag};
use oci_test_support::peers::Distribution;
use oci_test_support::peers::skopeo;

use crate::common::fixtures::{self, image, layer};
use crate::common::processes::run_oci_copy;
use crate::common::{copy, copy_with, text, try_copy};

#[tokio::test(flavor = "multi_thread")]
async fn a_docker_v2_manifest_behind_an_oci_descriptor_is_pushed_as_docker_v2() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docker =
        fixtures::docker_v2_behind_oci_descriptor(image("linux/amd64", vec![layer(70, 4096)]));
    let layout = dir.path().join("layout");
    let sink = LayoutSink::create(&layout).await.unwrap();
    fixtures::write(&sink, std::slice::from_ref(&docker), None, "v1").await;
    let listed = std::fs::read_to_string(layout.join("index.json")).unwrap();
    assert!(listed.contains(MediaType::OciImageManifest.as_str()));

    // docker-registry refuses a body whose mediaType disagrees with the Content-Type.
    let distribution = Distribution::start();
    let target = format!("{}/field/docker:v1", distribution.host());
    let copied = try_copy(
        &crate::common::opener(),
        &format!("oci:{}:v1", text(&layout)),
        &target,
        &CopyOptions::default(),
    )
    .await;
    let (_, report) = copied.unwrap_or_else(|error| panic!("{error}"));
    assert!(report.is_success(), "{:?}", report.errors);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]);
    assert_eq!(raw.as_bytes(), &docker.manifest.bytes[..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_reads_a_docker_25_save_with_null_manifests_in_index_json() {
    let dir = tempfile::tempdir().unwrap();
    let amd64 = image("linux/amd64", vec![layer(71, 8192)]);
    let layout = dir.path().join("layout");
    let sink = LayoutSink::create(&layout).await.unwrap();
    fixtures::write(&sink, std::slice::from_ref(&amd64), None, "v1").await;
    let saved = dir.path().join("saved.tar");
    copy(
        &format!("oci:{}:v1", text(&layout)),
        &format!("docker-archive:{}:hello:v1", text(&saved)),
    )
    .await;
    let docker25 = dir.path().join("docker25.tar");
    with_docker25_layout_members(&saved, &docker25);

    let imported = dir.path().join("imported");
    let (code, _, stderr) = run_oci_copy(&[
        "import",
        text(&docker25),
        &format!("oci:{}:hw", text(&imported)),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let imported = LayoutSink::create(&imported).await.unwrap();
    assert!(imported.tagged("hw").await.unwrap().is_some());
    assert!(imported.has_blob(&amd64.config.descriptor).await.unwrap());
}

/// Copies the archive `from` to `to`, adding the `oci-layout` and the `index.json` with
/// `"manifests": null` that `docker save IMAGE-ID` of Docker 25 writes.
fn with_docker25_layout_members(from: &std::path::Path, to: &std::path::Path) {
    let mut builder = tar::Builder::new(std::fs::File::create(to).unwrap());
    let mut archive = tar::Archive::new(std::fs::File::open(from).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        builder.append_data(&mut header, path, &mut entry).unwrap();
    }
    let members: [(&str, &[u8]); 2] = [
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        (
            "index.json",
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"#,
        ),
    ];
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, bytes).unwrap();
    }
    builder.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn layout_referrers_include_the_fallback_entries_regctl_writes() {
    let dir = tempfile::tempdir().unwrap();
    let subject = image("linux/amd64", vec![layer(72, 1024)]);
    let layout = dir.path().join("layout");
    let sink = LayoutSink::create(&layout).await.unwrap();
    fixtures::write(&sink, std::slice::from_ref(&subject), None, "v1").await;
    // As regctl keeps referrers in a layout: the artifact's manifest as a blob only, listed
    // by an index tagged with the subject's fallback tag.
    let (signature, blobs) = fixtures::artifact(
        &subject.manifest.descriptor,
        "application/vnd.example.signature",
        3,
    );
    fixtures::write_artifact(&sink, &signature, &blobs).await;
    let mut listed = signature.descriptor.clone();
    listed.artifact_type = Some(MediaType::from("application/vnd.example.signature"));
    let fallback = Manifest::from_index(ImageIndex::new(vec![listed])).unwrap();
    let fallback_descriptor = oci_spec_types::Descriptor::new(
        MediaType::OciImageIndex,
        fallback.digest().clone(),
        fallback.size(),
    );
    sink.put_manifest(&fallback_descriptor, fallback.raw().clone())
        .await
        .unwrap();
    sink.tag(
        Some(&referrers_tag(&subject.manifest.descriptor.digest)),
        &fallback_descriptor,
    )
    .await
    .unwrap();
    sink.finish().await.unwrap();

    let copied = dir.path().join("copied");
    let options = CopyOptions {
        referrers: true,
        ..CopyOptions::default()
    };
    copy_with(
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}:v1", text(&copied)),
        &options,
    )
    .await;
    let copied = LayoutSink::create(&copied).await.unwrap();
    assert!(
        copied.has_manifest(&signature.descriptor).await.unwrap(),
        "the signature listed only in the fallback entry was not copied"
    );
}

/// regclient's `regctl`, where `../shared/peers` holds it.
fn regctl() -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/regctl");
    path.exists().then_some(path)
}

#[tokio::test(flavor = "multi_thread")]
async fn referrers_regctl_put_into_a_layout_are_copied() {
    let Some(regctl) = regctl() else {
        eprintln!("skipped: no regctl in ../shared/peers");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let payload = dir.path().join("payload.txt");
    std::fs::write(&payload, b"signed").unwrap();
    let base = format!("ocidir://{}:base", text(&layout));
    let regctl_run = |args: &[&str]| {
        let output = std::process::Command::new(&regctl)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "regctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    regctl_run(&[
        "artifact",
        "put",
        "--artifact-type",
        "application/vnd.example.base",
        "-f",
        text(&payload),
        &base,
    ]);
    regctl_run(&[
        "artifact",
        "put",
        "--artifact-type",
        "application/vnd.example.signature",
        "--subject",
        &base,
        "-f",
        text(&payload),
    ]);

    let options = CopyOptions {
        referrers: true,
        ..CopyOptions::default()
    };
    let (plan, report) = copy_with(
        &format!("oci:{}:base", text(&layout)),
        &format!("oci:{}:base", text(&dir.path().join("copied"))),
        &options,
    )
    .await;
    assert!(report.is_success());
    let referrers = plan
        .roots
        .iter()
        .filter(|root| matches!(root, oci_copy::plan::Root::Referrer { .. }))
        .count();
    assert_eq!(referrers, 1, "{}", plan.render());
}
