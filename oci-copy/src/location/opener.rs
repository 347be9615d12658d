//! Opening locations as ends, sharing one registry client.

use std::sync::Arc;

use oci_distribution_client::{Client, Repository};
use oci_spec_types::Reference;

use super::Location;
use crate::end::{
    DockerArchiveSink, DockerArchiveSource, LayoutSink, LayoutSource, OciArchiveSink,
    OciArchiveSource, RegistryEnd, RegistryOptions, Sink, Source,
};
use crate::error::Result;

/// Opens locations as ends, sharing one registry client.
#[derive(Debug, Clone)]
pub struct Opener {
    /// The client registry ends use.
    pub client: Client,
    /// How registry ends push blobs.
    pub registry: RegistryOptions,
}

impl Opener {
    /// An opener with `client` and default registry options.
    pub fn new(client: Client) -> Self {
        Opener {
            client,
            registry: RegistryOptions::default(),
        }
    }

    fn registry_end(&self, reference: &Reference) -> RegistryEnd {
        RegistryEnd::new(
            self.client.clone(),
            Repository::from(reference),
            self.registry,
        )
    }

    /// Opens `location` for reading.
    pub async fn source(&self, location: &Location) -> Result<Arc<dyn Source>> {
        Ok(match location {
            Location::Registry { reference, .. } => Arc::new(self.registry_end(reference)),
            Location::Layout { path, .. } => Arc::new(LayoutSource::open(path.clone()).await?),
            Location::OciArchive { path, .. } => {
                Arc::new(OciArchiveSource::open(path.clone()).await?)
            }
            Location::DockerArchive { path, .. } => {
                Arc::new(DockerArchiveSource::open(path.clone()).await?)
            }
        })
    }

    /// Opens `location` for writing. A Docker archive without a name takes
    /// `default_repository` (the source's) for its `RepoTags`.
    pub async fn sink(
        &self,
        location: &Location,
        default_repository: Option<String>,
    ) -> Result<Arc<dyn Sink>> {
        Ok(match location {
            Location::Registry { reference, .. } => Arc::new(self.registry_end(reference)),
            Location::Layout { path, .. } => Arc::new(LayoutSink::create(path.clone()).await?),
            Location::OciArchive { path, .. } => {
                Arc::new(OciArchiveSink::create(path.clone()).await?)
            }
            Location::DockerArchive { path, .. } => {
                let repository = location.image_name().or(default_repository);
                Arc::new(DockerArchiveSink::create(path.clone(), repository).await?)
            }
        })
    }
}
