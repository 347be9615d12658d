//! Integration tests of `oci-copy` against real parts: layouts and archives read and
//! written by skopeo and umoci, copies between `oci-registry` and `docker-registry`
//! processes (and `olareg`, where the shared peers folder has it), broken connections and
//! other faults, sync files, the command line and its registry verbs.

mod common;

mod archive_names;
mod archives;
mod artifacts;
mod cli;
mod faults;
mod honest_reports;
mod into_distribution;
mod layout_interop;
mod login;
mod olareg;
mod platforms;
mod refused_manifests;
mod registries;
mod resume;
mod sync;
mod tag_order;
mod verbs;
mod verbs_write;
mod verification;
mod wild;
