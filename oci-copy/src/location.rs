//! Where images are: the reference forms the CLI and sync files take, and opening them as
//! ends.
//!
//! | form | end |
//! |---|---|
//! | `registry/repo[:tag][@digest]`, `docker://registry/repo[:tag][@digest]` | a registry repository |
//! | `oci:DIR[:tag]` | an image layout folder |
//! | `oci-archive:FILE[:tag]` | an image layout in a tar archive |
//! | `docker-archive:FILE[:name:tag]` | a `docker save` archive |

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use oci_distribution_client::{Client, Repository};
use oci_spec_types::{Digest, Reference};

use crate::end::{
    DockerArchiveSink, DockerArchiveSource, LayoutSink, LayoutSource, OciArchiveSink,
    OciArchiveSource, RegistryEnd, RegistryOptions, Selector, Sink, Source,
};
use crate::error::{Error, Result};

/// A parsed image location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A registry repository, with the tag or digest given.
    Registry {
        /// The normalised reference (`latest` when neither tag nor digest was written).
        reference: Reference,
        /// Whether a tag or digest was written (not defaulted).
        explicit: bool,
    },
    /// An image layout folder.
    Layout {
        /// The folder.
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` to read or write.
        tag: Option<String>,
    },
    /// An image layout in a tar archive.
    OciArchive {
        /// The archive.
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` to read or write.
        tag: Option<String>,
    },
    /// A Docker archive.
    DockerArchive {
        /// The archive.
        path: PathBuf,
        /// `name:tag` of the image (its `RepoTags` entry).
        name: Option<String>,
    },
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let split = split_path;
        let empty_path = |path: &PathBuf| path.as_os_str().is_empty();
        let location = if let Some(rest) = input.strip_prefix("oci:") {
            let (path, tag) = split(rest);
            Location::Layout { path, tag }
        } else if let Some(rest) = input.strip_prefix("oci-archive:") {
            let (path, tag) = split(rest);
            Location::OciArchive { path, tag }
        } else if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (path, name) = split(rest);
            Location::DockerArchive { path, name }
        } else {
            if let Some((scheme, _)) = input.split_once("://")
                && scheme != "docker"
            {
                return Err(Error::UnknownTransport {
                    input: input.to_owned(),
                    transport: scheme.to_owned(),
                });
            }
            let text = input.strip_prefix("docker://").unwrap_or(input);
            let reference =
                Reference::parse(text).map_err(|source| Error::reference(input, source))?;
            let last = text.rsplit('/').next().unwrap_or(text);
            let explicit = last.contains(':') || last.contains('@');
            return Ok(Location::Registry {
                reference,
                explicit,
            });
        };
        match &location {
            Location::Layout { path, .. }
            | Location::OciArchive { path, .. }
            | Location::DockerArchive { path, .. }
                if empty_path(path) =>
            {
                Err(Error::Unsupported {
                    end: input.to_owned(),
                    operation: "an empty path",
                })
            }
            _ => Ok(location),
        }
    }
}

/// Splits `PATH[:tag]`, `PATH@N` or `PATH@digest`; the last two keep their `@`, which
/// tells a position or digest from a tag (no tag starts with `@`).
fn split_path(rest: &str) -> (PathBuf, Option<String>) {
    if let Some((path, chosen)) = rest.rsplit_once('@')
        && (chosen.parse::<usize>().is_ok() || Digest::parse(chosen).is_ok())
    {
        return (PathBuf::from(path), Some(format!("@{chosen}")));
    }
    match rest.split_once(':') {
        Some((path, tag)) if !tag.is_empty() => (PathBuf::from(path), Some(tag.to_owned())),
        Some((path, _)) => (PathBuf::from(path), None),
        None => (PathBuf::from(rest), None),
    }
}

/// What the part after a layout's or archive's path selects: `@N`, `@digest` or a tag.
fn chosen_selector(chosen: &str) -> Selector {
    let Some(after_at) = chosen.strip_prefix('@') else {
        return Selector::Tag(chosen.to_owned());
    };
    match (after_at.parse::<usize>(), Digest::parse(after_at)) {
        (Ok(position), _) => Selector::Position(position),
        (_, Ok(digest)) => Selector::Digest(digest),
        _ => Selector::Tag(chosen.to_owned()),
    }
}

