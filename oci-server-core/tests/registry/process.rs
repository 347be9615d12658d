//! The `oci-registry` binary run as a child process, as users and real clients meet it.

use std::{
    ffi::OsStr,
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc::{Receiver, channel},
    time::Duration,
};

/// A running `oci-registry`; killed when dropped.
pub struct RegistryProcess {
    child: Child,
    base: String,
    /// Lines of standard error, when the process was started with [`Self::start_logged`].
    logs: Option<Receiver<String>>,
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_oci-registry"));
        command
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)));
        Self::launch(command, args, false)
    }

    /// Like [`start`](Self::start), logging at `info` into lines that
    /// [`wait_for_log`](Self::wait_for_log) reads.
    pub fn start_logged(root: &Path, flags: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_oci-registry"));
        command.env("RUST_LOG", "info");
        Self::launch_logged(command, root, flags)
    }

    /// Starts the binary through `launcher` (for example `sh -c '...; exec "$0" "$@"'`, which
    /// gets the binary's path as `$0`), logging like [`start_logged`](Self::start_logged).
    pub fn start_through(launcher: Command, root: &Path, flags: &[&str]) -> Self {
        let mut command = launcher;
        command
            .arg(env!("CARGO_BIN_EXE_oci-registry"))
            .env("RUST_LOG", "info");
        Self::launch_logged(command, root, flags)
    }

    fn launch_logged(command: Command, root: &Path, flags: &[&str]) -> Self {
        let mut args = vec!["--root".as_ref(), root.as_os_str()];
        args.extend(flags.iter().map(OsStr::new));
        Self::launch(command, &args, true)
    }

    fn launch(mut command: Command, args: &[&OsStr], logged: bool) -> Self {
        let child = command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(if logged {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .unwrap();
        // Owned before anything can fail, so that a failed start still kills the child.
        let mut process = Self {
            child,
            base: String::new(),
            logs: None,
        };
        if let Some(stderr) = process.child.stderr.take() {
            let (lines, logs) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("{line}");
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
            process.logs = Some(logs);
        }
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

    /// Reads log lines until one contains `needle`, and returns it. Only for processes
    /// started with [`start_logged`](Self::start_logged).
    pub fn wait_for_log(&self, needle: &str) -> String {
        let logs = self.logs.as_ref().expect("started with start_logged");
        loop {
            // A safety net against a line that never comes, not a timing assertion.
            match logs.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no log line with {needle:?}: {e}"),
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`HUP`, `TERM`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// `http://127.0.0.1:<port>` (`https://` when serving TLS).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `127.0.0.1:<port>`, the registry host as references spell it.
    pub fn host(&self) -> &str {
        let base = self.base.trim_start_matches("https://");
        base.trim_start_matches("http://")
    }

    /// Kills the process with SIGKILL, as a crash would (no shutdown, no cleanup), and returns
    /// how it exited.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// Sends SIGTERM and returns how the process exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.child.wait().unwrap()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
