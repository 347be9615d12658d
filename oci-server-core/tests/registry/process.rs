//! This crate's `oci-registry` binary run as a child process (an
//! [`OciRegistry`] of `oci-test-support`), as users and real clients meet it.

use oci_test_support::peers::OciRegistry;
use std::{ffi::OsStr, path::Path, process::Command};

/// The binary, logging at `level`.
fn binary(level: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oci-registry"));
    command.env("RUST_LOG", level);
    command
}

/// `--root root` and `flags`.
fn over<'a>(root: &'a Path, flags: &'a [&'a str]) -> Vec<&'a OsStr> {
    let mut args = vec!["--root".as_ref(), root.as_os_str()];
    args.extend(flags.iter().map(OsStr::new));
    args
}

/// Starts the binary on a free port over `root` with the extra `flags`, and returns once it
/// has printed the address it listens on.
pub fn start(root: &Path, flags: &[&str]) -> OciRegistry {
    OciRegistry::launch(binary("warn"), &over(root, flags), false)
}

/// Starts the binary on a free port with `args` and extra environment variables.
pub fn spawn(args: &[&OsStr], env: &[(String, String)]) -> OciRegistry {
    let mut command = binary("warn");
    command.envs(env.iter().map(|(k, v)| (k, v)));
    OciRegistry::launch(command, args, false)
}

/// Like [`start`], logging at `info` into lines that [`OciRegistry::wait_for_log`] reads.
pub fn start_logged(root: &Path, flags: &[&str]) -> OciRegistry {
    OciRegistry::launch(binary("info"), &over(root, flags), true)
}

/// Starts the binary through `launcher` (for example `sh -c '...; exec "$0" "$@"'`, which
/// gets the binary's path as `$0`), logging like [`start_logged`].
pub fn start_through(mut launcher: Command, root: &Path, flags: &[&str]) -> OciRegistry {
    launcher
        .arg(env!("CARGO_BIN_EXE_oci-registry"))
        .env("RUST_LOG", "info");
    OciRegistry::launch(launcher, &over(root, flags), true)
}
