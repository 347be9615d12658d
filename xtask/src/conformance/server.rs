//! Building and starting `oci-registry` for a run, and stopping it afterwards.
//!
//! The registry is started on `127.0.0.1:0` with a temporary store, deletes and sparse image
//! manifests allowed (as the official harnesses configured by [`crate::official`] expect), and
//! the authentication asked for ([`ServerAuth`]); it prints exactly one line,
//! `oci-registry listening on http://<addr>`, once bound. We block on reading that line (no
//! sleeps, no polling). [`Server`] kills the process when dropped, including during a panic.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::auth::Credentials;
use super::moto::{self, Moto};
use super::test_ca::TestCa;
use crate::cargo::build_binary;
use crate::error::XtaskError;

const ANNOUNCEMENT: &str = "oci-registry listening on ";

/// Where the registry under test keeps its data.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary directory (the default store).
    #[default]
    Filesystem,
    /// A bucket on a `moto_server` started for the run (the object-storage backend).
    S3,
}

/// How the started registry authenticates its clients.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ServerAuth {
    /// Anyone may do anything.
    #[default]
    None,
    /// HTTP Basic against an htpasswd file (`--htpasswd`).
    Basic,
    /// The token service (`--auth-config`): Basic credentials buy bearer tokens at `/token`.
    Token,
}

/// The user the started registry knows when it authenticates.
const USER: &str = "conformance";
/// That user's password.
const PASSWORD: &str = "conformance-password";
/// bcrypt's cheapest cost: the hash guards a throwaway password.
const BCRYPT_COST: u32 = 4;

/// A running `oci-registry` with its temporary store; dropping it stops the process and removes
/// the store.
#[derive(Debug)]
pub struct Server {
    child: Child,
    url: String,
    credentials: Option<Credentials>,
    // Declared after `child` so the process is gone before its store is removed.
    _store: tempfile::TempDir,
    _moto: Option<Moto>,
    /// The CA of the certificate served, for a server started with TLS.
    ca: Option<TestCa>,
}

impl Server {
    /// Builds the binary (debug unless `release`) and starts it on `backend` with `auth`,
    /// serving HTTPS with a certificate of a CA made for the run when `tls`.
    pub fn start(
        release: bool,
        backend: Backend,
        auth: ServerAuth,
        tls: bool,
    ) -> Result<Server, XtaskError> {
        let executable = build_binary("oci-server-core", "oci-registry", release)?;
        let store = tempfile::Builder::new()
            .prefix("oci-conformance-store-")
            .tempdir()?;
        let log = executable.with_file_name("oci-registry-conformance.log");
        let mut command = Command::new(&executable);
        command.args(["--listen", "127.0.0.1:0", "--delete", "--sparse-image"]);
        // The store's folder holds the auth and certificate files: the store lives in `data/`.
        let credentials = configure_auth(&mut command, auth, store.path())?;
        let ca = if tls {
            let ca = TestCa::make(store.path())?;
            command.arg("--tls-cert").arg(&ca.cert);
            command.arg("--tls-key").arg(&ca.key);
            Some(ca)
        } else {
            None
        };
        let moto = match backend {
            Backend::Filesystem => {
                command.arg("--root").arg(store.path().join("data"));
                None
            }
            Backend::S3 => {
                let moto = moto::start()?;
                command
                    .args(["--storage", &format!("s3://{}/registry", Moto::BUCKET)])
                    .envs(moto.env());
                Some(moto)
            }
        };
        // A fresh log per run: `launch` appends, for callers that restart a registry.
        File::create(&log)?;
        let (child, url) = launch(command, &log)?;
        eprintln!(
            "started {} at {url} (log: {})",
            executable.display(),
            log.display()
        );
        Ok(Server {
            child,
            url,
            credentials,
            _store: store,
            _moto: moto,
            ca,
        })
    }

    /// The registry's base URL, `http://127.0.0.1:<port>` (`https://` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA (PEM) that issued the certificate served, when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|ca| ca.ca_pem.as_str())
    }

    /// The credentials it accepts, when it authenticates.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns a configured `oci-registry` command (standard error to `log`) and blocks until it
/// announces its address; returns the process and its base URL. The process is killed when it
/// exits or announces something else, so no error leaves it running.
pub(crate) fn launch(mut command: Command, log: &Path) -> Result<(Child, String), XtaskError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::options().create(true).append(true).open(log)?);
    let mut child = command.spawn().map_err(|source| XtaskError::Spawn {
        command: command.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    match read_announcement(&mut child) {
        Ok(url) => Ok((child, url)),
        Err(error) => {
            // Errors mean the process is already gone, which is what we want.
            let _ = child.kill();
            let status = child.wait().ok();
            Err(match error {
                None => XtaskError::ServerExited {
                    status,
                    log: log.to_path_buf(),
                },
                Some(error) => error,
            })
        }
    }
}

/// The base URL from the process's first line; `Err(None)` when it ended without one.
fn read_announcement(child: &mut Child) -> Result<String, Option<XtaskError>> {
    let stdout = child.stdout.take().ok_or(None)?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    if reader.read_line(&mut line).map_err(|e| Some(e.into()))? == 0 {
        return Err(None);
    }
    let url = parse_announcement(&line).map_err(Some)?;
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(url)
}

/// Writes the htpasswd file or token configuration `auth` needs into `dir` and adds its flag;
/// returns the credentials to use.
fn configure_auth(
    command: &mut Command,
    auth: ServerAuth,
    dir: &Path,
) -> Result<Option<Credentials>, XtaskError> {
    let hash = || {
        bcrypt::hash(PASSWORD, BCRYPT_COST).map_err(|error| XtaskError::Peer {
            peer: "bcrypt".into(),
            reason: error.to_string(),
        })
    };
    match auth {
        ServerAuth::None => return Ok(None),
        ServerAuth::Basic => {
            let file = dir.join("htpasswd");
            std::fs::write(&file, format!("{USER}:{}\n", hash()?))?;
            command.arg("--htpasswd").arg(file);
        }
        ServerAuth::Token => {
            let file = dir.join("auth.toml");
            // Everything on every repository, and the catalog: the checks need them all.
            let config = format!(
                "[users.{USER}]\npassword = \"{}\"\ncatalog = true\ngrants = [{{ repository = \"**\", actions = [\"pull\", \"push\", \"delete\"] }}]\n",
                hash()?
            );
            std::fs::write(&file, config)?;
            command.arg("--auth-config").arg(file);
        }
    }
    Ok(Some(Credentials {
        username: USER.into(),
        password: PASSWORD.into(),
    }))
}

/// Extracts the base URL from `oci-registry listening on http://<addr>`.
pub(crate) fn parse_announcement(line: &str) -> Result<String, XtaskError> {
    let bad = || XtaskError::BadAnnouncement {
        line: line.to_string(),
    };
    let url = line.trim().strip_prefix(ANNOUNCEMENT).ok_or_else(bad)?;
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(bad());
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_from_the_announcement() {
        assert_eq!(
            parse_announcement("oci-registry listening on http://127.0.0.1:40123\n").unwrap(),
            "http://127.0.0.1:40123"
        );
        assert!(parse_announcement("listening on 127.0.0.1:1\n").is_err());
        assert!(parse_announcement("oci-registry listening on 127.0.0.1:1\n").is_err());
    }
}
