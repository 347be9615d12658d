//! Random access to the members of an uncompressed tar archive: the archive is scanned
//! once for where each member's data starts, then members are read in place, never
//! extracted.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use crate::end::BlobStream;
use crate::end::files::{Files, read_limited, stream_range};
use crate::error::{ArchiveProblem, Error, Result};

/// How many links a member may go through before it counts as a loop.
const MAX_LINK_HOPS: usize = 16;

/// Where a regular member's data lies in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    offset: u64,
    size: u64,
}

/// The members of a tar archive, by normalised path.
#[derive(Debug, Clone)]
pub(crate) struct TarFiles {
    archive: PathBuf,
    members: HashMap<String, Member>,
}

impl TarFiles {
    /// Scans the archive at `archive`.
    pub(crate) async fn index(archive: PathBuf) -> Result<Self> {
        let scan_path = archive.clone();
        let members = tokio::task::spawn_blocking(move || scan(&scan_path)).await??;
        Ok(TarFiles { archive, members })
    }

    /// Every member path, in no particular order.
    #[cfg(test)]
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    fn member(&self, path: &str) -> Option<Member> {
        self.members.get(&normalise(Path::new(path))?).copied()
    }
}

#[async_trait]
impl Files for TarFiles {
    fn location(&self) -> &Path {
        &self.archive
    }

    async fn size(&self, path: &str) -> Result<Option<u64>> {
        Ok(self.member(path).map(|member| member.size))
    }

    async fn read(&self, path: &str, limit: u64) -> Result<Option<Bytes>> {
        let Some(member) = self.member(path) else {
            return Ok(None);
        };
        let mut file = open(&self.archive).await?;
        seek(&mut file, &self.archive, member.offset).await?;
        read_limited(file, member.size, limit, Path::new(path))
            .await
            .map(Some)
    }

    async fn open(&self, path: &str, offset: u64) -> Result<BlobStream> {
        let member = self.member(path).ok_or_else(|| Error::Archive {
            path: self.archive.clone(),
            problem: ArchiveProblem::MissingMember(path.to_owned()),
        })?;
        let start = offset.min(member.size);
        let file = open(&self.archive).await?;
        stream_range(
            file,
            self.archive.clone(),
            member.offset + start,
            member.size - start,
        )
        .await
    }
}

async fn open(path: &Path) -> Result<tokio::fs::File> {
    tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(path, e))
}

async fn seek(file: &mut tokio::fs::File, path: &Path, offset: u64) -> Result<()> {
    use tokio::io::AsyncSeekExt;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// What a scanned entry is.
enum Entry {
    Data(Member),
    /// A link to another member, already resolved to an archive-relative path.
    Link(String),
}

fn scan(archive_path: &Path) -> Result<HashMap<String, Member>> {
    let io_error = |e| Error::io(archive_path, e);
    let file = std::fs::File::open(archive_path).map_err(io_error)?;
    let mut archive = tar::Archive::new(file);
    let mut entries = HashMap::new();
    for entry in archive.entries_with_seek().map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let path = entry.path().map_err(io_error)?.into_owned();
        let Some(name) = normalise(&path) else {
            continue;
        };
        let kind = entry.header().entry_type();
        let scanned = if kind.is_file() {
            Entry::Data(Member {
                offset: entry.raw_file_position(),
                size: entry.size(),
            })
        } else if kind.is_symlink() || kind.is_hard_link() {
            let Some(target) = entry.link_name().map_err(io_error)? else {
                continue;
            };
            // A symbolic link is relative to its own folder, a hard link to the root.
            let base = if kind.is_symlink() {
                path.parent().unwrap_or(Path::new(""))
            } else {
                Path::new("")
            };
            let resolved =
                normalise(&base.join(&target)).ok_or_else(|| bad_link(archive_path, &name))?;
            Entry::Link(resolved)
        } else {
            continue;
        };
        entries.insert(name, scanned);
    }
    resolve_links(archive_path, entries)
}

fn resolve_links(
    archive: &Path,
    entries: HashMap<String, Entry>,
) -> Result<HashMap<String, Member>> {
    let mut members = HashMap::with_capacity(entries.len());
    for (name, entry) in &entries {
        let mut current = entry;
        let mut hops = 0;
        let member = loop {
            match current {
                Entry::Data(member) => break *member,
                Entry::Link(target) => {
                    hops += 1;
                    current = match entries.get(target) {
                        Some(next) if hops <= MAX_LINK_HOPS => next,
                        _ => return Err(bad_link(archive, name)),
                    };
                }
            }
        };
        members.insert(name.clone(), member);
    }
    Ok(members)
}

fn bad_link(archive: &Path, name: &str) -> Error {
    Error::Archive {
        path: archive.to_owned(),
        problem: ArchiveProblem::BadLink(name.to_owned()),
    }
}

/// `a/./b/../c` as `a/c`; `None` for paths that leave the root or name nothing.
fn normalise(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalise_removes_dots_and_refuses_escapes() {
        assert_eq!(
            normalise(Path::new("./blobs/sha256/ab")).as_deref(),
            Some("blobs/sha256/ab")
        );
        assert_eq!(normalise(Path::new("a/./b/../c")).as_deref(), Some("a/c"));
        assert_eq!(normalise(Path::new("/abs/x")).as_deref(), Some("abs/x"));
        assert_eq!(normalise(Path::new("../x")), None);
        assert_eq!(normalise(Path::new(".")), None);
    }

    proptest! {
        #[test]
        fn normalised_paths_never_hold_dot_components(path in "[a-z./]{0,24}") {
            if let Some(name) = normalise(Path::new(&path)) {
                prop_assert!(name.split('/').all(|part| !part.is_empty() && part != "." && part != ".."));
            }
        }
    }

    #[tokio::test]
    async fn members_and_links_are_found_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, "./dir/data.bin", &b"hello"[..])
            .unwrap();
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder
            .append_link(&mut link, "other/link.bin", "../dir/data.bin")
            .unwrap();
        let mut looping = tar::Header::new_gnu();
        looping.set_entry_type(tar::EntryType::Symlink);
        looping.set_size(0);
        builder.append_link(&mut looping, "loop", "loop").unwrap();
        builder.finish().unwrap();
        drop(builder);

        let error = TarFiles::index(archive.clone()).await.unwrap_err();
        assert!(
            matches!(error, Error::Archive { problem: ArchiveProblem::BadLink(name), .. } if name == "loop")
        );

        // Without the loop, everything resolves.
        let archive2 = dir.path().join("b.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&archive2).unwrap());
        builder
            .append_data(&mut header, "dir/data.bin", &b"hello"[..])
            .unwrap();
        builder
            .append_link(&mut link, "other/link.bin", "../dir/data.bin")
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        let files = TarFiles::index(archive2).await.unwrap();
        let mut paths: Vec<&str> = files.paths().collect();
        paths.sort();
        assert_eq!(paths, ["dir/data.bin", "other/link.bin"]);
        assert_eq!(
            files.read("other/link.bin", 100).await.unwrap().unwrap(),
            &b"hello"[..]
        );
        assert_eq!(files.size("./dir/data.bin").await.unwrap(), Some(5));
        assert!(
            files.read("dir/data.bin", 4).await.is_err(),
            "over the limit"
        );
        use futures_util::TryStreamExt;
        let tail: Vec<Bytes> = files
            .open("dir/data.bin", 2)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(tail.concat(), b"llo");
    }
}
