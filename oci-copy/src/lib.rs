//! Copy and mirror OCI images between registries, image layouts and archives.
//!
//! A copy has two halves. The **planner** ([`plan::build_plan`]) reads the source graph
//! (index, manifests, configs, layers; referrers and digest tags on request), asks the
//! destination what it already has, and returns a [`Plan`]: a DAG of steps (skip, mount,
//! copy blob, put manifest by digest, tag) that prints as a tree and serialises to JSON.
//! The **executor** ([`execute::execute`]) runs a plan: a bounded number of steps at once
//! per registry, each blob once however many platforms share it, mounts before copies,
//! every byte verified against its digest and streamed (never held whole), broken
//! transfers resumed, children before parents and tags last (a child's tags before its
//! index's, so no registry writes a manifest and one it names at once).
//!
//! | module | job |
//! |---|---|
//! | [`end`] | the [`Source`] and [`Sink`] traits and their ends: registry, layout, OCI archive, Docker archive |
//! | [`location`] | the reference forms (`docker://`, `oci:`, `oci-archive:`, `docker-archive:`) and opening them |
//! | [`plan`] | [`Plan`], [`CopyOptions`] and the planner |
//! | [`execute`] | the executor, its options, events and report |
//! | [`filter`] | tag filters (regex, semver), platform lists, artifact types |
//! | [`sync`] | mirroring from a TOML sync file |
//! | [`error`] | [`Error`] |
//!
//! Digests survive every copy byte for byte, except into a Docker archive, whose format
//! has no place for the manifest: config and layer digests are kept, the manifest is
//! regenerated (see [`end::DockerArchiveSink`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), oci_copy::Error> {
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use oci_copy::end::{LayoutSink, LayoutSource, Sink};
//! use oci_copy::{CopyOptions, ExecuteOptions, ImagePair, copy};
//! use oci_spec_types::{Descriptor, Digest, ImageManifest, Manifest, MediaType};
//!
//! // Write a one-layer image into a layout, as any tool would.
//! let dir = tempfile::tempdir().map_err(|e| oci_copy::Error::Io { path: ".".into(), source: e })?;
//! let layout = LayoutSink::create(dir.path().join("a")).await?;
//! let mut blobs = Vec::new();
//! for (media_type, content) in [(MediaType::OciImageConfig, &b"{}"[..]), (MediaType::OciLayerTar, b"layer")] {
//!     let descriptor = Descriptor::new(media_type, Digest::compute(content), content.len() as u64);
//!     layout.put_blob(&descriptor, &Bytes::copy_from_slice(content)).await?;
//!     blobs.push(descriptor);
//! }
//! let manifest = Manifest::from_image(ImageManifest::new(blobs[0].clone(), vec![blobs[1].clone()])).unwrap();
//! let root = Descriptor::new(manifest.media_type(), manifest.digest(), manifest.size());
//! layout.put_manifest(&root, manifest.raw().clone()).await?;
//! layout.tag(Some("v1"), &root).await?;
//!
//! // Copy it to another layout, then again: the second plan has nothing to do.
//! let source = Arc::new(LayoutSource::open(dir.path().join("a")).await?);
//! let sink = Arc::new(LayoutSink::create(dir.path().join("b")).await?);
//! let (plan, report) = copy(source.clone(), sink.clone(), &[ImagePair::tag("v1")], &CopyOptions::default(), &ExecuteOptions::default()).await?;
//! assert_eq!(plan.summary().blobs, 2);
//! assert_eq!(report.bytes_copied(), 7);
//! let (again, _) = copy(source, sink, &[ImagePair::tag("v1")], &CopyOptions::default(), &ExecuteOptions::default()).await?;
//! assert!(again.is_noop());
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod end;
pub mod error;
pub mod execute;
pub mod filter;
pub mod location;
pub mod plan;
pub mod sync;

use std::sync::Arc;

pub use end::{Selector, Sink, Source};
pub use error::{ArchiveProblem, Error, LayoutProblem, Result};
pub use execute::{
    DEFAULT_CONCURRENCY, DEFAULT_RETRIES, Event, ExecuteOptions, Limits, Outcome, Report,
    StepResult,
};
pub use location::{Location, Opener};
pub use plan::{CopyOptions, DEFAULT_CHECK_CONCURRENCY, ImagePair, Plan};

/// Plans copying `images` from `source` to `sink`, runs the plan, and returns both;
/// fails with [`Error::StepsFailed`] when a step failed.
pub async fn copy(
    source: Arc<dyn Source>,
    sink: Arc<dyn Sink>,
    images: &[ImagePair],
    copy_options: &CopyOptions,
    execute_options: &ExecuteOptions,
) -> Result<(Plan, Report)> {
    let plan = plan::build_plan(source.as_ref(), sink.as_ref(), images, copy_options).await?;
    let report = execute::execute(&plan, source, sink, execute_options)
        .await?
        .into_result()?;
    Ok((plan, report))
}

/// Compiles the README's library example, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
