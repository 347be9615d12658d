//! The distribution-spec endpoints, one file each, all as methods of [`Client`](crate::Client).

pub mod base;
mod blob_range;
pub mod blob_stream;
pub mod blobs;
pub mod catalog;
pub mod manifests;
pub mod mount;
mod pages;
pub mod push;
pub mod referrers;
pub mod search;
pub mod tags;
pub mod uploads;
