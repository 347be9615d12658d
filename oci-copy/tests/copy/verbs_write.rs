//! The registry verbs that write: `manifest put|delete` and `blob get|put|delete`, against
//! `oci-registry` and Debian's `docker-registry`.

use oci_spec_types::Digest;
use oci_test_support::peers::{Distribution, OciRegistry};

use crate::common::fixtures::{self, layout_with_image};
use crate::common::processes::{run_oci_copy, run_oci_copy_fed};
use crate::common::{copy, text};

/// Puts a manifest back under other names (from a file, from standard input, by digest),
/// refuses a digest that does not match, and deletes it.
pub(crate) async fn manifest_put_and_delete(host: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, images) = layout_with_image(dir.path(), seed).await;
    let repository = format!("{host}/verbs/manifests");
    copy(&layout, &format!("{repository}:v1")).await;

    let file = dir.path().join("index.json");
    std::fs::write(&file, &index.bytes).unwrap();
    let (code, stdout, stderr) = run_oci_copy(&[
        "manifest",
        "put",
        &format!("{repository}:again"),
        text(&file),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), index.descriptor.digest.as_str());
    let (_, stdout, _) = run_oci_copy(&["manifest", "get", &format!("{repository}:again")]);
    assert_eq!(stdout.trim_end().as_bytes(), &index.bytes[..]);

    let image = &images[0].manifest;
    let by_digest = format!("{repository}@{}", image.descriptor.digest);
    let (code, stdout, stderr) =
        run_oci_copy_fed(&["manifest", "put", &by_digest], &image.bytes, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&stdout).trim(),
        image.descriptor.digest.as_str()
    );
    let wrong = format!("{repository}@{}", index.descriptor.digest);
    let (code, _, stderr) = run_oci_copy_fed(&["manifest", "put", &wrong, "-"], &image.bytes, &[]);
    assert_eq!(
        code,
        Some(2),
        "a digest the bytes do not have is refused: {stderr}"
    );
    let (code, _, stderr) = run_oci_copy_fed(
        &["manifest", "put", &format!("{repository}:typeless")],
        br#"{"schemaVersion":2,"manifests":[]}"#,
        &[],
    );
    assert_eq!(code, Some(2), "no mediaType and no --media-type: {stderr}");
    assert!(stderr.contains("--media-type"), "{stderr}");

    let (code, stdout, stderr) =
        run_oci_copy(&["manifest", "delete", &format!("{repository}:again")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), index.descriptor.digest.as_str());
    let (code, _, _) = run_oci_copy(&["digest", &format!("{repository}:v1")]);
    assert_eq!(code, Some(1), "v1 named the deleted manifest too");
}

/// Streams a blob up from a file and from standard input, down to a file and to standard
/// output, checks both against their digests, and deletes one.
pub(crate) fn blob_put_get_and_delete(host: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let repository = format!("{host}/verbs/blob-store");
    // Larger than one upload chunk, so it travels in pieces.
    let content = fixtures::noise(seed, 3 * 1024 * 1024 + 17);
    let digest = Digest::compute(&content);
    let file = dir.path().join("blob.bin");
    std::fs::write(&file, &content).unwrap();

    let (code, stdout, stderr) = run_oci_copy(&["blob", "put", "--json", &repository, text(&file)]);
    assert_eq!(code, Some(0), "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["digest"], digest.as_str());

    let small = b"a small blob from standard input".to_vec();
    let (code, stdout, stderr) = run_oci_copy_fed(&["blob", "put", &repository], &small, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let small_digest = Digest::compute(&small);
    assert_eq!(
        String::from_utf8_lossy(&stdout).trim(),
        small_digest.as_str()
    );

    let out = dir.path().join("out/blob.copy");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let blob = format!("{repository}@{digest}");
    let (code, _, stderr) = run_oci_copy(&["blob", "get", &blob, "-o", text(&out)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(std::fs::read(&out).unwrap() == content, "the file differs");
    let leftovers = std::fs::read_dir(out.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "no .partial file stays behind");
    let (code, stdout, stderr) = run_oci_copy_fed(
        &["blob", "get", &format!("{repository}@{small_digest}")],
        b"",
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, small);

    let (code, _, stderr) = run_oci_copy(&["blob", "get", &format!("{repository}:v1")]);
    assert_eq!(code, Some(2), "a tag names no blob: {stderr}");
    let (code, stdout, stderr) = run_oci_copy(&["blob", "delete", &blob]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), digest.as_str());
    let gone = dir.path().join("gone");
    let (code, _, _) = run_oci_copy(&["blob", "get", &blob, "-o", text(&gone)]);
    assert_eq!(code, Some(1), "the blob was deleted");
    assert!(!gone.exists() && !dir.path().join("gone.partial").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_put_and_delete_on_oci_registry() {
    let registry = OciRegistry::start();
    manifest_put_and_delete(registry.host(), 110).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_verbs_on_oci_registry() {
    let registry = OciRegistry::start();
    blob_put_get_and_delete(registry.host(), 111);
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_and_blob_verbs_on_docker_registry() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let registry = Distribution::start();
    manifest_put_and_delete(registry.host(), 112).await;
    blob_put_get_and_delete(registry.host(), 113);
}

/// A blob damaged in the registry's store (same length, other bytes) fails `blob get` with
/// exit 1, naming the digest, and leaves no file behind.
#[tokio::test(flavor = "multi_thread")]
async fn blob_get_refuses_content_that_does_not_match_its_digest() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let registry = Distribution::start();
    let dir = tempfile::tempdir().unwrap();
    let repository = format!("{}/verbs/damaged", registry.host());
    let content = fixtures::noise(114, 256 * 1024);
    let digest = Digest::compute(&content);
    let (code, _, stderr) = run_oci_copy_fed(&["blob", "put", &repository], &content, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let stored = registry.blob_file(&digest);
    let mut damaged = std::fs::read(&stored).unwrap();
    assert_eq!(damaged, content, "the store holds the blob as sent");
    damaged[1000] ^= 0xff;
    std::fs::write(&stored, &damaged).unwrap();

    let out = dir.path().join("blob");
    let blob = format!("{repository}@{digest}");
    let (code, _, stderr) = run_oci_copy(&["blob", "get", &blob, "-o", text(&out)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("digest mismatch: expected {digest}")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let (code, _, stderr) = run_oci_copy(&["blob", "get", &blob]);
    assert_eq!(code, Some(1), "to standard output too: {stderr}");
}
