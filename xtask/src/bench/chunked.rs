//! A chunked upload: 100 MiB in 5 MiB PATCHes with `Content-Range`, closed by a PUT.
//!
//! Each chunk's bytes are generated as they are sent and hashed on the way, so the digest for the
//! closing PUT is ready when the last chunk is.

use std::time::Instant;

use super::api::Api;
use super::error::BenchError;
use super::generator::{Pattern, SharedDigester, hashing_body};
use super::metric::{Measurement, Metric, mib_per_second};
use super::peers::RunningPeer;

/// Size of the uploaded blob.
pub const TOTAL: u64 = 100 * 1024 * 1024;
/// Size of every PATCH but possibly the last.
pub const CHUNK: u64 = 5 * 1024 * 1024;

const REPOSITORY: &str = "bench/chunked";

/// Uploads the blob made from `seed` in chunks; measures throughput and the server's peak RSS.
pub async fn run(peer: &RunningPeer, seed: u64) -> Result<Vec<Measurement>, BenchError> {
    let api = Api::new(peer.url())?;
    let pattern = Pattern::new(seed);
    peer.reset_peak_rss()?;
    let started = Instant::now();
    let mut location = api.start_upload(REPOSITORY).await?;
    let digester = SharedDigester::sha256();
    for range in chunk_ranges(TOTAL, CHUNK) {
        let body = hashing_body(pattern.chunks(range.clone()), digester.clone());
        location = api.patch_chunk(&location, body, range).await?;
    }
    api.finish_upload(&location, &digester.digest(), bytes::Bytes::new())
        .await?;
    let rate = mib_per_second(TOTAL, started.elapsed());
    let rss = peer.peak_rss_mib()?;

    let name = format!(
        "chunked upload, {} MiB in {} MiB chunks",
        TOTAL / (1024 * 1024),
        CHUNK / (1024 * 1024)
    );
    Ok(vec![
        Measurement {
            metric: Metric::throughput(name.clone()),
            value: rate,
        },
        Measurement {
            metric: Metric::peak_rss(&name),
            value: rss,
        },
    ])
}

/// The byte ranges of consecutive chunks of at most `chunk` bytes covering `0..total`.
fn chunk_ranges(total: u64, chunk: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..total)
        .step_by(chunk.max(1) as usize)
        .map(move |start| start..(start + chunk).min(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_blob_exactly() {
        let ranges: Vec<_> = chunk_ranges(12, 5).collect();
        assert_eq!(ranges, [0..5, 5..10, 10..12]);
        assert_eq!(chunk_ranges(TOTAL, CHUNK).count(), 20);
        assert_eq!(chunk_ranges(0, 5).count(), 0);
    }
}
