//! The OCI image layout: a folder holding `oci-layout`, `index.json` and `blobs/`.
//!
//! `index.json` is an [`ImageIndex`](crate::ImageIndex); each image's tag is the
//! [`ANNOTATION_REF_NAME`] annotation of its entry.

use std::path::PathBuf;

use oci_digest::Digest;
use serde::{Deserialize, Serialize};

pub use crate::annotations::ANNOTATION_REF_NAME;

/// Name of the file that marks a folder as an image layout.
pub const OCI_LAYOUT_FILE: &str = "oci-layout";
/// Name of the layout's index file.
pub const INDEX_FILE: &str = "index.json";
/// Name of the folder holding the blobs, as `blobs/<algorithm>/<encoded>`.
pub const BLOBS_DIR: &str = "blobs";
/// The layout version this crate writes.
pub const IMAGE_LAYOUT_VERSION: &str = "1.0.0";

/// The content of the `oci-layout` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciLayout {
    /// Version of the layout format, `1.0.0`.
    pub image_layout_version: String,
}

impl Default for OciLayout {
    fn default() -> Self {
        OciLayout {
            image_layout_version: IMAGE_LAYOUT_VERSION.to_owned(),
        }
    }
}

impl OciLayout {
    /// Whether this crate understands the layout's version (1.x).
    pub fn is_supported(&self) -> bool {
        self.image_layout_version.split('.').next() == Some("1")
    }
}

/// Where a blob lives inside a layout, relative to its root: `blobs/<algorithm>/<encoded>`.
///
/// Safe to join to the root: the digest grammar admits neither `/` nor a component made
/// only of dots, so the path cannot leave the `blobs` folder.
pub fn blob_path(digest: &Digest) -> PathBuf {
    [BLOBS_DIR, digest.algorithm().as_str(), digest.encoded()]
        .iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_layout_file_has_the_spec_shape() {
        let text = serde_json::to_string(&OciLayout::default()).unwrap();
        assert_eq!(text, r#"{"imageLayoutVersion":"1.0.0"}"#);
        let newer: OciLayout = serde_json::from_str(r#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
        assert!(!newer.is_supported());
        assert!(OciLayout::default().is_supported());
    }

    #[test]
    fn blob_paths_are_algorithm_then_encoded() {
        let digest = Digest::compute(b"{}");
        let expected = format!("blobs/sha256/{}", digest.encoded());
        assert_eq!(blob_path(&digest), PathBuf::from(expected));
    }
}
