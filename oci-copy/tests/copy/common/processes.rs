//! Runs of this crate's `oci-copy` binary. The registries the tests copy between come from
//! `oci-test-support`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The `oci-copy` binary of this crate with `args`, logging warnings only.
pub fn oci_copy_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_oci-copy"));
    command.args(args).env("RUST_LOG", "warn");
    command
}

/// Runs the `oci-copy` binary with `args`: its exit code, standard output and error.
pub fn run_oci_copy(args: &[&str]) -> (Option<i32>, String, String) {
    let output = oci_copy_command(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the `oci-copy` binary with `args`, `input` on its standard input and `env` set:
/// its exit code, standard output (bytes, as a blob may be written there) and error.
pub fn run_oci_copy_fed(
    args: &[&str],
    input: &[u8],
    env: &[(&str, &Path)],
) -> (Option<i32>, Vec<u8>, String) {
    let mut command = oci_copy_command(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from another thread: a child that answers before reading it all must not
    // block this one.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        output.status.code(),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
