//! The `oci-registry` binary: the listening line, serving, graceful stop on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use reqwest::StatusCode;

/// Kills the child if the test ends early.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_its_address_serves_and_stops_on_sigterm() {
    let root = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_oci-registry"))
        .args(["--listen", "127.0.0.1:0", "--delete", "--root"])
        .arg(root.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    let mut line = String::new();
    BufReader::new(guard.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("oci-registry listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );

    let answer = reqwest::get(format!("{base}/v2/")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(root.path().join("blobs").is_dir());

    let pid = guard.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let exit = guard.0.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}
