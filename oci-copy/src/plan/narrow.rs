//! Narrowing a root index to the platforms asked for (or to the one platform a
//! single-image destination can hold).

use std::collections::HashSet;

use bytes::Bytes;
use oci_spec_types::annotations::ANNOTATION_DOCKER_REFERENCE_DIGEST;
use oci_spec_types::{Descriptor, Digest, ImageIndex, Manifest, Platform};

use crate::end::{Sink, Source, bare};
use crate::error::{Error, Result};
use crate::plan::{CopyOptions, Note};

/// The root to copy after narrowing.
pub(crate) struct Narrowed {
    /// The manifest the tag will point to.
    pub(crate) root: Descriptor,
    /// Its platform, when one platform was picked out of an index.
    pub(crate) platform: Option<Platform>,
    /// What the user should know about the narrowing.
    pub(crate) note: Option<Note>,
    /// Manifest bytes read or built while narrowing, to keep in the plan.
    pub(crate) manifest: Option<(Digest, Bytes)>,
    /// For a sparse index: the children to copy.
    pub(crate) sparse: Option<HashSet<Digest>>,
}

impl Narrowed {
    fn unchanged(root: Descriptor) -> Self {
        Narrowed {
            root,
            platform: None,
            note: None,
            manifest: None,
            sparse: None,
        }
    }
}

/// Narrows `resolved` when it is an index and platforms were asked for or the sink holds
/// single images only. Without platforms, a single-image sink gets the host's platform.
pub(crate) async fn narrow_root(
    source: &dyn Source,
    sink: &dyn Sink,
    options: &CopyOptions,
    resolved: Descriptor,
) -> Result<Narrowed> {
    let single_only = sink.traits().single_image_only;
    if !resolved.media_type.is_index() || (options.platforms.is_empty() && !single_only) {
        return Ok(Narrowed::unchanged(resolved));
    }
    let bytes = source.manifest(&resolved).await?;
    let parsed = Manifest::parse_lenient(bytes.clone(), Some(resolved.media_type.as_str()))
        .map_err(|source| Error::Manifest {
            digest: resolved.digest.clone(),
            source,
        })?;
    let Some(index) = parsed.index() else {
        return Ok(Narrowed::unchanged(resolved));
    };
    let wanted = if options.platforms.is_empty() {
        vec![Platform::host()]
    } else {
        options.platforms.clone()
    };
    let runs_on_wanted = |entry: &&Descriptor| {
        !entry.is_attestation()
            && entry
                .platform
                .as_ref()
                .is_some_and(|own| wanted.iter().any(|w| own.matches(w)))
    };
    let images: Vec<&Descriptor> = index.manifests.iter().filter(runs_on_wanted).collect();
    if images.is_empty() {
        return Err(Error::PlatformNotFound {
            digest: resolved.digest.clone(),
            wanted,
        });
    }

    if single_only {
        refuse_several_platforms(sink, &wanted, &images)?;
    }
    if single_only || (wanted.len() == 1 && !options.sparse_index) {
        // The first entry for the first platform asked for that the index has.
        let image = wanted
            .iter()
            .find_map(|w| {
                images
                    .iter()
                    .find(|entry| entry.platform.as_ref().is_some_and(|own| own.matches(w)))
            })
            .copied()
            .unwrap_or(images[0]);
        let note = Note::SinglePlatform {
            index: resolved.digest.clone(),
            image: image.digest.clone(),
            platform: image.platform.clone(),
            attestations_left: index
                .manifests
                .iter()
                .filter(|entry| attests(entry, &image.digest))
                .count(),
        };
        return Ok(Narrowed {
            root: bare(image),
            platform: image.platform.clone(),
            note: Some(note),
            manifest: None,
            sparse: None,
        });
    }

    // Images plus the attestations that describe them, in the index's order.
    let chosen: HashSet<&Digest> = images.iter().map(|entry| &entry.digest).collect();
    let kept: Vec<Descriptor> = index
        .manifests
        .iter()
        .filter(|entry| {
            chosen.contains(&entry.digest) || chosen.iter().any(|image| attests(entry, image))
        })
        .cloned()
        .collect();
    let of = index.manifests.len();

    if options.sparse_index {
        let note = Note::SparseIndex {
            index: resolved.digest.clone(),
            kept: kept.len(),
            of,
        };
        let sparse = kept.iter().map(|entry| entry.digest.clone()).collect();
        let manifest = Some((resolved.digest.clone(), bytes));
        return Ok(Narrowed {
            root: resolved,
            platform: None,
            note: Some(note),
            manifest,
            sparse: Some(sparse),
        });
    }

    let filtered = ImageIndex {
        manifests: kept,
        ..index.clone()
    };
    let kept_count = filtered.manifests.len();
    let built = Manifest::from_index(filtered).map_err(Error::BuildManifest)?;
    let root = Descriptor::new(built.media_type(), built.digest(), built.size());
    let note = Note::NewIndex {
        original: resolved.digest.clone(),
        filtered: root.digest.clone(),
        kept: kept_count,
        of,
    };
    let manifest = Some((root.digest.clone(), built.raw().clone()));
    Ok(Narrowed {
        root,
        platform: None,
        note: Some(note),
        manifest,
        sparse: None,
    })
}

/// A single-image sink (a Docker archive) cannot hold two platforms under one name:
/// refused rather than silently writing the first.
fn refuse_several_platforms(
    sink: &dyn Sink,
    wanted: &[Platform],
    images: &[&Descriptor],
) -> Result<()> {
    let found: Vec<Platform> = wanted
        .iter()
        .filter(|w| {
            images
                .iter()
                .any(|entry| entry.platform.as_ref().is_some_and(|own| own.matches(w)))
        })
        .cloned()
        .collect();
    if found.len() > 1 {
        return Err(Error::SeveralPlatforms {
            end: sink.describe(),
            found,
        });
    }
    Ok(())
}

/// Whether `entry` is an attestation manifest of the image `image` (buildkit names it in
/// the `vnd.docker.reference.digest` annotation).
fn attests(entry: &Descriptor, image: &Digest) -> bool {
    entry.is_attestation()
        && entry
            .annotation(ANNOTATION_DOCKER_REFERENCE_DIGEST)
            .and_then(|text| Digest::parse(text).ok())
            .is_some_and(|digest| &digest == image)
}