/// The tag or name part of a layout or archive location, unless it selects by `@`.
fn chosen_name(chosen: &Option<String>) -> Option<&str> {
    chosen.as_deref().filter(|text| !text.starts_with('@'))
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |tag: &Option<String>| match tag.as_deref() {
            Some(chosen) if chosen.starts_with('@') => chosen.to_owned(),
            Some(tag) => format!(":{tag}"),
            None => String::new(),
        };
        match self {
            Location::Registry { reference, .. } => write!(f, "docker://{reference}"),
            Location::Layout { path, tag } => write!(f, "oci:{}{}", path.display(), suffix(tag)),
            Location::OciArchive { path, tag } => {
                write!(f, "oci-archive:{}{}", path.display(), suffix(tag))
            }
            Location::DockerArchive { path, name } => {
                write!(f, "docker-archive:{}{}", path.display(), suffix(name))
            }
        }
    }
}

impl Location {
    /// Which image of this location to read.
    pub fn selector(&self) -> Selector {
        match self {
            Location::Registry { reference, .. } => match (reference.digest(), reference.tag()) {
                (Some(digest), _) => Selector::Digest(digest.clone()),
                (None, Some(tag)) => Selector::Tag(tag.to_owned()),
                (None, None) => Selector::Default,
            },
            Location::Layout { tag, .. }
            | Location::OciArchive { tag, .. }
            | Location::DockerArchive { name: tag, .. } => {
                tag.as_deref().map_or(Selector::Default, chosen_selector)
            }
        }
    }

    /// Whether the location names one image (a tag or digest was written), rather than a
    /// whole repository or layout.
    pub fn names_an_image(&self) -> bool {
        match self {
            Location::Registry { explicit, .. } => *explicit,
            Location::Layout { tag, .. } | Location::OciArchive { tag, .. } => tag.is_some(),
            Location::DockerArchive { name, .. } => name.is_some(),
        }
    }

    /// The tag to write at this location as a destination: the tag written (a registry's
    /// defaults to `latest`), none for a digest-only reference.
    pub fn target_tag(&self) -> Option<String> {
        match self {
            Location::Registry { reference, .. } => reference.tag().map(str::to_owned),
            Location::Layout { tag, .. } | Location::OciArchive { tag, .. } => {
                chosen_name(tag).map(str::to_owned)
            }
            Location::DockerArchive { name, .. } => {
                chosen_name(name).map(|name| match name.rsplit_once(':') {
                    Some((_, tag)) if !tag.contains('/') => tag.to_owned(),
                    _ => "latest".to_owned(),
                })
            }
        }
    }

    /// The image name this location stands for, when it has one, as `RepoTags` of a
    /// Docker archive write it: `host/repository` for a registry (Docker Hub's in Docker's
    /// short form, `ubuntu` or `team/app`), so that `docker load` and `podman load` name
    /// the image where it came from; the name of a Docker archive named `name:tag`.
    pub fn image_name(&self) -> Option<String> {
        match self {
            Location::Registry { reference, .. } => Some(registry_image_name(reference)),
            Location::DockerArchive { name, .. } => {
                chosen_name(name).map(|name| match name.rsplit_once(':') {
                    Some((repository, tag)) if !tag.contains('/') => repository.to_owned(),
                    _ => name.to_owned(),
                })
            }
            _ => None,
        }
    }
}

impl Location {
    /// The archive `text` names, as [`detect_archive`](Self::detect_archive) finds it:
    /// `FILE`, or when no such file exists, `FILE:name`, `FILE@N` or `FILE@digest`
    /// choosing one of its images.
    pub async fn detect_archive_chosen(text: &str) -> Result<Location> {
        let whole = PathBuf::from(text);
        let (path, chosen) = if tokio::fs::try_exists(&whole).await.unwrap_or(false) {
            (whole, None)
        } else {
            split_path(text)
        };
        Ok(match Location::detect_archive(path).await? {
            Location::OciArchive { path, .. } => Location::OciArchive { path, tag: chosen },
            Location::DockerArchive { path, .. } => Location::DockerArchive { path, name: chosen },
            other => other,
        })
    }

