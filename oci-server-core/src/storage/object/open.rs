//! Opening a cloud object store from a URL, with credentials and endpoints taken from the
//! environment the way each cloud's tools read them.

use super::ObjectStorage;
use crate::error::StorageError;

impl ObjectStorage {
    /// Opens the bucket a URL names; the URL's path is the key prefix. Schemes, each behind
    /// its cargo feature:
    ///
    /// - `s3://bucket/prefix` (`s3`): `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///   `AWS_REGION`, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`) for S3-compatible servers,
    ///   `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint, and the other `AWS_*` settings of
    ///   `object_store::aws::AmazonS3Builder::from_env`;
    /// - `gs://bucket/prefix` (`gcs`): `GOOGLE_SERVICE_ACCOUNT` and the other `GOOGLE_*`
    ///   settings;
    /// - `az://container/prefix` (`azure`): `AZURE_STORAGE_ACCOUNT_NAME`,
    ///   `AZURE_STORAGE_ACCOUNT_KEY` and the other `AZURE_*` settings.
    ///
    /// Nothing is contacted yet; the first request tells whether the bucket answers.
    pub fn from_url(location: &str) -> Result<Self, StorageError> {
        let url = url::Url::parse(location).map_err(|e| config_error(location, e))?;
        open(location, url.scheme(), url.path())
    }
}

/// The store of `scheme` at `location`, listing by pages (each of the clouds can).
// Built without a cloud's feature, every scheme is refused and `prefix` goes unused.
#[cfg_attr(
    not(any(feature = "s3", feature = "gcs", feature = "azure")),
    allow(unused_variables)
)]
fn open(location: &str, scheme: &str, prefix: &str) -> Result<ObjectStorage, StorageError> {
    match scheme {
        #[cfg(feature = "s3")]
        "s3" | "s3a" => object_store::aws::AmazonS3Builder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| config_error(location, e))
            .and_then(|store| {
                ObjectStorage::with_paged_listing(std::sync::Arc::new(store), prefix)
            }),
        #[cfg(feature = "gcs")]
        "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| config_error(location, e))
            .and_then(|store| {
                ObjectStorage::with_paged_listing(std::sync::Arc::new(store), prefix)
            }),
        #[cfg(feature = "azure")]
        "az" | "azure" | "abfs" | "abfss" => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| config_error(location, e))
            .and_then(|store| {
                ObjectStorage::with_paged_listing(std::sync::Arc::new(store), prefix)
            }),
        other => Err(StorageError::UnsupportedScheme {
            location: location.to_owned(),
            scheme: other.to_owned(),
        }),
    }
}

fn config_error(
    location: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> StorageError {
    StorageError::Config {
        location: location.to_owned(),
        source: Box::new(source),
    }
}
