//! HTTPS: the registry with `--tls-cert`/`--tls-key` (and `--tls-client-ca`) against curl,
//! skopeo, podman and reqwest, certificates of every key kind, and reloading without a restart.
//! Every certificate is made at test time ([`certs`]).

mod certs;
mod clients;
mod curl;
mod keys;
mod reload;

use std::path::{Path, PathBuf};

use oci_test_support::peers::OciRegistry;
use tempfile::TempDir;

use self::certs::{KeyKind, Leaf, TestCa};
use crate::process;

/// A CA, a server certificate (issued by an intermediate, so the server's file is a full chain)
/// and a client certificate, written to a temporary folder.
pub struct Pki {
    dir: TempDir,
    pub ca: TestCa,
    pub server: Leaf,
}

impl Pki {
    pub fn new(kind: KeyKind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::root("oci-registry test root");
        let server = ca
            .intermediate("oci-registry test intermediate")
            .server(kind);
        server.write(dir.path(), "server");
        ca.client("dora").write(dir.path(), "client");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Self { dir, ca, server }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `--tls-cert`, `--tls-key` and, when `mutual`, `--tls-client-ca`.
    pub fn flags(&self, mutual: bool) -> Vec<String> {
        let mut flags = vec![
            "--tls-cert".to_owned(),
            path_text(&self.path("server.crt")),
            "--tls-key".to_owned(),
            path_text(&self.path("server.key")),
        ];
        if mutual {
            flags.extend([
                "--tls-client-ca".to_owned(),
                path_text(&self.path("ca.pem")),
            ]);
        }
        flags
    }

    /// `oci-registry` on this certificate (and, when `mutual`, requiring client certificates of
    /// this CA) with a store in `work` and the `extra` flags.
    pub fn serve(&self, work: &Path, mutual: bool, extra: &[&str]) -> OciRegistry {
        let mut flags = self.flags(mutual);
        flags.extend(extra.iter().map(|flag| (*flag).to_owned()));
        process::start(&work.join("store"), &as_strs(&flags))
    }

    /// A folder as skopeo's and podman's `--cert-dir` want it: `ca.crt` and, with `client`,
    /// `client.cert` and `client.key`.
    pub fn cert_dir(&self, client: bool) -> PathBuf {
        let dir = self.path(if client { "certs-client" } else { "certs" });
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(self.path("ca.pem"), dir.join("ca.crt")).unwrap();
        if client {
            std::fs::copy(self.path("client.crt"), dir.join("client.cert")).unwrap();
            std::fs::copy(self.path("client.key"), dir.join("client.key")).unwrap();
        }
        dir
    }

    /// A client that trusts this CA only and reports the server's certificate.
    pub fn https_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca.pem().as_bytes()).unwrap()])
            .tls_info(true)
            .build()
            .unwrap()
    }
}

pub fn path_text(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// The flags as `&str`, for [`process::start`](crate::process::start).
pub fn as_strs(flags: &[String]) -> Vec<&str> {
    flags.iter().map(String::as_str).collect()
}

/// The DER of the certificate the server presented for `answer`.
pub fn served_certificate(answer: &reqwest::Response) -> Vec<u8> {
    answer
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(reqwest::tls::TlsInfo::peer_certificate)
        .expect("a TLS answer carries the server's certificate")
        .to_vec()
}
