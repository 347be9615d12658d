//! The seeded plan: which pushes, and where in which request the kill lands.

use oci_digest::Digest;
use serde_json::json;

use crate::common::OCI_MANIFEST;

const REPOS: [&str; 3] = ["crash/alpha", "crash/beta", "crash/gamma"];
const TAGS: [&str; 3] = ["v1", "v2", "latest"];
/// Most ping counts stop the registry while it handles the cut request, a few after it.
const MAX_PINGS: usize = 60;

/// xorshift64*: reproducible from the seed, and no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Content of 1 to `max` bytes, unique in practice.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = 1 + self.below(max);
        let mut bytes: Vec<u8> = (0..len.div_ceil(8))
            .flat_map(|_| self.next().to_le_bytes())
            .collect();
        bytes.truncate(len);
        bytes
    }
}

/// An image: its blobs (config first) and the manifest naming them.
pub struct Image {
    pub blobs: Vec<Vec<u8>>,
    pub manifest: Vec<u8>,
}

impl Image {
    fn random(rng: &mut Rng) -> Self {
        let config = serde_json::to_vec(&json!({"os": "linux", "crash": rng.next()})).unwrap();
        let layers: Vec<Vec<u8>> = (0..1 + rng.below(2)).map(|_| rng.bytes(40_000)).collect();
        let descriptor = |media_type: &str, blob: &[u8]| json!({"mediaType": media_type, "digest": Digest::compute(blob).as_str(), "size": blob.len()});
        let layer_type = "application/vnd.oci.image.layer.v1.tar";
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
            "layers": layers.iter().map(|l| descriptor(layer_type, l)).collect::<Vec<_>>(),
        });
        Self {
            blobs: [vec![config], layers].concat(),
            manifest: serde_json::to_vec(&manifest).unwrap(),
        }
    }

    /// One upload per blob, then the manifest.
    fn requests(&self) -> usize {
        self.blobs.len() + 1
    }
}

/// One push as a client does it.
pub enum Op {
    /// A whole blob in one `POST ?digest=`.
    Monolithic { repo: &'static str, data: Vec<u8> },
    /// `POST`, a `PATCH` per chunk but the last, `PUT ?digest=` with the last.
    Chunked {
        repo: &'static str,
        chunks: Vec<Vec<u8>>,
    },
    /// An image, tagged.
    Image {
        repo: &'static str,
        tag: &'static str,
        image: Image,
    },
    /// Images pushed by digest, then an index of them, tagged.
    Index {
        repo: &'static str,
        tag: &'static str,
        children: Vec<Image>,
    },
}

impl Op {
    pub fn random(rng: &mut Rng) -> Self {
        let repo = rng.pick(&REPOS);
        let tag = rng.pick(&TAGS);
        match rng.below(10) {
            0..3 => Op::Monolithic {
                repo,
                data: rng.bytes(64_000),
            },
            3..6 => Op::Chunked {
                repo,
                // Two bytes at least, so that every chunk boundary has its own `Range`.
                chunks: (0..2 + rng.below(3))
                    .map(|_| [rng.bytes(40_000), vec![0xc5]].concat())
                    .collect(),
            },
            6..8 => Op::Image {
                repo,
                tag,
                image: Image::random(rng),
            },
            _ => Op::Index {
                repo,
                tag,
                children: (0..2).map(|_| Image::random(rng)).collect(),
            },
        }
    }

    /// The requests a kill may cut, by number. Not the `POST` that opens a chunked upload: a
    /// client cut there never learns the session it opened.
    fn targets(&self) -> std::ops::Range<usize> {
        match self {
            Op::Monolithic { .. } => 0..1,
            Op::Chunked { chunks, .. } => 1..chunks.len() + 1,
            Op::Image { image, .. } => 0..image.requests(),
            Op::Index { children, .. } => {
                0..children.iter().map(Image::requests).sum::<usize>() + 1
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Op::Monolithic { repo, data } => format!("a {} byte blob to {repo}", data.len()),
            Op::Chunked { repo, chunks } => format!("{} chunks to {repo}", chunks.len()),
            Op::Image { repo, tag, .. } => format!("an image to {repo}:{tag}"),
            Op::Index { repo, tag, .. } => format!("an index to {repo}:{tag}"),
        }
    }
}

/// Where in the request it cuts the registry dies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cut {
    /// After this share (in thousandths) of the body was sent: the request cannot have
    /// taken effect.
    Partial { per_mille: usize },
    /// After the whole request was sent and this many other requests were answered, so that
    /// the kill lands somewhere in the registry's handling: it took effect or not.
    Unanswered { pings: usize },
    /// Right after the success answer was read: it took effect, durably.
    Answered,
}

impl Cut {
    /// Whether the request may have taken effect (`applied`), or not, after this cut.
    pub fn allows(self, applied: bool) -> bool {
        match self {
            Cut::Partial { .. } => !applied,
            Cut::Unanswered { .. } => true,
            Cut::Answered => applied,
        }
    }
}

/// The kill planned in an operation: during its `request`-th request, at `cut`.
#[derive(Debug, Clone, Copy)]
pub struct Kill {
    pub request: usize,
    pub cut: Cut,
}

impl Kill {
    pub fn random(rng: &mut Rng, op: &Op) -> Self {
        let targets = op.targets();
        let request = targets.start + rng.below(targets.len());
        let cut = match rng.below(3) {
            0 => Cut::Partial {
                per_mille: rng.below(1000),
            },
            1 => Cut::Unanswered {
                pings: rng.below(MAX_PINGS),
            },
            _ => Cut::Answered,
        };
        Self { request, cut }
    }
}
