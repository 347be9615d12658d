//! Test images built in memory and written through a real [`Sink`]: uncompressed tar
//! layers of pseudo-random content, OCI configs whose `diff_ids` match, manifests and
//! multi-platform indexes.

use bytes::Bytes;
use oci_copy::end::Sink;
use oci_spec_types::annotations::{
    ANNOTATION_DOCKER_REFERENCE_DIGEST, ANNOTATION_DOCKER_REFERENCE_TYPE,
    DOCKER_REFERENCE_TYPE_ATTESTATION,
};
use oci_spec_types::{
    Descriptor, Digest, ImageIndex, ImageManifest, Manifest, MediaType, Platform,
};

/// Content and its descriptor.
#[derive(Debug, Clone)]
pub struct Blob {
    pub descriptor: Descriptor,
    pub bytes: Bytes,
}

impl Blob {
    fn new(media_type: MediaType, bytes: Vec<u8>) -> Blob {
        let descriptor = Descriptor::new(media_type, Digest::compute(&bytes), bytes.len() as u64);
        Blob {
            descriptor,
            bytes: Bytes::from(bytes),
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), different for each seed.
pub fn noise(seed: u64, size: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(size);
    out
}

/// An uncompressed tar layer holding one file of `size` pseudo-random bytes.
pub fn layer(seed: u64, size: usize) -> Blob {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    builder
        .append_data(
            &mut header,
            format!("data-{seed}.bin"),
            noise(seed, size).as_slice(),
        )
        .unwrap();
    Blob::new(MediaType::OciLayerTar, builder.into_inner().unwrap())
}

/// One platform's image.
#[derive(Debug, Clone)]
pub struct Image {
    pub manifest: Blob,
    pub config: Blob,
    pub layers: Vec<Blob>,
}

/// An image for `platform` over `layers`.
pub fn image(platform: &str, layers: Vec<Blob>) -> Image {
    let platform: Platform = platform.parse().unwrap();
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|layer| layer.descriptor.digest.to_string())
        .collect();
    let history: Vec<serde_json::Value> = layers
        .iter()
        .map(|_| serde_json::json!({"created_by": "fixture"}))
        .collect();
    let config = serde_json::json!({
        "created": "2024-01-01T00:00:00Z",
        "architecture": platform.architecture,
        "os": platform.os,
        "variant": platform.variant,
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    let config = Blob::new(
        MediaType::OciImageConfig,
        serde_json::to_vec(&config).unwrap(),
    );
    let descriptors = layers
        .iter()
        .map(|layer| layer.descriptor.clone())
        .collect();
    let manifest =
        Manifest::from_image(ImageManifest::new(config.descriptor.clone(), descriptors)).unwrap();
    let mut manifest = Blob::new(MediaType::OciImageManifest, manifest.raw().to_vec());
    manifest.descriptor.platform = Some(platform);
    Image {
        manifest,
        config,
        layers,
    }
}

/// An index over `images`, each entry with its platform.
pub fn index(images: &[Image]) -> Blob {
    let entries = images
        .iter()
        .map(|image| image.manifest.descriptor.clone())
        .collect();
    let manifest = Manifest::from_index(ImageIndex::new(entries)).unwrap();
    Blob::new(MediaType::OciImageIndex, manifest.raw().to_vec())
}

/// A two-platform image whose platforms share their base layer: the usual shape.
pub fn two_platforms(seed: u64, layer_size: usize) -> (Blob, Vec<Image>) {
    let base = layer(seed, layer_size);
    let images = vec![
        image(
            "linux/amd64",
            vec![base.clone(), layer(seed + 1, layer_size)],
        ),
        image("linux/arm64", vec![base, layer(seed + 2, layer_size)]),
    ];
    (index(&images), images)
}

/// Writes `images` (and `index`, when given) to `sink`, tagging the root `tag`.
pub async fn write(sink: &dyn Sink, images: &[Image], index: Option<&Blob>, tag: &str) {
    for image in images {
        for blob in image.layers.iter().chain([&image.config]) {
            sink.put_blob(&blob.descriptor, &blob.bytes).await.unwrap();
        }
        sink.put_manifest(&image.manifest.descriptor, image.manifest.bytes.clone())
            .await
            .unwrap();
    }
    let root = match index {
        Some(index) => {
            sink.put_manifest(&index.descriptor, index.bytes.clone())
                .await
                .unwrap();
            &index.descriptor
        }
        None => &images[0].manifest.descriptor,
    };
    let mut root = root.clone();
    root.platform = None;
    sink.tag(Some(tag), &root).await.unwrap();
    sink.finish().await.unwrap();
}

/// An artifact (e.g. a signature) referring to `subject`: the empty config, one payload
/// layer, and `artifactType`.
pub fn artifact(subject: &Descriptor, artifact_type: &str, seed: u64) -> (Blob, Vec<Blob>) {
    let empty = Blob::new(MediaType::OciEmpty, b"{}".to_vec());
    let payload = Blob::new(
        MediaType::from("application/vnd.example.payload"),
        noise(seed, 512),
    );
    let mut manifest =
        ImageManifest::new(empty.descriptor.clone(), vec![payload.descriptor.clone()]);
    manifest.artifact_type = Some(MediaType::from(artifact_type));
    let mut subject = subject.clone();
    subject.platform = None;
    manifest.subject = Some(subject);
    let manifest = Manifest::from_image(manifest).unwrap();
    (
        Blob::new(MediaType::OciImageManifest, manifest.raw().to_vec()),
        vec![empty, payload],
    )
}

/// Writes `images` under `index`, tagged `v1`, to a new OCI image layout at `path`.
pub async fn write_layout(path: &std::path::Path, images: &[Image], index: &Blob) {
    let sink = oci_copy::end::LayoutSink::create(path).await.unwrap();
    write(&sink, images, Some(index), "v1").await;
}

/// Writes an artifact (its blobs, then its manifest) to `sink`.
pub async fn write_artifact(sink: &dyn Sink, manifest: &Blob, blobs: &[Blob]) {
    for blob in blobs {
        sink.put_blob(&blob.descriptor, &blob.bytes).await.unwrap();
    }
    sink.put_manifest(&manifest.descriptor, manifest.bytes.clone())
        .await
        .unwrap();
}

/// The same image with an annotation on its manifest (so the manifest bytes are not the
/// ones a tool regenerating the manifest from config and layers would write).
pub fn annotated(mut image: Image, key: &str, value: &str) -> Image {
    let mut manifest: ImageManifest = serde_json::from_slice(&image.manifest.bytes).unwrap();
    manifest.annotations = Some([(key.to_owned(), value.to_owned())].into());
    let platform = image.manifest.descriptor.platform.take();
    image.manifest = Blob::new(
        MediaType::OciImageManifest,
        Manifest::from_image(manifest).unwrap().raw().to_vec(),
    );
    image.manifest.descriptor.platform = platform;
    image
}

/// A layout holding a two-platform image tagged `v1`.
pub async fn layout_with_image(dir: &std::path::Path, seed: u64) -> (String, Blob, Vec<Image>) {
    let (index, images) = two_platforms(seed, 256 * 1024);
    let layout = dir.join(format!("layout-{seed}"));
    write_layout(&layout, &images, &index).await;
    (format!("oci:{}:v1", super::text(&layout)), index, images)
}

/// The same image with a Docker schema 2 manifest (`mediaType` field and config type say
/// Docker) whose descriptor still says OCI, as `index.json` files of some layouts have it.
pub fn docker_v2_behind_oci_descriptor(mut image: Image) -> Image {
    let mut manifest: serde_json::Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
    manifest["mediaType"] = MediaType::DockerManifestV2.as_str().into();
    manifest["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json".into();
    let platform = image.manifest.descriptor.platform.take();
    image.manifest = Blob::new(
        MediaType::OciImageManifest,
        serde_json::to_vec(&manifest).unwrap(),
    );
    image.manifest.descriptor.platform = platform;
    image
}

/// A buildkit-style attestation manifest of `subject`: an image with platform
/// `unknown/unknown`, its index entry marked as an attestation of the subject's digest.
pub fn attestation_of(subject: &Image, seed: u64) -> Image {
    let mut attestation = image("unknown/unknown", vec![layer(seed, 256)]);
    attestation.manifest.descriptor.annotations = Some(
        [
            (
                ANNOTATION_DOCKER_REFERENCE_TYPE.to_owned(),
                DOCKER_REFERENCE_TYPE_ATTESTATION.to_owned(),
            ),
            (
                ANNOTATION_DOCKER_REFERENCE_DIGEST.to_owned(),
                subject.manifest.descriptor.digest.to_string(),
            ),
        ]
        .into(),
    );
    attestation
}
