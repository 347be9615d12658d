//! Writing a tar archive from staged files and small in-memory members, through a
//! temporary file and a rename, with fixed owners, modes and times so the same content
//! always gives the same archive.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::end::partial_file::partial_file;
use crate::error::{Error, Result};

/// One member of an archive to write.
#[derive(Debug, Clone)]
pub(crate) enum TarMember {
    /// A folder.
    Dir,
    /// The content of a staged file, streamed from disk.
    File(PathBuf),
    /// Small content held in memory (a JSON file).
    Bytes(Vec<u8>),
}

/// Writes `members` (archive path, content), in order, as the tar archive `destination`.
pub(crate) async fn write_tar(
    destination: PathBuf,
    members: Vec<(String, TarMember)>,
) -> Result<()> {
    tokio::task::spawn_blocking(move || write_tar_blocking(&destination, &members)).await?
}

fn write_tar_blocking(destination: &Path, members: &[(String, TarMember)]) -> Result<()> {
    let folder = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = partial_file(folder, ".tar.partial")?;
    let temp_name = temp.path().to_owned();
    let io_error = |e| Error::io(&temp_name, e);
    let mut builder = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, temp));
    for (name, member) in members {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match member {
            TarMember::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{name}/"), std::io::empty())
                    .map_err(io_error)?;
            }
            TarMember::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
                header.set_mode(0o644);
                header.set_size(size);
                builder
                    .append_data(&mut header, name, file)
                    .map_err(io_error)?;
            }
            TarMember::Bytes(bytes) => {
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                builder
                    .append_data(&mut header, name, bytes.as_slice())
                    .map_err(io_error)?;
            }
        }
    }
    let mut writer = builder.into_inner().map_err(io_error)?;
    writer.flush().map_err(io_error)?;
    let temp = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
    temp.as_file().sync_all().map_err(io_error)?;
    temp.persist(destination)
        .map_err(|e| Error::io(destination, e.error))?;
    Ok(())
}

/// Every file under `root`, as (`/`-separated relative path, full path), folders first
/// and names sorted, so archives come out the same each time.
pub(crate) fn tree(root: &Path) -> Result<Vec<(String, TarMember)>> {
    let mut members = Vec::new();
    walk(root, "", &mut members)?;
    Ok(members)
}

fn walk(folder: &Path, prefix: &str, members: &mut Vec<(String, TarMember)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(folder)
        .map_err(|e| Error::io(folder, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(folder, e))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with(".oci-copy-") {
            continue; // a temporary file of a write in progress or abandoned
        }
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if kind.is_dir() {
            members.push((relative.clone(), TarMember::Dir));
            walk(&entry.path(), &relative, members)?;
        } else if kind.is_file() {
            members.push((relative, TarMember::File(entry.path())));
        }
    }
    Ok(())
}
