//! What the command line reports: `--json` results that name each step, lines that name
//! each tag, contradictions refused, dropped attestations said, and content that fails
//! verification failing at once with its digest and sizes.

use crate::common::fixtures::{self, image, layer};
use crate::common::processes::run_oci_copy as run;
use crate::common::text;
use oci_copy::end::LayoutSink;
use oci_test_support::Proxy;
use oci_test_support::peers::Distribution;

#[tokio::test(flavor = "multi_thread")]
async fn copy_json_names_each_step_and_all_tags_lines_name_their_tag() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = (
        image("linux/amd64", vec![layer(90, 1024)]),
        image("linux/amd64", vec![layer(91, 1024)]),
    );
    let layout = dir.path().join("layout");
    let sink = LayoutSink::create(&layout).await.unwrap();
    fixtures::write(&sink, std::slice::from_ref(&v1), None, "v1").await;
    fixtures::write(&sink, std::slice::from_ref(&v2), None, "v2").await;

    let one = dir.path().join("one");
    let (code, stdout, stderr) = run(&[
        "copy",
        "--json",
        &format!("oci:{}:v1", text(&layout)),
        &format!("oci:{}:v1", text(&one)),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let results: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let tag = results
        .iter()
        .find(|result| result["kind"] == "tag")
        .unwrap_or_else(|| panic!("no tag step in {stdout}"));
    assert_eq!(tag["tag"], "v1");
    assert_eq!(tag["outcome"], "done");
    assert_eq!(tag["digest"], v1.manifest.descriptor.digest.as_str());
    let layer_step = results
        .iter()
        .find(|result| result["digest"] == v1.layers[0].descriptor.digest.as_str())
        .unwrap_or_else(|| panic!("no step for the layer in {stdout}"));
    assert_eq!(layer_step["kind"], "copy_blob");
    assert_eq!(layer_step["bytes"], v1.layers[0].bytes.len());

    let all = dir.path().join("all");
    let (code, stdout, stderr) = run(&[
        "copy",
        "--all-tags",
        &format!("oci:{}", text(&layout)),
        &format!("oci:{}", text(&all)),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    for (tag, image) in [("v1", &v1), ("v2", &v2)] {
        let line = format!(
            "oci:{}:{tag} {}",
            text(&all),
            image.manifest.descriptor.digest
        );
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} not in {stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_refuse_a_tag_with_a_tag_filter_and_say_which_attestations_stay_behind() {
    let dir = tempfile::tempdir().unwrap();
    let amd64 = image("linux/amd64", vec![layer(92, 1024)]);
    let attestation = fixtures::attestation_of(&amd64, 93);
    let images = vec![amd64, attestation];
    let index = fixtures::index(&images);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let source = format!("oci:{}:v1", text(&layout));
    let target = format!("oci:{}", text(&dir.path().join("target")));

    let (code, _, stderr) = run(&["plan", &source, &target, "--tags-semver", ">=3"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("names one image"), "{stderr}");

    let (code, stdout, stderr) = run(&["plan", &source, &target, "--platform", "linux/amd64"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("1 attestation manifest(s) (unknown/unknown) are not copied"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_size_mismatch_fails_at_once_naming_the_digest_and_both_sizes() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Larger than one POST takes: the layer streams in a PUT of its own session.
    let big = layer(94, 300 * 1024);
    let broken = image("linux/amd64", vec![big.clone()]);
    let layout = dir.path().join("layout");
    let sink = LayoutSink::create(&layout).await.unwrap();
    fixtures::write(&sink, std::slice::from_ref(&broken), None, "v1").await;
    let file = layout
        .join("blobs/sha256")
        .join(big.descriptor.digest.encoded());
    let short = big.bytes.len() - 1000;
    std::fs::write(&file, &big.bytes[..short]).unwrap();

    let registry = Distribution::start();
    let proxy = Proxy::start(registry.host()).await;
    let (code, stdout, stderr) = run(&[
        "copy",
        "--json",
        "--retries",
        "3",
        &format!("oci:{}:v1", text(&layout)),
        &format!("{}/field/broken:v1", proxy.host()),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("trying again"), "retried: {stderr}");
    let results: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let failed = results
        .iter()
        .find(|result| result["outcome"] == "failed")
        .unwrap_or_else(|| panic!("no failed step in {stdout}"));
    assert_eq!(failed["digest"], big.descriptor.digest.as_str());
    let error = failed["error"].as_str().unwrap();
    for named in [
        big.descriptor.digest.to_string(),
        big.bytes.len().to_string(),
        short.to_string(),
    ] {
        assert!(error.contains(&named), "{named} not in {error:?}");
    }
    // One upload session for the config, one for the layer: no second try.
    assert_eq!(
        proxy.count("POST", "/blobs/uploads"),
        2,
        "{:?}",
        proxy.requests()
    );
}
