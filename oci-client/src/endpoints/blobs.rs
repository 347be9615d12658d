//! `HEAD`, `GET` and `DELETE /v2/<name>/blobs/<digest>` (end-2, end-10).

use http::{Method, StatusCode};
use oci_digest::Digest;

use crate::client::{Client, pull_scopes};
use crate::endpoints::blob_stream::{BlobStream, BlobTarget};
use crate::error::Error;
use crate::repository::Repository;
use crate::request::Request;

/// What `HEAD` told about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobInfo {
    /// The blob.
    pub digest: Digest,
    /// Its size (`Content-Length`), when sent.
    pub size: Option<u64>,
}

impl Client {
    /// `HEAD` a blob; `None` when the repository does not have it.
    pub async fn head_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Option<BlobInfo>, Error> {
        self.pull_through_mirrors(repository, true, Option::is_none, |source| async move {
            self.head_blob_at(&source, digest).await
        })
        .await
    }

    async fn head_blob_at(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Option<BlobInfo>, Error> {
        let request = Request::new(
            Method::HEAD,
            self.blob_url(repository, digest)?,
            repository.registry(),
            pull_scopes(repository)?,
        )
        .follow_redirects();
        let response = self.transport().send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.expect(&[StatusCode::OK]).await?;
        Ok(Some(BlobInfo {
            digest: digest.clone(),
            size: response.content_length()?,
        }))
    }

    /// `GET` a blob as a verified, resuming stream of chunks. `size` (from a descriptor)
    /// is checked too; without it the registry's `Content-Length` is. Redirects to other
    /// hosts (storage back ends) are followed without the `Authorization` header.
    pub async fn get_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<BlobStream, Error> {
        self.pull_through_mirrors(
            repository,
            true,
            |_| false,
            |source| async move { self.get_blob_at(&source, digest, size).await },
        )
        .await
    }

    async fn get_blob_at(
        &self,
        repository: &Repository,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<BlobStream, Error> {
        let target = BlobTarget {
            repository: repository.clone(),
            registry: repository.registry().to_owned(),
            url: self.blob_url(repository, digest)?,
            scopes: pull_scopes(repository)?,
            digest: digest.clone(),
        };
        let request = Request::new(
            Method::GET,
            target.url.clone(),
            &target.registry,
            target.scopes.clone(),
        )
        .follow_redirects()
        .bulk();
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::OK])
            .await?;
        BlobStream::open(self, target, response, size)
    }

    /// `DELETE` a blob from a repository.
    pub async fn delete_blob(&self, repository: &Repository, digest: &Digest) -> Result<(), Error> {
        let repository = &*self.route(repository)?;
        self.delete_at(repository, self.blob_url(repository, digest)?)
            .await
    }

    fn blob_url(&self, repository: &Repository, digest: &Digest) -> Result<url::Url, Error> {
        self.repository_url(repository, &format!("blobs/{digest}"))
    }
}
