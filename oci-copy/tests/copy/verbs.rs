//! The registry verbs against `oci-registry`: `tags` and `digest`.

use crate::common::copy;
use crate::common::fixtures::layout_with_image;
use crate::common::processes::{OciRegistry, run_oci_copy};

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
