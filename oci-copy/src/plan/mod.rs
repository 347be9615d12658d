//! A copy plan: what a copy will do, decided before anything is written.
//!
//! [`build_plan`] reads the source graph (index, manifests, configs, layers, and on request
//! referrers and `sha256-*` digest tags), asks the destination what it has, and returns a
//! [`Plan`]: a DAG of [`Step`]s. A step lists the steps it [`needs`](Step::needs): a manifest
//! needs its blobs and child manifests, a tag needs its manifest. A tag also lists the tags
//! it comes [`after`](Step::after): those of its manifest's children, so that a registry
//! never writes an index and one of its children at once. The plan prints as a tree
//! ([`Plan::render`]) and serialises to JSON (serde).

mod build;
mod narrow;
mod order;
mod render;

use std::collections::HashMap;
use std::num::NonZeroUsize;

use bytes::Bytes;
use oci_spec_types::{Descriptor, Digest, MediaType, Platform};
use serde::{Deserialize, Serialize};

use crate::end::{RepositoryAddress, Selector};

pub use build::build_plan;

/// Options of a copy: what to take from the source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyOptions {
    /// Platforms to copy from an index; empty copies all.
    pub platforms: Vec<Platform>,
    /// With platforms: keep the original index bytes (and digest), copying only the
    /// chosen children, instead of writing a new, filtered index.
    pub sparse_index: bool,
    /// Copy the referrers (signatures, SBOMs, ...) of every manifest copied.
    pub referrers: bool,
    /// Only referrers with these artifact types (empty: all).
    pub artifact_types: Vec<MediaType>,
    /// Copy `<alg>-<hex>` tags (the referrers tag schema, cosign's `.sig`/`.att`/`.sbom`)
    /// that belong to the manifests copied.
    pub digest_tags: bool,
    /// Copy layers with `urls` or non-distributable media types, which are skipped by default.
    pub include_nondistributable: bool,
    /// Check every manifest and blob, even under a manifest the destination already has.
    pub force_recursive: bool,
    /// How many existence checks run at once.
    pub check_concurrency: NonZeroUsize,
}

/// How many existence checks run at once by default.
pub const DEFAULT_CHECK_CONCURRENCY: NonZeroUsize = NonZeroUsize::new(16).unwrap();

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            platforms: Vec::new(),
            sparse_index: false,
            referrers: false,
            artifact_types: Vec::new(),
            digest_tags: false,
            include_nondistributable: false,
            force_recursive: false,
            check_concurrency: DEFAULT_CHECK_CONCURRENCY,
        }
    }
}

/// One image to copy: which image of the source, and the tag it gets at the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePair {
    /// The image in the source.
    pub source: Selector,
    /// Its tag in the destination; `None` copies by digest only.
    pub target: Option<String>,
}

impl ImagePair {
    /// The same tag on both sides.
    pub fn tag(tag: &str) -> Self {
        ImagePair {
            source: Selector::Tag(tag.to_owned()),
            target: Some(tag.to_owned()),
        }
    }
}

/// Index of a step in [`Plan::steps`].
pub type StepId = usize;

/// One thing to do (or, for [`Action::Skip`], not to do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Its index in [`Plan::steps`].
    pub id: StepId,
    /// What to do.
    pub action: Action,
    /// The content concerned (for a tag: the manifest it points to).
    pub descriptor: Descriptor,
    /// Steps that must succeed first.
    pub needs: Vec<StepId>,
    /// Steps that must have ended first, however they ended: an order, not a need (tags
    /// of an index after the tags of its children, see `order`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<StepId>,
    /// For a manifest: the platform it runs on, when an index said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Nothing: the destination has it already (or it is not to be copied).
    Skip {
        /// What is skipped.
        what: Content,
        /// Why.
        reason: SkipReason,
    },
    /// Mount a blob from another repository of the destination registry.
    Mount {
        /// The repository it is mounted from.
        from: RepositoryAddress,
    },
    /// Stream a blob from the source to the destination.
    CopyBlob,
    /// Write a manifest by digest.
    PutManifest,
    /// Point a tag at the manifest (or, with no tag, record an untagged root).
    Tag {
        /// The tag.
        tag: Option<String>,
    },
}

