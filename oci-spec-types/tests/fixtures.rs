//! Real-world-shaped manifests of every kind: kind detection, raw bytes and digest
//! preservation, unknown fields, and what a registry or a copier reads from each.

use bytes::Bytes;
use oci_spec_types::annotations::{ANNOTATION_CREATED, ANNOTATION_REF_NAME};
use oci_spec_types::{Digest, ImageConfiguration, Manifest, ManifestError, MediaType, Platform};

fn fixture(name: &str) -> Bytes {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(path).unwrap())
}

/// Parses strictly with the given Content-Type and checks the bytes and digest kept.
fn parse(name: &str, content_type: Option<&str>) -> Manifest {
    let bytes = fixture(name);
    let manifest = Manifest::parse_strict(bytes.clone(), content_type).unwrap();
    assert_eq!(manifest.raw(), &bytes, "raw bytes kept exactly");
    assert_eq!(
        manifest.digest(),
        Digest::compute(&bytes),
        "digest is of the raw bytes"
    );
    assert_eq!(manifest.size(), bytes.len() as u64);
    manifest
}

#[test]
fn docker_schema2_image() {
    let manifest = parse(
        "docker-schema2-image.json",
        Some("application/vnd.docker.distribution.manifest.v2+json"),
    );
    assert_eq!(manifest.media_type(), MediaType::DockerManifestV2);
    let image = manifest.image().unwrap();
    assert_eq!(image.config.media_type, MediaType::DockerContainerConfig);
    assert_eq!(image.layers.len(), 3);
    // The foreign layer (with urls) is not expected in the registry.
    let blobs: Vec<_> = manifest
        .blobs()
        .iter()
        .map(|blob| blob.media_type.clone())
        .collect();
    assert_eq!(
        blobs,
        [
            MediaType::DockerContainerConfig,
            MediaType::DockerLayerTarGzip,
            MediaType::DockerLayerTarGzip
        ]
    );
    assert!(manifest.children().is_empty());
    assert_eq!(
        manifest.artifact_type(),
        Some(MediaType::DockerContainerConfig)
    );
}

#[test]
fn docker_manifest_list_selects_platforms_with_variant_defaults() {
    let manifest = parse("docker-manifest-list.json", None);
    assert_eq!(
        manifest.media_type(),
        MediaType::DockerManifestList,
        "detected from the mediaType field"
    );
    let list = manifest.index().unwrap();
    assert_eq!(manifest.children().len(), 4);
    assert!(manifest.blobs().is_empty());
    let arm64 = list
        .find_platform(&"linux/arm64".parse::<Platform>().unwrap())
        .unwrap();
    assert_eq!(arm64.digest, list.manifests[2].digest);
    let arm = list.find_platform(&"linux/arm".parse().unwrap()).unwrap();
    assert_eq!(arm.digest, list.manifests[1].digest);
    let windows = list.manifests[3].platform.as_ref().unwrap();
    assert_eq!(windows.os_version.as_deref(), Some("10.0.17763.5329"));
    assert!(
        list.find_platform(&"linux/ppc64le".parse().unwrap())
            .is_none()
    );
}

#[test]
fn multi_arch_oci_index_keeps_unknown_fields() {
    let manifest = parse(
        "oci-index-multiarch.json",
        Some("application/vnd.oci.image.index.v1+json"),
    );
    let index = manifest.index().unwrap();
    assert_eq!(index.manifests.len(), 3);
    assert_eq!(manifest.annotations().unwrap()[ANNOTATION_REF_NAME], "3.20");
    assert_eq!(index.extra["com.example.unknown-top-level"]["kept"][2], 3);

    let rewritten = serde_json::to_value(index).unwrap();
    let original: serde_json::Value = serde_json::from_slice(manifest.raw()).unwrap();
    assert_eq!(
        rewritten, original,
        "a round-trip through the types loses nothing"
    );
}

