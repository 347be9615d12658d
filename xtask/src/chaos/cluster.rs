//! The instances of a history on one store: a temporary folder, or a bucket on a moto server
//! started for the history. Instances can be killed (`SIGKILL`) and restarted on the same
//! store; clients find each one's current address in a shared table.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::collector::Collector;
use super::history::{Recorder, Span};
use super::stop::Stop;
use crate::conformance::moto::{self, Moto};
use crate::conformance::server::{Backend, launch};
use crate::error::XtaskError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The environment variable of the server's liveness refresh interval (older servers ignore
/// it).
const LIVENESS_REFRESH: &str = "OCI_REGISTRY_LIVENESS_REFRESH";

/// Running instances on one store.
#[derive(Debug)]
pub struct Cluster {
    executable: PathBuf,
    location: String,
    env: Vec<(String, String)>,
    log: PathBuf,
    children: Vec<Child>,
    urls: Arc<RwLock<Vec<String>>>,
    // Declared after `children`, and the processes are killed in `drop` first anyway.
    _store: tempfile::TempDir,
    _moto: Option<Moto>,
}

impl Cluster {
    /// Starts `instances` of `executable` on a new store of `backend`, with the liveness
    /// refresh interval `refresh` (as the server writes durations, such as `0s`); standard
    /// error goes to `log`.
    pub fn start(
        executable: &Path,
        backend: Backend,
        instances: usize,
        refresh: &str,
        log: &Path,
    ) -> Result<Cluster, XtaskError> {
        let store = tempfile::Builder::new()
            .prefix("oci-chaos-store-")
            .tempdir()?;
        let mut env = vec![(LIVENESS_REFRESH.to_string(), refresh.to_string())];
        let (location, moto) = match backend {
            Backend::Filesystem => (store.path().display().to_string(), None),
            Backend::S3 => {
                let moto = moto::start()?;
                env.extend(moto.env());
                (format!("s3://{}/chaos", Moto::BUCKET), Some(moto))
            }
        };
        let mut cluster = Cluster {
            executable: executable.to_path_buf(),
            location,
            env,
            log: log.to_path_buf(),
            children: Vec::new(),
            urls: Arc::new(RwLock::new(Vec::new())),
            _store: store,
            _moto: moto,
        };
        for _ in 0..instances.max(1) {
            let (child, url) = launch(cluster.serve_command(), &cluster.log)?;
            cluster.children.push(child);
            cluster.set_url(None, url);
        }
        Ok(cluster)
    }

    /// The table of the instances' current base URLs.
    pub fn urls(&self) -> Arc<RwLock<Vec<String>>> {
        Arc::clone(&self.urls)
    }

    /// The collector of this store, with grace `grace` (as the server writes durations).
    pub fn collector(&self, grace: &str) -> Collector {
        Collector {
            executable: self.executable.clone(),
            args: ["gc", "--storage", &self.location, "--grace", grace]
                .map(String::from)
                .to_vec(),
            env: self.env.clone(),
            log: self.log.clone(),
        }
    }

    /// Kills instance `index` with `SIGKILL`.
    pub fn kill(&mut self, index: usize) {
        if let Some(child) = self.children.get_mut(index) {
            // Errors mean the process is already gone, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts instance `index` again on the same store (on a new port).
    pub fn restart(&mut self, index: usize) -> Result<(), XtaskError> {
        let (child, url) = launch(self.serve_command(), &self.log)?;
        if let Some(slot) = self.children.get_mut(index) {
            *slot = child;
        }
        self.set_url(Some(index), url);
        Ok(())
    }

    /// Kills a random instance at random moments (every two to five seconds, so that some
    /// slow uploads outlive a kill), keeps it down for up to half a second, restarts it and
    /// records when it was down; until `stop`.
    pub fn kill_in_loop(
        &mut self,
        seed: u64,
        recorder: &Recorder,
        stop: &Stop,
    ) -> Result<usize, XtaskError> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6b69_6c6c);
        let mut kills = 0;
        loop {
            let wait = Duration::from_millis(rng.random_range(2000..5000));
            if stop.sleep(wait) {
                return Ok(kills);
            }
            let index = rng.random_range(0..self.children.len());
            let start = recorder.now();
            self.kill(index);
            kills += 1;
            let down = Duration::from_millis(rng.random_range(0..500));
            let stopping = stop.sleep(down);
            let restarted = self.restart(index);
            recorder.down(Span {
                start,
                end: recorder.now(),
            });
            restarted?;
            if stopping {
                return Ok(kills);
            }
        }
    }

    fn serve_command(&self) -> Command {
        let mut command = Command::new(&self.executable);
        command
            .args(["--listen", "127.0.0.1:0", "--delete"])
            .args(["--storage", &self.location])
            .envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    fn set_url(&self, index: Option<usize>, url: String) {
        let mut urls = self.urls.write().unwrap_or_else(PoisonError::into_inner);
        match index.and_then(|index| urls.get_mut(index)) {
            Some(slot) => *slot = url,
            None => urls.push(url),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for index in 0..self.children.len() {
            self.kill(index);
        }
    }
}
