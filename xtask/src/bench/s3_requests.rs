//! `cargo xtask bench --only s3`: object-store requests per registry operation, by kind, for
//! oci-registry and for distribution's S3 driver on the same moto server, and what they cost
//! per million operations at public S3 request prices.
//!
//! Requests are counted from moto's access log between two marks (see [`moto`](super::moto)).
//! The operations: pushing an image of 20 layers (each layer as POST, PATCH with the data, PUT
//! without a body, the way distribution's driver works on moto), pulling it (manifest, config,
//! layers), one page of 100 tags, one page of 100 repositories of the catalog, and a garbage
//! collection sweep with nothing to remove.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use oci_digest::Digest;
use reqwest::StatusCode;

use super::api::{Api, fetch, send};
use super::backends::{Backend, Server};
use super::error::BenchError;
use super::moto::RecordedMoto;
use super::peers::PeerKind;
use super::scale::{MANIFEST_TYPE, config, layer, manifest, mount};

/// Layers in the pushed image.
const LAYERS: u64 = 20;
/// Tags and repositories present before the page requests, so a page of 100 is full.
const LISTED: u64 = 150;
/// Dollars per 1,000 requests: PUT, COPY, POST, LIST (and multipart steps, which are PUTs
/// and POSTs).
const PRICE_WRITE: f64 = 0.005;
/// Dollars per 1,000 requests: GET, HEAD and the rest (DELETE included here, though AWS bills
/// no DELETE).
const PRICE_READ: f64 = 0.0004;

/// The kinds requests are counted by, in table order.
const KINDS: [&str; 7] = ["PUT", "GET", "HEAD", "LIST", "DELETE", "POST", "multipart"];

/// The kind of a logged request (`METHOD /bucket/key?query`).
fn kind_of(request: &str) -> &'static str {
    let (method, target) = request.split_once(' ').unwrap_or((request, ""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has = |param: &str| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(param))
    };
    // `/bucket` alone is a bucket-level request: a listing or a multi-object delete.
    let bucket_level = path
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .is_none_or(str::is_empty);
    match method {
        "PUT" if has("partNumber") => "multipart",
        "POST" if has("uploads") || has("uploadId") => "multipart",
        "DELETE" if has("uploadId") => "multipart",
        "GET" if has("uploadId") || has("uploads") => "LIST",
        "GET" if bucket_level => "LIST",
        "PUT" => "PUT",
        "GET" => "GET",
        "HEAD" => "HEAD",
        "DELETE" => "DELETE",
        "POST" => "POST",
        _ => "GET",
    }
}

/// Dollars per 1,000 requests of `kind`.
fn price(kind: &str) -> f64 {
    match kind {
        "GET" | "HEAD" | "DELETE" => PRICE_READ,
        _ => PRICE_WRITE,
    }
}

