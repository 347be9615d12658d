//! Requests written by hand on raw connections, and the registry process that a planned kill
//! stops in the middle of one.

use std::{
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    time::Duration,
};

use oci_test_support::peers::OciRegistry;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

use super::plan::{Cut, Kill};
use crate::{common::RawAnswer, process};

/// A safety net against a hung request, never a synchronisation.
const PATIENCE: Duration = Duration::from_secs(30);
const SIGKILL: i32 = 9;

/// A request with a body, sent byte for byte.
pub struct Request {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &'static str, path: String, body: Vec<u8>) -> Self {
        Self {
            method,
            path,
            headers: Vec::new(),
            body,
        }
    }

    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    fn head(&self, host: &str) -> String {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", self.method, self.path);
        let length = ("Content-Length", self.body.len().to_string());
        for (name, value) in self.headers.iter().chain([&length]) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head + "Connection: close\r\n\r\n"
    }
}

/// Asserts an answer's status.
pub fn expect(answer: &RawAnswer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.text);
}

/// The `Location` of an answer.
pub fn location(answer: &RawAnswer) -> String {
    let head = answer.text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_else(|| panic!("no location in {}", answer.text))
}

/// The registry of one cycle over the shared store, and the kill planned in it.
pub struct Server {
    process: Option<OciRegistry>,
    pub root: PathBuf,
    host: String,
    /// For requests no kill cuts (checks, retries).
    pub http: reqwest::Client,
    kill: Option<Kill>,
    sent: usize,
}

impl Server {
    pub fn start(root: &Path) -> Self {
        let process = process::start(root, &[]);
        Self {
            host: process.host().to_owned(),
            process: Some(process),
            root: root.to_owned(),
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .unwrap(),
            kill: None,
            sent: 0,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }

    /// Plans `kill`, counting requests from now.
    pub fn plan(&mut self, kill: Kill) {
        self.kill = Some(kill);
        self.sent = 0;
    }

    /// Sends `request` and reads the answer; `Err` with the cut when the planned kill came
    /// during it.
    pub async fn send(&mut self, request: &Request) -> Result<RawAnswer, Cut> {
        let cut = self
            .kill
            .filter(|kill| kill.request == self.sent)
            .map(|kill| kill.cut);
        self.sent += 1;
        let body = match cut {
            Some(Cut::Partial { per_mille }) => {
                &request.body[..request.body.len() * per_mille / 1000]
            }
            _ => &request.body[..],
        };
        // Kept open until the registry is gone: the body must not end early.
        let mut stream = TcpStream::connect(&self.host).await.unwrap();
        let head = request.head(&self.host);
        stream
            .write_all(&[head.as_bytes(), body].concat())
            .await
            .unwrap();
        match cut {
            Some(cut @ Cut::Partial { .. }) => return Err(self.sigkill(cut)),
            Some(cut @ Cut::Unanswered { pings }) => {
                for _ in 0..pings {
                    let ping = self.http.get(self.url("/v2/")).send().await.unwrap();
                    assert_eq!(ping.status(), StatusCode::OK);
                }
                return Err(self.sigkill(cut));
            }
            _ => {}
        }
        let mut raw = Vec::new();
        timeout(PATIENCE, stream.read_to_end(&mut raw))
            .await
            .expect("the registry answers")
            .unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok());
        let answer = RawAnswer {
            status: status.unwrap_or(0),
            text,
        };
        if cut == Some(Cut::Answered) {
            assert!((200..300).contains(&answer.status), "{}", answer.text);
            return Err(self.sigkill(Cut::Answered));
        }
        Ok(answer)
    }

    fn sigkill(&mut self, cut: Cut) -> Cut {
        let status = self.process.take().expect("one kill per cycle").kill();
        assert_eq!(
            status.signal(),
            Some(SIGKILL),
            "died before the kill: {status:?}"
        );
        cut
    }
}
