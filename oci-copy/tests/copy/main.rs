//! Integration tests of `oci-copy` against real parts: layouts and archives read and
//! written by skopeo and umoci, copies between `oci-registry` and `docker-registry`
//! processes, broken connections and other faults, sync files and the command line.

mod common;

mod archive_names;
mod archives;
mod cli;
mod faults;
mod honest_reports;
mod into_distribution;
mod layout_interop;
mod platforms;
mod refused_manifests;
mod registries;
mod resume;
mod sync;
mod tag_order;
mod verbs;
mod wild;
