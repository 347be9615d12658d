//! The object-storage rows' `moto_server` (the test support's [`Moto`], one bucket on
//! a free port) with its request log read back.
//!
//! moto writes one access-log line per request (`"PUT /bucket/key?query HTTP/1.1" 200 -`) to
//! its standard error, which goes to a file here: [`RecordedMoto::requests_between`] reads the
//! lines written after a [`Mark`], so a benchmark counts the object-store requests of one
//! operation without a proxy in between.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use oci_test_support::peers::Moto;

use super::error::BenchError;
use crate::error::XtaskError;

/// How often, and how many times, a mark's log line is polled.
const POLL: Duration = Duration::from_millis(50);
const ATTEMPTS: u32 = 400;

/// A running moto server with its request log; dropping it stops the process.
#[derive(Debug)]
pub struct RecordedMoto {
    server: Moto,
    log: PathBuf,
    _dir: tempfile::TempDir,
    marks: std::sync::atomic::AtomicU64,
}

/// A place in moto's request log (see [`RecordedMoto::mark`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    line: usize,
}

impl RecordedMoto {
    /// Starts moto on a free port with its bucket, [`Moto::BUCKET`].
    pub async fn start() -> Result<RecordedMoto, BenchError> {
        let dir = tempfile::Builder::new()
            .prefix("oci-bench-moto-")
            .tempdir()?;
        let log = dir.path().join("moto.log");
        let written = File::create(&log)?;
        let server = tokio::task::spawn_blocking(move || Moto::start(Some(written)))
            .await?
            .map_err(|reason| XtaskError::Peer {
                peer: "moto_server".into(),
                reason,
            })?;
        Ok(RecordedMoto {
            server,
            log,
            _dir: dir,
            marks: Default::default(),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// The environment `oci-registry` reads its `s3://` store's settings from.
    pub fn env(&self) -> Vec<(String, String)> {
        self.server.env()
    }

    /// Marks the log's current end: sends moto a request of its own and waits until its line
    /// is written, so every request answered before the call is behind the mark.
    pub async fn mark(&self) -> Result<Mark, BenchError> {
        let n = self
            .marks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = format!("/{}/oci-bench-mark-{n}", Moto::BUCKET);
        let url = format!("{}{path}", self.endpoint());
        // A missing key answers 404, which is all the mark needs.
        reqwest::Client::new()
            .head(&url)
            .send()
            .await
            .map_err(|source| BenchError::Http {
                step: "marking moto's log",
                url: url.clone(),
                source,
            })?;
        let needle = format!("\"HEAD {path} ");
        for _ in 0..ATTEMPTS {
            let lines = self.lines()?;
            if let Some(at) = lines.iter().rposition(|line| line.contains(&needle)) {
                return Ok(Mark { line: at + 1 });
            }
            tokio::time::sleep(POLL).await;
        }
        Err(BenchError::NotReady {
            peer: "moto_server's request log",
            waited: POLL * ATTEMPTS,
            log: self.log.clone(),
        })
    }

    /// The requests moto logged between two marks (`"METHOD /path?query"`), the marks' own
    /// requests left out.
    pub fn requests_between(&self, from: Mark, to: Mark) -> Result<Vec<String>, BenchError> {
        let lines = self.lines()?;
        let end = to.line.saturating_sub(1).min(lines.len());
        Ok(lines
            .get(from.line..end)
            .unwrap_or_default()
            .iter()
            .filter(|line| !line.contains("oci-bench-mark-"))
            .filter_map(|line| request_of(line))
            .collect())
    }

    /// How many requests moto has answered `500 Internal Server Error` so far (its own
    /// failures, such as a listing that races a delete).
    pub fn internal_errors(&self) -> Result<u64, BenchError> {
        let lines = self.lines()?;
        Ok(lines
            .iter()
            .filter(|line| status_of(line) == Some(500))
            .count() as u64)
    }

    fn lines(&self) -> Result<Vec<String>, BenchError> {
        Ok(BufReader::new(File::open(&self.log)?)
            .lines()
            .collect::<Result<_, _>>()?)
    }
}

/// `METHOD /path?query` from an access-log line; `None` for moto's other output.
fn request_of(line: &str) -> Option<String> {
    let quoted = line.split('"').nth(1)?;
    let request = quoted.rsplit_once(' ')?.0;
    request.contains(" /").then(|| request.to_string())
}

/// The status code of an access-log line (the number after the quoted request).
fn status_of(line: &str) -> Option<u16> {
    line.split('"')
        .nth(2)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_from_access_log_lines() {
        assert_eq!(
            request_of(
                r#"127.0.0.1 - - [05/Dec/2026 04:35:55] "GET /b?list-type=2 HTTP/1.1" 200 -"#
            )
            .as_deref(),
            Some("GET /b?list-type=2")
        );
        assert_eq!(request_of(" * Running on http://127.0.0.1:5999"), None);
    }

    #[test]
    fn reads_statuses_from_access_log_lines() {
        let line = r#"127.0.0.1 - - [05/Dec/2026 13:12:58] "GET /b?prefix=x HTTP/1.1" 500 -"#;
        assert_eq!(status_of(line), Some(500));
        assert_eq!(status_of(r#"x "HEAD /b/k HTTP/1.1" 404 -"#), Some(404));
        assert_eq!(status_of("KeyError: 'x'"), None);
    }
}
