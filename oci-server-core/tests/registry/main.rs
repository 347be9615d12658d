//! Integration tests: a real server on 127.0.0.1, spoken to over HTTP.

mod auth;
mod binary;
mod blobs;
mod common;
mod config_file;
mod connections;
mod crash;
mod gc;
mod gc_liveness;
mod hostile;
mod listings;
mod manifests;
mod methods;
#[cfg(feature = "s3")]
mod object_storage;
mod observe;
mod podman;
mod process;
#[cfg(feature = "pull-through")]
mod pull_through;
mod referrers;
mod restart;
#[cfg(feature = "s3")]
mod s3_peers;
mod skopeo;
mod skopeo_auth;
mod storage;
mod storage_contract;
mod tls;
mod traversal;
mod upload_caps;
mod uploads;
mod zero_copy;
