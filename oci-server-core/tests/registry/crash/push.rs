//! The pushes, request by request, and what a kill in one of them leaves pending.

use oci_digest::Digest;
use serde_json::json;

use super::{
    Model,
    plan::{Cut, Image, Op},
    wire::{Request, Server, expect, location},
};
use crate::common::{OCI_INDEX, OCI_MANIFEST};

/// The request a kill cut, with what the store may show of it after the restart.
pub enum Pending {
    /// A whole blob in one `POST`.
    Blob {
        repo: &'static str,
        data: Vec<u8>,
        cut: Cut,
    },
    /// A chunk of the upload session at `location`, taking it from offset `before` to `after`;
    /// the last one, sent with the `PUT` that ends the session, when `finishing`.
    Upload {
        repo: &'static str,
        data: Vec<u8>,
        location: String,
        before: u64,
        after: u64,
        finishing: bool,
        cut: Cut,
    },
    /// A manifest under a tag or digest that named `old` before.
    Manifest {
        repo: &'static str,
        reference: String,
        media_type: &'static str,
        body: Vec<u8>,
        old: Option<Digest>,
        cut: Cut,
    },
}

/// Runs `op`, adding what each answer acknowledged to `model`.
pub async fn run(server: &mut Server, model: &mut Model, op: &Op) -> Result<(), Pending> {
    match op {
        Op::Monolithic { repo, data } => push_blob(server, model, repo, data).await,
        Op::Chunked { repo, chunks } => push_chunked(server, model, repo, chunks).await,
        Op::Image { repo, tag, image } => push_image(server, model, repo, tag, image).await,
        Op::Index {
            repo,
            tag,
            children,
        } => {
            let mut manifests = Vec::new();
            for child in children {
                let digest = Digest::compute(&child.manifest);
                push_image(server, model, repo, digest.as_str(), child).await?;
                manifests.push(json!({
                    "mediaType": OCI_MANIFEST,
                    "digest": digest.as_str(),
                    "size": child.manifest.len(),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }));
            }
            let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
            let body = serde_json::to_vec(&index).unwrap();
            put_manifest(server, model, repo, tag, OCI_INDEX, body).await
        }
    }
}

async fn push_blob(
    server: &mut Server,
    model: &mut Model,
    repo: &'static str,
    data: &[u8],
) -> Result<(), Pending> {
    let digest = Digest::compute(data);
    let path = format!("/v2/{repo}/blobs/uploads/?digest={digest}");
    match server
        .send(&Request::new("POST", path, data.to_vec()))
        .await
    {
        Ok(answer) => expect(&answer, 201),
        Err(cut) => {
            let data = data.to_vec();
            return Err(Pending::Blob { repo, data, cut });
        }
    }
    model.blobs.push((repo, digest));
    Ok(())
}

async fn push_chunked(
    server: &mut Server,
    model: &mut Model,
    repo: &'static str,
    chunks: &[Vec<u8>],
) -> Result<(), Pending> {
    let data = chunks.concat();
    let digest = Digest::compute(&data);
    let start = Request::new("POST", format!("/v2/{repo}/blobs/uploads/"), Vec::new());
    let Ok(started) = server.send(&start).await else {
        unreachable!("kills never cut the start of an upload")
    };
    expect(&started, 202);
    let location = location(&started);
    let mut before = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let after = before + chunk.len() as u64;
        let finishing = i + 1 == chunks.len();
        let request = if finishing {
            Request::new("PUT", format!("{location}?digest={digest}"), chunk.clone())
        } else {
            Request::new("PATCH", location.clone(), chunk.clone())
                .header("Content-Range", format!("{before}-{}", after - 1))
        };
        match server.send(&request).await {
            Ok(answer) => expect(&answer, if finishing { 201 } else { 202 }),
            Err(cut) => {
                let (data, location) = (data.clone(), location.clone());
                return Err(Pending::Upload {
                    repo,
                    data,
                    location,
                    before,
                    after,
                    finishing,
                    cut,
                });
            }
        }
        before = after;
    }
    model.blobs.push((repo, digest));
    Ok(())
}

async fn push_image(
    server: &mut Server,
    model: &mut Model,
    repo: &'static str,
    reference: &str,
    image: &Image,
) -> Result<(), Pending> {
    for blob in &image.blobs {
        push_blob(server, model, repo, blob).await?;
    }
    let body = image.manifest.clone();
    put_manifest(server, model, repo, reference, OCI_MANIFEST, body).await
}

/// PUTs a manifest under a tag or (a reference with `:`) its digest.
async fn put_manifest(
    server: &mut Server,
    model: &mut Model,
    repo: &'static str,
    reference: &str,
    media_type: &'static str,
    body: Vec<u8>,
) -> Result<(), Pending> {
    let path = format!("/v2/{repo}/manifests/{reference}");
    let request = Request::new("PUT", path, body).header("Content-Type", media_type.to_owned());
    match server.send(&request).await {
        Ok(answer) => expect(&answer, 201),
        Err(cut) => {
            let old = model.tags.get(&(repo, reference.to_owned())).cloned();
            return Err(Pending::Manifest {
                repo,
                reference: reference.to_owned(),
                media_type,
                body: request.body,
                old,
                cut,
            });
        }
    }
    record_manifest(model, repo, reference, &request.body);
    Ok(())
}

/// Adds an acknowledged manifest (and its tag, unless pushed by digest) to `model`.
pub fn record_manifest(model: &mut Model, repo: &'static str, reference: &str, body: &[u8]) {
    let digest = Digest::compute(body);
    if !reference.contains(':') {
        model
            .tags
            .insert((repo, reference.to_owned()), digest.clone());
    }
    model.manifests.push((repo, digest));
}
