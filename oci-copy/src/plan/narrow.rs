//! Narrowing a root index to the platforms asked for (or to the one platform a
//! single-image destination can hold).

use std::collections::HashSet;

use bytes::Bytes;
use oci_spec_types::annotations::ANNOTATION_DOCKER_REFERENCE_DIGEST;
use oci_spec_types::{Descriptor, Digest, ImageIndex, Manifest, Platform};

use crate::end::{Sink, Source, bare};
use crate::error::{Error, Result};
use crate::plan::{CopyOptions, Note};

/// The root to copy after narrowing: one of the four shapes a narrowing can take.
pub(crate) enum Narrowed {
    /// The root as it is (not an index, or nothing to narrow).
    Unchanged(Descriptor),
    /// One image picked out of an index.
    OneImage {
        /// The image's manifest, which the tag will point to.
        image: Descriptor,
        /// Its platform.
        platform: Option<Platform>,
        /// What the user should know.
        note: Note,
    },
    /// The index as it is, copying only some of its children.
    Sparse {
        /// The index, which the tag will point to.
        index: Descriptor,
        /// Its bytes, to keep in the plan.
        manifest: Bytes,
        /// The children to copy.
        children: HashSet<Digest>,
        /// What the user should know.
        note: Note,
    },
    /// A new index holding only the chosen children.
    Filtered {
        /// The new index, which the tag will point to.
        index: Descriptor,
        /// Its bytes, to keep in the plan.
        manifest: Bytes,
        /// What the user should know.
        note: Note,
    },
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
        return Ok(Narrowed::Unchanged(resolved));
    }
    let bytes = source.manifest(&resolved).await?;
    let parsed = Manifest::parse_lenient(bytes.clone(), Some(resolved.media_type.as_str()))
        .map_err(|source| Error::Manifest {
            digest: resolved.digest.clone(),
            source,
        })?;
    let Some(index) = parsed.index() else {
        return Ok(Narrowed::Unchanged(resolved));
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
        return Ok(one_image(&resolved, index, &wanted, &images));
    }
    let kept = images_and_their_attestations(index, &images);
    let of = index.manifests.len();
    if options.sparse_index {
        let note = Note::SparseIndex {
            index: resolved.digest.clone(),
            kept: kept.len(),
            of,
        };
        return Ok(Narrowed::Sparse {
            children: kept.into_iter().map(|entry| entry.digest).collect(),
            index: resolved,
            manifest: bytes,
            note,
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
    Ok(Narrowed::Filtered {
        index: root,
        manifest: built.raw().clone(),
        note,
    })
}

/// The first entry for the first platform asked for that the index has.
fn one_image(
    resolved: &Descriptor,
    index: &ImageIndex,
    wanted: &[Platform],
    images: &[&Descriptor],
) -> Narrowed {
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
    Narrowed::OneImage {
        image: bare(image),
        platform: image.platform.clone(),
        note,
    }
}

/// The chosen images plus the attestations that describe them, in the index's order.
fn images_and_their_attestations(index: &ImageIndex, images: &[&Descriptor]) -> Vec<Descriptor> {
    let chosen: HashSet<&Digest> = images.iter().map(|entry| &entry.digest).collect();
    index
        .manifests
        .iter()
        .filter(|entry| {
            chosen.contains(&entry.digest) || chosen.iter().any(|image| attests(entry, image))
        })
        .cloned()
        .collect()
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
