//! `oci-server-core`: an OCI distribution-spec registry you can embed.
//!
//! A [`Registry`] turns an [`http::Request`] with a streaming body into an
//! [`http::Response<ResponseBody>`], serving every distribution-spec endpoint (pull, push with
//! monolithic, chunked and streamed uploads, cross-repository mounts, tag listing, referrers,
//! deletes, the catalog). Content streams from the socket to disk and back, with digests
//! computed on the way in; only manifests (capped) are ever held whole in memory.
//!
//! Storage sits behind the object-safe [`Storage`] trait. [`FsStorage`] keeps
//! content-addressed blobs and small metadata objects on a local filesystem with crash-safe
//! writes (temporary file, fsync, rename, folder fsync); `storage::ObjectStorage` (features
//! `object-store`, `s3`, `gcs`, `azure`) keeps them in a bucket, so several stateless
//! registry processes can share one. Upload sessions, including their saved hashing state,
//! live in the store, so a restarted server (or another instance) resumes a chunked upload.
//!
//! An [`Authorizer`] decides who may do what: [`Anonymous`] (the default), [`BasicAuthorizer`]
//! (htpasswd, bcrypt) or [`TokenAuthorizer`] (the Docker token flow with a token endpoint
//! served by the registry itself and per-repository grants, HMAC tokens or Docker-token JWTs
//! that other registries trust, and the JWTs of external token services); see [`auth`]. [`gc`] collects
//! unreferenced blobs and, when asked, untagged manifests while the registry serves. With the
//! `pull-through` feature, `pull_through` mirrors upstream registries.
//!
//! With the `serve` feature (default) [`serve`] and [`serve_with`] put a registry on the
//! network: HTTP/1.1 and HTTP/2, HTTPS through rustls with certificate reloading and mutual
//! TLS, and the timeouts and caps an open network needs ([`server`]). The `axum` feature
//! (default) adds [`router`] and [`RegistryService`] for embedding in a larger application;
//! the `bin` feature builds the `oci-registry` binary.
//!
//! ```
//! use http::{Request, StatusCode};
//! use http_body_util::Empty;
//! use bytes::Bytes;
//! use oci_server_core::{Registry, RegistryConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = tempfile::tempdir()?;
//! let registry = Registry::open_fs(root.path(), RegistryConfig::default()).await?;
//!
//! let answer = registry
//!     .handle(Request::get("/v2/").body(Empty::<Bytes>::new())?)
//!     .await;
//! assert_eq!(answer.status(), StatusCode::OK);
//! assert_eq!(answer.headers()["docker-distribution-api-version"], "registry/2.0");
//!
//! let missing = registry
//!     .handle(Request::get("/v2/library/alpine/manifests/latest").body(Empty::<Bytes>::new())?)
//!     .await;
//! assert_eq!(missing.status(), StatusCode::NOT_FOUND);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "axum")]
mod adapter;
pub mod auth;
mod body;
mod config;
mod error;
mod gate;
pub mod gc;
mod handlers;
mod log_limit;
mod names;
pub mod observe;
mod operation;
#[cfg(feature = "pull-through")]
pub mod pull_through;
mod query;
pub mod range;
mod registry;
mod response;
mod routes;
#[cfg(feature = "serve")]
pub mod server;
pub mod storage;
mod store;
pub mod upload_limits;
mod zero_copy;

#[cfg(feature = "axum")]
pub use adapter::{RegistryService, probe_router, router};
pub use auth::{Anonymous, Authorizer, BasicAuthorizer, Permissions, TokenAuthorizer};
pub use body::{BoxError, ByteStream, ResponseBody};
pub use config::{
    DEFAULT_LIVENESS_REFRESH, DEFAULT_MAX_MANIFEST_SIZE, DEFAULT_REFERRERS_PAGE_SIZE,
    RegistryConfig,
};
pub use error::{Error, StorageError};
pub use gc::{GcOptions, GcReport, collect_garbage};
pub use names::{RepoName, Tag, UploadId};
pub use registry::Registry;
pub use routes::{ManifestRef, Route};
#[cfg(feature = "serve")]
pub use server::{ServeOptions, serve, serve_probes_with, serve_with};
pub use storage::{FsStorage, MemoryStorage, Storage};
pub use upload_limits::UploadLimits;
