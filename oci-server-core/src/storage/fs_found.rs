//! Absent is an answer, not a failure: the filesystem backend asks the disk whether a blob,
//! object, marker or session exists by trying to use it, so `NotFound` means "no" everywhere,
//! and only other errors are storage failures. A listing of a folder that is not there is
//! empty, likewise.

use std::{fs, io, path::Path};

use crate::error::StorageError;

/// `Some` of what `attempt` found, `None` when nothing was at `path`, else the failure of
/// `operation`.
pub(super) fn found<T>(
    attempt: io::Result<T>,
    operation: &'static str,
    path: &Path,
) -> Result<Option<T>, StorageError> {
    match attempt {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(operation, path, e)),
    }
}

/// The entries of the folder at `dir`; `None` when nothing is there, or a file (a key that
/// names an object is an empty folder to a listing).
pub(super) fn folder(dir: &Path) -> Result<Option<fs::ReadDir>, StorageError> {
    match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(None),
        read => found(read, "list", dir),
    }
}
