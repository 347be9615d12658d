//! The keys that vouch for Docker-token JWTs, as distribution finds them: a token carrying an
//! `x5c` certificate chain is signed by its first certificate's key when the chain leads to a
//! certificate of the root bundle (or is one); a token carrying only a `kid` names a key of the
//! bundle (by its libtrust key id, the form distribution and docker_auth use) or of a JWKS file
//! (by the key's `kid`). Chains are checked with `rustls-webpki`; signatures are then checked
//! by `jsonwebtoken` with the key found here.
//!
//! Unlike a TLS server certificate, a token-signing certificate needs no particular extended
//! key usage (distribution accepts any), so none is required here either; validity dates, CA
//! constraints and signatures along the chain are all checked.

use std::{collections::HashMap, path::Path, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{DecodingKey, Header, jwk::JwkSet};
use rustls_pki_types::{
    CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime, pem::PemObject,
};
use sha2::{Digest as _, Sha256};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter, aws_lc_rs as algs};

use super::{AuthConfigError, TokenError};

/// Certificate signature algorithms accepted along a chain.
static CHAIN_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::ED25519,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// Any extended key usage (or none) will do, as long as the extension parses.
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// A root certificate of the bundle, with the key it holds.
struct Root {
    der: CertificateDer<'static>,
    key: DecodingKey,
}

/// The certificates and keys trusted to sign tokens.
#[derive(Default)]
pub struct TrustedKeys {
    roots: Vec<Root>,
    anchors: Vec<TrustAnchor<'static>>,
    by_kid: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("roots", &self.roots.len())
            .field("key_ids", &self.by_kid.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TrustedKeys {
    /// Nothing trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the certificates of a PEM bundle (distribution's `rootcertbundle`).
    pub fn add_certificate_bundle(&mut self, path: &Path) -> Result<(), AuthConfigError> {
        for cert in read_certificates(path)? {
            self.add_root(cert, path)?;
        }
        Ok(())
    }

    /// Trusts one certificate (and so its key, and the chains that lead to it).
    pub(crate) fn add_root(
        &mut self,
        der: CertificateDer<'static>,
        path: &Path,
    ) -> Result<(), AuthConfigError> {
        let bad = |reason: String| AuthConfigError::Pem {
            path: path.to_owned(),
            reason,
        };
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|e| bad(format!("unusable certificate: {e}")))?
            .to_owned();
        let spki = webpki::spki_for_anchor(&anchor);
        let key = key_from_spki(spki.as_ref())
            .ok_or_else(|| bad("a certificate whose key is not RSA, EC or Ed25519".into()))?;
        self.by_kid
            .insert(libtrust_key_id(spki.as_ref()), key.clone());
        self.anchors.push(anchor);
        self.roots.push(Root { der, key });
        Ok(())
    }

    /// Trusts the keys of a JWKS file (`{"keys": [...]}`), each by its `kid`.
    pub fn add_jwks(&mut self, path: &Path) -> Result<(), AuthConfigError> {
        let text = std::fs::read(path).map_err(|source| AuthConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let set: JwkSet = serde_json::from_slice(&text).map_err(|e| AuthConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        for jwk in &set.keys {
            let bad = |reason: String| AuthConfigError::Pem {
                path: path.to_owned(),
                reason,
            };
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| bad("a key without `kid`".into()))?;
            let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("key {kid:?}: {e}")))?;
            self.by_kid.insert(kid, key);
        }
        Ok(())
    }

    /// The key that signed a token with this header, if it is one this registry trusts at
    /// `now` (Unix seconds).
    pub(crate) fn key_for(&self, header: &Header, now: u64) -> Result<DecodingKey, TokenError> {
        match (&header.x5c, &header.kid) {
            (Some(chain), _) if !chain.is_empty() => self.chain_key(chain, now),
            (_, Some(kid)) => self.by_kid.get(kid).cloned().ok_or(TokenError::UnknownKey),
            _ => Err(TokenError::UnknownKey),
        }
    }

