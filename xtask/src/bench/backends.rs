//! Servers on either store kind, for the scale and S3-request benchmarks: `oci-registry` and
//! Debian's distribution, each on a filesystem folder or under its own prefix of a moto bucket,
//! with deletes enabled, and each one's offline garbage collector on the same store.
//!
//! Both are started on a free port and polled with `GET /v2/` in a bounded loop (the same way
//! for both, so neither's start-up output matters). Distribution is started without
//! `AWS_CA_BUNDLE`, which its AWS SDK cannot load here.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_test_support::peers::Moto;

use super::error::BenchError;
use super::moto::RecordedMoto;
use super::peers::{DISTRIBUTION_BIN, PeerKind};
use crate::error::XtaskError;

const READY_POLL: Duration = Duration::from_millis(50);
const READY_ATTEMPTS: u32 = 400;

/// Where a server keeps its content.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// A new folder inside this one.
    Fs(&'a Path),
    /// A prefix of moto's bucket.
    S3(&'a RecordedMoto),
}

impl Backend<'_> {
    /// Its name in tables.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Fs(_) => "filesystem",
            Backend::S3(_) => "S3 (moto)",
        }
    }
}

/// A running server, its store and the command that collects its garbage; dropping it stops
/// the server, then removes a filesystem store.
#[derive(Debug)]
pub struct Server {
    kind: PeerKind,
    child: Child,
    url: String,
    gc: (PathBuf, Vec<String>, Vec<(String, String)>),
    _store: tempfile::TempDir,
}

impl Server {
    /// Starts a `kind` server on `backend`; `prefix` names its part of an S3 bucket.
    pub async fn start(
        kind: PeerKind,
        ours: &Path,
        backend: Backend<'_>,
        prefix: &str,
    ) -> Result<Server, BenchError> {
        let store = tempfile::Builder::new()
            .prefix("oci-bench-scale-")
            .tempdir_in(match backend {
                Backend::Fs(parent) => parent.to_path_buf(),
                Backend::S3(_) => std::env::temp_dir(),
            })?;
        let port = oci_test_support::free_port();
        let log = store.path().join("server.log");
        let (program, serve, gc, env) = match kind {
            PeerKind::Ours => {
                let (location, env) = match backend {
                    Backend::Fs(_) => (store.path().join("root").display().to_string(), vec![]),
                    Backend::S3(moto) => (format!("s3://{}/{prefix}", Moto::BUCKET), moto.env()),
                };
                let serve = vec![
                    "--listen".to_string(),
                    format!("127.0.0.1:{port}"),
                    "--storage".to_string(),
                    location.clone(),
                    "--delete".to_string(),
                ];
                let gc = vec!["gc".to_string(), "--storage".to_string(), location];
                (ours.to_path_buf(), serve, gc, env)
            }
            PeerKind::Distribution => {
                let config = store.path().join("config.yml");
                std::fs::write(
                    &config,
                    distribution_config(backend, store.path(), prefix, port),
                )?;
                let config = config.display().to_string();
                let serve = vec!["serve".to_string(), config.clone()];
                let gc = vec!["garbage-collect".to_string(), config];
                (PathBuf::from(DISTRIBUTION_BIN), serve, gc, vec![])
            }
            PeerKind::Olareg => {
                return Err(XtaskError::Usage(
                    "the scale and S3 benchmarks compare oci-registry and docker-registry: \
                     olareg has neither an S3 store nor an offline collector"
                        .to_owned(),
                )
                .into());
            }
        };
        let mut command = Command::new(&program);
        command
            .args(&serve)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .env_remove("AWS_CA_BUNDLE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?);
        let child = command.spawn().map_err(|source| XtaskError::Spawn {
            command: program.display().to_string(),
            source,
        })?;
        let mut server = Server {
            kind,
            child,
            url: format!("http://127.0.0.1:{port}"),
            gc: (program, gc, env),
            _store: store,
        };
        server.wait_ready(log).await?;
        Ok(server)
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs the server's own garbage collector on its store (beside the running server, which
    /// stays idle meanwhile); returns how long it took.
    pub fn collect_garbage(&self) -> Result<Duration, BenchError> {
        let (program, args, env) = &self.gc;
        let started = Instant::now();
        let output = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("AWS_CA_BUNDLE")
            .stdin(Stdio::null())
            .output()?;
        let took = started.elapsed();
        if !output.status.success() {
            return Err(BenchError::BadAnswer {
                url: format!("{} {}", program.display(), args.join(" ")),
                reason: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(took)
    }

    async fn wait_ready(&mut self, log: PathBuf) -> Result<(), BenchError> {
        let probe = reqwest::Client::new();
        let base = format!("{}/v2/", self.url);
        for _ in 0..READY_ATTEMPTS {
            if let Some(status) = self.child.try_wait()? {
                return Err(BenchError::Exited {
                    peer: self.kind.name(),
                    status,
                    log,
                });
            }
            let answer = probe.get(&base).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(READY_POLL).await;
        }
        Err(BenchError::NotReady {
            peer: self.kind.name(),
            waited: READY_POLL * READY_ATTEMPTS,
            log,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Distribution's configuration for `backend`: quiet logs, deletes on, and on S3 the driver
/// pointed at moto over plain HTTP with v4 signatures (redirects off, so pulls go through it).
/// Its upload purger is off: it would otherwise wake within the first hour and walk every
/// repository's `_uploads` folder, on its own schedule, into whatever is being measured.
fn distribution_config(backend: Backend<'_>, dir: &Path, prefix: &str, port: u16) -> String {
    let storage = match backend {
        Backend::Fs(_) => format!(
            "  filesystem:\n    rootdirectory: {}\n",
            dir.join("root").display()
        ),
        Backend::S3(moto) => format!(
            "  s3:\n    accesskey: {}\n    secretkey: {}\n    region: us-east-1\n    \
             regionendpoint: {}\n    bucket: {}\n    secure: false\n    v4auth: true\n    \
             rootdirectory: /{prefix}\n  redirect:\n    disable: true\n",
            Moto::ACCESS_KEY,
            Moto::SECRET_KEY,
            moto.endpoint(),
            Moto::BUCKET
        ),
    };
    format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n{storage}  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_on_a_folder_deletes_and_binds_to_loopback() {
        let config = distribution_config(Backend::Fs(Path::new("/x")), Path::new("/s"), "p", 5123);
        assert!(config.contains("  filesystem:\n    rootdirectory: /s/root\n"));
        assert!(config.contains("  delete:\n    enabled: true\n"));
        assert!(config.contains("  maintenance:\n    uploadpurging:\n      enabled: false\n"));
        assert!(config.contains("addr: 127.0.0.1:5123\n"));
    }
}
