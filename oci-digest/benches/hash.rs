//! SHA-256 throughput: our `Digester` against ring, both hashing 1 GiB in 1 MiB chunks.
//!
//! `cargo bench -p oci-digest --bench hash`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use oci_digest::Digester;

const CHUNK: usize = 1 << 20;
const CHUNKS_PER_GIB: usize = 1024;

/// One 1 MiB chunk of varied bytes, hashed 1024 times: the content is never held whole.
fn chunk() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..CHUNK)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn sha256_one_gib(c: &mut Criterion) {
    let chunk = chunk();
    let mut group = c.benchmark_group("sha256_1GiB_in_1MiB_chunks");
    group
        .throughput(Throughput::Bytes((CHUNK * CHUNKS_PER_GIB) as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));

    group.bench_function("oci_digest", |b| {
        b.iter(|| {
            let mut digester = Digester::sha256();
            for _ in 0..CHUNKS_PER_GIB {
                digester.update(black_box(&chunk));
            }
            black_box(digester.finish())
        })
    });
    group.bench_function("ring", |b| {
        b.iter(|| {
            let mut context = ring::digest::Context::new(&ring::digest::SHA256);
            for _ in 0..CHUNKS_PER_GIB {
                context.update(black_box(&chunk));
            }
            black_box(context.finish())
        })
    });
    group.finish();
}

criterion_group!(benches, sha256_one_gib);
criterion_main!(benches);
