//! A pull-through cache: repositories under a configured prefix mirror an upstream
//! registry. Manifests missing from the store are fetched and kept (by digest for good, by
//! tag for a time to live); a blob missing from the store streams from upstream to the
//! client while it is stored, and concurrent misses of one blob share one upstream fetch.
//! Tag lists come from upstream. When the upstream cannot answer (unreachable, 5xx, 429),
//! whatever the cache holds is served; when it answers that a tag or repository is gone, it
//! is gone here too. Content the store already holds for another repository is linked once
//! upstream confirms the repository has it, never downloaded again.
//!
//! Configured from TOML:
//!
//! ```toml
//! tag_ttl_secs = 300          # optional; how long a cached tag is trusted
//!
//! [[upstream]]
//! prefix = "hub"              # local `hub/alpine` is upstream `library/alpine`
//! url = "https://registry-1.docker.io"
//! docker_hub = true           # one-component names get `library/`
//! username = "me"             # optional
//! password = "token"          # optional
//!
//! [[upstream]]
//! prefix = "mirror"           # local `mirror/a/b` is upstream `a/b`
//! url = "http://127.0.0.1:5001"
//! ```

mod blobs;
mod lookups;
mod manifests;
mod upstream;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use oci_digest::Digest;
use serde::Deserialize;

pub use self::upstream::upstream_name;
pub(crate) use self::{blobs::BlobMiss, lookups::Upstream};
use self::{blobs::Inflight, upstream::UpstreamClient};
use crate::names::RepoName;

/// The cache's configuration. See the [module docs](self) for the file format.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullThroughConfig {
    /// How long a cached tag is served without asking upstream again, in seconds. Default:
    /// 300.
    #[serde(default = "default_tag_ttl")]
    pub tag_ttl_secs: u64,
    /// The upstream registries.
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<UpstreamConfig>,
}

fn default_tag_ttl() -> u64 {
    300
}

/// One upstream registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The local repository prefix it serves (`hub` serves `hub/...`); empty serves every
    /// repository.
    pub prefix: String,
    /// The registry's base URL (`https://registry-1.docker.io`, `http://127.0.0.1:5001`).
    pub url: String,
    /// Docker Hub: one-component names are looked up under `library/`.
    #[serde(default)]
    pub docker_hub: bool,
    /// Username for the upstream.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (or token) for the upstream.
    #[serde(default)]
    pub password: Option<String>,
}

impl PullThroughConfig {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> Result<Self, PullThroughError> {
        let text = std::fs::read_to_string(path).map_err(|source| PullThroughError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| PullThroughError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }
}

/// The running cache: one client per upstream and the blob fetches in flight.
#[derive(Debug)]
pub struct PullThrough {
    upstreams: Vec<UpstreamClient>,
    tag_ttl: Duration,
    inflight: Mutex<HashMap<(RepoName, Digest), Arc<Inflight>>>,
}

impl PullThrough {
    /// Builds the cache's upstream clients.
    pub fn new(config: PullThroughConfig) -> Result<Self, PullThroughError> {
        let upstreams = config
            .upstreams
            .into_iter()
            .map(UpstreamClient::new)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            upstreams,
            tag_ttl: Duration::from_secs(config.tag_ttl_secs),
            inflight: Mutex::default(),
        })
    }

    /// The upstream serving `name`, and the repository there: the longest matching prefix
    /// wins.
    /// Whether `name` is mirrored from an upstream.
    pub(crate) fn mirrors(&self, name: &RepoName) -> bool {
        self.route(name).is_some()
    }

    fn route(
        &self,
        name: &RepoName,
    ) -> Option<(&UpstreamClient, oci_distribution_client::Repository)> {
        self.upstreams
            .iter()
            .filter_map(|u| u.repository(name).map(|r| (u, r)))
            .max_by_key(|(u, _)| u.prefix_len())
    }
}

/// Why the cache cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum PullThroughError {
    /// The config file cannot be read.
    #[error("cannot read {path:?}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not the expected TOML.
    #[error("cannot parse {path:?}")]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An upstream URL that is not `http(s)://host[:port]`.
    #[error("upstream URL {url:?} is not http(s)://host[:port]")]
    BadUrl {
        /// The URL as configured.
        url: String,
    },
    /// The registry client cannot be built.
    #[error("cannot build the client for upstream {url:?}")]
    Client {
        /// The upstream.
        url: String,
        /// The client's error.
        #[source]
        source: Box<oci_distribution_client::Error>,
    },
}
