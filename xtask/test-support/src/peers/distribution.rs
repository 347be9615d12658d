//! Debian's `docker-registry` (CNCF distribution 2.8), with deletes enabled, anonymous or
//! behind htpasswd Basic auth or token auth, over plain HTTP or TLS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use oci_digest::Digest;

use super::{KillOnDrop, fanned_out, start_on_free_port, wait_for_log};

/// Where Debian installs distribution.
const BINARY: &str = "/usr/bin/docker-registry";

/// How a [`Distribution`] authenticates.
#[derive(Debug, Clone)]
pub enum DistributionAuth {
    /// HTTP Basic against an htpasswd file of bcrypt hashes (see [`write_htpasswd`]).
    Htpasswd(PathBuf),
    /// Bearer tokens from `realm`, for `service`, signed by `issuer` under a certificate that
    /// chains to `root_bundle`.
    Token {
        /// The token endpoint's URL.
        realm: String,
        /// The service the tokens are for.
        service: String,
        /// The tokens' issuer.
        issuer: String,
        /// The PEM bundle of the certificates that vouch for the signing keys.
        root_bundle: PathBuf,
    },
}

/// How to start a [`Distribution`]; the default is anonymous, plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct DistributionOptions {
    /// Authentication, if any.
    pub auth: Option<DistributionAuth>,
    /// TLS: PEM certificate (chain) and key files.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With TLS, the PEM file of the authorities client certificates must come from.
    pub client_ca: Option<PathBuf>,
}

/// A running `docker-registry`.
pub struct Distribution {
    _child: KillOnDrop,
    host: String,
    root: tempfile::TempDir,
}

impl Distribution {
    /// Whether the binary is installed (tests needing it are skipped, loudly, when not).
    pub fn available() -> bool {
        Path::new(BINARY).exists()
    }

    /// An anonymous registry over plain HTTP.
    pub fn start() -> Self {
        Self::start_with(DistributionOptions::default())
    }

    /// An anonymous registry over plain HTTP asking for a password from the users of
    /// `htpasswd`.
    pub fn start_with_htpasswd(htpasswd: &Path) -> Self {
        Self::start_with(DistributionOptions {
            auth: Some(DistributionAuth::Htpasswd(htpasswd.to_owned())),
            ..DistributionOptions::default()
        })
    }

    /// A registry as `options` say, on a free port over a fresh store; returns once it logs
    /// that it listens.
    pub fn start_with(options: DistributionOptions) -> Self {
        assert!(
            Self::available(),
            "{BINARY} is missing: run `bash .ci/install-peers`"
        );
        let root = tempfile::tempdir().unwrap();
        let (child, host) = start_on_free_port("docker-registry", |port| {
            let host = format!("127.0.0.1:{port}");
            let config = root.path().join("config.yml");
            std::fs::write(&config, configuration(root.path(), &host, &options)).unwrap();
            let mut child = KillOnDrop(
                Command::new(BINARY)
                    .arg("serve")
                    .arg(&config)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            let log = child.0.stderr.take().unwrap();
            wait_for_log(log, "listening on").map(|()| (child, host))
        });
        Distribution {
            _child: child,
            host,
            root,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The file holding the blob `digest` in the store (distribution's filesystem layout),
    /// for tests that damage stored content as a disk would.
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        let blobs = self.root.path().join("storage/docker/registry/v2/blobs");
        fanned_out(&blobs, digest).join("data")
    }
}

/// The YAML configuration of a registry on `host` storing under `root`.
fn configuration(root: &Path, host: &str, options: &DistributionOptions) -> String {
    // `info` is the level of the "listening on" line that says it is ready.
    let mut config = format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
        root.join("storage").display()
    );
    // The TLS keys belong under `http`, which ends the text so far.
    if let Some((certificate, key)) = &options.tls {
        config.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            certificate.display(),
            key.display()
        ));
        if let Some(client_ca) = &options.client_ca {
            config.push_str(&format!(
                "    clientcas:\n      - {}\n",
                client_ca.display()
            ));
        }
    }
    match &options.auth {
        None => {}
        Some(DistributionAuth::Htpasswd(path)) => config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: tests\n    path: {}\n",
            path.display()
        )),
        Some(DistributionAuth::Token {
            realm,
            service,
            issuer,
            root_bundle,
        }) => config.push_str(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            root_bundle.display()
        )),
    }
    config
}

/// Writes an htpasswd file at `path` holding `username` with a bcrypt hash of `password`
/// (the cheapest cost, in the `$2a$` form distribution reads).
pub fn write_htpasswd(path: &Path, username: &str, password: &str) {
    let hash = bcrypt::hash_with_result(password, 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    std::fs::write(path, format!("{username}:{hash}\n")).unwrap();
}
