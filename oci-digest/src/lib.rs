//! Content digests for OCI images and registries.
//!
//! A [`Digest`] such as `sha256:e3b0c442…` is parsed and validated against the OCI grammar
//! (`sha256` and `sha512` also for length and lowercase hex; other algorithms are kept as
//! [`Algorithm::Other`], parseable but not computable). A [`Digester`] hashes incrementally at
//! the machine's SHA-NI speed and can save and restore its state, so an upload can resume in
//! another process. The verifying adapters check content on its way through without ever
//! holding it whole: [`VerifyingReader`] for [`std::io::Read`] and, with the default `async`
//! feature, [`VerifyingAsyncRead`] for tokio's `AsyncRead` and [`VerifyingStream`] for
//! streams of [`bytes::Bytes`]. They fail as soon as content runs past its expected size, and
//! at its end when size or digest differ.
//!
//! ```
//! use std::io::Read;
//! use oci_digest::{Digest, DigestError, Digester, VerifyingReader};
//!
//! // Parse, print, compare.
//! let digest: Digest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//!     .parse()?;
//! assert_eq!(digest.encoded().len(), 64);
//! assert_eq!(Digest::compute(b"abc"), digest);
//!
//! // Hash in pieces, pausing in between.
//! let mut digester = Digester::sha256();
//! digester.update(b"a");
//! let saved = digester.save_state();
//! let mut digester = Digester::restore_state(digest.algorithm(), &saved)?;
//! digester.update(b"bc");
//! assert_eq!(digester.finish(), digest);
//!
//! // Verify while reading.
//! let mut reader = VerifyingReader::new(&b"abd"[..], digest.clone(), Some(3))?;
//! let error = reader.read_to_end(&mut Vec::new()).unwrap_err();
//! assert!(matches!(
//!     DigestError::from_io(&error),
//!     Some(DigestError::Mismatch { expected, .. }) if *expected == digest
//! ));
//!
//! // Bad input is a typed error, never a panic.
//! assert!(matches!(Digest::parse("sha256:xyz"), Err(DigestError::Invalid { .. })));
//! # Ok::<(), DigestError>(())
//! ```
//!
//! # Features
//!
//! - `async` (default): [`VerifyingAsyncRead`] and [`VerifyingStream`], with dependencies on
//!   tokio (the `AsyncRead` trait only, no runtime), `bytes`, `futures-core` and
//!   `pin-project-lite`.
//! - `keyed-locks`: [`KeyedLocks`], async locks by key whose entries live only while used
//!   (tokio's `sync` module, no runtime). It is here, off by default, because oci-digest is
//!   the one crate every other crate of the workspace depends on, and all of them need it.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod algorithm;
mod digest;
mod digester;
mod error;
mod grammar;
#[cfg(feature = "keyed-locks")]
mod keyed_locks;
mod serde_impls;
mod state;
mod verifier;
#[cfg(feature = "async")]
mod verify_async;
mod verify_read;
#[cfg(feature = "async")]
mod verify_stream;

pub use algorithm::Algorithm;
pub use digest::Digest;
pub use digester::Digester;
#[cfg(feature = "async")]
pub use error::VerifyStreamError;
pub use error::{DigestError, MAX_ECHOED_INPUT, reason};
#[cfg(feature = "keyed-locks")]
pub use keyed_locks::{KeyedGuard, KeyedLocks};
#[cfg(feature = "async")]
pub use verify_async::VerifyingAsyncRead;
pub use verify_read::VerifyingReader;
#[cfg(feature = "async")]
pub use verify_stream::VerifyingStream;

/// The digest of empty content, which OCI uses often (e.g. for empty layers).
pub const EMPTY_SHA256: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The longest digest text accepted, in bytes. sha512 digests need 135; the cap leaves room
/// for other algorithms while refusing hostile input before it is scanned.
pub const MAX_DIGEST_LEN: usize = 1024;

/// Runs the README's example as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
