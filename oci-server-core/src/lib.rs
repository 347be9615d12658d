//! `oci-server-core`: work in progress; see the workspace README for the plan.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;

pub use error::Error;
