//! Splitting `[registry[:port]/]repository[:tag][@digest]` into its parts, and Docker
//! Hub's normalisation.

use oci_digest::Digest;

use crate::error::ReferenceError;
use crate::reference::validate::{NAME_TOTAL_MAX, validate_registry, validate_repository};
use crate::reference::{Reference, Tag};

/// The registry a reference without one points to.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's legacy name, normalised to [`DOCKER_HUB`].
const DOCKER_HUB_LEGACY: &str = "index.docker.io";
/// The host serving Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// Docker Hub's namespace for single-component names (`ubuntu` is `library/ubuntu`).
const DOCKER_HUB_OFFICIAL_NAMESPACE: &str = "library/";
/// The tag a reference with neither tag nor digest points to.
pub const DEFAULT_TAG: &str = "latest";

pub(crate) fn parse(input: &str) -> Result<Reference, ReferenceError> {
    if input.is_empty() {
        return Err(ReferenceError::Empty);
    }
    let (name_and_tag, digest) = match input.split_once('@') {
        Some((name, digest)) => (
            name,
            Some(Digest::parse(digest).map_err(ReferenceError::InvalidDigest)?),
        ),
        None => (input, None),
    };
    let (name, tag) = split_tag(name_and_tag);
    let (registry, repository) = split_registry(name);
    let missing_repository = || ReferenceError::MissingRepository {
        input: input.to_owned(),
    };
    if repository.is_empty()
        || (registry.is_none()
            && !name.contains('/')
            && tag.is_some_and(is_port)
            && looks_like_host(name))
    {
        // `example.com/`, or `localhost:5000`, which Docker would read as the image
        // `library/localhost` tagged `5000`: almost always a registry given without a
        // repository. With a `/` the name is a repository path (`team/v1.2:3`), never a host.
        return Err(missing_repository());
    }
    if let Some(registry) = registry {
        validate_registry(registry)?;
    }
    validate_repository(repository)?;
    let tag = tag.map(Tag::new).transpose()?;

    let registry = match registry {
        None | Some(DOCKER_HUB_LEGACY) => DOCKER_HUB,
        Some(registry) => registry,
    };
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("{DOCKER_HUB_OFFICIAL_NAMESPACE}{repository}")
    } else {
        repository.to_owned()
    };
    let length = registry.len() + 1 + repository.len();
    if length > NAME_TOTAL_MAX {
        return Err(ReferenceError::NameTooLong {
            length,
            max: NAME_TOTAL_MAX,
        });
    }
    let tag = match (tag, &digest) {
        (Some(tag), _) => Some(tag),
        (None, Some(_)) => None,
        (None, None) => Some(Tag::latest()),
    };
    Ok(Reference {
        registry: registry.to_owned(),
        repository,
        tag,
        digest,
    })
}

/// The tag follows the last `:` that comes after the last `/` (an earlier `:` is a port).
fn split_tag(name_and_tag: &str) -> (&str, Option<&str>) {
    match name_and_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (name_and_tag, None),
    }
}

/// The first component is a registry when there is more than one and it looks like a host.
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (Some(first), rest),
        _ => (None, name),
    }
}

/// A host has a `.` (a domain or an IPv4 address) or a `:` (a port), or is `localhost`.
fn looks_like_host(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
