//! Keys and certificates made by the system's `openssl`, and tokens minted by PyJWT
//! (`mint_jwt.py`, `pip install 'pyjwt[crypto]'`, which `.ci/install-peers` does): both
//! independent of the registry's own JWT code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

/// The kind of a key.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    /// P-256, for ES256.
    Ec,
    /// RSA 2048, for RS256.
    Rsa,
    /// Ed25519, for EdDSA.
    Ed25519,
}

/// A private key (PKCS#8 PEM) and its certificate (PEM).
#[derive(Debug, Clone)]
pub struct Signer {
    pub key: PathBuf,
    pub cert: PathBuf,
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn generate_key(path: &Path, kind: KeyKind) {
    let out = path_str(path);
    match kind {
        KeyKind::Ec => openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            out,
        ]),
        KeyKind::Rsa => openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            out,
        ]),
        KeyKind::Ed25519 => openssl(&["genpkey", "-algorithm", "ED25519", "-out", out]),
    }
}

/// A self-signed CA certificate (CA:TRUE, may sign certificates and tokens).
pub fn ca(dir: &Path, name: &str, kind: KeyKind) -> Signer {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    generate_key(&key, kind);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        path_str(&key),
        "-subj",
        &format!("/CN={name}"),
        "-days",
        "2",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,digitalSignature",
        "-out",
        path_str(&cert),
    ]);
    Signer { key, cert }
}

/// A signing certificate (CA:FALSE) issued by `issuer`.
pub fn leaf(dir: &Path, name: &str, kind: KeyKind, issuer: &Signer) -> Signer {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let csr = dir.join(format!("{name}.csr"));
    let extensions = dir.join(format!("{name}.ext"));
    generate_key(&key, kind);
    std::fs::write(
        &extensions,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-new",
        "-key",
        path_str(&key),
        "-subj",
        &format!("/CN={name}"),
        "-out",
        path_str(&csr),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        path_str(&csr),
        "-CA",
        path_str(&issuer.cert),
        "-CAkey",
        path_str(&issuer.key),
        "-set_serial",
        "2",
        "-days",
        "2",
        "-extfile",
        path_str(&extensions),
        "-out",
        path_str(&cert),
    ]);
    Signer { key, cert }
}

/// `leaf`'s certificate followed by its issuer's, in one PEM file.
pub fn chain(dir: &Path, name: &str, leaf: &Signer, issuer: &Signer) -> PathBuf {
    let path = dir.join(format!("{name}-chain.pem"));
    let mut text = std::fs::read_to_string(&leaf.cert).unwrap();
    text.push_str(&std::fs::read_to_string(&issuer.cert).unwrap());
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `mint_jwt.py` with `request` and returns what it printed (a token, or a JWKS).
pub fn mint(request: &Value) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/registry/auth/mint_jwt.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "mint_jwt.py failed (is PyJWT installed? `bash .ci/install-peers`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
