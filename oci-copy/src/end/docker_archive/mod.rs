//! `docker-archive:FILE`: the format of `docker save` and `docker load`.
//!
//! The archive holds a `manifest.json` listing, per image, its config file, its layer
//! files (base first) and its `RepoTags`. There is no registry manifest in it, so:
//!
//! - reading synthesises an OCI image manifest from the config and the layers: config and
//!   layer digests are those of the files, but **the manifest digest is new**;
//! - writing keeps the config and layer files byte for byte (compressed layers stay
//!   compressed; `docker load` takes both), but drops the manifest, so a copy through a
//!   Docker archive **cannot preserve the manifest digest**;
//! - one image is one platform: an index must be narrowed to a single platform first.

mod sink;
mod source;

use serde::{Deserialize, Serialize};

pub use sink::DockerArchiveSink;
pub use source::DockerArchiveSource;

/// Name of the archive's table of contents.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";

/// One image in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ArchivedImage {
    /// Path of the config file inside the archive.
    pub(crate) config: String,
    /// `name:tag` references of the image; `null` when untagged.
    #[serde(default)]
    pub(crate) repo_tags: Option<Vec<String>>,
    /// Paths of the layer files, base first.
    pub(crate) layers: Vec<String>,
}

/// The tag part of a `name:tag` reference (the text after the last `:` that follows the
/// last `/`), if it has one.
pub(crate) fn tag_of(reference: &str) -> Option<&str> {
    let last_part = reference.rsplit('/').next().unwrap_or(reference);
    last_part.rsplit_once(':').map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_after_the_last_colon_of_the_last_part() {
        assert_eq!(tag_of("busybox:1.36"), Some("1.36"));
        assert_eq!(tag_of("localhost:5000/app:v1"), Some("v1"));
        assert_eq!(tag_of("localhost:5000/app"), None);
    }

    #[test]
    fn untagged_images_have_null_repo_tags() {
        let text = r#"[{"Config":"a.json","RepoTags":null,"Layers":["l/layer.tar"]}]"#;
        let images: Vec<ArchivedImage> = serde_json::from_str(text).unwrap();
        assert_eq!(images[0].repo_tags, None);
        assert_eq!(images[0].layers, ["l/layer.tar"]);
    }
}
