//! Strict-mode checks of a manifest's descriptors, beyond what the types enforce.

use crate::descriptor::Descriptor;
use crate::error::{DescriptorLocation, ManifestError};
use crate::manifest::Manifest;
use crate::media_type::MediaType;

/// Checks every descriptor of a pushed manifest: well-formed media and artifact types
/// and, where `data` is embedded, that it decodes to the described size and digest.
/// Digest syntax and non-negative sizes are already enforced by the types.
pub(crate) fn validate_descriptors(manifest: &Manifest) -> Result<(), ManifestError> {
    if let Some(artifact_type) = manifest_artifact_type(manifest) {
        check_media_type(DescriptorLocation::Manifest, artifact_type)?;
    }
    located_descriptors(manifest)
        .try_for_each(|(location, descriptor)| validate_descriptor(location, descriptor))
}

/// The manifest's own `artifactType` field, as written.
fn manifest_artifact_type(manifest: &Manifest) -> Option<&MediaType> {
    match manifest {
        Manifest::Image(image) | Manifest::DockerV2(image) => image.artifact_type.as_ref(),
        Manifest::Index(index) | Manifest::DockerList(index) => index.artifact_type.as_ref(),
    }
}

/// Every descriptor of the manifest with where it sits.
fn located_descriptors(
    manifest: &Manifest,
) -> impl Iterator<Item = (DescriptorLocation, &Descriptor)> {
    let (config, layers, entries, subject) = match manifest {
        Manifest::Image(image) | Manifest::DockerV2(image) => (
            Some(&image.config),
            image.layers.as_slice(),
            &[][..],
            image.subject.as_ref(),
        ),
        Manifest::Index(index) | Manifest::DockerList(index) => (
            None,
            &[][..],
            index.manifests.as_slice(),
            index.subject.as_ref(),
        ),
    };
    let config = config.map(|descriptor| (DescriptorLocation::Config, descriptor));
    let layers = layers
        .iter()
        .enumerate()
        .map(|(i, layer)| (DescriptorLocation::Layer(i), layer));
    let entries = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| (DescriptorLocation::Entry(i), entry));
    let subject = subject.map(|descriptor| (DescriptorLocation::Subject, descriptor));
    config
        .into_iter()
        .chain(layers)
        .chain(entries)
        .chain(subject)
}

fn validate_descriptor(
    location: DescriptorLocation,
    descriptor: &Descriptor,
) -> Result<(), ManifestError> {
    check_media_type(location, &descriptor.media_type)?;
    if let Some(artifact_type) = &descriptor.artifact_type {
        check_media_type(location, artifact_type)?;
    }
    descriptor
        .verified_data()
        .map(drop)
        .map_err(|reason| ManifestError::DataMismatch {
            location,
            reason: Box::new(reason),
        })
}

fn check_media_type(
    location: DescriptorLocation,
    media_type: &MediaType,
) -> Result<(), ManifestError> {
    if media_type.is_well_formed() {
        Ok(())
    } else {
        Err(ManifestError::InvalidMediaType {
            location,
            media_type: media_type.clone(),
        })
    }
}
