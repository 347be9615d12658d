//! Where images are: the reference forms the CLI and sync files take, and opening them as
//! ends.
//!
//! | form | end |
//! |---|---|
//! | `registry/repo[:tag][@digest]`, `docker://registry/repo[:tag][@digest]` | a registry repository |
//! | `oci:DIR[:tag]` | an image layout folder |
//! | `oci-archive:FILE[:tag]` | an image layout in a tar archive |
//! | `docker-archive:FILE[:name:tag]` | a `docker save` archive |
//!
//! | file | job |
//! |---|---|
//! | `parse` | the text forms, read and printed back |
//! | `names` | what a location names: the image to read, the tag and name to write |
//! | `detect` | which kind of archive a file is |
//! | `opener` | opening locations as sources and sinks |

use std::path::PathBuf;

use oci_spec_types::Reference;

mod detect;
mod names;
mod opener;
mod parse;

pub use opener::Opener;

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
