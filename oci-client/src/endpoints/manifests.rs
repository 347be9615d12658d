//! `GET`, `HEAD`, `PUT` and `DELETE /v2/<name>/manifests/<reference>` (end-3, end-7, end-9).
//!
//! Manifests are the one thing held in memory, capped at
//! [`ClientConfig::max_manifest_size`](crate::ClientConfig::max_manifest_size). Pulled bytes
//! are checked against the digest asked for and against `Docker-Content-Digest`.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use oci_digest::Digest;
use oci_spec_types::{MANIFEST_MEDIA_TYPES, Manifest, MediaType, Reference};
use url::Url;

use crate::client::{Client, pull_scopes, push_scopes};
use crate::error::Error;
use crate::headers::{OCI_SUBJECT, OCI_TAG};
use crate::repository::{ManifestReference, Repository};
use crate::request::Request;
use crate::response::Response;

/// A manifest as the registry sent it, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PulledManifest {
    /// The digest of `bytes` (checked against the one asked for and the one announced).
    pub digest: Digest,
    /// The `Content-Type` the registry sent, when it sent one.
    pub media_type: Option<MediaType>,
    /// The exact bytes.
    pub bytes: Bytes,
}

impl PulledManifest {
    /// Parses the bytes (leniently: this is stored content) with the `Content-Type`.
    pub fn parse(&self) -> Result<Manifest, Error> {
        let content_type = self.media_type.as_ref().map(MediaType::as_str);
        Ok(Manifest::parse_lenient(self.bytes.clone(), content_type)?)
    }
}

/// What `HEAD` told about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestInfo {
    /// `Docker-Content-Digest`, or the digest asked for; `None` when a tag was asked for and
    /// the registry did not say.
    pub digest: Option<Digest>,
    /// `Content-Type`.
    pub media_type: Option<MediaType>,
    /// `Content-Length`.
    pub size: Option<u64>,
}

/// What a manifest push did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedManifest {
    /// The digest of the bytes pushed.
    pub digest: Digest,
    /// Where the registry says the manifest lives.
    pub location: Option<Url>,
    /// `OCI-Subject`: the registry indexed the manifest's subject for the referrers API.
    pub subject: Option<Digest>,
    /// The tags the push applied (from `OCI-Tag`, or pushed one by one).
    pub tags: Vec<String>,
}

impl Client {
    /// Pulls the manifest a full reference names (`registry/repo:tag` or `@digest`).
    pub async fn pull_manifest(&self, reference: &Reference) -> Result<PulledManifest, Error> {
        self.get_manifest(&Repository::from(reference), &reference.into())
            .await
    }

