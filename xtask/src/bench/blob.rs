//! Pushing and pulling one large blob: throughput, and the server's CPU seconds per GiB and peak
//! RSS in each phase.
//!
//! The push is the usual client sequence (POST, one streamed PATCH, PUT with the digest), its
//! bytes generated and hashed as they leave. The blob is then pulled twice: once by a client
//! that has the kernel discard the body uncopied ([`drain`]), which measures the server, and once
//! verifying size and digest on the fly. On two shared cores the client's SHA-256 alone (about 1.4 GiB/s)
//! caps the second pull below what either server can send, so its row shows the rate a
//! verifying client sees and is held to no goal. Last come counting pulls with both ends pinned
//! to one CPU and to two ([`placement`](super::placement)). Neither side ever holds the blob in
//! memory.

use std::time::Instant;

use futures_util::StreamExt;
use oci_digest::{Digest, VerifyStreamError, VerifyingStream};
use reqwest::{StatusCode, Url};

use super::api::{Api, send};
use super::cpu::seconds_per_gib;
use super::drain;
use super::error::BenchError;
use super::generator::{Pattern, SharedDigester, hashing_body};
use super::metric::{Measurement, Metric, Target, mib_per_second};
use super::peers::RunningPeer;
use super::placement::{Pinned, Placement};

const REPOSITORY: &str = "bench/blob";
/// The push CPU goal: one SHA-256 pass (about 0.7 s per GiB here) and little else.
const PUSH_CPU_TARGET: Target = Target::AtMostCpuSeconds(1.2);

/// Pushes then pulls a blob of `size` bytes made from `seed`; measures both directions.
pub async fn run(peer: &RunningPeer, size: u64, seed: u64) -> Result<Vec<Measurement>, BenchError> {
    let api = Api::new(peer.url())?;
    let mib = size / (1024 * 1024);

    peer.reset_peak_rss()?;
    let cpu_before = peer.cpu_seconds()?;
    let started = Instant::now();
    let digest = push(&api, &Pattern::new(seed), size).await?;
    let push_rate = mib_per_second(size, started.elapsed());
    let push_cpu = seconds_per_gib(peer.cpu_seconds()? - cpu_before, size);
    let push_rss = peer.peak_rss_mib()?;

    peer.reset_peak_rss()?;
    let cpu_before = peer.cpu_seconds()?;
    let started = Instant::now();
    pull_counting(&api, &digest, size).await?;
    let pull_rate = mib_per_second(size, started.elapsed());
    let pull_cpu = seconds_per_gib(peer.cpu_seconds()? - cpu_before, size);
    let started = Instant::now();
    pull_verifying(&api, &digest, size).await?;
    let verified_pull_rate = mib_per_second(size, started.elapsed());
    let pull_rss = peer.peak_rss_mib()?;
    // Last: the server stays pinned afterwards, and is stopped after this benchmark.
    let mut pinned = Vec::new();
    for placement in Placement::available()? {
        pinned.extend(pull_pinned(peer, &api, &digest, size, placement).await?);
    }

    let push_name = format!("blob push, {mib} MiB");
    let pull_name = format!("blob pull, {mib} MiB");
    let verified_pull_name = format!("blob pull, {mib} MiB, client verifies the digest");
    Ok([
        Measurement {
            metric: Metric::throughput(push_name.clone()),
            value: push_rate,
        },
        Measurement {
            metric: Metric::cpu_per_gib(&push_name, PUSH_CPU_TARGET),
            value: push_cpu,
        },
        Measurement {
            metric: Metric::peak_rss(&push_name),
            value: push_rss,
        },
        Measurement {
            metric: Metric::throughput(pull_name.clone()),
            value: pull_rate,
        },
        Measurement {
            // Compared with olareg's column rather than held to a number.
            metric: Metric::cpu_per_gib(&pull_name, Target::Informational),
            value: pull_cpu,
        },
        Measurement {
            metric: Metric::throughput_for_information(verified_pull_name),
            value: verified_pull_rate,
        },
        Measurement {
            metric: Metric::peak_rss(&pull_name),
            value: pull_rss,
        },
    ]
    .into_iter()
    .chain(pinned)
    .collect())
}

/// A counting pull with server and client pinned as `pinned` says: its rate and the CPU of
/// both ends per GiB, shown for information (see [`placement`](super::placement)).
async fn pull_pinned(
    peer: &RunningPeer,
    api: &Api,
    digest: &Digest,
    size: u64,
    pinned: Pinned,
) -> Result<Vec<Measurement>, BenchError> {
    peer.pin_to(pinned.server_cpu)?;
    let url = blob_url(api, digest);
    let cpu_before = peer.cpu_seconds()?;
    let started = Instant::now();
    let drained = drain::count_body_on(&url, Some(pinned.client_cpu)).await?;
    let rate = mib_per_second(size, started.elapsed());
    let server = peer.cpu_seconds()? - cpu_before;
    all_arrived(&url, size, drained.bytes)?;
    let name = format!(
        "blob pull, {} MiB, {}",
        size / (1024 * 1024),
        pinned.placement.label()
    );
    Ok(vec![
        Measurement {
            metric: Metric::throughput_for_information(name.clone()),
            value: rate,
        },
        Measurement {
            metric: Metric::total_cpu_per_gib(&name),
            value: seconds_per_gib(server + drained.client_cpu, size),
        },
    ])
}

/// POST, one streamed PATCH of the whole blob, PUT with the digest computed on the way.
async fn push(api: &Api, pattern: &Pattern, size: u64) -> Result<Digest, BenchError> {
    let location = api.start_upload(REPOSITORY).await?;
    let digester = SharedDigester::sha256();
    let body = hashing_body(pattern.chunks(0..size), digester.clone());
    let location = api.patch_streamed(&location, body, size).await?;
    let digest = digester.digest();
    api.finish_upload(&location, &digest, bytes::Bytes::new())
        .await?;
    Ok(digest)
}

const PULL_STEP: &str = "pulling the blob";

/// GET the blob, counting the bytes as they stream past; fails unless exactly `size` arrive.
async fn pull_counting(api: &Api, digest: &Digest, size: u64) -> Result<(), BenchError> {
    let url = blob_url(api, digest);
    let received = drain::count_body(&url).await?;
    all_arrived(&url, size, received)
}

/// Fails unless the `received` bytes of `url` are all `size`.
fn all_arrived(url: &Url, size: u64, received: u64) -> Result<(), BenchError> {
    match received == size {
        true => Ok(()),
        false => Err(BenchError::ShortPull {
            url: url.to_string(),
            expected: size,
            received,
        }),
    }
}

/// GET the blob, checking size and digest while the bytes stream past.
async fn pull_verifying(api: &Api, digest: &Digest, size: u64) -> Result<(), BenchError> {
    let url = blob_url(api, digest);
    let response = send(PULL_STEP, api.http().get(url.clone()), &url, StatusCode::OK).await?;
    let stream = VerifyingStream::new(response.bytes_stream(), digest.clone(), Some(size))
        .map_err(BenchError::Verify)?;
    futures_util::pin_mut!(stream);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(_) => {}
            Err(VerifyStreamError::Verify(error)) => return Err(BenchError::Verify(error)),
            Err(VerifyStreamError::Inner(source)) => {
                return Err(BenchError::Http {
                    step: PULL_STEP,
                    url: url.to_string(),
                    source,
                });
            }
        }
    }
    Ok(())
}

fn blob_url(api: &Api, digest: &Digest) -> Url {
    api.url(&format!("{REPOSITORY}/blobs/{digest}"))
}