    /// The archive at `path` as the location it is: an OCI archive when it holds an
    /// `oci-layout` member, else a Docker archive when it holds a `manifest.json`. An
    /// archive holding both is read as OCI unless its `index.json` lists no manifest:
    /// `docker save` of an image by id (Docker 25 and later) writes `"manifests": null`
    /// next to a complete `manifest.json`.
    pub async fn detect_archive(path: PathBuf) -> Result<Location> {
        use crate::end::files::Files;
        let files = crate::end::tar_index::TarFiles::index(path.clone()).await?;
        let has_docker_manifest = files
            .size(crate::end::docker_archive::MANIFEST_FILE)
            .await?
            .is_some();
        if files.size(oci_spec_types::OCI_LAYOUT_FILE).await?.is_some()
            && !(has_docker_manifest && index_lists_nothing(&files).await?)
        {
            return Ok(Location::OciArchive { path, tag: None });
        }
        if has_docker_manifest {
            return Ok(Location::DockerArchive { path, name: None });
        }
        Err(Error::Archive {
            path,
            problem: crate::error::ArchiveProblem::MissingMember(
                "oci-layout or manifest.json".into(),
            ),
        })
    }
}

/// `host/repository`, or for Docker Hub the repository without `library/`.
fn registry_image_name(reference: &Reference) -> String {
    let repository = reference.repository();
    if reference.registry() == oci_spec_types::reference::DOCKER_HUB {
        repository
            .strip_prefix("library/")
            .unwrap_or(repository)
            .to_owned()
    } else {
        format!("{}/{repository}", reference.registry())
    }
}

/// Whether an archive's `index.json` is missing, unreadable or lists no manifest
/// (`"manifests": null` or `[]`).
async fn index_lists_nothing(files: &dyn crate::end::files::Files) -> Result<bool> {
    let Some(index) = files
        .read(
            oci_spec_types::INDEX_FILE,
            crate::end::layout::MAX_INDEX_SIZE,
        )
        .await?
    else {
        return Ok(true);
    };
    let manifests = serde_json::from_slice::<serde_json::Value>(&index)
        .ok()
        .and_then(|index| {
            index
                .get("manifests")
                .and_then(|m| m.as_array())
                .map(Vec::len)
        });
    Ok(manifests.unwrap_or(0) == 0)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Location {
        text.parse().unwrap()
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(
            parse("oci:/tmp/x:v1"),
            Location::Layout {
                path: "/tmp/x".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            parse("oci:rel"),
            Location::Layout {
                path: "rel".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("oci-archive:a.tar"),
            Location::OciArchive {
                path: "a.tar".into(),
                tag: None
            }
        );
        let docker = parse("docker-archive:a.tar:team/app:1.0");
        assert_eq!(docker.target_tag().as_deref(), Some("1.0"));
        assert_eq!(docker.image_name().as_deref(), Some("team/app"));
        assert_eq!(
            parse("127.0.0.1:5000/team/app:v2").image_name().as_deref(),
            Some("127.0.0.1:5000/team/app")
        );
        assert_eq!(parse("ubuntu").image_name().as_deref(), Some("ubuntu"));
        assert_eq!(parse("team/app").image_name().as_deref(), Some("team/app"));
        let registry = parse("docker://127.0.0.1:5000/team/app:v2");
        assert_eq!(registry.selector(), Selector::Tag("v2".into()));
        assert!(registry.names_an_image());
        let bare = parse("127.0.0.1:5000/team/app");
        assert!(!bare.names_an_image());
        assert_eq!(bare.target_tag().as_deref(), Some("latest"));
        assert_eq!(bare.to_string(), "docker://127.0.0.1:5000/team/app:latest");
    }

    #[test]
    fn bad_locations_are_typed_errors() {
        assert!(matches!(
            "ftp://host/x".parse::<Location>(),
            Err(Error::UnknownTransport { .. })
        ));
        assert!(matches!(
            "oci:".parse::<Location>(),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            "Upper/Case".parse::<Location>(),
            Err(Error::Reference { .. })
        ));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<Location>();
        }

        #[test]
        fn layout_locations_print_back(path in "[a-z/]{1,12}", tag in proptest::option::of("[a-z0-9]{1,8}")) {
            let location = Location::Layout { path: PathBuf::from(&path), tag };
            prop_assert_eq!(location.to_string().parse::<Location>().unwrap(), location);
        }
    }
}
