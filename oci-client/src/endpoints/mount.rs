//! Cross-repository mount: `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>`
//! (end-11). `201` means mounted; `202` means the registry opened an upload instead, which
//! the caller (or [`Client::mount_or_push_blob`]) fills normally.

use std::io;

use bytes::Bytes;
use futures_core::Stream;
use http::{Method, StatusCode};
use oci_auth::Scopes;
use oci_digest::Digest;

use crate::client::Client;
use crate::endpoints::uploads::{PushedBlob, UploadSession, pushed};
use crate::error::Error;
use crate::repository::Repository;
use crate::request::Request;

/// What a mount request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOutcome {
    /// The blob is now in the repository.
    Mounted(PushedBlob),
    /// The registry did not mount; upload the blob into this session.
    Upload(UploadSession),
}

impl Client {
    /// Asks the registry to link `digest` from `from` into `repository`. The token asked
    /// for covers pull on `from` and push on `repository`. Repositories on different
    /// registries cannot share blobs: that case opens an upload straight away.
    pub async fn mount_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        from: &Repository,
    ) -> Result<MountOutcome, Error> {
        let (repository, from) = (&*self.route(repository)?, &*self.route(from)?);
        if !from.registry().eq_ignore_ascii_case(repository.registry()) {
            return Ok(MountOutcome::Upload(
                self.start_upload_at(repository).await?,
            ));
        }
        let scopes =
            Scopes::cross_mount(from.name(), repository.name()).map_err(|source| Error::Auth {
                registry: repository.registry().to_owned(),
                source: source.into(),
            })?;
        let mut url = self.repository_url(repository, "blobs/uploads/")?;
        url.query_pairs_mut()
            .append_pair("mount", digest.as_str())
            .append_pair("from", from.name());
        let request = Request::new(Method::POST, url, repository.registry(), scopes);
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::CREATED, StatusCode::ACCEPTED])
            .await?;
        if response.status() == StatusCode::CREATED {
            let blob = pushed(&response, digest, None)?;
            return Ok(MountOutcome::Mounted(PushedBlob {
                mounted: true,
                ..blob
            }));
        }
        tracing::debug!(%digest, from = %from, "mount refused, uploading instead");
        Ok(MountOutcome::Upload(UploadSession::from_response(
            repository, &response,
        )?))
    }

    /// Mounts `digest` from `from`, or, when the registry opens an upload instead, uploads
    /// `body` (chunked) into it. `body` is only read in the second case.
    pub async fn mount_or_push_blob<S>(
        &self,
        repository: &Repository,
        from: &Repository,
        digest: &Digest,
        size: u64,
        body: S,
    ) -> Result<PushedBlob, Error>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send,
    {
        match self.mount_blob(repository, digest, from).await? {
            MountOutcome::Mounted(blob) => Ok(blob),
            MountOutcome::Upload(session) => {
                self.upload_stream(session, digest, Some(size), body).await
            }
        }
    }
}
