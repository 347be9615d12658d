//! The data sets of the newer harness, built fresh for each run: images, indexes, artifacts,
//! sparse and nested indexes, descriptors with `data` or `urls`, unknown fields, Docker schema 2,
//! a 4 MiB manifest, and sha512 content.

use base64::Engine as _;
use serde_json::{Value, json};

use super::basis::{Basis, Feature};
use super::data::{
    Algorithm, Blob, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST, DOCKER_MANIFEST, Image, Manifest,
    OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_NONDISTRIBUTABLE_GZIP,
    OCI_LAYER_NONDISTRIBUTABLE_TAR, OCI_LAYER_TAR, OCI_MANIFEST, Rng, descriptor, image_index,
    image_manifest, pretty,
};
use super::datasets::{DataSet, Entry, Needs};

/// The media type of artifact payloads.
pub const PAYLOAD_TYPE: &str = "application/vnd.xtask.conformance.payload";

/// Registries must accept manifests of at least this size.
pub const LARGE_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

/// Every sha256 data set.
pub fn all_sets(rng: &mut Rng) -> Vec<DataSet> {
    vec![
        image_set(rng, "image", OCI_LAYER_GZIP),
        image_set(rng, "image-uncompressed", OCI_LAYER_TAR),
        index_set(rng),
        nested_index_set(rng),
        empty_index_set(),
        sparse_index_set(rng),
        sparse_image_set(rng),
        artifact_set(rng),
        artifact_index_set(rng),
        index_with_subject_set(rng),
        data_field_set(rng),
        non_distributable_set(rng),
        custom_fields_set(rng),
        docker_set(rng),
        large_manifest_set(rng),
        sha512_set(rng),
    ]
}

fn add_image(set: &mut DataSet, image: Image) -> Manifest {
    set.blobs.extend(image.blobs().cloned());
    image.manifest
}

fn image_set(rng: &mut Rng, name: &'static str, layer_type: &str) -> DataSet {
    let mut set = DataSet::new(name);
    let config = Blob::image_config(rng, Algorithm::Sha256);
    let layers: Vec<Blob> = (0..2).map(|_| Blob::random(rng, 1500)).collect();
    let layer_descriptors = layers.iter().map(|l| l.descriptor(layer_type)).collect();
    let manifest = image_manifest(config.descriptor(OCI_CONFIG), layer_descriptors);
    set.blobs.push(config);
    set.blobs.extend(layers);
    set.by_tag(Manifest::from_json(OCI_MANIFEST, &manifest), name);
    set
}

/// Two single-platform images, pushed by digest, and an index over them.
fn platform_images(rng: &mut Rng, set: &mut DataSet) -> Vec<Value> {
    let mut descriptors = Vec::new();
    for architecture in ["amd64", "arm64"] {
        let manifest = add_image(set, Image::generate(rng, 1, Algorithm::Sha256));
        descriptors.push(manifest.platform_descriptor("linux", architecture));
        set.by_digest(manifest);
    }
    descriptors
}

fn index_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("index");
    let children = platform_images(rng, &mut set);
    set.by_tag(
        Manifest::from_json(OCI_INDEX, &image_index(children)),
        "index",
    );
    set
}

fn nested_index_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("nested-index");
    let mut inner = Vec::new();
    for _ in 0..2 {
        let children = platform_images(rng, &mut set);
        let index = Manifest::from_json(OCI_INDEX, &image_index(children));
        inner.push(index.descriptor());
        set.by_digest(index);
    }
    let outer = Manifest::from_json(OCI_INDEX, &image_index(inner));
    set.by_tag(outer, "index-of-index");
    set
}

fn empty_index_set() -> DataSet {
    let mut set = DataSet::new("empty-index");
    set.by_tag(
        Manifest::from_json(OCI_INDEX, &image_index(Vec::new())),
        "empty-index",
    );
    set
}

/// What a set naming content it does not push rests on.
const MAY_REJECT: &str = "v1.1 §Push: a registry MAY reject a manifest naming unknown content";

/// An index naming an image that was pushed and one that never will be.
fn sparse_index_set(rng: &mut Rng) -> DataSet {
    let feature = Feature::SparseIndex;
    let mut set = DataSet::new("sparse-index")
        .resting_on(Basis::Feature(feature, MAY_REJECT), Needs::Sparse(feature));
    let present = add_image(&mut set, Image::generate(rng, 1, Algorithm::Sha256));
    let absent = Image::generate(rng, 1, Algorithm::Sha256).manifest;
    let index = image_index(vec![
        present.platform_descriptor("linux", "amd64"),
        absent.platform_descriptor("linux", "arm64"),
    ]);
    set.by_digest(present);
    set.by_tag(Manifest::from_json(OCI_INDEX, &index), "sparse-index");
    set
}

/// An image whose first layer was never pushed (the newer harness's sparse data set).
fn sparse_image_set(rng: &mut Rng) -> DataSet {
    let feature = Feature::SparseImage;
    let mut set = DataSet::new("sparse-image")
        .resting_on(Basis::Feature(feature, MAY_REJECT), Needs::Sparse(feature));
    let image = Image::generate(rng, 2, Algorithm::Sha256);
    set.blobs.push(image.config.clone());
    set.blobs.extend(image.layers[1..].iter().cloned());
    set.by_tag(image.manifest, "sparse-image");
    set
}

