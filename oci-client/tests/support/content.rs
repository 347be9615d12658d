//! Content to push: deterministic pseudo-random blobs and image manifests built on them.

use std::io;

use bytes::Bytes;
use futures_core::Stream;
use oci_distribution_client::{Client, Repository, UploadMethod};
use oci_spec_types::{Descriptor, Digest, ImageManifest, Manifest, MediaType};

/// `len` pseudo-random bytes, the same for the same `seed`.
pub fn blob(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(len);
    Bytes::from(data)
}

/// `data` as a stream of `piece`-byte chunks.
pub fn pieces(data: Bytes, piece: usize) -> impl Stream<Item = Result<Bytes, io::Error>> + Send {
    let chunks: Vec<Result<Bytes, io::Error>> = (0..data.len())
        .step_by(piece.max(1))
        .map(|start| Ok(data.slice(start..(start + piece).min(data.len()))))
        .collect();
    futures_util::stream::iter(chunks)
}

/// Pushes a config and layers of the given sizes, returns the image manifest (not pushed).
pub async fn image(
    client: &Client,
    repository: &Repository,
    layers: &[usize],
    seed: u64,
) -> Manifest {
    let config = Bytes::from(format!(
        r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#
    ));
    let pushed = client
        .push_blob_bytes(repository, config.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();
    let config = Descriptor::new(
        MediaType::OciImageConfig,
        pushed.digest,
        config.len() as u64,
    );
    let mut descriptors = Vec::new();
    for (index, size) in layers.iter().enumerate() {
        let data = blob(*size, seed * 100 + index as u64);
        let pushed = client
            .push_blob_bytes(repository, data, UploadMethod::Chunked)
            .await
            .unwrap();
        descriptors.push(Descriptor::new(
            MediaType::OciLayerTarGzip,
            pushed.digest,
            *size as u64,
        ));
    }
    Manifest::from_image(ImageManifest::new(config, descriptors)).unwrap()
}

/// An artifact manifest (empty config) of `artifact_type` referring to `subject`.
pub async fn referrer(
    client: &Client,
    repository: &Repository,
    subject: &Manifest,
    artifact_type: &str,
) -> Manifest {
    let empty = client
        .push_blob_bytes(
            repository,
            Bytes::from_static(b"{}"),
            UploadMethod::SinglePost,
        )
        .await
        .unwrap();
    assert_eq!(empty.digest, Descriptor::empty().digest);
    let mut manifest = ImageManifest::new(Descriptor::empty(), vec![Descriptor::empty()]);
    manifest.artifact_type = Some(MediaType::from(artifact_type));
    manifest.subject = Some(Descriptor::new(
        subject.media_type(),
        subject.digest(),
        subject.size(),
    ));
    Manifest::from_image(manifest).unwrap()
}

/// The whole blob, read through the client's verified stream.
pub async fn pull(
    client: &Client,
    repository: &Repository,
    digest: &Digest,
    size: Option<u64>,
) -> Bytes {
    use futures_util::TryStreamExt;
    let stream = client.get_blob(repository, digest, size).await.unwrap();
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
    Bytes::from(chunks.concat())
}
