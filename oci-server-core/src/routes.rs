//! Request paths parsed into typed routes. Every name, tag, digest and upload id is validated
//! here, before any handler (or storage key) sees it.
//!
//! A repository name may itself contain `blobs`, `manifests` or `tags` components, so routes
//! are recognised from the end of the path and the name is whatever precedes the endpoint part.

use oci_digest::Digest;

use crate::{
    error::Error,
    names::{RepoName, Tag, UploadId, parse_tag},
};

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestRef {
    /// By tag.
    Tag(Tag),
    /// By digest.
    Digest(Digest),
}

impl ManifestRef {
    /// Parses a `<reference>` path segment: a digest when it holds `:`, a tag otherwise.
    pub fn parse(reference: &str) -> Result<Self, Error> {
        if reference.contains(':') {
            parse_digest(reference).map(Self::Digest)
        } else {
            parse_tag(reference).map(Self::Tag)
        }
    }
}

impl std::fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestRef::Tag(tag) => f.write_str(tag.as_str()),
            ManifestRef::Digest(digest) => f.write_str(digest.as_str()),
        }
    }
}

/// One endpoint of the distribution API, with its validated parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/` (end-1).
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v1/search`: the legacy search endpoint Docker clients still call.
    Search,
    /// `/v2/<name>/blobs/<digest>` (end-2, end-10).
    Blob {
        /// Repository.
        name: RepoName,
        /// Blob digest.
        digest: Digest,
    },
    /// `/v2/<name>/blobs/uploads/` (end-4a, end-4b, end-11).
    UploadStart {
        /// Repository.
        name: RepoName,
    },
    /// `/v2/<name>/blobs/uploads/<id>` (end-5, end-6, end-13, cancel).
    Upload {
        /// Repository.
        name: RepoName,
        /// Session id, or the raw text when it cannot be an id this server handed out.
        id: Result<UploadId, String>,
    },
    /// `/v2/<name>/manifests/<reference>` (end-3, end-7, end-9).
    Manifest {
        /// Repository.
        name: RepoName,
        /// Tag or digest, or the raw text when it is neither a valid tag nor a digest this
        /// registry can store: such a manifest cannot exist (a read or delete of it is a 404),
        /// and a push to it is refused.
        reference: Result<ManifestRef, String>,
    },
    /// `/v2/<name>/tags/list` (end-8).
    TagList {
        /// Repository.
        name: RepoName,
    },
    /// `/v2/<name>/referrers/<digest>` (end-12).
    Referrers {
        /// Repository.
        name: RepoName,
        /// Subject digest.
        digest: Digest,
    },
}

impl Route {
    /// The repository the route is about, when it is about one.
    pub fn repository(&self) -> Option<&RepoName> {
        match self {
            Route::Base | Route::Catalog | Route::Search => None,
            Route::Blob { name, .. }
            | Route::UploadStart { name }
            | Route::Upload { name, .. }
            | Route::Manifest { name, .. }
            | Route::TagList { name }
            | Route::Referrers { name, .. } => Some(name),
        }
    }

    /// Parses a request path (without query). Paths outside the API give
    /// [`Error::RouteUnknown`]; bad names, tags or digests give their own errors.
    pub fn parse(path: &str) -> Result<Self, Error> {
        let unknown = || Error::RouteUnknown {
            path: path.to_owned(),
        };
        if path == "/v2" || path == "/v2/" {
            return Ok(Self::Base);
        }
        if path == "/v1/search" {
            return Ok(Self::Search);
        }
        let rest = path.strip_prefix("/v2/").ok_or_else(unknown)?;
        if rest == "_catalog" {
            return Ok(Self::Catalog);
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let name_of = |len: usize| -> Result<RepoName, Error> {
            let name_segments = segments.get(..len).filter(|s| !s.is_empty());
            RepoName::parse(&name_segments.ok_or_else(unknown)?.join("/"))
        };
        let n = segments.len();
        let tail = |k: usize| segments.get(n.wrapping_sub(k)).copied();
        match (tail(3), tail(2), tail(1)) {
            (Some("blobs"), Some("uploads"), Some("")) => Ok(Self::UploadStart {
                name: name_of(n - 3)?,
            }),
            (Some("blobs"), Some("uploads"), Some(id)) => Ok(Self::Upload {
                name: name_of(n - 3)?,
                id: UploadId::parse(id).ok_or_else(|| id.to_owned()),
            }),
            (_, Some("blobs"), Some("uploads")) => Ok(Self::UploadStart {
                name: name_of(n - 2)?,
            }),
            (_, Some("blobs"), Some(digest)) => Ok(Self::Blob {
                name: name_of(n - 2)?,
                digest: parse_digest(digest)?,
            }),
            (_, Some("manifests"), Some(reference)) => Ok(Self::Manifest {
                name: name_of(n - 2)?,
                reference: ManifestRef::parse(reference).map_err(|_| reference.to_owned()),
            }),
            (_, Some("tags"), Some("list")) => Ok(Self::TagList {
                name: name_of(n - 2)?,
            }),
            (_, Some("referrers"), Some(digest)) => Ok(Self::Referrers {
                name: name_of(n - 2)?,
                digest: parse_digest(digest)?,
            }),
            _ => Err(unknown()),
        }
    }
}

/// Parses a digest this registry can store: valid by the grammar and of an algorithm it can
/// compute (sha256, sha512). Anything else is refused before it can name a storage object.
pub fn parse_digest(text: &str) -> Result<Digest, Error> {
    let digest = Digest::parse(text).map_err(|e| Error::digest_invalid(text, e))?;
    if !digest.algorithm().is_computable() {
        return Err(Error::UnsupportedAlgorithm {
            algorithm: digest.algorithm().as_str().to_owned(),
        });
    }
    Ok(digest)
}

/// The URL path of an upload session (the `Location` of upload answers).
pub fn upload_location(name: &RepoName, id: &UploadId) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// The URL path of a blob.
pub fn blob_location(name: &RepoName, digest: &Digest) -> String {
    format!("/v2/{name}/blobs/{digest}")
}

/// The URL path of a manifest.
pub fn manifest_location(name: &RepoName, digest: &Digest) -> String {
    format!("/v2/{name}/manifests/{digest}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn name(s: &str) -> RepoName {
        RepoName::parse(s).unwrap()
    }

    #[test]
    fn every_endpoint_parses() {
        assert_eq!(Route::parse("/v2/").unwrap(), Route::Base);
        assert_eq!(Route::parse("/v2").unwrap(), Route::Base);
        assert_eq!(Route::parse("/v2/_catalog").unwrap(), Route::Catalog);
        assert_eq!(Route::parse("/v1/search").unwrap(), Route::Search);
        assert_eq!(
            Route::parse(&format!("/v2/a/b/blobs/{D}")).unwrap(),
            Route::Blob {
                name: name("a/b"),
                digest: Digest::parse(D).unwrap()
            }
        );
        assert_eq!(
            Route::parse("/v2/a/blobs/uploads/").unwrap(),
            Route::UploadStart { name: name("a") }
        );
        assert_eq!(
            Route::parse("/v2/a/blobs/uploads").unwrap(),
            Route::UploadStart { name: name("a") }
        );
        let id = UploadId::random();
        assert_eq!(
            Route::parse(&format!("/v2/a/blobs/uploads/{id}")).unwrap(),
            Route::Upload {
                name: name("a"),
                id: Ok(id)
            }
        );
        assert_eq!(
            Route::parse("/v2/a/manifests/latest").unwrap(),
            Route::Manifest {
                name: name("a"),
                reference: Ok(ManifestRef::Tag(Tag::new("latest").unwrap()))
            }
        );
        assert_eq!(
            Route::parse("/v2/a/tags/list").unwrap(),
            Route::TagList { name: name("a") }
        );
        assert!(matches!(
            Route::parse(&format!("/v2/a/referrers/{D}")).unwrap(),
            Route::Referrers { .. }
        ));
    }

    #[test]
    fn names_may_contain_endpoint_words() {
        assert_eq!(
            Route::parse("/v2/blobs/manifests/manifests/v1").unwrap(),
            Route::Manifest {
                name: name("blobs/manifests"),
                reference: Ok(ManifestRef::Tag(Tag::new("v1").unwrap()))
            }
        );
        assert_eq!(
            Route::parse("/v2/tags/tags/list").unwrap(),
            Route::TagList { name: name("tags") }
        );
    }

    #[test]
    fn traversal_never_becomes_a_route() {
        for path in [
            "/v2/../etc/manifests/latest",
            "/v2/a/%2e%2e/manifests/latest",
            "/v2//etc/manifests/latest",
            "/v2/a/blobs/sha256:..%2f..%2f",
            "/v2/manifests/latest",
            "/v2/a/blobs/md5:0123456789abcdef0123456789abcdef",
            "/etc/passwd",
        ] {
            assert!(Route::parse(path).is_err(), "{path} parsed");
        }
    }

    #[test]
    fn impossible_references_are_kept_as_raw_text() {
        for reference in [
            "..",
            ".INVALID_MANIFEST_NAME",
            "sha256:totallywrong",
            "md5:00",
        ] {
            assert_eq!(
                Route::parse(&format!("/v2/a/manifests/{reference}")).unwrap(),
                Route::Manifest {
                    name: name("a"),
                    reference: Err(reference.to_owned())
                }
            );
        }
    }

    #[test]
    fn bad_upload_ids_are_kept_as_unknown() {
        assert_eq!(
            Route::parse("/v2/a/blobs/uploads/..").unwrap(),
            Route::Upload {
                name: name("a"),
                id: Err("..".to_owned())
            }
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(path in "/v2/[a-z0-9/._:%-]{0,60}") {
            let _ = Route::parse(&path);
        }
    }
}