/// An artifact: `artifactType`, the empty config, one payload layer.
fn artifact(rng: &mut Rng, set: &mut DataSet) -> Value {
    let empty = Blob::empty_json();
    let payload = Blob::random(rng, 300);
    let mut value = image_manifest(
        empty.descriptor(OCI_EMPTY),
        vec![payload.descriptor(PAYLOAD_TYPE)],
    );
    value["artifactType"] = json!(PAYLOAD_TYPE);
    if !set.blobs.iter().any(|blob| blob.digest == empty.digest) {
        set.blobs.push(empty);
    }
    set.blobs.push(payload);
    value
}

fn artifact_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("artifact");
    let value = artifact(rng, &mut set);
    set.by_tag(Manifest::from_json(OCI_MANIFEST, &value), "artifact");
    set
}

fn artifact_index_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("artifact-index");
    let mut children = Vec::new();
    for _ in 0..2 {
        let manifest = Manifest::from_json(OCI_MANIFEST, &artifact(rng, &mut set));
        children.push(manifest.descriptor());
        set.by_digest(manifest);
    }
    let mut index = image_index(children);
    index["artifactType"] = json!(PAYLOAD_TYPE);
    set.by_tag(Manifest::from_json(OCI_INDEX, &index), "artifact-index");
    set
}

/// An index whose `subject` is another index: the registry must answer `OCI-Subject`.
fn index_with_subject_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("index-with-subject");
    let children = platform_images(rng, &mut set);
    let subject = Manifest::from_json(OCI_INDEX, &image_index(children));
    let mut referrer = image_index(Vec::new());
    referrer["artifactType"] = json!(PAYLOAD_TYPE);
    referrer["subject"] = subject.descriptor();
    let subject_digest = subject.digest.clone();
    set.by_tag(subject, "index-subject");
    set.entries.push(Entry {
        manifest: Manifest::from_json(OCI_INDEX, &referrer),
        tag: None,
        subject: Some(subject_digest),
    });
    set
}

/// Config and layer descriptors carrying their content in `data`.
fn data_field_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("data-field");
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut config = image.config.descriptor(OCI_CONFIG);
    config["data"] = json!(base64.encode(&image.config.bytes));
    let mut layer = image.layers[0].descriptor(OCI_LAYER_GZIP);
    layer["data"] = json!(base64.encode(&image.layers[0].bytes));
    let manifest = Manifest::from_json(OCI_MANIFEST, &image_manifest(config, vec![layer]));
    set.blobs.extend(image.blobs().cloned());
    set.by_tag(manifest, "data-field");
    set
}

/// Two non-distributable layers with `urls`, never pushed, and one ordinary layer.
fn non_distributable_set(rng: &mut Rng) -> DataSet {
    let feature = Feature::ForeignLayers;
    let mut set = DataSet::new("non-distributable-layers")
        .resting_on(Basis::Feature(feature, MAY_REJECT), Needs::Sparse(feature));
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let mut layers = Vec::new();
    for (media_type, size) in [
        (OCI_LAYER_NONDISTRIBUTABLE_GZIP, 123_456),
        (OCI_LAYER_NONDISTRIBUTABLE_TAR, 12_345),
    ] {
        let absent = Blob::random(rng, 64);
        let mut layer = descriptor(media_type, &absent.digest, size);
        let encoded = absent.digest.trim_start_matches("sha256:");
        layer["urls"] = json!([format!("https://store.example.com/blobs/sha256/{encoded}")]);
        layers.push(layer);
    }
    layers.push(image.layers[0].descriptor(OCI_LAYER_GZIP));
    let manifest = image_manifest(image.config.descriptor(OCI_CONFIG), layers);
    set.blobs.extend(image.blobs().cloned());
    set.by_tag(
        Manifest::from_json(OCI_MANIFEST, &manifest),
        "non-distributable-image",
    );
    set
}

