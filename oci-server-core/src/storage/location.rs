//! One string names a store: a folder for the filesystem backend, or a URL for an object
//! store. This is what the `oci-registry --storage` flag takes.

use std::sync::Arc;

use super::{FsStorage, Storage};
use crate::error::StorageError;

/// Opens the store `location` names:
///
/// - a path, or a `file://` URL: the filesystem backend (created when missing);
/// - `s3://bucket/prefix`, `gs://...`, `az://...`: the object-storage backend, when the
///   matching cargo feature is on (see [`ObjectStorage::from_url`](super::ObjectStorage::from_url)
///   for the environment each reads).
///
/// Any other scheme gives [`StorageError::UnsupportedScheme`].
pub async fn open_location(location: &str) -> Result<Arc<dyn Storage>, StorageError> {
    open(location, true).await
}

/// Like [`open_location`], for a tool working beside a server that may be running on the
/// same store (garbage collection): a filesystem store is opened with
/// [`FsStorage::attach`], which leaves the server's temporary files alone.
pub async fn attach_location(location: &str) -> Result<Arc<dyn Storage>, StorageError> {
    open(location, false).await
}

async fn open(location: &str, owner: bool) -> Result<Arc<dyn Storage>, StorageError> {
    let folder = match location.split_once("://") {
        None => location,
        Some(("file", path)) => path,
        Some((scheme, _)) => return open_url(location, scheme),
    };
    Ok(Arc::new(if owner {
        FsStorage::open(folder).await?
    } else {
        FsStorage::attach(folder).await?
    }))
}

fn open_url(location: &str, scheme: &str) -> Result<Arc<dyn Storage>, StorageError> {
    match scheme {
        #[cfg(feature = "object-store")]
        _ => Ok(Arc::new(super::ObjectStorage::from_url(location)?)),
        #[cfg(not(feature = "object-store"))]
        other => Err(StorageError::UnsupportedScheme {
            location: location.to_owned(),
            scheme: other.to_owned(),
        }),
    }
}
