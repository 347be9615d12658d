//! [`Operation`]: what one request asks the registry to do, decided once from its route and
//! method. Authorization ([`crate::gate`]) reads what the operation needs and dispatch runs
//! its handler, so the two can never disagree about a request. A method the route does not
//! answer is a 405 carrying the route's `Allow` (RFC 9110 §15.5.6) before either runs.

use http::Method;
use oci_digest::Digest;

use crate::{
    error::Error,
    names::{RepoName, UploadId},
    routes::{ManifestRef, Route},
};

/// A route and a method it answers. `HEAD` reads as `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /v2/`.
    Version,
    /// `GET /v2/_catalog`.
    Catalog,
    /// `GET /v1/search`.
    Search,
    /// `GET /v2/<name>/blobs/<digest>`.
    BlobGet { name: RepoName, digest: Digest },
    /// `DELETE /v2/<name>/blobs/<digest>`.
    BlobDelete { name: RepoName, digest: Digest },
    /// `POST /v2/<name>/blobs/uploads/`.
    UploadStart { name: RepoName },
    /// `GET /v2/<name>/blobs/uploads/<id>`.
    UploadStatus {
        name: RepoName,
        id: Result<UploadId, String>,
    },
    /// `PATCH /v2/<name>/blobs/uploads/<id>`.
    UploadPatch {
        name: RepoName,
        id: Result<UploadId, String>,
    },
    /// `PUT /v2/<name>/blobs/uploads/<id>`.
    UploadFinish {
        name: RepoName,
        id: Result<UploadId, String>,
    },
    /// `DELETE /v2/<name>/blobs/uploads/<id>`.
    UploadCancel {
        name: RepoName,
        id: Result<UploadId, String>,
    },
    /// `GET /v2/<name>/manifests/<reference>`.
    ManifestGet {
        name: RepoName,
        reference: Result<ManifestRef, String>,
    },
    /// `PUT /v2/<name>/manifests/<reference>`.
    ManifestPut {
        name: RepoName,
        reference: Result<ManifestRef, String>,
    },
    /// `DELETE /v2/<name>/manifests/<reference>`.
    ManifestDelete {
        name: RepoName,
        reference: Result<ManifestRef, String>,
    },
    /// `GET /v2/<name>/tags/list`.
    TagList { name: RepoName },
    /// `GET /v2/<name>/referrers/<digest>`.
    Referrers { name: RepoName, digest: Digest },
}

impl Operation {
    /// The operation `method` asks of `route`; a method the route does not answer (or a
    /// `DELETE` while deleting is off) is a 405 naming what it does answer.
    pub(crate) fn of(route: Route, method: &Method, deletes: bool) -> Result<Self, Error> {
        let read = *method == Method::GET || *method == Method::HEAD;
        let delete = *method == Method::DELETE;
        if delete && !deletes && route.answers(method, true) && !route.answers(method, false) {
            return Err(Error::DeleteDisabled {
                allow: route.allow(false),
            });
        }
        let allow = route.allow(deletes);
        Ok(match route {
            Route::Base if read => Self::Version,
            Route::Catalog if read => Self::Catalog,
            Route::Search if read => Self::Search,
            Route::Blob { name, digest } if read => Self::BlobGet { name, digest },
            Route::Blob { name, digest } if delete => Self::BlobDelete { name, digest },
            Route::UploadStart { name } if *method == Method::POST => Self::UploadStart { name },
            Route::Upload { name, id } if *method == Method::GET => Self::UploadStatus { name, id },
            Route::Upload { name, id } if *method == Method::PATCH => {
                Self::UploadPatch { name, id }
            }
            Route::Upload { name, id } if *method == Method::PUT => Self::UploadFinish { name, id },
            Route::Upload { name, id } if delete => Self::UploadCancel { name, id },
            Route::Manifest { name, reference } if read => Self::ManifestGet { name, reference },
            Route::Manifest { name, reference } if *method == Method::PUT => {
                Self::ManifestPut { name, reference }
            }
            Route::Manifest { name, reference } if delete => {
                Self::ManifestDelete { name, reference }
            }
            Route::TagList { name } if read => Self::TagList { name },
            Route::Referrers { name, digest } if read => Self::Referrers { name, digest },
            _ => {
                return Err(Error::MethodNotAllowed {
                    method: method.clone(),
                    allow,
                });
            }
        })
    }
}

impl Route {
    /// The methods this route answers, as an `Allow` value; `DELETE` only when `deletes`
    /// (cancelling an upload is always allowed: it removes nothing stored).
    pub(crate) fn allow(&self, deletes: bool) -> &'static str {
        match self {
            Route::Base
            | Route::Catalog
            | Route::Search
            | Route::TagList { .. }
            | Route::Referrers { .. } => "GET, HEAD",
            Route::Blob { .. } if deletes => "GET, HEAD, DELETE",
            Route::Blob { .. } => "GET, HEAD",
            Route::UploadStart { .. } => "POST",
            Route::Upload { .. } => "GET, PATCH, PUT, DELETE",
            Route::Manifest { .. } if deletes => "GET, HEAD, PUT, DELETE",
            Route::Manifest { .. } => "GET, HEAD, PUT",
        }
    }

    /// Whether `method` is among [`allow`](Self::allow)'s.
    fn answers(&self, method: &Method, deletes: bool) -> bool {
        self.allow(deletes)
            .split(", ")
            .any(|allowed| allowed == method.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<Route> {
        [
            "/v2/",
            "/v2/_catalog",
            "/v1/search",
            "/v2/a/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "/v2/a/blobs/uploads/",
            "/v2/a/blobs/uploads/0123456789abcdef0123456789abcdef",
            "/v2/a/manifests/v1",
            "/v2/a/tags/list",
            "/v2/a/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ]
        .iter()
        .map(|path| Route::parse(path).unwrap())
        .collect()
    }

    /// Every route under every method: an operation exactly when `Allow` lists the method,
    /// and every 405 names the route's methods.
    #[test]
    fn every_405_allows_exactly_what_is_answered() {
        let methods = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
            Method::CONNECT,
        ];
        for deletes in [true, false] {
            for route in routes() {
                for method in &methods {
                    let listed = route.answers(method, deletes);
                    match Operation::of(route.clone(), method, deletes) {
                        Ok(_) => assert!(listed, "{method} {route:?} answered but not allowed"),
                        Err(
                            Error::MethodNotAllowed { allow, .. } | Error::DeleteDisabled { allow },
                        ) => {
                            assert!(!listed, "{method} {route:?} refused but allowed");
                            assert_eq!(allow, route.allow(deletes));
                        }
                        Err(other) => panic!("{method} {route:?}: {other}"),
                    }
                }
            }
        }
    }
}