    /// The key of an `x5c` chain's first certificate, once the chain is trusted.
    fn chain_key(&self, chain: &[String], now: u64) -> Result<DecodingKey, TokenError> {
        let untrusted = |reason: String| TokenError::UntrustedChain { reason };
        let certs = chain
            .iter()
            .map(|text| STANDARD.decode(text).map(CertificateDer::from))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TokenError::Malformed)?;
        let (leaf, intermediates) = certs.split_first().ok_or(TokenError::Malformed)?;
        // A chain that is one of the roots itself (a self-signed signing certificate put in
        // the bundle as it is) needs no path: the bundle names its key.
        if let Some(root) = self.roots.iter().find(|r| r.der == *leaf) {
            return Ok(root.key.clone());
        }
        let end_entity =
            EndEntityCert::try_from(leaf).map_err(|e| untrusted(format!("leaf: {e}")))?;
        let time = UnixTime::since_unix_epoch(Duration::from_secs(now));
        end_entity
            .verify_for_usage(
                CHAIN_ALGORITHMS,
                &self.anchors,
                intermediates,
                time,
                AnyUsage,
                None,
                None,
            )
            .map_err(|e| untrusted(e.to_string()))?;
        key_from_spki(end_entity.subject_public_key_info().as_ref())
            .ok_or_else(|| untrusted("leaf key is not RSA, EC or Ed25519".into()))
    }
}

/// Reads every certificate of a PEM file (at least one).
pub(crate) fn read_certificates(
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, AuthConfigError> {
    let text = std::fs::read(path).map_err(|source| AuthConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let bad = |reason: String| AuthConfigError::Pem {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// A verification key from a DER `SubjectPublicKeyInfo`, of whichever family it is.
pub(crate) fn key_from_spki(spki: &[u8]) -> Option<DecodingKey> {
    let pem = pem_block("PUBLIC KEY", spki);
    DecodingKey::from_ec_pem(pem.as_bytes())
        .or_else(|_| DecodingKey::from_rsa_pem(pem.as_bytes()))
        .or_else(|_| DecodingKey::from_ed_pem(pem.as_bytes()))
        .ok()
}

/// DER bytes as one PEM block (what `jsonwebtoken`'s key parsers read).
fn pem_block(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// The libtrust key id of a public key: the SHA-256 of its DER `SubjectPublicKeyInfo`, cut
/// to 240 bits, in base32, in twelve groups of four joined by `:` (what distribution matches
/// a token's `kid` against, and what docker_auth writes).
pub(crate) fn libtrust_key_id(spki: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(spki);
    // 30 bytes are 48 groups of 5 bits exactly: no padding.
    let mut chars = Vec::with_capacity(48);
    for block in digest[..30].chunks(5) {
        let bits = block.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        for shift in (0..8).rev() {
            chars.push(ALPHABET[((bits >> (shift * 5)) & 31) as usize]);
        }
    }
    chars
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtrust_ids_have_twelve_groups_of_four() {
        let id = libtrust_key_id(b"any key");
        assert_eq!(id.len(), 12 * 4 + 11);
        assert!(id.split(':').all(|g| {
            g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        }));
        assert_ne!(id, libtrust_key_id(b"another key"));
    }

    #[test]
    fn headers_without_a_known_key_are_refused() {
        let keys = TrustedKeys::new();
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        assert_eq!(keys.key_for(&header, 0).err(), Some(TokenError::UnknownKey));
        header.kid = Some("AAAA".into());
        assert_eq!(keys.key_for(&header, 0).err(), Some(TokenError::UnknownKey));
        header.x5c = Some(vec!["not base64!".into()]);
        assert_eq!(keys.key_for(&header, 0).err(), Some(TokenError::Malformed));
        header.x5c = Some(vec![STANDARD.encode(b"not a certificate")]);
        assert!(matches!(
            keys.key_for(&header, 0),
            Err(TokenError::UntrustedChain { .. })
        ));
    }
}
