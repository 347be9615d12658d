//! The registry verbs against `oci-registry`: `tags`, `digest`, `manifest get`, `tag`,
//! `referrers`, `catalog` and `delete`.

use oci_test_support::peers::{Distribution, OciRegistry};

use crate::common::fixtures::{self, layout_with_image};
use crate::common::processes::run_oci_copy;
use crate::common::{copy, ends};

#[tokio::test(flavor = "multi_thread")]
async fn tags_and_digest_read_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), 95).await;
    let registry = OciRegistry::start();
    let repository = format!("{}/verbs/app", registry.host());
    for tag in ["v1", "v2", "edge"] {
        copy(&layout, &format!("{repository}:{tag}")).await;
    }

    let (code, stdout, stderr) = run_oci_copy(&[
        "tags",
        &repository,
        "--include",
        "^v",
        "--exclude",
        "2$",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let tags: Vec<String> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(tags, ["v1"]);
    let (_, stdout, _) = run_oci_copy(&["tags", &repository]);
    let mut all: Vec<&str> = stdout.lines().collect();
    all.sort_unstable();
    assert_eq!(all, ["edge", "v1", "v2"]);

    let (code, stdout, stderr) = run_oci_copy(&["digest", &format!("{repository}:v2")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), index.descriptor.digest.as_str());
    let (_, stdout, _) = run_oci_copy(&["digest", "--json", &format!("{repository}:edge")]);
    let resolved: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(resolved["digest"], index.descriptor.digest.as_str());
    assert_eq!(resolved["media_type"], index.descriptor.media_type.as_str());
    assert_eq!(resolved["size"], index.descriptor.size);

    let (code, _, stderr) = run_oci_copy(&["tags", &repository, "--include", "("]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, _) = run_oci_copy(&["digest", &format!("{repository}:missing")]);
    assert_eq!(code, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_tag_referrers_catalog_and_delete_work_on_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), 96).await;
    let registry = OciRegistry::start();
    let repository = format!("{}/verbs/other", registry.host());
    copy(&layout, &format!("{repository}:v1")).await;
    let (signature, blobs) =
        fixtures::artifact(&index.descriptor, "application/vnd.example.signature", 4);
    let (_, sink, _, _) = ends(&layout, &repository).await;
    fixtures::write_artifact(sink.as_ref(), &signature, &blobs).await;

    let (code, stdout, stderr) = run_oci_copy(&["manifest", "get", &format!("{repository}:v1")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim_end().as_bytes(), &index.bytes[..]);

    let (code, _, stderr) = run_oci_copy(&["tag", &format!("{repository}:v1"), "v1.0", "stable"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, stdout, _) = run_oci_copy(&["digest", &format!("{repository}:stable")]);
    assert_eq!(stdout.trim(), index.descriptor.digest.as_str());

    let (code, stdout, stderr) = run_oci_copy(&[
        "referrers",
        "--json",
        "--artifact-type",
        "application/vnd.example.signature",
        &format!("{repository}:v1"),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(found[0]["digest"], signature.descriptor.digest.as_str());

    let (code, stdout, stderr) = run_oci_copy(&["catalog", "--json", registry.host()]);
    assert_eq!(code, Some(0), "{stderr}");
    let repositories: Vec<String> = serde_json::from_str(&stdout).unwrap();
    assert!(repositories.contains(&"verbs/other".to_owned()), "{stdout}");

    let (code, _, stderr) = run_oci_copy(&["delete", &format!("{repository}:stable")]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, _) = run_oci_copy(&["digest", &format!("{repository}:v1")]);
    assert_eq!(code, Some(1), "the manifest is gone, and every tag with it");
    let (code, _, _) = run_oci_copy(&["delete", "oci:/nowhere:v1"]);
    assert_eq!(code, Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn verbs_work_on_docker_registry_too() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), 97).await;
    let registry = Distribution::start();
    let repository = format!("{}/verbs/dist", registry.host());
    copy(&layout, &format!("{repository}:v1")).await;
    // No referrers API there: the signature goes into the fallback tag.
    let (signature, blobs) =
        fixtures::artifact(&index.descriptor, "application/vnd.example.signature", 5);
    let (_, sink, _, _) = ends(&layout, &repository).await;
    fixtures::write_artifact(sink.as_ref(), &signature, &blobs).await;

    let (code, _, stderr) = run_oci_copy(&["tag", &format!("{repository}:v1"), "stable"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, stdout, _) = run_oci_copy(&["tags", "--exclude", "^sha256-", &repository]);
    let mut tags: Vec<&str> = stdout.lines().collect();
    tags.sort_unstable();
    assert_eq!(tags, ["stable", "v1"]);
    let (_, stdout, _) = run_oci_copy(&["referrers", &format!("{repository}:v1")]);
    assert_eq!(
        stdout.trim(),
        format!(
            "{} application/vnd.example.signature",
            signature.descriptor.digest
        )
    );
    let (_, stdout, _) = run_oci_copy(&["catalog", registry.host()]);
    assert!(stdout.lines().any(|line| line == "verbs/dist"), "{stdout}");
    let (code, stdout, stderr) = run_oci_copy(&["delete", &format!("{repository}:stable")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), index.descriptor.digest.as_str());
}
