//! Signing Docker-token JWTs with a key and its certificate chain, so that any registry
//! configured with the chain's root as its `rootcertbundle` (distribution, Harbor, another
//! `oci-registry`) trusts the tokens this registry's token endpoint issues.
//!
//! The header carries the chain (`x5c`, leaf first) and the leaf key's libtrust id (`kid`);
//! the algorithm follows the key: ES256 for a P-256 key, RS256 for RSA, EdDSA for Ed25519
//! (distribution 2.x verifies the first two). At load the key signs a probe that the
//! certificate's key must verify, so a key and certificate that do not belong together fail
//! at start rather than at every client.

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header, Validation};
use rustls_pki_types::CertificateDer;
use webpki::EndEntityCert;

use super::{
    AuthConfigError, TrustedKeys,
    jwt::DockerClaims,
    trust::{key_from_spki, libtrust_key_id, read_certificates},
};

/// Signs Docker-token JWTs as one issuer.
pub struct JwtSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    chain: Vec<CertificateDer<'static>>,
    key_id: String,
    issuer: String,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// A signer with the private key in `key` (PEM: PKCS#8 `PRIVATE KEY`, or PKCS#1
    /// `RSA PRIVATE KEY`) and the certificate chain in `chain` (PEM, the key's certificate
    /// first), writing `iss` = `issuer`.
    pub fn from_files(
        issuer: impl Into<String>,
        key: &Path,
        chain: &Path,
    ) -> Result<Self, AuthConfigError> {
        let certificates = read_certificates(chain)?;
        let bad_chain = |reason: String| AuthConfigError::Pem {
            path: chain.to_owned(),
            reason,
        };
        let leaf = EndEntityCert::try_from(&certificates[0])
            .map_err(|e| bad_chain(format!("unusable certificate: {e}")))?;
        let spki = leaf.subject_public_key_info();
        let public = key_from_spki(spki.as_ref())
            .ok_or_else(|| bad_chain("a certificate whose key is not RSA, EC or Ed25519".into()))?;
        let key_id = libtrust_key_id(spki.as_ref());
        drop(leaf);

        let pem = std::fs::read(key).map_err(|source| AuthConfigError::Read {
            path: key.to_owned(),
            source,
        })?;
        let (algorithm, private) = match public.family() {
            AlgorithmFamily::Ec => (Algorithm::ES256, EncodingKey::from_ec_pem(&pem)),
            AlgorithmFamily::Rsa => (Algorithm::RS256, EncodingKey::from_rsa_pem(&pem)),
            AlgorithmFamily::Ed => (Algorithm::EdDSA, EncodingKey::from_ed_pem(&pem)),
            AlgorithmFamily::Hmac => return Err(bad_chain("not a public key".into())),
        };
        let mismatch = || AuthConfigError::KeyMismatch {
            key: key.to_owned(),
            certificate: chain.to_owned(),
        };
        let private = private.map_err(|_| mismatch())?;

        // The probe: signed by the private key, verified by the certificate's key.
        let probe =
            jsonwebtoken::encode(&Header::new(algorithm), &ProbeClaims { exp: 0 }, &private)
                .map_err(|_| mismatch())?;
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        jsonwebtoken::decode::<ProbeClaims>(&probe, &public, &validation)
            .map_err(|_| mismatch())?;

        Ok(Self {
            key: private,
            algorithm,
            chain: certificates,
            key_id,
            issuer: issuer.into(),
        })
    }

    /// The `iss` of the tokens it signs.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Trusts this signer's tokens in `keys`: the chain's last certificate becomes a root.
    pub(crate) fn trust_in(&self, keys: &mut TrustedKeys) -> Result<(), AuthConfigError> {
        match self.chain.last() {
            Some(root) => keys.add_root(root.clone(), Path::new("the token signing chain")),
            None => Ok(()),
        }
    }

    /// The signed token.
    pub(crate) fn sign(
        &self,
        claims: &DockerClaims,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.algorithm);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.key_id.clone());
        header.x5c = Some(self.chain.iter().map(|c| STANDARD.encode(c)).collect());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

/// The smallest claims `jsonwebtoken` signs and reads back.
#[derive(serde::Serialize, serde::Deserialize)]
struct ProbeClaims {
    exp: u64,
}
