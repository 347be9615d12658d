//! Interop with a real client: Debian's `skopeo` copies a multi-arch OCI layout into `oci-registry`
//! and back out, inspects it, lists its tags and deletes it. The image that comes back must be
//! byte-identical: same index digest, same manifests, same blobs.
//!
//! Needs `skopeo` on PATH (`bash .ci/install-peers` installs it).

use std::path::{Path, PathBuf};

use oci_digest::Digest;

use crate::process;
use oci_test_support::peers::skopeo;
use serde_json::json;

const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// A blob written into a layout: its descriptor fields.
struct Written {
    digest: Digest,
    size: usize,
}

fn write_blob(layout: &Path, bytes: &[u8]) -> Written {
    let digest = Digest::compute(bytes);
    let dir = layout.join("blobs").join(digest.algorithm().as_str());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(digest.encoded()), bytes).unwrap();
    Written {
        digest,
        size: bytes.len(),
    }
}

fn descriptor(media_type: &str, blob: &Written) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": blob.digest.to_string(), "size": blob.size})
}

/// Writes a two-platform image (linux/amd64 and linux/arm64/v8, one layer shared between them)
/// as an OCI layout tagged `v1`, and returns the index digest.
pub fn write_multi_arch_layout(layout: &Path) -> Digest {
    std::fs::create_dir_all(layout).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let shared_layer = write_blob(layout, &vec![7u8; 64 * 1024]);
    let mut platform_manifests = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let own_layer = write_blob(layout, format!("layer for {arch}").repeat(500).as_bytes());
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [shared_layer.digest.to_string(), own_layer.digest.to_string()]},
        });
        let config = write_blob(layout, &serde_json::to_vec(&config).unwrap());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": descriptor(CONFIG_TYPE, &config),
            "layers": [descriptor(LAYER_TYPE, &shared_layer), descriptor(LAYER_TYPE, &own_layer)],
            "annotations": {"org.example.arch": arch},
        });
        let manifest = write_blob(layout, &serde_json::to_vec_pretty(&manifest).unwrap());
        let mut platform = json!({"os": "linux", "architecture": arch});
        if let Some(variant) = variant {
            platform["variant"] = json!(variant);
        }
        let mut entry = descriptor(MANIFEST_TYPE, &manifest);
        entry["platform"] = platform;
        platform_manifests.push(entry);
    }
    let index =
        json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": platform_manifests});
    let index = write_blob(layout, &serde_json::to_vec(&index).unwrap());
    let mut top = descriptor(INDEX_TYPE, &index);
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "v1"});
    let top_index = json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [top]});
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&top_index).unwrap(),
    )
    .unwrap();
    index.digest
}

/// Every file under `blobs/` of a layout, by relative path.
fn layout_blobs(layout: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for algorithm in std::fs::read_dir(layout.join("blobs")).unwrap() {
        let algorithm = algorithm.unwrap().path();
        for blob in std::fs::read_dir(&algorithm).unwrap() {
            let blob = blob.unwrap().path();
            let relative = blob.strip_prefix(layout).unwrap().to_path_buf();
            found.push((relative, std::fs::read(&blob).unwrap()));
        }
    }
    found.sort();
    found
}

#[test]
fn skopeo_round_trips_a_multi_arch_layout_byte_for_byte() {
    let work = tempfile::tempdir().unwrap();
    let registry = process::start(&work.path().join("store"), &["--delete"]);
    let source = work.path().join("source");
    let index_digest = write_multi_arch_layout(&source);
    let remote = format!("docker://{}/interop/multi", registry.host());

    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", source.display()),
        &format!("{remote}:v1"),
    ]);

    // The registry holds the exact index bytes we wrote.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{remote}:v1"),
    ]);
    assert_eq!(Digest::compute(raw.as_bytes()), index_digest);

    // `inspect` resolves a platform through the index.
    let inspected = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--override-os=linux",
        "--override-arch=arm64",
        &format!("{remote}:v1"),
    ]);
    let inspected: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    assert_eq!(inspected["Architecture"], "arm64");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);

    let tags = skopeo(&["list-tags", "--tls-verify=false", &remote]);
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert_eq!(tags["Tags"], json!(["v1"]));

    // Back out into a fresh layout: every blob and manifest is byte-identical.
    let copied = work.path().join("copied");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &format!("{remote}:v1"),
        &format!("oci:{}:v1", copied.display()),
    ]);
    assert_eq!(layout_blobs(&copied), layout_blobs(&source));
    let copied_index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copied.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        copied_index["manifests"][0]["digest"],
        json!(index_digest.to_string())
    );

    // Deleting the tag's manifest makes the tag disappear.
    skopeo(&["delete", "--tls-verify=false", &format!("{remote}:v1")]);
    let tags = skopeo(&["list-tags", "--tls-verify=false", &remote]);
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert_eq!(tags["Tags"], json!([]));
}
