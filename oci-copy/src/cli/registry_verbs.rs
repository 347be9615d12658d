//! Registry verbs that only a registry answers: `manifest get`, `tag`, `delete`,
//! `catalog` and `referrers`, each one or two calls of oci-distribution-client.

use std::io::Write;

use futures_util::TryStreamExt;
use oci_distribution_client::{Client, ManifestReference, Repository};
use oci_spec_types::{Digest, MediaType, Reference};

use oci_copy::{Error, Location};

use crate::cli::args::RegistryArgs;
use crate::cli::commands::{Failure, opener};
use crate::cli::verbs::print_json;

/// The client and the reference of a registry location; anything else is a usage error.
fn registry_reference(text: &str, registry: &RegistryArgs) -> Result<(Client, Reference), Failure> {
    let location: Location = text
        .parse()
        .map_err(|error: Error| Failure::Usage(error.to_string()))?;
    let Location::Registry { reference, .. } = &location else {
        return Err(Failure::Usage(format!(
            "{text} is not a registry reference"
        )));
    };
    let opener = opener(registry, 1, std::slice::from_ref(&location), &[])?;
    Ok((opener.client, reference.clone()))
}

/// The digest the reference names: its own, else the one its tag points at.
async fn digest_of(client: &Client, reference: &Reference) -> Result<Digest, Failure> {
    match reference.digest() {
        Some(digest) => Ok(digest.clone()),
        None => Ok(client
            .pull_manifest(reference)
            .await
            .map_err(Error::from)?
            .digest),
    }
}

/// `manifest get REF`: the bytes, unchanged, on standard output.
pub(crate) async fn manifest_get(text: &str, registry: &RegistryArgs) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let pulled = client
        .pull_manifest(&reference)
        .await
        .map_err(Error::from)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&pulled.bytes)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|source| {
            Failure::Copy(Error::Io {
                path: "standard output".into(),
                source,
            })
        })
}

/// `tag REF NEWTAG...`: the manifest's bytes put again under each new tag.
pub(crate) async fn tag(
    text: &str,
    tags: &[String],
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let pulled = client
        .pull_manifest(&reference)
        .await
        .map_err(Error::from)?;
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
