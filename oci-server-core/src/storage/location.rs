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
    let Some((scheme, rest)) = location.split_once("://") else {
        return Ok(Arc::new(FsStorage::open(location).await?));
    };
    match scheme {
        "file" => Ok(Arc::new(FsStorage::open(rest).await?)),
        #[cfg(feature = "object-store")]
        _ => Ok(Arc::new(super::ObjectStorage::from_url(location)?)),
        #[cfg(not(feature = "object-store"))]
        other => Err(StorageError::UnsupportedScheme {
            location: location.to_owned(),
            scheme: other.to_owned(),
        }),
    }
}
