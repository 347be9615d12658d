//! Opening a cloud object store from a URL, with credentials and endpoints taken from the
//! environment the way each cloud's tools read them.

use std::sync::Arc;

use object_store::ObjectStore;

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
        let store = build(location, url.scheme())?;
        Self::new(store, url.path())
    }
}

fn build(location: &str, scheme: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    match scheme {
        #[cfg(feature = "s3")]
        "s3" | "s3a" => object_store::aws::AmazonS3Builder::from_env()
            .with_url(location)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>)
            .map_err(|e| config_error(location, e)),
        #[cfg(feature = "gcs")]
        "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_url(location)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>)
            .map_err(|e| config_error(location, e)),
        #[cfg(feature = "azure")]
        "az" | "azure" | "abfs" | "abfss" => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(location)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>)
            .map_err(|e| config_error(location, e)),
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
