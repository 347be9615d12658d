//! The OCI image layout: a folder (or, inside an archive, a tree of members) holding
//! `oci-layout`, `index.json` and `blobs/<algorithm>/<encoded>`. A tag is the
//! `org.opencontainers.image.ref.name` annotation of an `index.json` entry, as skopeo and
//! umoci write it.

mod sink;
mod source;

use oci_spec_types::{
    ANNOTATION_REF_NAME, Descriptor, Digest, INDEX_FILE, ImageIndex, OCI_LAYOUT_FILE, OciLayout,
};

use crate::end::files::Files;
use crate::error::{Error, LayoutProblem, Result};

pub use sink::LayoutSink;
pub use source::LayoutSource;

/// The largest `index.json` read: it lists every image of the layout, so it may grow large.
pub(crate) const MAX_INDEX_SIZE: u64 = 64 * 1024 * 1024;

/// `blobs/<algorithm>/<encoded>`, as a `/`-separated relative path. The digest grammar
/// admits neither `/` nor `..` as a part, so the path stays under `blobs/`.
pub(crate) fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().as_str(), digest.encoded())
}

/// The tag of an `index.json` entry.
pub(crate) fn ref_name(entry: &Descriptor) -> Option<&str> {
    entry.annotation(ANNOTATION_REF_NAME)
}

/// Checks `oci-layout` and reads `index.json`.
pub(crate) async fn read_index(files: &dyn Files) -> Result<ImageIndex> {
    let problem = |problem| Error::Layout {
        path: files.location().to_owned(),
        problem,
    };
    let marker = files
        .read(OCI_LAYOUT_FILE, 4096)
        .await?
        .ok_or_else(|| problem(LayoutProblem::NotALayout))?;
    let layout: OciLayout = serde_json::from_slice(&marker).map_err(|source| Error::Json {
        path: files.location().join(OCI_LAYOUT_FILE),
        source,
    })?;
    if !layout.is_supported() {
        return Err(problem(LayoutProblem::UnsupportedVersion(
            layout.image_layout_version,
        )));
    }
    let index = files
        .read(INDEX_FILE, MAX_INDEX_SIZE)
        .await?
        .ok_or_else(|| problem(LayoutProblem::MissingIndex))?;
    serde_json::from_slice(&index).map_err(|source| Error::Json {
        path: files.location().join(INDEX_FILE),
        source,
    })
}
