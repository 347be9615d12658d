//! `blob get|put|delete`: one blob at a time, streamed in both directions (never whole in
//! memory) and verified against its digest on the way down.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use oci_distribution_client::Repository;
use oci_spec_types::{Digest, Reference};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use oci_copy::Error;

use crate::cli::args::RegistryArgs;
use crate::cli::commands::Failure;
use crate::cli::manifest_verbs::io_failure;
use crate::cli::registry_verbs::registry_reference;
use crate::cli::verbs::print_json;

/// The digest a blob reference must carry (`registry/repo@digest`).
fn blob_digest(text: &str, reference: &Reference) -> Result<Digest, Failure> {
    reference
        .digest()
        .cloned()
        .ok_or_else(|| Failure::Usage(format!("{text} names no blob: write REPOSITORY@DIGEST")))
}

/// `blob get REPO@DIGEST [-o FILE]`: the blob on standard output, or in FILE, which only
/// appears (by rename) once the content verified.
pub(crate) async fn get(
    text: &str,
    output: Option<&Path>,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let digest = blob_digest(text, &reference)?;
    let blob = client
        .get_blob(&Repository::from(&reference), &digest, None)
        .await
        .map_err(Error::from)?;
    let Some(path) = output else {
        return copy_out(blob, &mut tokio::io::stdout(), "standard output").await;
    };
    let partial = partial_path(path);
    let name = partial.display().to_string();
    let written = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(|source| io_failure(&name, source))?;
        copy_out(blob, &mut file, &name).await?;
        file.sync_all()
            .await
            .map_err(|source| io_failure(&name, source))
    }
    .await;
    if let Err(failure) = written {
        // The partial file holds unverified bytes; failing to remove it changes nothing.
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(failure);
    }
    tokio::fs::rename(&partial, path)
        .await
        .map_err(|source| io_failure(&path.display().to_string(), source))
}

/// `PATH.partial`, where a download goes until it verified.
pub(crate) fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Writes the verified stream `blob` to `out` (`what` names it in errors).
async fn copy_out(
    mut blob: oci_distribution_client::BlobStream,
    out: &mut (impl AsyncWrite + Unpin),
    what: &str,
) -> Result<(), Failure> {
    while let Some(chunk) = blob.try_next().await.map_err(Error::from)? {
        out.write_all(&chunk)
            .await
            .map_err(|source| io_failure(what, source))?;
    }
    out.flush().await.map_err(|source| io_failure(what, source))
}

/// What `blob put --json` prints.
#[derive(Serialize)]
struct PutBlob {
    digest: Digest,
    size: Option<u64>,
}

/// `blob put REPO [FILE]`: FILE (or standard input) streamed up in one pass, its digest
/// computed on the way; prints the digest.
pub(crate) async fn put(
    text: &str,
    file: &Path,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let reader: Box<dyn AsyncRead + Send + Unpin> = if file == Path::new("-") {
        Box::new(tokio::io::stdin())
    } else {
        let opened = tokio::fs::File::open(file)
            .await
            .map_err(|source| io_failure(&file.display().to_string(), source))?;
        Box::new(opened)
    };
    let pushed = client
        .push_blob_reader(&Repository::from(&reference), reader)
        .await
        .map_err(Error::from)?;
    if json {
        let answer = PutBlob {
            digest: pushed.digest,
            size: pushed.size,
        };
        return print_json(&answer, "blob", false);
    }
    println!("{}", pushed.digest);
    Ok(())
}

/// `blob delete REPO@DIGEST`.
pub(crate) async fn delete(text: &str, registry: &RegistryArgs) -> Result<(), Failure> {
    let (client, reference) = registry_reference(text, registry)?;
    let digest = blob_digest(text, &reference)?;
    client
        .delete_blob(&Repository::from(&reference), &digest)
        .await
        .map_err(Error::from)?;
    println!("{digest}");
    Ok(())
}
