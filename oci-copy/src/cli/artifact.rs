//! `artifact push` and `artifact pull`, as oras does them: files become the layers of an
//! image manifest with an `artifactType` and the empty config, each layer named by its
//! `org.opencontainers.image.title` annotation; pulling writes those layers back as files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use oci_distribution_client::{Client, ManifestReference, Repository, UploadMethod};
use oci_spec_types::{
    Descriptor, EMPTY_JSON, ImageManifest, Manifest, MediaType, Reference,
    annotations::ANNOTATION_TITLE,
};

use oci_copy::Error;

use crate::cli::args::RegistryArgs;
use crate::cli::commands::Failure;
use crate::cli::manifest_verbs::io_failure;
use crate::cli::registry_verbs::{pull_named_manifest, registry_location, registry_reference};

/// The media type of a file layer pushed without one (what oras uses).
const DEFAULT_FILE_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// What `artifact push` is asked to push.
pub(crate) struct ArtifactSpec<'a> {
    /// `FILE` or `FILE:MEDIA_TYPE` each.
    pub(crate) files: &'a [String],
    /// The manifest's `artifactType`.
    pub(crate) artifact_type: &'a str,
    /// The manifest the artifact refers to, when it is a referrer.
    pub(crate) subject: Option<&'a str>,
    /// `KEY=VALUE` each.
    pub(crate) annotations: &'a [String],
}

/// `artifact push REF FILE...`: uploads the files (streamed) and the empty config, then
/// pushes the manifest under REF's tag, or as a referrer of `--subject` (by digest, and
/// under the tag too when one was written). Prints the manifest's digest.
pub(crate) async fn push(
    text: &str,
    spec: &ArtifactSpec<'_>,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference, explicit) = registry_location(text, registry)?;
    let repository = Repository::from(&reference);
    let annotations = parse_annotations(spec.annotations)?;
    let subject = match spec.subject {
        Some(subject) => Some(subject_descriptor(&client, &reference, subject, registry).await?),
        None => None,
    };
    let mut layers = Vec::with_capacity(spec.files.len());
    for file in spec.files {
        layers.push(push_file(&client, &repository, file).await?);
    }
    client
        .push_blob_bytes(
            &repository,
            Bytes::from_static(EMPTY_JSON),
            UploadMethod::Monolithic,
        )
        .await
        .map_err(Error::from)?;
    let mut manifest = ImageManifest::new(Descriptor::empty(), layers);
    manifest.artifact_type = Some(MediaType::from(spec.artifact_type));
    manifest.annotations = (!annotations.is_empty()).then_some(annotations);
    let has_subject = subject.is_some();
    manifest.subject = subject;
    let manifest = Manifest::from_image(manifest).map_err(Error::BuildManifest)?;
    if has_subject {
        client
            .push_referrer(&repository, &manifest)
            .await
            .map_err(Error::from)?;
    }
    if explicit || !has_subject {
        client
            .put_manifest(&repository, ManifestReference::from(&reference), &manifest)
            .await
            .map_err(Error::from)?;
    }
    println!("{}", manifest.digest());
    Ok(())
}

/// `KEY=VALUE` pairs; anything else is a usage error.
fn parse_annotations(pairs: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(Failure::Usage(format!(
                "annotation {pair:?} is not KEY=VALUE"
            ))),
        })
        .collect()
}

/// The descriptor of the subject manifest: `text` is a full reference into the same
/// repository, or just a tag or digest there.
async fn subject_descriptor(
    client: &Client,
    artifact: &Reference,
    text: &str,
    registry: &RegistryArgs,
) -> Result<Descriptor, Failure> {
    let full = if text.contains('/') {
        text.to_owned()
    } else {
        let separator = if text.contains(':') { '@' } else { ':' };
        format!(
            "{}/{}{separator}{text}",
            artifact.registry(),
            artifact.repository()
        )
    };
    let (_, subject) = registry_reference(&full, registry)?;
    if (subject.registry(), subject.repository()) != (artifact.registry(), artifact.repository()) {
        return Err(Failure::Usage(format!(
            "the subject {text} is not in the artifact's repository {}/{}",
            artifact.registry(),
            artifact.repository()
        )));
    }
    let pulled = client.pull_manifest(&subject).await.map_err(Error::from)?;
    let media_type = match pulled.media_type.clone() {
        Some(media_type) => media_type,
        None => pulled.parse().map_err(Error::from)?.media_type(),
    };
    Ok(Descriptor::new(
        media_type,
        pulled.digest,
        pulled.bytes.len() as u64,
    ))
}

/// Streams one `FILE[:MEDIA_TYPE]` up as a blob; its layer descriptor, titled with the
/// file's name.
async fn push_file(
    client: &Client,
    repository: &Repository,
    spec: &str,
) -> Result<Descriptor, Failure> {
    let (path, media_type) = match spec.rsplit_once(':') {
        Some((path, media_type)) if media_type.contains('/') => (Path::new(path), media_type),
        _ => (Path::new(spec), DEFAULT_FILE_MEDIA_TYPE),
    };
    let shown = path.display().to_string();
    let title = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::Usage(format!("{shown} names no file")))?;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|source| io_failure(&shown, source))?;
    let size = file
        .metadata()
        .await
        .map_err(|source| io_failure(&shown, source))?
        .len();
    let pushed = client
        .push_blob_reader(repository, file)
        .await
        .map_err(Error::from)?;
    let mut descriptor = Descriptor::new(
        MediaType::from(media_type),
        pushed.digest,
        pushed.size.unwrap_or(size),
    );
    descriptor.annotations = Some(BTreeMap::from([(ANNOTATION_TITLE.to_owned(), title)]));
    Ok(descriptor)
}

/// `artifact pull REF -o DIR`: every layer with a title written to DIR under that name,
/// each verified before it appears; prints the paths written.
pub(crate) async fn pull(
    text: &str,
    output: &Path,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let (client, reference, pulled) = pull_named_manifest(text, registry).await?;
    let manifest = pulled.parse().map_err(Error::from)?;
    let Some(image) = manifest.image() else {
        return Err(Failure::Usage(format!(
            "{text} is an index, not an artifact: name one of its manifests"
        )));
    };
    tokio::fs::create_dir_all(output)
        .await
        .map_err(|source| io_failure(&output.display().to_string(), source))?;
    let repository = Repository::from(&reference);
    for layer in &image.layers {
        let Some(title) = layer.annotation(ANNOTATION_TITLE) else {
            eprintln!("oci-copy: layer {} has no title; not written", layer.digest);
            continue;
        };
        let path = file_in(output, title)?;
        client
            .pull_blob_to_file(&repository, layer, &path)
            .await
            .map_err(Error::from)?;
        println!("{}", path.display());
    }
    Ok(())
}

/// `dir/title`, when the title is a plain file name: a registry's annotation must not
/// write outside the directory asked for.
fn file_in(dir: &Path, title: &str) -> Result<PathBuf, Failure> {
    let plain =
        !title.is_empty() && title != "." && title != ".." && !title.contains(['/', '\\', '\0']);
    if plain {
        return Ok(dir.join(title));
    }
    Err(io_failure(
        &dir.join(title).display().to_string(),
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the layer title {title:?} is not a plain file name"),
        ),
    ))
}