/// The kind of content a skip concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// A blob.
    Blob,
    /// A manifest (and, unless the copy is forced recursive, everything under it).
    Manifest,
    /// A tag.
    Tag(Option<String>),
}

/// Why a step is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The destination has it (checked).
    Present,
    /// It hangs under a manifest the destination has, so the destination has it too.
    UnderPresentManifest,
    /// The tag already points to this manifest.
    TagCurrent,
    /// A layer with `urls` or a non-distributable media type.
    NonDistributable,
}

/// What a root of the plan is, for the tree view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Root {
    /// The image named by a source selector.
    Image {
        /// The selector.
        source: Selector,
        /// The tag step (or tag skip) of the image.
        step: StepId,
    },
    /// A referrer of a copied manifest.
    Referrer {
        /// The manifest it refers to.
        subject: Digest,
        /// Its manifest step.
        step: StepId,
    },
}

/// Something the user should know about a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A platform subset of an index is written as a new index, with a new digest.
    NewIndex {
        /// The source index.
        original: Digest,
        /// The new index.
        filtered: Digest,
        /// Children kept, of how many.
        kept: usize,
        /// Children in the source index.
        of: usize,
    },
    /// A platform subset is written as the original index, with only some children copied.
    SparseIndex {
        /// The index.
        index: Digest,
        /// Children copied.
        kept: usize,
        /// Children listed.
        of: usize,
    },
    /// One platform was picked out of an index: the tag points to that image manifest.
    SinglePlatform {
        /// The source index.
        index: Digest,
        /// The image manifest taken.
        image: Digest,
        /// Its platform.
        platform: Option<Platform>,
        /// Attestation manifests of that image in the index, which are not copied (an
        /// image manifest has no place for them).
        #[serde(default, skip_serializing_if = "is_zero")]
        attestations_left: usize,
    },
    /// The destination regenerates manifests (a Docker archive): config and layer digests
    /// are kept, the manifest digest is not.
    ManifestNotPreserved {
        /// The manifest whose digest will not survive.
        manifest: Digest,
    },
}

/// A copy plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    /// The source, as text.
    pub source: String,
    /// The destination, as text.
    pub destination: String,
    /// The steps; [`Step::id`] is the index here.
    pub steps: Vec<Step>,
    /// Where the tree view starts.
    pub roots: Vec<Root>,
    /// Things to know.
    pub notes: Vec<Note>,
    /// Manifest bytes, by digest (fetched while planning, or built: filtered indexes).
    #[serde(skip)]
    pub(crate) manifests: HashMap<Digest, Bytes>,
}

impl Plan {
    /// The bytes of a manifest the plan writes.
    pub fn manifest_bytes(&self, digest: &Digest) -> Option<&Bytes> {
        self.manifests.get(digest)
    }

    /// Whether the plan does nothing but skip.
    pub fn is_noop(&self) -> bool {
        self.steps
            .iter()
            .all(|step| matches!(step.action, Action::Skip { .. }))
    }

    /// Counts of steps by action, for summaries.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for step in &self.steps {
            match &step.action {
                Action::Skip { .. } => summary.skipped += 1,
                Action::Mount { .. } => summary.mounts += 1,
                Action::CopyBlob => {
                    summary.blobs += 1;
                    summary.bytes += step.descriptor.size;
                }
                Action::PutManifest => summary.manifests += 1,
                Action::Tag { .. } => summary.tags += 1,
            }
        }
        summary
    }
}

/// How many steps of each kind a plan has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Blobs to copy.
    pub blobs: usize,
    /// Their total size.
    pub bytes: u64,
    /// Blobs to mount.
    pub mounts: usize,
    /// Manifests to write.
    pub manifests: usize,
    /// Tags to set.
    pub tags: usize,
    /// Steps skipped.
    pub skipped: usize,
}

/// For `skip_serializing_if`.
fn is_zero(count: &usize) -> bool {
    *count == 0
}
