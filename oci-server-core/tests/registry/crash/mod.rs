//! Crash consistency of the `oci-registry` binary: SIGKILL at chosen points of blob uploads
//! and manifest pushes, restart on the same store, then check that everything acknowledged
//! survived, nothing partial became visible, every tag names a complete manifest, and an
//! interrupted upload either resumes or is cleanly unknown.
//!
//! The kill points come from a seeded generator (the seed is printed; set `OCI_CRASH_SEED` to
//! replay a run). Requests go over raw connections so that a kill can land after a chosen byte
//! of a body; how far the registry got with a request when the kill came is up to the
//! scheduler, which is the point.

mod audit;
mod plan;
mod push;
mod settle;
mod wire;

use std::collections::BTreeMap;

use oci_digest::Digest;

use self::{
    audit::{audit, check_files},
    plan::{Kill, Op, Rng},
    push::run,
    settle::settle,
    wire::Server,
};

const SEED_VAR: &str = "OCI_CRASH_SEED";
const CYCLES: usize = 10;
const OPS_PER_CYCLE: usize = 10;

/// What the acknowledged requests made durable: blobs and manifests by repository, tags.
#[derive(Default)]
struct Model {
    blobs: Vec<(&'static str, Digest)>,
    manifests: Vec<(&'static str, Digest)>,
    tags: BTreeMap<(&'static str, String), Digest>,
}

#[tokio::test]
async fn sigkill_during_pushes_loses_nothing_acknowledged_and_exposes_nothing_partial() {
    let seed = std::env::var(SEED_VAR).map_or_else(
        |_| rand::random(),
        |s| s.parse().expect("OCI_CRASH_SEED is a u64"),
    );
    // Shown when the test fails.
    println!("crash test seed {seed}: rerun with {SEED_VAR}={seed}");
    let mut rng = Rng::new(seed);
    let root = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    let mut pending = None;
    for cycle in 0..=CYCLES {
        let mut server = Server::start(root.path());
        // First the files as the kill left them (and the start swept), then the request the
        // kill cut, then everything else.
        check_files(root.path());
        if let Some(pending) = pending.take() {
            settle(&server, &mut model, pending).await;
        }
        audit(&server, &model).await;
        if cycle == CYCLES {
            break;
        }
        for _ in 1..OPS_PER_CYCLE {
            let op = Op::random(&mut rng);
            if run(&mut server, &mut model, &op).await.is_err() {
                panic!("{} was cut without a planned kill", op.describe());
            }
        }
        let op = Op::random(&mut rng);
        let kill = Kill::random(&mut rng, &op);
        println!("cycle {cycle}: {kill:?} of {}", op.describe());
        server.plan(kill);
        match run(&mut server, &mut model, &op).await {
            Ok(()) => panic!("the planned kill never came"),
            Err(cut) => pending = Some(cut),
        }
    }
}
