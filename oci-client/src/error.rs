//! The crate's error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The feature asked for is not built yet.
    #[error("not implemented yet: {0}")]
    Unimplemented(&'static str),
}
