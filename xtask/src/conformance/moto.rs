//! `moto_server` for `--storage s3` (conformance and chaos): the test support's [`Moto`],
//! started with its failure as an [`XtaskError`].

pub use oci_test_support::peers::Moto;

use crate::error::XtaskError;

/// Starts moto with its one empty bucket, [`Moto::BUCKET`].
pub fn start() -> Result<Moto, XtaskError> {
    Moto::start(None).map_err(|reason| XtaskError::Peer {
        peer: "moto_server".into(),
        reason,
    })
}
