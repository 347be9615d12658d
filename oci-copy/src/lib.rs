//! `oci-copy`: work in progress.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod end;
mod error;

pub use error::{ArchiveProblem, Error, LayoutProblem, Result};