/// Unknown fields everywhere, unusual key order and spacing: all must survive byte for byte.
fn custom_fields_set(rng: &mut Rng) -> DataSet {
    let mut set = DataSet::new("custom-fields");
    let token = rng.token(12);
    let config = Blob::new(
        format!(r#"{{"os":"linux","architecture":"amd64","rootfs":{{"diff_ids":[],"type":"layers"}},"x-custom-{token}":{{"k":[1,2.50,"\u00e9"]}}}}"#)
            .into_bytes(),
    );
    let layer = Blob::random(rng, 700);
    let manifest_text = format!(
        "{{ \"layers\" : [ {{\"size\":{},\"digest\":\"{}\",\"mediaType\":\"{OCI_LAYER_GZIP}\",\"x-layer-{token}\":null}} ],\n\t\"schemaVersion\":2,\n  \"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"{OCI_CONFIG}\",\"digest\":\"{}\",\"size\":{},\"com.example.unknown\":{{\"nested\":[true,false]}}}},\"x-top-{token}\":\"\\u2603 snow\"}}\n",
        layer.bytes.len(),
        layer.digest,
        config.digest,
        config.bytes.len(),
    );
    let manifest = Manifest::raw(Algorithm::Sha256, OCI_MANIFEST, manifest_text.into_bytes());
    let index_text = format!(
        "{{\"manifests\":[{{\"platform\":{{\"os\":\"linux\",\"architecture\":\"amd64\",\"x-plat\":1}},\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{}\",\"size\":{}}}],\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"x-index-{token}\":[]}}",
        manifest.digest,
        manifest.bytes.len(),
    );
    let index = Manifest::raw(Algorithm::Sha256, OCI_INDEX, index_text.into_bytes());
    set.blobs.extend([config, layer]);
    set.by_digest(manifest);
    set.by_tag(index, "custom-fields");
    set
}

/// A Docker schema 2 image and a Docker manifest list over it.
fn docker_set(rng: &mut Rng) -> DataSet {
    // The spec is agnostic of content types; nearly every image in use is one of these.
    let basis = Basis::Should("interoperability: Docker schema 2 images and lists");
    let mut set = DataSet::new("docker-schema2").resting_on(basis, Needs::Nothing);
    let config = Blob::image_config(rng, Algorithm::Sha256);
    let layer = Blob::random(rng, 900);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": config.descriptor(DOCKER_CONFIG),
        "layers": [layer.descriptor(DOCKER_LAYER)],
    });
    let manifest = Manifest::from_json(DOCKER_MANIFEST, &manifest);
    let list = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [manifest.platform_descriptor("linux", "amd64")],
    });
    set.blobs.extend([config, layer]);
    set.by_tag(manifest, "docker-image");
    set.by_tag(Manifest::from_json(DOCKER_LIST, &list), "docker-list");
    set
}

/// An image manifest of exactly 4 MiB, padded with an annotation.
fn large_manifest_set(rng: &mut Rng) -> DataSet {
    let basis = Basis::Should("v1.1 §Pushing Manifests: pushes of at least 4 megabytes");
    let mut set = DataSet::new("large-manifest").resting_on(basis, Needs::Nothing);
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let mut value: Value = serde_json::from_slice(&image.manifest.bytes).unwrap_or_default();
    value["annotations"] = json!({"org.example.padding": ""});
    let unpadded = pretty(&value).len();
    let padding = "A".repeat(LARGE_MANIFEST_SIZE.saturating_sub(unpadded));
    value["annotations"] = json!({"org.example.padding": padding});
    set.blobs.extend(image.blobs().cloned());
    set.by_tag(Manifest::from_json(OCI_MANIFEST, &value), "large-manifest");
    set
}

/// An index over two images, every digest sha512; manifests pushed by their sha512 digest.
fn sha512_set(rng: &mut Rng) -> DataSet {
    let feature = Feature::Sha512Manifests;
    let basis = Basis::Feature(feature, "image-spec §Digests: sha512");
    let mut set = DataSet::new("sha512").resting_on(basis, Needs::Feature(feature));
    let mut children = Vec::new();
    for architecture in ["amd64", "arm64"] {
        let manifest = add_image(&mut set, Image::generate(rng, 1, Algorithm::Sha512));
        children.push(manifest.platform_descriptor("linux", architecture));
        set.by_digest(manifest);
    }
    let index = Manifest::raw(Algorithm::Sha512, OCI_INDEX, pretty(&image_index(children)));
    set.by_digest(index);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_large_manifest_is_exactly_four_mebibytes() {
        let set = large_manifest_set(&mut Rng::from_clock());
        assert_eq!(set.entries[0].manifest.bytes.len(), LARGE_MANIFEST_SIZE);
    }

    #[test]
    fn custom_field_manifests_are_valid_json_naming_their_blobs() {
        let set = custom_fields_set(&mut Rng::from_clock());
        let manifest: Value = serde_json::from_slice(&set.entries[0].manifest.bytes).unwrap();
        assert_eq!(manifest["config"]["digest"], set.blobs[0].digest.as_str());
        let index: Value = serde_json::from_slice(&set.entries[1].manifest.bytes).unwrap();
        assert_eq!(
            index["manifests"][0]["digest"],
            set.entries[0].manifest.digest.as_str()
        );
        let config: Value = serde_json::from_slice(&set.blobs[0].bytes).unwrap();
        assert_eq!(config["os"], "linux");
    }

    #[test]
    fn every_set_pushes_children_before_parents() {
        for set in all_sets(&mut Rng::from_clock()) {
            let mut pushed: Vec<&str> = set.blobs.iter().map(|b| b.digest.as_str()).collect();
            for entry in &set.entries {
                let value: Value = serde_json::from_slice(&entry.manifest.bytes).unwrap();
                for child in value["manifests"].as_array().into_iter().flatten() {
                    let digest = child["digest"].as_str().unwrap();
                    let sparse = set.name == "sparse-index";
                    assert!(sparse || pushed.contains(&digest), "{}: {digest}", set.name);
                }
                pushed.push(&entry.manifest.digest);
            }
        }
    }
}
