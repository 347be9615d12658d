//! Docker credential helpers: `docker-credential-<name> get|store|erase` run as a child
//! process, the server URL (or, to store, a JSON request) on its stdin, a JSON answer on its
//! stdout.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{Credentials, helper_server_url};
use crate::error::Error;
use crate::secret::Secret;

/// The username a helper answers when its secret is an identity token.
const IDENTITY_TOKEN_USERNAME: &str = "<token>";

/// What helpers print when they hold nothing for the server (`credentials.ErrCredentialsNotFound`).
const NOT_FOUND_MESSAGE: &str = "credentials not found";

/// The answer of `docker-credential-<name> get`.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: Secret,
}

/// One credential helper, by the name used in `credHelpers` / `credsStore` (`osxkeychain`,
/// `pass`, `ecr-login`, ...).
#[derive(Debug, Clone)]
pub struct CredentialHelper {
    name: String,
    search_path: Option<OsString>,
}

impl CredentialHelper {
    /// The helper `docker-credential-<name>`, found on `PATH`.
    pub fn new(name: impl Into<String>) -> Self {
        CredentialHelper {
            name: name.into(),
            search_path: None,
        }
    }

    /// Looks for the program in these directories (`PATH` syntax) instead of `PATH`.
    pub fn with_search_path(mut self, path: impl Into<OsString>) -> Self {
        self.search_path = Some(path.into());
        self
    }

    /// The program name, `docker-credential-<name>`.
    pub fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// Asks the helper for the credentials of `registry` (Docker Hub is asked about as
    /// `https://index.docker.io/v1/`). `None` when the helper has none.
    ///
    /// Blocks until the helper exits.
    pub fn get(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        let server_url = helper_server_url(registry);
        let Some(stdout) = self.run("get", server_url.as_bytes())? else {
            return Ok(None);
        };
        let answer: HelperAnswer =
            serde_json::from_slice(&stdout).map_err(|source| Error::HelperOutput {
                program: self.program(),
                source,
            })?;
        Ok(if answer.secret.is_empty() {
            None
        } else if answer.username == IDENTITY_TOKEN_USERNAME {
            Some(Credentials::IdentityToken(answer.secret))
        } else {
            Some(Credentials::Basic {
                username: answer.username,
                password: answer.secret,
            })
        })
    }

    /// Hands `username` and `password` for `registry` to the helper to keep
    /// (`docker-credential-<name> store`, as `docker login` does).
    ///
    /// Blocks until the helper exits.
    pub fn store(&self, registry: &str, username: &str, password: &Secret) -> Result<(), Error> {
        let request = serde_json::json!({
            "ServerURL": helper_server_url(registry),
            "Username": username,
            "Secret": password.expose(),
        });
        self.run("store", request.to_string().as_bytes())
            .map(|_| ())
    }

    /// Asks the helper to forget `registry` (`docker-credential-<name> erase`); `false` when
    /// it held nothing for it.
    ///
    /// Blocks until the helper exits.
    pub fn erase(&self, registry: &str) -> Result<bool, Error> {
        let server_url = helper_server_url(registry);
        Ok(self.run("erase", server_url.as_bytes())?.is_some())
    }

    /// Runs `docker-credential-<name> ACTION` with `input` on its stdin: its standard output,
    /// or `None` when it answered "credentials not found".
    fn run(&self, action: &str, input: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let program = self.program();
        let command = self.resolve(&program)?;
        tracing::debug!(%program, action, "running credential helper");

        let spawn_error = |source| Error::HelperSpawn {
            program: program.clone(),
            source,
        };
        let mut child = Command::new(command)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper may exit without reading its input; its answer still counts.
            if let Err(error) = stdin.write_all(input)
                && error.kind() != std::io::ErrorKind::BrokenPipe
            {
                // Reap the child before giving up, so no process is left behind.
                let _ = child.kill();
                let _ = child.wait();
                return Err(spawn_error(error));
            }
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if output.status.success() {
            return Ok(Some(output.stdout));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let message = if stdout.trim().is_empty() {
            String::from_utf8_lossy(&output.stderr).trim().to_owned()
        } else {
            stdout.trim().to_owned()
        };
        if message.contains(NOT_FOUND_MESSAGE) {
            return Ok(None);
        }
        Err(Error::HelperFailed {
            program,
            exit_code: output.status.code(),
            message,
        })
    }

    /// The path to run: the program found in the search path, or the bare name for `PATH`.
    fn resolve(&self, program: &str) -> Result<PathBuf, Error> {
        if self.name.is_empty() || self.name.contains(['/', '\\']) || self.name.contains("..") {
            return Err(Error::InvalidHelperName {
                name: self.name.clone(),
            });
        }
        let Some(search_path) = &self.search_path else {
            return Ok(PathBuf::from(program));
        };
        std::env::split_paths(search_path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| Error::HelperSpawn {
                program: program.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_paths_are_refused() {
        for name in ["", "../evil", "a/b", "a\\b"] {
            let result = CredentialHelper::new(name).get("r.example");
            assert!(
                matches!(result, Err(Error::InvalidHelperName { .. })),
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_missing_helper_is_a_spawn_error() {
        let helper = CredentialHelper::new("surely-not-installed").with_search_path("/nonexistent");
        let result = helper.get("r.example");
        assert!(
            matches!(&result, Err(Error::HelperSpawn { program, .. }) if program == "docker-credential-surely-not-installed"),
            "{result:?}"
        );
    }
}
