//! Certificates made at test time with rcgen: a CA, intermediates, server and client
//! certificates, written as the PEM files the registry and the clients read.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, RsaKeySize,
};

/// The kinds of key a server certificate can have.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    Rsa,
    Ecdsa,
    Ed25519,
}

fn key_pair(kind: KeyKind) -> KeyPair {
    match kind {
        KeyKind::Rsa => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeyKind::Ecdsa => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyKind::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
    }
    .unwrap()
}

/// A certificate authority (a root, or an intermediate with the chain up to its root).
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// PEM of the certificates a leaf's chain file carries after the leaf (empty for a root).
    chain_pem: String,
}

/// A leaf certificate: its chain (leaf first) and key, as PEM.
pub struct Leaf {
    pub chain_pem: String,
    pub key_pem: String,
    /// The leaf's DER, to recognise it in a handshake.
    pub der: Vec<u8>,
}

impl Leaf {
    /// Writes `<name>.crt` and `<name>.key` into `dir` (replacing them atomically) and returns
    /// their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        replace_file(&cert, &self.chain_pem);
        replace_file(&key, &self.key_pem);
        (cert, key)
    }
}

/// Writes `path` by a rename, as certificate tools do.
pub fn replace_file(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl TestCa {
    /// A self-signed root.
    pub fn root(name: &str) -> Self {
        let key = key_pair(KeyKind::Ecdsa);
        Self {
            issuer: CertifiedIssuer::self_signed(ca_params(name), key).unwrap(),
            chain_pem: String::new(),
        }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, name: &str) -> Self {
        let key = key_pair(KeyKind::Ecdsa);
        let issuer = CertifiedIssuer::signed_by(ca_params(name), key, &self.issuer).unwrap();
        Self {
            chain_pem: format!("{}{}", issuer.pem(), self.chain_pem),
            issuer,
        }
    }

    /// The CA's own certificate, PEM (what clients trust).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `127.0.0.1` and `localhost` with a key of `kind`.
    pub fn server(&self, kind: KeyKind) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "oci-registry test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.leaf(params, kind)
    }

    /// A client certificate for `name`.
    pub fn client(&self, name: &str) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.leaf(params, KeyKind::Ecdsa)
    }

    fn leaf(&self, params: CertificateParams, kind: KeyKind) -> Leaf {
        let key = key_pair(kind);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            chain_pem: format!("{}{}", cert.pem(), self.chain_pem),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}
