//! Keys of the small metadata objects, and the one place that decides their layout:
//!
//! ```text
//! repositories/<name>/_layers/<alg>/<encoded>        blob linked into the repository
//! repositories/<name>/_manifests/<alg>/<encoded>     manifest record (media type, size)
//! repositories/<name>/_tags/<tag>                    the tagged digest
//! repositories/<name>/_tagged/<alg>/<encoded>/<tag>  reverse index: a tag naming a manifest
//! repositories/<name>/_referrers/<alg>/<encoded>/<alg>-<encoded>   referrer descriptor
//! uploads/<id>/state                                 upload session state
//! tag-index/<name>/_complete                        every tag of <name> has its index entry
//! catalog/<encoded name>                             the catalog: one entry per repository
//! catalog-index/_complete                            every repository has its catalog entry
//! catalog-index/_walk                                a name too long for an entry exists
//! gc/live/blobs/<alg>/<encoded>                      when a blob was last acknowledged
//! gc/live/uploads/<id>                               when an upload last had a request
//! gc/claims/blobs/<alg>/<encoded>                    a sweep is about to remove the blob
//! gc/claims/uploads/<id>                             a sweep is about to remove the upload
//! ```
//!
//! The `gc/` objects are the garbage collector's liveness protocol (see `store::liveness`).
//!
//! Keys are built only from validated names, tags, digests and upload ids. Name components
//! start with `[a-z0-9]`, so the `_`-prefixed folders can never collide with a repository.

use oci_digest::Digest;

use crate::names::{RepoName, Tag, UploadId};

/// The path of a metadata object, as segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    segments: Vec<String>,
}

impl Key {
    fn new<'a>(segments: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            segments: segments.into_iter().map(str::to_owned).collect(),
        }
    }

    fn extend<'a>(mut self, segments: impl IntoIterator<Item = &'a str>) -> Self {
        self.segments
            .extend(segments.into_iter().map(str::to_owned));
        self
    }

    /// The folder holding every repository.
    pub fn repositories() -> Self {
        Self::new(["repositories"])
    }

    /// A repository's folder.
    pub fn repository(name: &RepoName) -> Self {
        Self::repositories().extend(name.components())
    }

    /// The folder of a repository's tags.
    pub fn tags(name: &RepoName) -> Self {
        Self::repository(name).extend(["_tags"])
    }

    /// One tag.
    pub fn tag(name: &RepoName, tag: &Tag) -> Self {
        Self::tags(name).extend([tag.as_str()])
    }

    /// The folder of the reverse-index entries of the tags naming `digest` in `name` (one
    /// empty object per tag; see `store::tag_index`).
    pub fn tagged(name: &RepoName, digest: &Digest) -> Self {
        Self::repository(name).extend(["_tagged", digest.algorithm().as_str(), digest.encoded()])
    }

    /// The reverse-index entry recording that `tag` may name `digest`.
    pub fn tagged_entry(name: &RepoName, digest: &Digest, tag: &Tag) -> Self {
        Self::tagged(name, digest).extend([tag.as_str()])
    }

    /// The mark that every tag of `name` has its reverse-index entry (absent in stores written
    /// before the index existed, until the index is built).
    pub fn tag_index_complete(name: &RepoName) -> Self {
        // Outside the repository's folder, so it never keeps an emptied repository listed.
        Self::new(["tag-index"])
            .extend(name.components())
            .extend(["_complete"])
    }

    /// The folder of the catalog's entries (one empty object per repository; see
    /// `store::catalog`).
    pub fn catalog() -> Self {
        Self::new(["catalog"])
    }

    /// The catalog entry of `name`; `None` when its encoding (one segment that sorts as the
    /// names do: `/` becomes `..`, `.` becomes `.-`) is too long for one segment.
    pub fn catalog_entry(name: &RepoName) -> Option<Self> {
        let segment = catalog_segment(name.as_str());
        is_safe_segment(&segment).then(|| Self::catalog().child(&segment))
    }

    /// The mark that every repository has its catalog entry.
    pub fn catalog_complete() -> Self {
        Self::new(["catalog-index", "_complete"])
    }

    /// The mark that some repository has no catalog entry (its name is too long for one), so
    /// the catalog is found by walking the repositories instead.
    pub fn catalog_walk() -> Self {
        Self::new(["catalog-index", "_walk"])
    }

    /// The folder of a repository's blob links (`<alg>/<encoded>` below it).
    pub fn layer_links(name: &RepoName) -> Self {
        Self::repository(name).extend(["_layers"])
    }

    /// The folder of a repository's manifest records (`<alg>/<encoded>` below it).
    pub fn manifests(name: &RepoName) -> Self {
        Self::repository(name).extend(["_manifests"])
    }

    /// The folder of every upload session (one child per session id).
    pub fn uploads() -> Self {
        Self::new(["uploads"])
    }

    /// The link that makes a blob visible in a repository.
    pub fn layer_link(name: &RepoName, digest: &Digest) -> Self {
        Self::repository(name).extend(["_layers", digest.algorithm().as_str(), digest.encoded()])
    }

    /// The record of a manifest in a repository.
    pub fn manifest(name: &RepoName, digest: &Digest) -> Self {
        Self::repository(name).extend(["_manifests", digest.algorithm().as_str(), digest.encoded()])
    }

    /// The folder of the referrers of `subject`.
    pub fn referrers(name: &RepoName, subject: &Digest) -> Self {
        Self::repository(name).extend([
            "_referrers",
            subject.algorithm().as_str(),
            subject.encoded(),
        ])
    }

    /// The entry of `referrer` among the referrers of `subject`.
    pub fn referrer(name: &RepoName, subject: &Digest, referrer: &Digest) -> Self {
        let entry = format!("{}-{}", referrer.algorithm().as_str(), referrer.encoded());
        let mut key = Self::referrers(name, subject);
        key.segments.push(entry);
        key
    }

    /// The state object of an upload session (removed with the session's data).
    pub fn upload_state(id: &UploadId) -> Self {
        Self::new(["uploads", id.as_str(), "state"])
    }

    /// The progress record of an upload session, written after every chunk without waiting
    /// for the disk (removed with the session's data; see `store::upload_record`).
    pub fn upload_progress(id: &UploadId) -> Self {
        Self::new(["uploads", id.as_str(), "progress"])
    }

    /// The liveness mark of a blob: its time is when the registry last acknowledged it.
    pub fn live_blob(digest: &Digest) -> Self {
        Self::new([
            "gc",
            "live",
            "blobs",
            digest.algorithm().as_str(),
            digest.encoded(),
        ])
    }

    /// The liveness mark of an upload session: its time is when a request last held it.
    pub fn live_upload(id: &UploadId) -> Self {
        Self::live_uploads().extend([id.as_str()])
    }

    /// The folder of the upload sessions' liveness marks.
    pub fn live_uploads() -> Self {
        Self::new(["gc", "live", "uploads"])
    }

    /// A sweep's claim on a blob it is about to remove.
    pub fn claimed_blob(digest: &Digest) -> Self {
        Self::new([
            "gc",
            "claims",
            "blobs",
            digest.algorithm().as_str(),
            digest.encoded(),
        ])
    }

    /// A sweep's claim on an upload session it is about to remove.
    pub fn claimed_upload(id: &UploadId) -> Self {
        Self::new(["gc", "claims", "uploads", id.as_str()])
    }

    /// A child of this folder, named by a listing. The backend checks every segment before
    /// building a path from it.
    pub fn child(&self, segment: &str) -> Self {
        self.clone().extend([segment])
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The key as a `/`-joined relative path (object-store style).
    pub fn to_path_string(&self) -> String {
        self.segments.join("/")
    }
}

