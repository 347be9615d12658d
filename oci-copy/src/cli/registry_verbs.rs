//! Registry verbs that only a registry answers: `tag`, `delete`, `catalog` and `referrers`, each one or two calls of oci-distribution-client.

use std::num::NonZeroUsize;

use futures_util::TryStreamExt;
use oci_distribution_client::{Client, ManifestReference, PulledManifest, Repository};
use oci_spec_types::{Digest, MediaType, Reference};

use oci_copy::{Error, Location};

use crate::cli::args::RegistryArgs;
use crate::cli::commands::{Failure, opener};
use crate::cli::verbs::print_json;

/// The client and the reference of a registry location; anything else is a usage error.
pub(crate) fn registry_reference(
    text: &str,
    registry: &RegistryArgs,
) -> Result<(Client, Reference), Failure> {
    let (client, reference, _) = registry_location(text, registry)?;
    Ok((client, reference))
}

/// Like [`registry_reference`], with whether a tag or digest was written (not defaulted).
pub(crate) fn registry_location(
    text: &str,
    registry: &RegistryArgs,
) -> Result<(Client, Reference, bool), Failure> {
    let location: Location = text
        .parse()
        .map_err(|error: Error| Failure::Usage(error.to_string()))?;
    let Location::Registry {
        reference,
        explicit,
    } = &location
    else {
        return Err(Failure::Usage(format!(
            "{text} is not a registry reference"
        )));
    };
    // The verbs read and write one repository: either credentials flag applies to it.
    let this = std::slice::from_ref(&location);
    let opener = opener(registry, NonZeroUsize::MIN, this, this)?;
    Ok((opener.client, reference.clone(), *explicit))
}

/// The client, the reference and the manifest it names, pulled (and verified).
pub(crate) async fn pull_named_manifest(
    text: &str,
    registry: &RegistryArgs,
) -> Result<(Client, Reference, PulledManifest), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let pulled = client
        .pull_manifest(&reference)
        .await
        .map_err(Error::from)?;
    Ok((client, reference, pulled))
}

/// The digest the reference names: its own, else the one its tag points at.
pub(crate) async fn digest_of(client: &Client, reference: &Reference) -> Result<Digest, Failure> {
    match reference.digest() {
        Some(digest) => Ok(digest.clone()),
        None => Ok(client
            .pull_manifest(reference)
            .await
            .map_err(Error::from)?
            .digest),
    }
}

/// `tag REF NEWTAG...`: the manifest's bytes put again under each new tag.
pub(crate) async fn tag(
    text: &str,
    tags: &[String],
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference, pulled) = pull_named_manifest(text, registry).await?;
    let media_type = pulled.parse().map_err(Error::from)?.media_type();
    let repository = Repository::from(&reference);
    for tag in tags {
        let target = ManifestReference::tag(tag)
            .map_err(|source| Failure::Usage(format!("invalid tag {tag:?}: {source}")))?;
        client
            .put_manifest_raw(&repository, &target, pulled.bytes.clone(), &media_type)
            .await
            .map_err(Error::from)?;
        println!("{}:{tag} {}", reference.repository(), pulled.digest);
    }
    Ok(())
}

/// `delete REF`: the manifest deleted by digest (a tag is resolved to its digest first).
pub(crate) async fn delete(text: &str, registry: &RegistryArgs) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let digest = digest_of(&client, &reference).await?;
    client
        .delete_manifest(
            &Repository::from(&reference),
            &ManifestReference::Digest(digest.clone()),
        )
        .await
        .map_err(Error::from)?;
    println!("{digest}");
    Ok(())
}

/// `catalog HOST`: every repository, one a line or as a JSON array.
pub(crate) async fn catalog(
    host: &str,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, _) = registry_reference(&format!("{host}/probe"), registry)?;
    let repositories: Vec<String> = client
        .catalog(host, None)
        .try_collect()
        .await
        .map_err(Error::from)?;
    if json {
        return print_json(&repositories, "catalog", false);
    }
    for repository in repositories {
        println!("{repository}");
    }
    Ok(())
}

/// `referrers REF`: the referrers' descriptors, `DIGEST ARTIFACT-TYPE` a line or as JSON.
pub(crate) async fn referrers(
    text: &str,
    artifact_type: Option<&str>,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let subject = digest_of(&client, &reference).await?;
    let artifact_type = artifact_type.map(MediaType::from);
    let found = client
        .referrers(
            &Repository::from(&reference),
            &subject,
            artifact_type.as_ref(),
        )
        .await
        .map_err(Error::from)?;
    if json {
        return print_json(&found.descriptors, "referrers", false);
    }
    for descriptor in found.descriptors {
        let kind = descriptor
            .artifact_type
            .as_ref()
            .map_or("-", MediaType::as_str);
        println!("{} {kind}", descriptor.digest);
    }
    Ok(())
}
