//! Which kind of archive a file is, for `import` and sync entries that name just a file.

use std::path::PathBuf;

use super::Location;
use super::parse::split_path;
use crate::error::{Error, Result};

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