/// Whether a segment is safe to use as one path component: not empty, not a dot segment, no
/// separator or NUL, and not starting with `.` (kept for temporary files).
pub fn is_safe_segment(segment: &str) -> bool {
    !segment.is_empty()
        && !segment.starts_with('.')
        && !segment.contains(['/', '\\', '\0'])
        && segment.len() <= 255
}

/// A repository name as one segment that sorts byte-wise as the name does, so a listing
/// that starts after an entry (an object store's `start-after`) pages the catalog in name
/// order. Names hold `[a-z0-9._-]` and `/`; `/` becomes `..` and `.` becomes `.-`. The codes
/// `-` < `.-` < `..` < `0` sort as `-` < `.` < `/` < `0` do, and none is a prefix of another,
/// so any two names compare as their encodings do. Names start with `[a-z0-9]`, so a segment
/// never starts with `.`.
pub(crate) fn catalog_segment(name: &str) -> String {
    let mut segment = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '/' => segment.push_str(".."),
            '.' => segment.push_str(".-"),
            c => segment.push(c),
        }
    }
    segment
}

/// The repository name a catalog segment encodes; `None` when it is not an encoding.
pub(crate) fn catalog_name(segment: &str) -> Option<String> {
    let mut name = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c != '.' {
            name.push(c);
            continue;
        }
        match chars.next() {
            Some('.') => name.push('/'),
            Some('-') => name.push('.'),
            _ => return None,
        }
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_is_as_documented() {
        let name = RepoName::parse("a/b").unwrap();
        let digest = Digest::compute(b"x");
        assert_eq!(
            Key::tag(&name, &Tag::new("v1").unwrap()).to_path_string(),
            "repositories/a/b/_tags/v1"
        );
        assert_eq!(
            Key::layer_link(&name, &digest).to_path_string(),
            format!("repositories/a/b/_layers/sha256/{}", digest.encoded())
        );
        assert_eq!(
            Key::referrer(&name, &digest, &digest).to_path_string(),
            format!(
                "repositories/a/b/_referrers/sha256/{0}/sha256-{0}",
                digest.encoded()
            )
        );
    }

    #[test]
    fn unsafe_segments() {
        for bad in ["", ".", "..", ".tmp", "a/b", "a\\b", "a\0"] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
        assert!(is_safe_segment("sha256"));
    }

    proptest! {
        /// The catalog's encoding keeps the names' order (what paging by `start-after`
        /// relies on) and decodes back.
        #[test]
        fn catalog_segments_sort_as_names(a in "[a-z0-9]{1,3}([._/-][a-z0-9]{1,3}){0,4}", b in "[a-z0-9]{1,3}([._/-][a-z0-9]{1,3}){0,4}") {
            let (ea, eb) = (catalog_segment(&a), catalog_segment(&b));
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
            prop_assert_eq!(catalog_name(&ea), Some(a));
        }

        #[test]
        fn keys_from_valid_names_are_safe(name in "[a-z0-9]{1,5}(/[a-z0-9]{1,5}(-[a-z0-9]{1,3})?){0,3}", tag in "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}") {
            let name = RepoName::parse(&name).unwrap();
            let tag = Tag::new(&tag).unwrap();
            prop_assert!(Key::tag(&name, &tag).segments().iter().all(|s| is_safe_segment(s)));
        }
    }
}
