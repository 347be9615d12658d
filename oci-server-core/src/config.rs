//! Registry behaviour switches and limits.

use std::{num::NonZeroUsize, time::Duration};

use crate::upload_limits::UploadLimits;

/// The smallest manifest limit the distribution spec allows a registry to set (4 MiB).
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// How often a blob's garbage-collection liveness mark is rewritten at most, per process
/// (one minute). Garbage collection's grace period must be longer.
pub const DEFAULT_LIVENESS_REFRESH: Duration = Duration::from_secs(60);

/// The most descriptors in one page of a referrers answer by default.
pub const DEFAULT_REFERRERS_PAGE_SIZE: NonZeroUsize = NonZeroUsize::new(1000).unwrap();

/// How a [`Registry`](crate::Registry) behaves. Start from [`RegistryConfig::default`] and
/// change what you need with the `with_*` setters; the getters of the same names read it.
/// Every value the setters take is valid, so a configuration cannot hold a bad one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// Allow `DELETE` of tags, manifests and blobs; when off they answer 405 `UNSUPPORTED`.
    /// Cancelling an upload is always allowed. Default: off.
    pub(crate) delete_enabled: bool,
    /// The largest manifest accepted, in bytes; bigger pushes get 413. Default: 4 MiB.
    pub(crate) max_manifest_size: u64,
    /// Announced as `OCI-Chunk-Min-Length` when a chunked upload starts. Default: none.
    pub(crate) chunk_min_length: Option<u64>,
    /// A mount without `from` succeeds when the blob is anywhere in the store. Default: on.
    pub(crate) automatic_cross_mount: bool,
    /// Refuse an image manifest whose config or layers are not in the repository
    /// (`MANIFEST_BLOB_UNKNOWN`). Layers with `urls` or non-distributable media types are
    /// never required, and index children never are. Default: on; turning it off accepts
    /// sparse images (see [`RegistryConfig::with_sparse_images`]).
    pub(crate) require_manifest_blobs: bool,
    /// Most descriptors in one page of a referrers answer; more give a `Link` to the next page.
    /// Default: [`DEFAULT_REFERRERS_PAGE_SIZE`].
    pub(crate) referrers_page_size: NonZeroUsize,
    /// A blob read again within this interval of its last liveness mark is not marked again,
    /// which saves a store write per read; what was acknowledged survives garbage collection
    /// for its grace period minus this interval. Default: [`DEFAULT_LIVENESS_REFRESH`].
    pub(crate) liveness_refresh: Duration,
    /// Answer `/metrics`, `/healthz` and `/readyz` beside the API (turn off to serve them on
    /// a listener of their own with `Registry::handle_probe`). Default: on.
    pub(crate) probes: bool,
    /// Caps on open upload sessions (429 `TOOMANYREQUESTS` beyond). Default:
    /// [`UploadLimits::default`].
    pub(crate) upload_limits: UploadLimits,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            delete_enabled: false,
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            chunk_min_length: None,
            automatic_cross_mount: true,
            require_manifest_blobs: true,
            referrers_page_size: DEFAULT_REFERRERS_PAGE_SIZE,
            liveness_refresh: DEFAULT_LIVENESS_REFRESH,
            probes: true,
            upload_limits: UploadLimits::default(),
        }
    }
}

impl RegistryConfig {
    /// Turns deletes on or off.
    pub fn with_delete(mut self, enabled: bool) -> Self {
        self.delete_enabled = enabled;
        self
    }

    /// Sets the manifest size limit in bytes.
    pub fn with_max_manifest_size(mut self, bytes: u64) -> Self {
        self.max_manifest_size = bytes;
        self
    }

    /// Sets the announced minimum chunk length.
    pub fn with_chunk_min_length(mut self, bytes: Option<u64>) -> Self {
        self.chunk_min_length = bytes;
        self
    }

    /// Sets the liveness refresh interval (zero marks on every read).
    pub fn with_liveness_refresh(mut self, refresh: Duration) -> Self {
        self.liveness_refresh = refresh;
        self
    }

    /// Turns the probes beside the API on or off.
    pub fn with_probes(mut self, on: bool) -> Self {
        self.probes = on;
        self
    }

    /// Sets the caps on open upload sessions.
    pub fn with_upload_limits(mut self, limits: UploadLimits) -> Self {
        self.upload_limits = limits;
        self
    }

    /// Accepts (or refuses) image manifests naming a config or layer the repository does not
    /// hold: "sparse" images, which a mirror of some platforms or layers holds and which the
    /// newest conformance harness pushes with its sparse data set. The spec lets a registry
    /// refuse them, with `MANIFEST_BLOB_UNKNOWN`, which is the default.
    pub fn with_sparse_images(mut self, accept: bool) -> Self {
        self.require_manifest_blobs = !accept;
        self
    }

    /// Sets the referrers page size.
    pub fn with_referrers_page_size(mut self, size: NonZeroUsize) -> Self {
        self.referrers_page_size = size;
        self
    }

    /// Turns mounting without `from` on or off.
    pub fn with_automatic_cross_mount(mut self, on: bool) -> Self {
        self.automatic_cross_mount = on;
        self
    }

    /// Whether deletes are on.
    pub fn delete_enabled(&self) -> bool {
        self.delete_enabled
    }

    /// The manifest size limit in bytes.
    pub fn max_manifest_size(&self) -> u64 {
        self.max_manifest_size
    }

    /// The announced minimum chunk length.
    pub fn chunk_min_length(&self) -> Option<u64> {
        self.chunk_min_length
    }

    /// Whether a mount without `from` looks in every repository.
    pub fn automatic_cross_mount(&self) -> bool {
        self.automatic_cross_mount
    }

    /// Whether sparse images are refused.
    pub fn require_manifest_blobs(&self) -> bool {
        self.require_manifest_blobs
    }

    /// The referrers page size.
    pub fn referrers_page_size(&self) -> NonZeroUsize {
        self.referrers_page_size
    }

    /// The liveness refresh interval.
    pub fn liveness_refresh(&self) -> Duration {
        self.liveness_refresh
    }

    /// Whether the probes are answered beside the API.
    pub fn probes(&self) -> bool {
        self.probes
    }

    /// The caps on open upload sessions.
    pub fn upload_limits(&self) -> UploadLimits {
        self.upload_limits
    }
}
