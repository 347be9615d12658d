//! An async client for OCI distribution-spec registries, on reqwest and tokio.
//!
//! Published as `oci-distribution-client` (the name `oci-client` on crates.io belongs to
//! another project); in Rust code the crate is `oci_distribution_client`.
//!
//! One [`Client`], cheap to clone, built from a [`ClientConfig`], covers every endpoint of
//! the spec. Blobs stream in both directions and are verified against their digests on the
//! way; downloads resume with `Range` after a dropped connection. Authentication is
//! transparent: a `401` challenge is answered (Basic, or a Bearer token for the right scope
//! from [`oci_auth`]) and the request retried once. Transient failures are retried with
//! backoff ([`retry`]). Progress comes as [`ProgressEvent`]s; logs go through `tracing`.
//!
//! | module | job |
//! |---|---|
//! | [`config`] | [`ClientConfig`] and its builder |
//! | [`tls`] | [`Certificates`], [`Identity`] and the rustls configuration |
//! | [`containers`] | `certs.d` and `registries.conf`, read when asked |
//! | [`retry`] | the pure backoff and retry rules |
//! | [`progress`] | [`ProgressEvent`] and the [`Progress`] sink |
//! | [`endpoints`] | the endpoints, one file each, as methods of [`Client`] |
//! | [`relay`] | a blob from registry to registry by `splice`, its bytes never in user space |
//! | [`image`] | whole images: platform resolution, pull into files, push from blobs |
//! | [`error`] | [`Error`] |
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use oci_distribution_client::{Client, ClientConfig, Repository};
//! use oci_spec_types::Reference;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ClientConfig::default())?;
//! let reference = Reference::parse("127.0.0.1:5000/library/alpine:3.20")?;
//!
//! let manifest = client.pull_manifest(&reference).await?;
//! println!("{} is {}", reference, manifest.digest);
//!
//! let repository = Repository::from(&reference);
//! for layer in manifest.parse()?.blobs() {
//!     let mut blob = client.get_blob(&repository, &layer.digest, Some(layer.size)).await?;
//!     while let Some(chunk) = blob.try_next().await? {
//!         // Write `chunk` somewhere: the stream ends with an error if the digest is wrong.
//!         let _ = chunk;
//!     }
//! }
//! let tags: Vec<String> = client.list_tags(&repository, Some(100)).try_collect().await?;
//! # let _ = tags;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
pub mod config;
pub mod containers;
pub mod endpoints;
pub mod error;
mod headers;
pub mod image;
pub mod progress;
pub mod relay;
mod repository;
mod request;
mod response;
pub mod retry;
pub mod tls;
mod transport;

pub use client::Client;
pub use config::{ClientConfig, ClientConfigBuilder, CredentialSource};
pub use containers::ContainersConventions;
pub use endpoints::base::PingInfo;
pub use endpoints::blob_stream::BlobStream;
pub use endpoints::blobs::BlobInfo;
pub use endpoints::manifests::{ManifestInfo, PulledManifest, PushedManifest};
pub use endpoints::mount::MountOutcome;
pub use endpoints::push::UploadMethod;
pub use endpoints::referrers::{
    MAX_FALLBACK_INDEX_WRITES, PushedReferrer, Referrers, ReferrersSource,
};
pub use endpoints::uploads::{PushedBlob, UploadSession};
pub use error::{Error, ErrorKind};
pub use image::pull::PulledImage;
pub use image::push::Blob;
pub use progress::{Direction, Progress, ProgressEvent};
pub use relay::{Declined, Relayed, RelayedChunks};
pub use repository::{ManifestReference, Repository};
pub use retry::RetryPolicy;
pub use tls::{Certificates, Identity, TlsError};

/// Runs the README's example as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