/// Requests of one operation, by kind.
#[derive(Debug, Default, Clone)]
struct Counts(BTreeMap<&'static str, u64>);

impl Counts {
    fn of(requests: &[String]) -> Counts {
        let mut counts = Counts::default();
        for request in requests {
            *counts.0.entry(kind_of(request)).or_default() += 1;
        }
        counts
    }

    fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Dollars per million operations.
    fn cost_per_million(&self) -> f64 {
        self.0
            .iter()
            .map(|(kind, n)| *n as f64 * price(kind) / 1000.0 * 1e6)
            .sum()
    }
}

/// Runs the benchmark; returns its Markdown section.
pub async fn run(ours: &Path, layer_kib: usize) -> Result<String, BenchError> {
    let moto = RecordedMoto::start().await?;
    let mut rows = Vec::new();
    for kind in [PeerKind::Ours, PeerKind::Distribution] {
        eprintln!("bench s3: {} on moto", kind.name());
        let prefix = match kind {
            PeerKind::Ours => "oci",
            PeerKind::Distribution => "dist",
            PeerKind::Olareg => "olareg",
        };
        let server = Server::start(kind, ours, Backend::S3(&moto), prefix).await?;
        for (operation, counts) in measure(&moto, &server, layer_kib * 1024).await? {
            rows.push((operation, kind.name(), counts));
        }
    }
    Ok(table(&rows, layer_kib))
}

/// The object-store requests one `GET <path>?<query>` (a listing page, answered 200) makes.
async fn counted_page(
    moto: &RecordedMoto,
    api: &Api,
    what: &'static str,
    path: &str,
    query: &str,
) -> Result<Counts, BenchError> {
    let start = moto.mark().await?;
    let mut url = api.url(path);
    url.set_query(Some(query));
    send(what, api.http().get(url.clone()), &url, StatusCode::OK).await?;
    let end = moto.mark().await?;
    Ok(Counts::of(&moto.requests_between(start, end)?))
}

async fn measure(
    moto: &RecordedMoto,
    server: &Server,
    layer_len: usize,
) -> Result<Vec<(&'static str, Counts)>, BenchError> {
    let api = Api::new(server.url())?;
    let repo = "s3/image";
    let layers: Vec<Bytes> = (0..LAYERS).map(|i| layer(i, layer_len)).collect();
    let descriptors: Vec<(Digest, usize)> = layers
        .iter()
        .map(|l| (Digest::compute(l), l.len()))
        .collect();
    let image = manifest(&descriptors, 0);
    let mut counted = Vec::new();

    let start = moto.mark().await?;
    for blob in layers.iter().chain([&config()]) {
        let location = api.start_upload(repo).await?;
        let location = api
            .patch_streamed(&location, blob.clone().into(), blob.len() as u64)
            .await?;
        api.finish_upload(&location, &Digest::compute(blob), Bytes::new())
            .await?;
    }
    api.put_manifest(repo, "v1", MANIFEST_TYPE, image.clone())
        .await?;
    let end = moto.mark().await?;
    counted.push((
        "push an image of 20 layers",
        Counts::of(&moto.requests_between(start, end)?),
    ));

    let start = moto.mark().await?;
    let url = api.url(&format!("{repo}/manifests/v1"));
    fetch(
        "pulling a manifest",
        api.http().get(url.clone()).header("Accept", MANIFEST_TYPE),
        &url,
        StatusCode::OK,
    )
    .await?;
    for digest in descriptors
        .iter()
        .map(|(d, _)| d.clone())
        .chain([Digest::compute(&config())])
    {
        let url = api.url(&format!("{repo}/blobs/{digest}"));
        let body = fetch(
            "pulling a blob",
            api.http().get(url.clone()),
            &url,
            StatusCode::OK,
        )
        .await?;
        if Digest::compute(&body) != digest {
            return Err(BenchError::BadAnswer {
                url: url.to_string(),
                reason: "pulled blob differs".into(),
            });
        }
    }
    let end = moto.mark().await?;
    counted.push(("pull it", Counts::of(&moto.requests_between(start, end)?)));

    for i in 0..LISTED {
        api.put_manifest(repo, &format!("t{i:04}"), MANIFEST_TYPE, image.clone())
            .await?;
    }
    let tags = &format!("{repo}/tags/list");
    let page = counted_page(moto, &api, "a page of tags", tags, "n=100&last=t0010").await?;
    counted.push(("one page of 100 tags", page));

    let config_digest = Digest::compute(&config());
    for i in 0..LISTED {
        let other = format!("s3/r{i:04}");
        mount(&api, &other, &config_digest, repo).await?;
        mount(&api, &other, &descriptors[0].0, repo).await?;
        let small = manifest(&descriptors[..1], i + 1);
        api.put_manifest(&other, "latest", MANIFEST_TYPE, small)
            .await?;
    }
    let page = counted_page(
        moto,
        &api,
        "a page of the catalog",
        "_catalog",
        "n=100&last=s3/r0010",
    )
    .await?;
    counted.push(("one page of 100 repositories", page));

    let start = moto.mark().await?;
    server.collect_garbage()?;
    let end = moto.mark().await?;
    counted.push((
        "GC sweep (nothing to remove)",
        Counts::of(&moto.requests_between(start, end)?),
    ));
    Ok(counted)
}

fn table(rows: &[(&str, &str, Counts)], layer_kib: usize) -> String {
    let mut out = format!(
        "## S3 requests per operation (moto)\n\n\
         Object-store requests counted from moto's request log, by kind; the image has \
         {LAYERS} layers of {layer_kib} KiB and a config; the catalog and tag pages list 100 \
         of {LISTED}. Cost per million operations at public S3 request prices: PUT, COPY, \
         POST, LIST and multipart steps ${PRICE_WRITE} per 1,000; GET, HEAD and others \
         (DELETE here) ${PRICE_READ} per 1,000.\n\n| operation | server |"
    );
    for kind in KINDS {
        out.push_str(&format!(" {kind} |"));
    }
    out.push_str(" total | $ per million |\n|---|---|");
    out.push_str(&"---:|".repeat(KINDS.len() + 2));
    out.push('\n');
    for (operation, server, counts) in rows {
        out.push_str(&format!("| {operation} | {server} |"));
        for kind in KINDS {
            out.push_str(&format!(" {} |", counts.0.get(kind).copied().unwrap_or(0)));
        }
        out.push_str(&format!(
            " {} | {:.0} |\n",
            counts.total(),
            counts.cost_per_million()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_sorted_into_kinds() {
        for (request, kind) in [
            ("PUT /b/k", "PUT"),
            ("PUT /b/k?partNumber=1&uploadId=x", "multipart"),
            ("POST /b/k?uploads", "multipart"),
            ("POST /b/k?uploadId=x", "multipart"),
            ("POST /b?delete=", "POST"),
            ("GET /b?list-type=2&prefix=p", "LIST"),
            ("GET /b?prefix=p&uploads=", "LIST"),
            ("GET /b/k?uploadId=x", "LIST"),
            ("GET /b/k", "GET"),
            ("HEAD /b/k", "HEAD"),
            ("DELETE /b/k", "DELETE"),
        ] {
            assert_eq!(kind_of(request), kind, "{request}");
        }
    }

    #[test]
    fn costs_follow_the_prices() {
        let counts = Counts::of(&["PUT /b/k".to_string(), "GET /b/k".to_string()]);
        assert_eq!(counts.total(), 2);
        // One PUT ($5 per million) and one GET ($0.40 per million), per million operations.
        assert!((counts.cost_per_million() - 5.4).abs() < 1e-9);
    }
}
