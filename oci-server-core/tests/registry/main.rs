//! Integration tests: a real server on 127.0.0.1, spoken to over HTTP.

mod binary;
mod blobs;
mod common;
mod listings;
mod manifests;
mod process;
mod referrers;
mod restart;
mod skopeo;
mod storage;
mod traversal;
mod uploads;
