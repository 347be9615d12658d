//! Generated test content: blobs, descriptors, image manifests, indexes, media types, digests.
//!
//! Content is unique per run (a seeded generator mixes the clock and the process id), so runs
//! against a long-lived registry (`--url`) never collide. Manifests are kept as the exact bytes
//! that are pushed; every check compares bytes, never re-serialised JSON.

use serde_json::{Value, json};

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image configuration.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The empty descriptor's media type (`{}`).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// A gzip-compressed OCI layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// An uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// A non-distributable gzip layer (deprecated in image-spec 1.1, still valid).
pub const OCI_LAYER_NONDISTRIBUTABLE_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// A non-distributable uncompressed layer.
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker container configuration.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// `Accept` value naming every manifest type.
pub const ACCEPT_ALL: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// A digest algorithm the checks push with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `sha256`, the canonical algorithm.
    Sha256,
    /// `sha512`, which servers SHOULD accept.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

/// `algorithm:hex` of `bytes`, computed by `oci-digest`.
pub fn digest(algorithm: Algorithm, bytes: &[u8]) -> String {
    let algorithm = match algorithm {
        Algorithm::Sha256 => oci_digest::Algorithm::Sha256,
        Algorithm::Sha512 => oci_digest::Algorithm::Sha512,
    };
    oci_digest::Digest::compute_with(&algorithm, bytes)
        .expect("sha256 and sha512 are always computable")
        .to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A small deterministic generator (splitmix64); good enough for unique test content.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the clock and the process id.
    pub fn from_clock() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or_default();
        Rng(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// `len` random lowercase hex characters (safe in repository names and tags).
    pub fn token(&mut self, len: usize) -> String {
        let mut text = hex(&self.bytes(len.div_ceil(2)));
        text.truncate(len);
        text
    }
}

/// A blob and its digest.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The content.
    pub bytes: Vec<u8>,
    /// Its digest.
    pub digest: String,
}

impl Blob {
    /// A blob addressed by its sha256 digest.
    pub fn new(bytes: Vec<u8>) -> Blob {
        Blob::with_algorithm(Algorithm::Sha256, bytes)
    }

    /// A blob addressed by a digest of `algorithm`.
    pub fn with_algorithm(algorithm: Algorithm, bytes: Vec<u8>) -> Blob {
        let digest = digest(algorithm, &bytes);
        Blob { bytes, digest }
    }

    /// `len` random bytes.
    pub fn random(rng: &mut Rng, len: usize) -> Blob {
        Blob::new(rng.bytes(len))
    }

    /// The empty JSON blob `{}`.
    pub fn empty_json() -> Blob {
        Blob::new(b"{}".to_vec())
    }

    /// A minimal image configuration, unique thanks to a random `author`.
    pub fn image_config(rng: &mut Rng, algorithm: Algorithm) -> Blob {
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "author": format!("xtask conformance {}", rng.token(16)),
            "rootfs": {"type": "layers", "diff_ids": []},
        });
        Blob::with_algorithm(algorithm, pretty(&config))
    }

    /// A descriptor of this blob with `media_type`.
    pub fn descriptor(&self, media_type: &str) -> Value {
        descriptor(media_type, &self.digest, self.bytes.len())
    }
}

/// A manifest: exact bytes, their digest and the media type to push them with.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The bytes pushed and expected back.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: String,
    /// The `Content-Type` to push with.
    pub media_type: &'static str,
}

impl Manifest {
    /// Serialises `value` (pretty, as most tools do) and addresses it by sha256.
    pub fn from_json(media_type: &'static str, value: &Value) -> Manifest {
        Manifest::raw(Algorithm::Sha256, media_type, pretty(value))
    }

    /// Exact `bytes`, addressed by a digest of `algorithm`.
    pub fn raw(algorithm: Algorithm, media_type: &'static str, bytes: Vec<u8>) -> Manifest {
        let digest = digest(algorithm, &bytes);
        Manifest {
            bytes,
            digest,
            media_type,
        }
    }

    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Value {
        descriptor(self.media_type, &self.digest, self.bytes.len())
    }

    /// A descriptor of this manifest with a platform, for an index.
    pub fn platform_descriptor(&self, os: &str, architecture: &str) -> Value {
        let mut descriptor = self.descriptor();
        descriptor["platform"] = json!({"os": os, "architecture": architecture});
        descriptor
    }
}

/// `{"mediaType", "digest", "size"}`.
pub fn descriptor(media_type: &str, digest: &str, size: usize) -> Value {
    json!({"mediaType": media_type, "digest": digest, "size": size})
}

/// An OCI image manifest over `config` and `layers` (descriptors).
pub fn image_manifest(config: Value, layers: Vec<Value>) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    })
}

/// An OCI image index over `manifests` (descriptors).
pub fn image_index(manifests: Vec<Value>) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    })
}

/// A simple image: a config and one layer, both to be pushed, and the manifest over them.
#[derive(Debug, Clone)]
pub struct Image {
    /// The configuration blob.
    pub config: Blob,
    /// The layer blobs.
    pub layers: Vec<Blob>,
    /// The manifest.
    pub manifest: Manifest,
}

impl Image {
    /// A fresh image with `layer_count` random layers, every digest of `algorithm`.
    pub fn generate(rng: &mut Rng, layer_count: usize, algorithm: Algorithm) -> Image {
        let config = Blob::image_config(rng, algorithm);
        let layers: Vec<Blob> = (0..layer_count)
            .map(|_| Blob::with_algorithm(algorithm, rng.bytes(1000)))
            .collect();
        let manifest = image_manifest(
            config.descriptor(OCI_CONFIG),
            layers
                .iter()
                .map(|layer| layer.descriptor(OCI_LAYER_GZIP))
                .collect(),
        );
        let manifest = Manifest::raw(algorithm, OCI_MANIFEST, pretty(&manifest));
        Image {
            config,
            layers,
            manifest,
        }
    }

    /// The config followed by the layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

/// Pretty JSON bytes, the form most clients push.
pub fn pretty(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        assert_eq!(
            Blob::empty_json().digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(
            digest(Algorithm::Sha512, b""),
            "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
    }

    #[test]
    fn generator_makes_distinct_content() {
        let mut rng = Rng(7);
        let a = Blob::random(&mut rng, 100);
        let b = Blob::random(&mut rng, 100);
        assert_eq!(a.bytes.len(), 100);
        assert_ne!(a.digest, b.digest);
        assert_eq!(rng.token(9).len(), 9);
    }

    #[test]
    fn image_manifest_names_its_blobs() {
        let image = Image::generate(&mut Rng(1), 2, Algorithm::Sha512);
        let manifest: Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
        assert_eq!(manifest["config"]["digest"], image.config.digest.as_str());
        assert_eq!(
            manifest["layers"][1]["digest"],
            image.layers[1].digest.as_str()
        );
        assert!(image.manifest.digest.starts_with("sha512:"));
        assert_eq!(image.blobs().count(), 3);
    }
}