#[test]
fn artifact_with_subject_verifies_its_data_and_feeds_the_referrers_index() {
    let manifest = parse(
        "oci-artifact-with-subject.json",
        Some("application/vnd.oci.image.manifest.v1+json"),
    );
    let image = manifest.image().unwrap();
    assert_eq!(image.config, oci_spec_types::Descriptor::empty());
    let subject = manifest.subject().unwrap();
    assert_eq!(subject.media_type, MediaType::OciImageManifest);

    let entry = manifest.referrer_descriptor();
    assert_eq!(entry.digest, manifest.digest());
    assert_eq!(entry.size, manifest.size());
    assert_eq!(
        entry.artifact_type,
        Some(MediaType::from("application/vnd.example.sbom.v1+json"))
    );
    assert_eq!(
        entry.annotation(ANNOTATION_CREATED),
        Some("2024-05-02T08:30:00Z")
    );
    assert_eq!(entry.annotation("com.example.sbom.format"), Some("spdx"));
}

#[test]
fn attestation_entries_are_recognised_and_skipped_by_platform_selection() {
    let manifest = parse("oci-index-attestations.json", None);
    let index = manifest.index().unwrap();
    let attestations: Vec<bool> = index
        .manifests
        .iter()
        .map(|entry| entry.is_attestation())
        .collect();
    assert_eq!(attestations, [false, false, true, true]);
    let unknown = Platform::new("unknown", "unknown");
    assert!(
        index.find_platform(&unknown).is_none(),
        "attestations are never a platform's image"
    );
    let amd64 = index
        .find_platform(&Platform::new("linux", "amd64"))
        .unwrap();
    assert_eq!(
        Some(amd64.digest.as_str()),
        index.manifests[2].annotation("vnd.docker.reference.digest")
    );
}

#[test]
fn schema1_is_refused_in_both_modes_whatever_the_content_type() {
    let bytes = fixture("docker-schema1-signed.json");
    for content_type in [
        None,
        Some("application/json"),
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        Some("application/vnd.docker.distribution.manifest.v2+json"),
    ] {
        let strict = Manifest::parse_strict(bytes.clone(), content_type);
        assert!(
            matches!(strict, Err(ManifestError::Schema1Unsupported)),
            "{content_type:?}: {strict:?}"
        );
        let lenient = Manifest::parse_lenient(bytes.clone(), content_type);
        assert!(
            matches!(lenient, Err(ManifestError::Schema1Unsupported)),
            "{content_type:?}"
        );
    }
}

#[test]
fn docker_image_configuration_round_trips_with_docker_only_fields() {
    let bytes = fixture("docker-image-config.json");
    let config: ImageConfiguration = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(config.platform(), Platform::new("linux", "amd64"));
    let container = config.config.as_ref().unwrap();
    assert_eq!(
        container.entrypoint.as_deref(),
        Some(&["/docker-entrypoint.sh".to_owned()][..])
    );
    assert_eq!(container.extra["Hostname"], "");
    assert_eq!(config.extra["docker_version"], "20.10.23");
    assert_eq!(config.rootfs.diff_ids.len(), 2);
    assert_eq!(config.history.as_ref().unwrap()[1].empty_layer, Some(true));

    // Everything comes back, except that a known field written as `null` is written as
    // absent, which means the same.
    let mut original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let volumes = original["config"]
        .as_object_mut()
        .unwrap()
        .remove("Volumes");
    assert_eq!(volumes, Some(serde_json::Value::Null));
    assert_eq!(serde_json::to_value(&config).unwrap(), original);
}

#[test]
fn every_fixture_parses_the_same_leniently() {
    for name in [
        "docker-schema2-image.json",
        "docker-manifest-list.json",
        "oci-index-multiarch.json",
        "oci-artifact-with-subject.json",
        "oci-index-attestations.json",
    ] {
        let strict = Manifest::parse_strict(fixture(name), None).unwrap();
        let lenient = Manifest::parse_lenient(fixture(name), None).unwrap();
        assert_eq!(strict, lenient, "{name}");
    }
}
