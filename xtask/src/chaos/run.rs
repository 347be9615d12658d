//! One history: start the instances, run the clients with the collector looping (and the
//! killer, with `--kill`), read back what the history says must be there, and judge.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::collector::Collections;
use super::content::Pool;
use super::expect::Expectations;
use super::history::{History, Recorder};
use super::model::runtime_violations;
use super::net::Net;
use super::observe::observe;
use super::stop::Stop;
use super::uploads::slow_patch_duration;
use super::violation::{Kind, Violation};
use super::workload::{Settings, Worker};
use crate::conformance::server::Backend;
use crate::error::XtaskError;

/// No client starts an operation later than this into a history, whatever `--ops` asks.
const MAX_HISTORY: Duration = Duration::from_secs(300);

/// Everything that decides a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The seed of every random choice.
    pub seed: u64,
    /// Operations, shared out among the clients.
    pub ops: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// The store.
    pub backend: Backend,
    /// Instances on that store.
    pub instances: usize,
    /// Whether instances are killed and restarted at random moments.
    pub kill: bool,
    /// The collector's grace period, in whole seconds.
    pub grace: Duration,
    /// The server's liveness refresh interval, in whole seconds.
    pub refresh: Duration,
    /// The `oci-registry` binary.
    pub executable: PathBuf,
    /// Where the history's log goes.
    pub log_dir: PathBuf,
}

impl Plan {
    /// How long an acknowledgement must hold for unreferenced content: the grace period less
    /// the refresh interval and the store's timestamp resolution (object stores report
    /// modification times to the second).
    pub fn window(&self) -> Duration {
        let resolution = match self.backend {
            Backend::Filesystem => Duration::from_millis(100),
            Backend::S3 => Duration::from_millis(1100),
        };
        self.grace.saturating_sub(self.refresh + resolution)
    }
}

/// A judged history.
#[derive(Debug)]
pub struct Verdict {
    /// What was run.
    pub plan: Plan,
    /// What happened.
    pub history: History,
    /// Operations the clients ran.
    pub ops: usize,
    /// What went wrong.
    pub violations: Vec<Violation>,
    /// The collections that ran meanwhile.
    pub collections: Collections,
    /// How many times an instance was killed.
    pub kills: usize,
    /// The servers' and the collector's log.
    pub log: PathBuf,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs the history `plan` describes.
pub fn run(plan: &Plan) -> Result<Verdict, XtaskError> {
    let began = Instant::now();
    let log = plan.log_dir.join(format!(
        "seed-{}-ops-{}-clients-{}.log",
        plan.seed, plan.ops, plan.clients
    ));
    File::create(&log)?;
    let seconds = |duration: Duration| format!("{}s", duration.as_secs());
    let mut cluster = Cluster::start(
        &plan.executable,
        plan.backend,
        plan.instances,
        &seconds(plan.refresh),
        &log,
    )?;
    let recorder = Arc::new(Recorder::new());
    let net = Net::new(cluster.urls(), Arc::clone(&recorder))?;
    let collector = cluster.collector(&seconds(plan.grace));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let stop = Stop::default();
    let (ops, collections, kills) = std::thread::scope(|scope| {
        let collecting = scope.spawn(|| collector.run_in_loop(&recorder, &stop));
        let killing = plan
            .kill
            .then(|| scope.spawn(|| cluster.kill_in_loop(plan.seed, &recorder, &stop)));
        let ops = runtime.block_on(run_clients(plan, &net));
        stop.stop();
        let collections = join(collecting)?;
        let kills = killing.map(join).transpose()?.unwrap_or(0);
        Ok::<_, XtaskError>((ops, collections, kills))
    })?;
    let history = recorder.history(plan.window());
    let expectations = Expectations::of(&history);
    let observed = runtime.block_on(observe(&net, &expectations));
    let mut violations = runtime_violations(&history);
    violations.extend(expectations.check(&observed));
    // Like a 5xx, a failed collection is excused while an instance was down (a server
    // starting up removes the temporary files a killed one left, under a running sweep).
    violations.extend(
        collections
            .failures
            .iter()
            .filter(|(span, _)| !history.disturbed(span))
            .map(|(_, failure)| Violation::new(Kind::GcFailed, failure.clone())),
    );
    drop(cluster);
    Ok(Verdict {
        plan: plan.clone(),
        history,
        ops,
        violations,
        collections,
        kills,
        log,
        elapsed: began.elapsed(),
    })
}

/// Runs the clients concurrently; returns how many operations they ran.
async fn run_clients(plan: &Plan, net: &Net) -> usize {
    let pool = Arc::new(Pool::generate(plan.seed));
    let settings = Arc::new(Settings {
        clients: plan.clients,
        max_think: plan.window() / 2,
        slow_patch: slow_patch_duration(plan.grace),
        deadline: Instant::now() + MAX_HISTORY,
    });
    let clients = plan.clients.max(1);
    let tasks: Vec<_> = (0..clients)
        .map(|id| {
            let share = plan.ops / clients + usize::from(id < plan.ops % clients);
            let worker = Worker::new(
                id,
                plan.seed,
                net.clone(),
                Arc::clone(&pool),
                Arc::clone(&settings),
            );
            tokio::spawn(worker.run(share))
        })
        .collect();
    let mut ops = 0;
    for task in tasks {
        match task.await {
            Ok(ran) => ops += ran,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    ops
}

/// Joins a helper thread, passing its panic on.
fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
