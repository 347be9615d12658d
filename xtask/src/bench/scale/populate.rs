//! Filling a server over HTTP, many requests at a time, so oci-registry and distribution get
//! the same data through the same protocol steps:
//!
//! - `scale/tags`: `tags` tags over manifests of `per_manifest` tags each (tag `t<i>` names
//!   manifest `i / per_manifest`);
//! - `scale/r<i>`: `repos` repositories of one manifest each (its blobs mounted);
//! - `scale/blobs`: `blobs` distinct small blobs, named by manifests of 100 layers each so a
//!   collector keeps them all.
//!
//! A step answered 500 is sent again (see [`Retries`]).

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use oci_digest::Digest;
use reqwest::StatusCode;

use super::content::{self, MANIFEST_TYPE};
use super::retry::Retries;
use crate::bench::api::{Api, send};
use crate::bench::error::BenchError;

/// Requests in flight at once.
pub const PARALLEL: usize = 32;
/// Layers per manifest in `scale/blobs`.
const LAYERS_PER_MANIFEST: u64 = 100;
/// The repository with many tags.
pub const TAGS_REPO: &str = "scale/tags";

/// How much of each to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Tags in `scale/tags`.
    pub tags: u64,
    /// Tags naming each manifest of `scale/tags`.
    pub per_manifest: u64,
    /// Repositories `scale/r<i>`.
    pub repos: u64,
    /// Blobs in `scale/blobs`.
    pub blobs: u64,
}

/// The name of tag `i`, sorting as `i` does.
pub fn tag_name(i: u64) -> String {
    format!("t{i:07}")
}

/// The name of repository `i`, sorting as `i` does.
pub fn repo_name(i: u64) -> String {
    format!("scale/r{i:06}")
}

/// The manifest of `scale/tags` that tags `t0..t<per_manifest>` name.
pub fn first_tagged_manifest() -> Bytes {
    tagged_manifest(0)
}

fn tagged_manifest(variant: u64) -> Bytes {
    let layer = content::small_layer(0);
    content::manifest(&[(Digest::compute(&layer), layer.len())], variant)
}

/// Fills the registry at `api`, counting the steps sent again into `retries`; returns the
/// number of requests the fill needs (those sent again not included).
pub async fn populate(api: &Api, sizes: Sizes, retries: &Retries) -> Result<u64, BenchError> {
    let mut requests = 0;
    for blob in [content::config(), content::small_layer(0)] {
        requests += retries
            .run(|| push_in_three_steps(api, TAGS_REPO, blob.clone()))
            .await?;
    }
    let per_manifest = sizes.per_manifest.max(1);
    requests += in_parallel(0..sizes.tags, |i| async move {
        let manifest = tagged_manifest(i / per_manifest);
        let tag = tag_name(i);
        retries
            .run(|| api.put_manifest(TAGS_REPO, &tag, MANIFEST_TYPE, manifest.clone()))
            .await
            .map(|()| 1)
    })
    .await?;
    requests += in_parallel(0..sizes.repos, |i| async move {
        let repo = repo_name(i);
        for blob in [content::config(), content::small_layer(0)] {
            let digest = Digest::compute(&blob);
            retries
                .run(|| mount(api, &repo, &digest, TAGS_REPO))
                .await?;
        }
        retries
            .run(|| api.put_manifest(&repo, "latest", MANIFEST_TYPE, first_tagged_manifest()))
            .await
            .map(|()| 3)
    })
    .await?;
    requests += in_parallel(0..sizes.blobs, |i| async move {
        retries
            .run(|| push_in_three_steps(api, "scale/blobs", content::small_layer(i + 1)))
            .await
    })
    .await?;
    let config = Digest::compute(&content::config());
    retries
        .run(|| mount(api, "scale/blobs", &config, TAGS_REPO))
        .await?;
    requests += 1;
    let groups = sizes.blobs.div_ceil(LAYERS_PER_MANIFEST);
    requests += in_parallel(0..groups, |group| async move {
        let first = group * LAYERS_PER_MANIFEST;
        let layers: Vec<(Digest, usize)> = (first..(first + LAYERS_PER_MANIFEST).min(sizes.blobs))
            .map(|i| {
                let layer = content::small_layer(i + 1);
                (Digest::compute(&layer), layer.len())
            })
            .collect();
        let manifest = content::manifest(&layers, group);
        let tag = format!("g{group}");
        retries
            .run(|| api.put_manifest("scale/blobs", &tag, MANIFEST_TYPE, manifest.clone()))
            .await
            .map(|()| 1)
    })
    .await?;
    Ok(requests)
}

/// Pushes `blob` as POST, PATCH with the data, PUT without a body: distribution's S3 driver
/// on moto fails a closing PUT that carries data now and then (MalformedXML); returns the
/// number of requests.
async fn push_in_three_steps(api: &Api, repo: &str, blob: Bytes) -> Result<u64, BenchError> {
    let location = api.start_upload(repo).await?;
    let len = blob.len() as u64;
    let digest = Digest::compute(&blob);
    let location = api.patch_streamed(&location, blob.into(), len).await?;
    api.finish_upload(&location, &digest, Bytes::new()).await?;
    Ok(3)
}

/// `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<from>`, which must mount.
pub async fn mount(api: &Api, repo: &str, digest: &Digest, from: &str) -> Result<(), BenchError> {
    let mut url = api.url(&format!("{repo}/blobs/uploads/"));
    url.query_pairs_mut()
        .append_pair("mount", digest.as_str())
        .append_pair("from", from);
    let request = api.http().post(url.clone()).header("Content-Length", "0");
    send("mounting a blob", request, &url, StatusCode::CREATED).await?;
    Ok(())
}

/// Runs `job` for every index, [`PARALLEL`] at a time; sums what the jobs return.
async fn in_parallel<F, Fut>(indices: std::ops::Range<u64>, job: F) -> Result<u64, BenchError>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<u64, BenchError>>,
{
    stream::iter(indices)
        .map(job)
        .buffer_unordered(PARALLEL)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_as_their_numbers() {
        assert!(tag_name(9) < tag_name(10));
        assert!(tag_name(99_999) < tag_name(100_000));
        assert!(repo_name(9_999) < repo_name(10_000));
    }
}
