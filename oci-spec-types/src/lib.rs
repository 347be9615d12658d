//! Types of the OCI image and distribution specs, and of Docker's image formats.
//!
//! The bottom of the workspace's stack, above `oci-digest`: plain data types, no I/O.
//!
//! - [`media_type`] holds [`MediaType`], known types plus `Other`.
//! - [`descriptor`] holds [`Descriptor`] and the empty descriptor.
//! - [`platform`] holds [`Platform`], parsed from `os/arch[/variant]` and matched with variant defaults.
//! - [`manifest`] holds [`ImageManifest`], [`ImageIndex`], Docker schema 2, and [`Manifest`], which
//!   parses bytes (strictly or leniently) and keeps them, so its digest is of the bytes.
//! - [`config`] holds [`ImageConfiguration`].
//! - [`layout`] holds the OCI image layout (`oci-layout`, `index.json`, `blobs/`).
//! - [`annotations`] holds well-known annotation keys.
//! - [`distribution`] holds [`ErrorCode`], [`ErrorResponse`], [`TagList`], [`Catalog`], referrers.
//! - [`reference`](mod@reference) holds [`Reference`] and the name and tag validators.
//! - [`error`] holds the error types.
//!
//! ```
//! use bytes::Bytes;
//! use oci_spec_types::{Manifest, MediaType, Platform, Reference};
//!
//! let reference = Reference::parse("ubuntu")?;
//! assert_eq!(reference.to_string(), "docker.io/library/ubuntu:latest");
//! assert_eq!(reference.api_host(), "registry-1.docker.io");
//!
//! let body = Bytes::from_static(br#"{
//!   "schemaVersion": 2,
//!   "mediaType": "application/vnd.oci.image.index.v1+json",
//!   "manifests": [{
//!     "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!     "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
//!     "size": 2,
//!     "platform": {"architecture": "arm64", "os": "linux"}
//!   }]
//! }"#);
//! let manifest = Manifest::parse_strict(body.clone(), Some("application/vnd.oci.image.index.v1+json"))?;
//! assert_eq!(manifest.media_type(), MediaType::OciImageIndex);
//! assert_eq!(manifest.raw(), &body);
//! let wanted: Platform = "linux/arm64/v8".parse()?;
//! assert!(manifest.index().and_then(|index| index.find_platform(&wanted)).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod annotations;
pub mod config;
pub mod descriptor;
pub mod distribution;
pub mod error;
pub mod layout;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;

pub use oci_digest::{Algorithm, Digest, DigestError};

pub use annotations::ANNOTATION_REF_NAME;
pub use config::{ContainerConfig, History, ImageConfiguration, RootFs};
pub use descriptor::{Descriptor, EMPTY_JSON, EMPTY_JSON_DIGEST};
pub use distribution::error_code::ErrorCode;
pub use distribution::error_response::{ErrorInfo, ErrorResponse};
pub use distribution::referrers::referrers_tag;
pub use distribution::tags::{Catalog, TagList};
pub use error::{DataError, DescriptorLocation, ManifestError, PlatformError, ReferenceError};
pub use layout::{INDEX_FILE, OCI_LAYOUT_FILE, OciLayout};
pub use manifest::Manifest;
pub use manifest::docker::{DockerManifest, DockerManifestList};
pub use manifest::image::ImageManifest;
pub use manifest::index::ImageIndex;
pub use manifest::parsed::Parsed;
pub use media_type::{MANIFEST_MEDIA_TYPES, MediaType};
pub use platform::Platform;
pub use reference::{Reference, Tag, validate_repository, validate_tag};

/// Runs the README's example as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
