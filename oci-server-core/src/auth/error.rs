//! Errors of authorization: why a request was not let in, why a token was refused, and why
//! an htpasswd or auth config file could not be loaded.

use std::{io, path::PathBuf};

use crate::body::BoxError;

/// Why a request is not authorized. Answered with 401 and a challenge, except
/// [`AuthFailure::Denied`] (403).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    /// No credentials, and this route needs some.
    #[error("authentication required")]
    MissingCredentials,
    /// An `Authorization` header of a scheme this registry does not take, or not decodable.
    #[error("unusable Authorization header")]
    MalformedCredentials,
    /// Unknown user or wrong password.
    #[error("invalid username or password for {user:?}")]
    BadCredentials {
        /// The user name given.
        user: String,
    },
    /// A bearer token that cannot be used.
    #[error("invalid token")]
    InvalidToken(#[source] TokenError),
    /// Valid credentials that do not cover what the request needs.
    #[error("insufficient scope: {scope} is needed")]
    InsufficientScope {
        /// The scope needed, as a challenge spells it.
        scope: String,
    },
    /// An authenticated user that is not allowed this request (answered 403 `DENIED`).
    #[error("{subject} may not {scope}")]
    Denied {
        /// The user.
        subject: String,
        /// The scope needed.
        scope: String,
    },
}

/// Why a bearer or refresh token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not `<payload>.<signature>` in base64url, or a payload that is not the expected JSON.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match the payload (tampered, or signed with another key).
    #[error("bad token signature")]
    BadSignature,
    /// The token's lifetime is over.
    #[error("token expired at {expired_at}, now is {now} (Unix seconds)")]
    Expired {
        /// When it expired.
        expired_at: u64,
        /// The clock's reading.
        now: u64,
    },
    /// A token whose `nbf` (not before) is still ahead, beyond the leeway.
    #[error("token not valid before {not_before}, now is {now} (Unix seconds)")]
    NotYetValid {
        /// When it becomes valid.
        not_before: u64,
        /// The clock's reading.
        now: u64,
    },
    /// A JWT issued by an issuer this registry does not trust.
    #[error("token issued by {found:?}, not a trusted issuer")]
    WrongIssuer {
        /// The `iss` it names.
        found: String,
    },
    /// A JWT signed with an algorithm this registry refuses (`none`, HMAC with a public key)
    /// or one that does not fit the key.
    #[error("token signing algorithm {algorithm:?} refused")]
    Algorithm {
        /// The `alg` of its header.
        algorithm: String,
    },
    /// A JWT whose key is none this registry trusts: no `x5c` chain and no `kid` naming a key
    /// of the certificate bundle or the JWKS.
    #[error("token signed by an unknown key")]
    UnknownKey,
    /// A JWT whose `x5c` chain does not lead to a certificate of the bundle.
    #[error("token certificate chain not trusted: {reason}")]
    UntrustedChain {
        /// What the chain check found.
        reason: String,
    },
    /// An access token used as a refresh token, or the other way round.
    #[error("wrong kind of token")]
    WrongKind,
    /// A token issued for another service.
    #[error("token issued for service {found:?}")]
    WrongService {
        /// The service it names.
        found: String,
    },
    /// A refresh token of a user that no longer exists.
    #[error("unknown user {user:?}")]
    UnknownUser {
        /// The token's subject.
        user: String,
    },
}

/// Why an htpasswd or auth config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The file cannot be read.
    #[error("cannot read {path:?}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML or JSON of the expected shape.
    #[error("cannot parse {path:?}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: BoxError,
    },
    /// An htpasswd line that is not `user:hash`.
    #[error("line {line} of an htpasswd file is not `user:bcrypt-hash`")]
    HtpasswdLine {
        /// The line number (1-based).
        line: usize,
    },
    /// A password hash that is not bcrypt (`$2a$`, `$2b$`, `$2y$`).
    #[error("the password hash of {user:?} is not a bcrypt hash")]
    NotBcrypt {
        /// The user.
        user: String,
    },
    /// A certificate or key file that holds nothing usable.
    #[error("{path:?}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A token signing key that does not belong to the first certificate of its chain.
    #[error("the token signing key {key:?} does not match the certificate {certificate:?}")]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate chain file.
        certificate: PathBuf,
    },
    /// A setting that another one needs is missing.
    #[error("`{needed}` is required with `{by}`")]
    Missing {
        /// The missing setting.
        needed: &'static str,
        /// The setting that needs it.
        by: &'static str,
    },
    /// A signing key shorter than 32 bytes.
    #[error("the token signing key has {len} bytes; at least 32 are needed")]
    ShortKey {
        /// Its length.
        len: usize,
    },
}
