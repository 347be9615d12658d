//! `manifest get|put|delete`: manifests as bytes, exactly as the registry holds them.

use std::io::{Read, Write};
use std::path::Path;

use bytes::Bytes;
use oci_distribution_client::{ManifestReference, Repository};
use oci_spec_types::{Digest, Manifest, MediaType};

use oci_copy::Error;

use crate::cli::args::RegistryArgs;
use crate::cli::commands::Failure;
use crate::cli::registry_verbs::{pull_named_manifest, registry_reference};

/// The largest manifest read from a file or standard input: what registries accept.
const MAX_MANIFEST_SIZE: u64 = oci_distribution_client::config::DEFAULT_MAX_MANIFEST_SIZE;

/// `manifest get REF`: the bytes, unchanged, on standard output.
pub(crate) async fn get(text: &str, registry: &RegistryArgs) -> Result<(), Failure> {
    let (_, _, pulled) = pull_named_manifest(text, registry).await?;
    let mut out = std::io::stdout().lock();
    out.write_all(&pulled.bytes)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|source| io_failure("standard output", source))
}

/// `manifest put REF [FILE]`: the bytes of FILE (or standard input) pushed as they are,
/// with `media_type` or the manifest's own `mediaType`; prints the digest.
pub(crate) async fn put(
    text: &str,
    file: &Path,
    media_type: Option<&str>,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let bytes = read_capped(file)?;
    let digest = Digest::compute(&bytes);
    if let Some(wanted) = reference.digest()
        && wanted != &digest
    {
        return Err(Failure::Usage(format!(
            "{text} names {wanted}, but the manifest's digest is {digest}"
        )));
    }
    let media_type = match media_type {
        Some(given) => MediaType::from(given),
        None => own_media_type(&bytes, &digest)?,
    };
    let pushed = client
        .put_manifest_raw(
            &Repository::from(&reference),
            &ManifestReference::from(&reference),
            bytes,
            &media_type,
        )
        .await
        .map_err(Error::from)?;
    println!("{}", pushed.digest);
    Ok(())
}

/// The media type a manifest's body declares; without one, the caller must say it.
fn own_media_type(bytes: &Bytes, digest: &Digest) -> Result<MediaType, Failure> {
    let manifest = Manifest::parse_lenient(bytes.clone(), None).map_err(|source| {
        Failure::Copy(Error::Manifest {
            digest: digest.clone(),
            source,
        })
    })?;
    let declared = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|value| {
            value
                .get("mediaType")
                .and_then(|t| t.as_str())
                .map(MediaType::from)
        });
    declared.map_or_else(
        || {
            Err(Failure::Usage(format!(
                "the manifest has no mediaType field (it reads as {}): give --media-type",
                manifest.media_type()
            )))
        },
        Ok,
    )
}

/// The whole of `file` (`-`: standard input), refused past [`MAX_MANIFEST_SIZE`] bytes.
fn read_capped(file: &Path) -> Result<Bytes, Failure> {
    let name = file.display().to_string();
    let reader: Box<dyn Read> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).map_err(|source| io_failure(&name, source))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_MANIFEST_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io_failure(&name, source))?;
    if bytes.len() as u64 > MAX_MANIFEST_SIZE {
        return Err(Failure::Copy(Error::TooLarge {
            what: name,
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_SIZE,
        }));
    }
    Ok(Bytes::from(bytes))
}

/// An I/O failure on `what` (a file, or standard input or output).
pub(crate) fn io_failure(what: &str, source: std::io::Error) -> Failure {
    Failure::Copy(Error::Io {
        path: what.into(),
        source,
    })
}
