//! What a location names: the image to read from it, and the tag and image name to write
//! there.

use oci_spec_types::Reference;

use super::Location;
use super::parse::{chosen_name, chosen_selector};
use crate::end::Selector;

impl Location {
    /// Which image of this location to read.
    pub fn selector(&self) -> Selector {
        match self {
            Location::Registry { reference, .. } => match (reference.digest(), reference.tag()) {
                (Some(digest), _) => Selector::Digest(digest.clone()),
                (None, Some(tag)) => Selector::Tag(tag.to_owned()),
                (None, None) => Selector::Default,
            },
            Location::Layout { tag, .. }
            | Location::OciArchive { tag, .. }
            | Location::DockerArchive { name: tag, .. } => {
                tag.as_deref().map_or(Selector::Default, chosen_selector)
            }
        }
    }

    /// Whether the location names one image (a tag or digest was written), rather than a
    /// whole repository or layout.
    pub fn names_an_image(&self) -> bool {
        match self {
            Location::Registry { explicit, .. } => *explicit,
            Location::Layout { tag, .. } | Location::OciArchive { tag, .. } => tag.is_some(),
            Location::DockerArchive { name, .. } => name.is_some(),
        }
    }

    /// The tag to write at this location as a destination: the tag written (a registry's
    /// defaults to `latest`), none for a digest-only reference.
    pub fn target_tag(&self) -> Option<String> {
        match self {
            Location::Registry { reference, .. } => reference.tag().map(str::to_owned),
            Location::Layout { tag, .. } | Location::OciArchive { tag, .. } => {
                chosen_name(tag).map(str::to_owned)
            }
            Location::DockerArchive { name, .. } => {
                chosen_name(name).map(|name| match name.rsplit_once(':') {
                    Some((_, tag)) if !tag.contains('/') => tag.to_owned(),
                    _ => "latest".to_owned(),
                })
            }
        }
    }

    /// The image name this location stands for, when it has one, as `RepoTags` of a
    /// Docker archive write it: `host/repository` for a registry (Docker Hub's in Docker's
    /// short form, `ubuntu` or `team/app`), so that `docker load` and `podman load` name
    /// the image where it came from; the name of a Docker archive named `name:tag`.
    pub fn image_name(&self) -> Option<String> {
        match self {
            Location::Registry { reference, .. } => Some(registry_image_name(reference)),
            Location::DockerArchive { name, .. } => {
                chosen_name(name).map(|name| match name.rsplit_once(':') {
                    Some((repository, tag)) if !tag.contains('/') => repository.to_owned(),
                    _ => name.to_owned(),
                })
            }
            _ => None,
        }
    }
}

/// `host/repository`, or for Docker Hub the repository without `library/`.
fn registry_image_name(reference: &Reference) -> String {
    let repository = reference.repository();
    if reference.registry() == oci_spec_types::reference::DOCKER_HUB {
        repository
            .strip_prefix("library/")
            .unwrap_or(repository)
            .to_owned()
    } else {
        format!("{}/{repository}", reference.registry())
    }
}
