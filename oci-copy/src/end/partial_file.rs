//! The temporary files content is written to before a rename puts it in place.

use std::path::Path;

use crate::error::{Error, Result};

/// A new temporary file in `folder`, named `.oci-copy-*<suffix>`. It is created readable
/// by all, as far as the umask allows (as skopeo and docker write theirs), not with the
/// owner-only mode of temporary files: it becomes the archive or blob itself.
pub(crate) fn partial_file(folder: &Path, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".oci-copy-").suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(folder)
        .map_err(|e| Error::io(folder, e))
}
