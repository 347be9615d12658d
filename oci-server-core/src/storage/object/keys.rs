//! Where each thing lives in the bucket, under the store's prefix:
//!
//! ```text
//! <prefix>/blobs/<alg>/<first 2 chars>/<encoded>     content-addressed blobs
//! <prefix>/repositories/...                           metadata objects (see `Key`)
//! <prefix>/uploads/<id>/created                       marker: the session exists
//! <prefix>/uploads/<id>/state                         session state (offset, hashing state)
//! <prefix>/uploads/<id>/parts/<start>                 session data, one object per write
//! ```
//!
//! A part is named by the offset of its first byte, zero-padded to 20 digits so that the
//! listing order is the byte order.

use object_store::path::{Path, PathPart};
use oci_digest::Digest;

use crate::{error::StorageError, names::UploadId, storage::Key};

use super::super::is_safe_segment;

/// Digits of a part name: enough for any `u64`.
const PART_NAME_DIGITS: usize = 20;

/// Maps keys, digests and upload ids to object paths under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    prefix: Vec<String>,
}

impl Layout {
    /// A layout under `prefix` (`/`-separated; empty for the bucket's root). Every segment
    /// must be safe.
    pub fn new(prefix: &str) -> Result<Self, StorageError> {
        let prefix = prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| checked(s).map(|()| s.to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Self { prefix })
    }

    fn path<'a>(&'a self, segments: impl IntoIterator<Item = &'a str>) -> Path {
        Path::from_iter(
            self.prefix
                .iter()
                .map(String::as_str)
                .chain(segments)
                .map(PathPart::from),
        )
    }

    /// The object of a metadata key, after checking every segment once more.
    pub fn meta(&self, key: &Key) -> Result<Path, StorageError> {
        for segment in key.segments() {
            checked(segment)?;
        }
        Ok(self.path(key.segments().iter().map(String::as_str)))
    }

    /// The folder of every blob.
    pub fn blobs(&self) -> Path {
        self.path(["blobs"])
    }

    /// The object holding a blob's content.
    pub fn blob(&self, digest: &Digest) -> Result<Path, StorageError> {
        let algorithm = digest.algorithm().as_str();
        let encoded = digest.encoded();
        let fan_out = encoded.get(..2).unwrap_or(encoded);
        for segment in [algorithm, fan_out, encoded] {
            checked(segment)?;
        }
        Ok(self.path(["blobs", algorithm, fan_out, encoded]))
    }

    /// The folder of everything an upload session owns.
    pub fn upload(&self, id: &UploadId) -> Result<Path, StorageError> {
        checked(id.as_str())?;
        Ok(self.path(["uploads", id.as_str()]))
    }

    /// The marker object that says a session exists.
    pub fn upload_marker(&self, id: &UploadId) -> Result<Path, StorageError> {
        Ok(self.upload(id)?.join("created"))
    }

    /// The folder of a session's data parts.
    pub fn upload_parts(&self, id: &UploadId) -> Result<Path, StorageError> {
        Ok(self.upload(id)?.join("parts"))
    }

    /// The part object whose first byte is at `start`.
    pub fn upload_part(&self, id: &UploadId, start: u64) -> Result<Path, StorageError> {
        Ok(self.upload_parts(id)?.join(part_name(start)))
    }
}

/// The name of the part starting at `start`.
pub(super) fn part_name(start: u64) -> String {
    format!("{start:0width$}", width = PART_NAME_DIGITS)
}

/// The start offset a part name stands for; `None` for anything this store did not write.
pub(super) fn part_start(name: &str) -> Option<u64> {
    if name.len() == PART_NAME_DIGITS && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

fn checked(segment: &str) -> Result<(), StorageError> {
    if is_safe_segment(segment) {
        Ok(())
    } else {
        Err(StorageError::UnsafeKey {
            segment: segment.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{RepoName, Tag};
    use proptest::prelude::*;

    #[test]
    fn layout_is_as_documented() {
        let layout = Layout::new("/reg/one/").unwrap();
        let digest = Digest::compute(b"x");
        assert_eq!(
            layout.blob(&digest).unwrap().as_ref(),
            format!(
                "reg/one/blobs/sha256/{}/{}",
                &digest.encoded()[..2],
                digest.encoded()
            )
        );
        let name = RepoName::parse("a/b").unwrap();
        let tag = Key::tag(&name, &Tag::new("v1.0").unwrap());
        assert_eq!(
            layout.meta(&tag).unwrap().as_ref(),
            "reg/one/repositories/a/b/_tags/v1.0"
        );
        let id = UploadId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            layout.upload_part(&id, 5).unwrap().as_ref(),
            "reg/one/uploads/0123456789abcdef0123456789abcdef/parts/00000000000000000005"
        );
        assert_eq!(
            Layout::new("")
                .unwrap()
                .upload_marker(&id)
                .unwrap()
                .as_ref(),
            "uploads/0123456789abcdef0123456789abcdef/created"
        );
    }

    #[test]
    fn unsafe_prefixes_are_refused() {
        assert!(Layout::new("a/../b").is_err());
        assert!(Layout::new("a/.hidden").is_err());
    }

    #[test]
    fn foreign_part_names_are_ignored() {
        assert_eq!(part_start("0000000000000000000x"), None);
        assert_eq!(part_start("12"), None);
        assert_eq!(part_start("99999999999999999999"), None, "past u64");
    }

    proptest! {
        #[test]
        fn part_names_round_trip_and_sort_like_offsets(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(part_start(&part_name(a)), Some(a));
            prop_assert_eq!(part_name(a).cmp(&part_name(b)), a.cmp(&b));
        }
    }
}
