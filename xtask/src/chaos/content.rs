//! The content a history pushes: a pool of blobs shared by every client (so the same bytes are
//! uploaded again, mounted and skipped over time, long after they were first stored) and the
//! manifests, indexes and referrers built over them.
//!
//! Blobs are small (at most 1 MiB) and generated from the seed, so they are kept in memory;
//! what the registry holds is read back as a stream ([`super::observe`]).

use bytes::Bytes;
use oci_digest::Digest;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};

use super::history::PushedManifest;
use crate::conformance::data::{
    OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_LAYER_TAR, OCI_MANIFEST, descriptor, image_index,
    image_manifest, pretty,
};

/// How many blobs the pool holds: few enough that content comes back, many enough that some
/// of it sits unreferenced while it ages.
const POOL_SIZE: usize = 40;
/// The artifact type of referrers.
const NOTE: &str = "application/vnd.example.chaos.note.v1";
/// The annotation that makes each pushed manifest unique.
const NONCE: &str = "org.example.chaos.nonce";

/// A blob of the pool.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its bytes.
    pub bytes: Bytes,
    /// Their digest.
    pub digest: Digest,
}

impl Item {
    fn new(bytes: Vec<u8>) -> Item {
        let digest = Digest::compute(&bytes);
        Item {
            bytes: Bytes::from(bytes),
            digest,
        }
    }

    fn descriptor(&self, media_type: &str) -> Value {
        descriptor(media_type, self.digest.as_str(), self.bytes.len())
    }
}

/// The blobs of a history.
#[derive(Debug)]
pub struct Pool {
    items: Vec<Item>,
    empty: Item,
}

impl Pool {
    /// The pool of `seed`: mostly small blobs, some of tens of KiB, a few up to 1 MiB (which
    /// chunked uploads split).
    pub fn generate(seed: u64) -> Pool {
        let mut rng = StdRng::seed_from_u64(seed);
        let items = (0..POOL_SIZE)
            .map(|_| {
                let len = match rng.random_range(0..10) {
                    0 => rng.random_range(256 * 1024..1024 * 1024),
                    1 | 2 => rng.random_range(16 * 1024..64 * 1024),
                    _ => rng.random_range(64..4096),
                };
                let mut bytes = vec![0; len];
                rng.fill_bytes(&mut bytes);
                Item::new(bytes)
            })
            .collect();
        Pool {
            items,
            empty: Item::new(b"{}".to_vec()),
        }
    }

    /// How many blobs there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Blob `index`.
    pub fn item(&self, index: usize) -> &Item {
        &self.items[index % self.items.len()]
    }

    /// The empty JSON blob `{}` that referrers use as config and layer.
    pub fn empty(&self) -> &Item {
        &self.empty
    }
}

/// A manifest ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The exact bytes.
    pub bytes: Bytes,
    /// The `Content-Type` to push with.
    pub media_type: &'static str,
    /// What the history records about it.
    pub pushed: PushedManifest,
}

impl Built {
    fn new(media_type: &'static str, mut value: Value, nonce: &str) -> Built {
        value["annotations"] = json!({ NONCE: nonce });
        let bytes = Bytes::from(pretty(&value));
        let digest = Digest::compute(&bytes);
        Built {
            bytes,
            media_type,
            pushed: PushedManifest {
                digest,
                blobs: Vec::new(),
                children: Vec::new(),
                subject: None,
            },
        }
    }

    fn descriptor(&self) -> Value {
        descriptor(
            self.media_type,
            self.pushed.digest.as_str(),
            self.bytes.len(),
        )
    }
}

/// An image manifest over a config and layers.
pub fn image(config: &Item, layers: &[&Item], nonce: &str) -> Built {
    let value = image_manifest(
        config.descriptor(OCI_CONFIG),
        layers
            .iter()
            .map(|layer| layer.descriptor(OCI_LAYER_TAR))
            .collect(),
    );
    let mut built = Built::new(OCI_MANIFEST, value, nonce);
    built.pushed.blobs = std::iter::once(config)
        .chain(layers.iter().copied())
        .map(|item| item.digest.clone())
        .collect();
    built
}

/// An image index over manifests.
pub fn index(children: &[&Built], nonce: &str) -> Built {
    let value = image_index(children.iter().map(|child| child.descriptor()).collect());
    let mut built = Built::new(OCI_INDEX, value, nonce);
    built.pushed.children = children
        .iter()
        .map(|child| child.pushed.digest.clone())
        .collect();
    built
}

/// An artifact whose subject is `subject`: config and layer are the empty blob.
pub fn referrer(empty: &Item, subject: &Built, nonce: &str) -> Built {
    let mut value = image_manifest(
        empty.descriptor(OCI_EMPTY),
        vec![empty.descriptor(OCI_EMPTY)],
    );
    value["artifactType"] = json!(NOTE);
    value["subject"] = subject.descriptor();
    let mut built = Built::new(OCI_MANIFEST, value, nonce);
    // One blob named twice: the checks need it once.
    built.pushed.blobs = vec![empty.digest.clone()];
    built.pushed.subject = Some(subject.pushed.digest.clone());
    built
}
