//! The `oci-registry` binary run as a child process, as users and real clients meet it.

use std::{
    ffi::OsStr,
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

/// A running `oci-registry`; killed when dropped.
pub struct RegistryProcess {
    child: Child,
    base: String,
}

impl RegistryProcess {
    /// Starts the binary on a free port over `root` with the extra `flags`, and returns once it
    /// has printed the address it listens on (reading that line is the readiness signal).
    pub fn start(root: &Path, flags: &[&str]) -> Self {
        let mut args = vec!["--root".as_ref(), root.as_os_str()];
        args.extend(flags.iter().map(OsStr::new));
        Self::spawn(&args, &[])
    }

    /// Starts the binary on a free port with `args` and extra environment variables.
    pub fn spawn(args: &[&OsStr], env: &[(String, String)]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_oci-registry"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Owned before anything can fail, so that a failed start still kills the child.
        let mut process = Self {
            child,
            base: String::new(),
        };
        let mut line = String::new();
        BufReader::new(process.child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        process.base = line
            .trim_end()
            .strip_prefix("oci-registry listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        process
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `127.0.0.1:<port>`, the registry host as references spell it.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Kills the process with SIGKILL, as a crash would (no shutdown, no cleanup), and returns
    /// how it exited.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// Sends SIGTERM and returns how the process exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
