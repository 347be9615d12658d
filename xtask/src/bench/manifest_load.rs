//! Manifest GETs by tag under concurrency: requests per second, and the server's peak RSS.
//!
//! A small image (config, one layer, manifest tagged `latest`) is pushed first. Then
//! [`CONCURRENCY`] tokio tasks share a budget of [`REQUESTS`] GETs of the manifest by tag, each
//! reading the whole answer, over pooled keep-alive connections. A short untimed warm-up opens
//! the connections first, so the timed part measures serving, not TCP handshakes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use reqwest::header::ACCEPT;
use reqwest::{Client, StatusCode, Url};

use super::api::{Api, fetch};
use super::error::BenchError;
use super::metric::{Measurement, Metric, Target, Unit};
use super::peers::RunningPeer;

/// Tasks issuing requests at the same time.
pub const CONCURRENCY: usize = 32;
/// Timed requests per run.
pub const REQUESTS: usize = 20_000;
/// Untimed requests that open the connections first.
const WARM_UP_REQUESTS: usize = CONCURRENCY * 10;

const REPOSITORY: &str = "bench/manifest";
const TAG: &str = "latest";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const ACCEPTED: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// Pushes the image, then measures GETs of its manifest by tag.
pub async fn run(peer: &RunningPeer) -> Result<Vec<Measurement>, BenchError> {
    let api = Api::new(peer.url())?;
    push_image(&api).await?;
    let url = api.url(&format!("{REPOSITORY}/manifests/{TAG}"));
    hammer(api.http(), &url, WARM_UP_REQUESTS).await?;

    peer.reset_peak_rss()?;
    let started = Instant::now();
    hammer(api.http(), &url, REQUESTS).await?;
    let rate = REQUESTS as f64 / started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    let rss = peer.peak_rss_mib()?;

    let name = format!("manifest GET by tag, {CONCURRENCY} concurrent");
    Ok(vec![
        Measurement {
            metric: Metric {
                name: name.clone(),
                unit: Unit::RequestsPerSecond,
                target: Target::TimesPeer(3.0),
            },
            value: rate,
        },
        Measurement {
            metric: Metric::peak_rss(&name),
            value: rss,
        },
    ])
}

/// A config, one small layer, and an OCI image manifest for them tagged [`TAG`].
async fn push_image(api: &Api) -> Result<(), BenchError> {
    let config = Bytes::from_static(
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let layer = Bytes::from_static(b"a layer nobody unpacks: the benchmark only reads manifests");
    let (config_size, layer_size) = (config.len(), layer.len());
    let config_digest = api.push_small_blob(REPOSITORY, config).await?;
    let layer_digest = api.push_small_blob(REPOSITORY, layer).await?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.as_str(),
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest.as_str(),
            "size": layer_size,
        }],
    });
    let content = Bytes::from(manifest.to_string());
    api.put_manifest(REPOSITORY, TAG, OCI_MANIFEST, content)
        .await
}

/// Issues `requests` GETs of `url` from [`CONCURRENCY`] tasks; fails on the first bad answer.
async fn hammer(http: &Client, url: &Url, requests: usize) -> Result<(), BenchError> {
    let issued = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| tokio::spawn(worker(http.clone(), url.clone(), issued.clone(), requests)))
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

/// Takes requests from the shared budget until it is spent.
async fn worker(
    http: Client,
    url: Url,
    issued: Arc<AtomicUsize>,
    requests: usize,
) -> Result<(), BenchError> {
    const STEP: &str = "getting the manifest";
    while issued.fetch_add(1, Ordering::Relaxed) < requests {
        let request = http.get(url.clone()).header(ACCEPT, ACCEPTED);
        fetch(STEP, request, &url, StatusCode::OK).await?;
    }
    Ok(())
}