    /// `GET` a manifest of any OCI or Docker manifest or index type.
    pub async fn get_manifest(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<PulledManifest, Error> {
        let by_digest = reference.digest().is_some();
        self.pull_through_mirrors(
            repository,
            by_digest,
            |_| false,
            |source| async move { self.get_manifest_at(&source, reference).await },
        )
        .await
    }

    async fn get_manifest_at(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<PulledManifest, Error> {
        let response = self
            .manifest_request(Method::GET, repository, reference)
            .await?
            .expect(&[StatusCode::OK])
            .await?;
        let media_type = media_type_of(&response)?;
        let announced = response.content_digest()?;
        let bytes = response
            .bytes_capped(self.config().max_manifest_size())
            .await?;
        // An announced digest of an algorithm we cannot compute is passed over, not trusted.
        let announced = announced.filter(|digest| digest.algorithm().is_computable());
        let mut digest = None;
        for expected in reference.digest().into_iter().chain(announced.as_ref()) {
            verify(expected, &bytes)?;
            digest.get_or_insert_with(|| expected.clone());
        }
        Ok(PulledManifest {
            digest: digest.unwrap_or_else(|| Digest::compute(&bytes)),
            media_type,
            bytes,
        })
    }

    /// `HEAD` a manifest; `None` when the registry does not have it.
    pub async fn head_manifest(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<Option<ManifestInfo>, Error> {
        let by_digest = reference.digest().is_some();
        self.pull_through_mirrors(
            repository,
            by_digest,
            Option::is_none,
            |source| async move { self.head_manifest_at(&source, reference).await },
        )
        .await
    }

    async fn head_manifest_at(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<Option<ManifestInfo>, Error> {
        let response = self
            .manifest_request(Method::HEAD, repository, reference)
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.expect(&[StatusCode::OK]).await?;
        let digest = response
            .content_digest()?
            .or_else(|| reference.digest().cloned());
        Ok(Some(ManifestInfo {
            digest,
            media_type: media_type_of(&response)?,
            size: response.content_length()?,
        }))
    }

    /// `PUT` a manifest under a tag or its digest: `reference` is a [`ManifestReference`],
    /// a [`Digest`], or text (`"v1"`, `"sha256:..."`), checked before anything is sent.
    pub async fn put_manifest<R>(
        &self,
        repository: &Repository,
        reference: R,
        manifest: &Manifest,
    ) -> Result<PushedManifest, Error>
    where
        R: TryInto<ManifestReference>,
        Error: From<R::Error>,
    {
        self.put_manifest_raw(
            repository,
            &reference.try_into()?,
            manifest.raw().clone(),
            &manifest.media_type(),
        )
        .await
    }

    /// `PUT` manifest bytes of any media type under a tag or a digest (which must be theirs).
    pub async fn put_manifest_raw(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
        bytes: Bytes,
        media_type: &MediaType,
    ) -> Result<PushedManifest, Error> {
        self.put_manifest_with(repository, reference, bytes, media_type, &[])
            .await
    }

    /// `PUT` a manifest by digest with `?tag=` parameters, tagging it in one request. A
    /// registry that ignores the parameters (no `OCI-Tag` answered) gets one `PUT` per tag.
    pub async fn put_manifest_with_tags(
        &self,
        repository: &Repository,
        manifest: &Manifest,
        tags: &[&str],
    ) -> Result<PushedManifest, Error> {
        for tag in tags {
            ManifestReference::tag(tag)?;
        }
        let by_digest = ManifestReference::Digest(manifest.digest());
        let media_type = manifest.media_type();
        let mut pushed = self
            .put_manifest_with(
                repository,
                &by_digest,
                manifest.raw().clone(),
                &media_type,
                tags,
            )
            .await?;
        if pushed.tags.is_empty() {
            for tag in tags {
                tracing::debug!(tag, "registry ignored ?tag=, pushing the tag itself");
                self.put_manifest(repository, &ManifestReference::tag(tag)?, manifest)
                    .await?;
                pushed.tags.push((*tag).to_owned());
            }
        }
        Ok(pushed)
    }

    /// `DELETE` a manifest by digest, or a tag (the manifest stays).
    pub async fn delete_manifest(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<(), Error> {
        let repository = &*self.route(repository)?;
        self.delete_at(repository, self.manifest_url(repository, reference)?)
            .await
    }

    async fn put_manifest_with(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
        bytes: Bytes,
        media_type: &MediaType,
        tags: &[&str],
    ) -> Result<PushedManifest, Error> {
        let repository = &*self.route(repository)?;
        let mut url = self.manifest_url(repository, reference)?;
        let limit = self.config().max_manifest_size();
        if bytes.len() as u64 > limit {
            return Err(Error::ManifestTooLarge {
                url: url.to_string(),
                limit,
                size: Some(bytes.len() as u64),
            });
        }
        let digest = match reference.digest() {
            Some(expected) => {
                verify(expected, &bytes)?;
                expected.clone()
            }
            None => Digest::compute(&bytes),
        };
        if !tags.is_empty() {
            let mut query = url.query_pairs_mut();
            for tag in tags {
                query.append_pair("tag", tag);
            }
        }
        let content_type = header_value("Content-Type", media_type.as_str())?;
        let request = Request::new(
            Method::PUT,
            url,
            repository.registry(),
            push_scopes(repository)?,
        )
        .header(CONTENT_TYPE, content_type)
        .bytes(bytes);
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::CREATED, StatusCode::OK, StatusCode::ACCEPTED])
            .await?;
        response.check_content_digest(&digest)?;
        let location = response.location().ok();
        let subject =
            response.parsed_header(OCI_SUBJECT, |text| Digest::parse(text.trim()).ok())?;
        let mut applied = Vec::new();
        for value in response.headers().get_all(OCI_TAG) {
            if let Ok(text) = value.to_str() {
                applied.extend(text.split(',').map(|tag| tag.trim().to_owned()));
            }
        }
        Ok(PushedManifest {
            digest,
            location,
            subject,
            tags: applied,
        })
    }

    async fn manifest_request(
        &self,
        method: Method,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<Response, Error> {
        let url = self.manifest_url(repository, reference)?;
        let accept = header_value("Accept", &MANIFEST_MEDIA_TYPES.join(", "))?;
        let request = Request::new(method, url, repository.registry(), pull_scopes(repository)?)
            .header(ACCEPT, accept)
            .follow_redirects();
        self.transport().send(request).await
    }

    fn manifest_url(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
    ) -> Result<Url, Error> {
        self.repository_url(repository, &format!("manifests/{reference}"))
    }
}

/// The `Content-Type` without parameters, as a media type.
fn media_type_of(response: &Response) -> Result<Option<MediaType>, Error> {
    Ok(response
        .header(CONTENT_TYPE.as_str())?
        .map(|text| text.split(';').next().unwrap_or(text).trim())
        .filter(|text| !text.is_empty())
        .map(MediaType::from))
}

/// Checks `bytes` against `expected` with its own algorithm.
pub(crate) fn verify(expected: &Digest, bytes: &[u8]) -> Result<(), Error> {
    let found = Digest::compute_with(expected.algorithm(), bytes)?;
    if &found == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            expected: expected.clone(),
            found,
        })
    }
}

/// A request header value from a caller's text (a media type), refused when not visible ASCII.
pub(crate) fn header_value(name: &'static str, text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(text).map_err(|_| Error::InvalidHeader {
        url: String::new(),
        name,
        value: text.to_owned(),
    })
}
