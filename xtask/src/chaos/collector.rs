//! Garbage collection in a loop while the clients work: `oci-registry gc` runs back to back on
//! the history's store with a short grace period, each run logged with its time and what it
//! removed, so a loss can be traced to the sweep that caused it.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::history::{Recorder, Span};
use super::stop::Stop;
use crate::error::XtaskError;

/// How to run one collection on the history's store.
#[derive(Debug, Clone)]
pub struct Collector {
    /// The `oci-registry` binary.
    pub executable: PathBuf,
    /// `gc --storage ... --grace ...`.
    pub args: Vec<String>,
    /// The store's environment (object storage settings).
    pub env: Vec<(String, String)>,
    /// The history's log.
    pub log: PathBuf,
}

/// What the collections of a history did.
#[derive(Debug, Clone, Default)]
pub struct Collections {
    /// How many ran.
    pub runs: usize,
    /// When each failed one ran, and how it ended.
    pub failures: Vec<(Span, String)>,
}

impl Collector {
    /// Collects again and again until `stop`; each run's output goes to the log.
    pub fn run_in_loop(&self, recorder: &Recorder, stop: &Stop) -> Result<Collections, XtaskError> {
        let mut log = File::options().create(true).append(true).open(&self.log)?;
        let mut collections = Collections::default();
        while !stop.is_stopped() {
            let start = recorder.now();
            let output = Command::new(&self.executable)
                .args(&self.args)
                .envs(self.env.iter().map(|(name, value)| (name, value)))
                // Standard output lists what was removed; the logs would repeat it.
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .output()
                .map_err(|source| XtaskError::Spawn {
                    command: format!("{} {}", self.executable.display(), self.args.join(" ")),
                    source,
                })?;
            let end = recorder.now();
            let when = format!("{:.3}s-{:.3}s", start.as_secs_f64(), end.as_secs_f64());
            writeln!(log, "gc {when} {}", output.status)?;
            log.write_all(&output.stdout)?;
            log.write_all(&output.stderr)?;
            collections.runs += 1;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let last = stderr.lines().last().unwrap_or_default();
                let failure = format!("gc {when} {}: {last}", output.status);
                collections.failures.push((Span { start, end }, failure));
            }
        }
        Ok(collections)
    }
}
