//! Referrers: `GET /v2/<name>/referrers/<digest>[?artifactType=]` (end-12), every page, with
//! the tag-schema fallback (an index tagged `<alg>-<encoded>`) for registries without the
//! API, and a helper pushing a referrer that keeps that fallback index up to date.
//!
//! The fallback index is read, changed and written back with no help from the registry
//! (a tag has no compare-and-swap), so writers of one subject's index can overwrite each
//! other. Two guards keep every referrer listed. Inside one [`Client`] (and its clones),
//! one writer per (registry, repository, subject) at a time: a keyed lock held across
//! the read-modify-write. Against writers elsewhere (other processes, other tools), the
//! index is read again after each write, and the referrer merged in again while it is
//! missing, up to [`MAX_FALLBACK_INDEX_WRITES`] writes. What remains open is a write from
//! elsewhere that lands after this client's last check and was built from a read made
//! before this client's write: it drops the referrer, and neither writer can see it,
//! since a tag has no compare-and-swap. Only the registry can close that window (its
//! referrers API makes the index its own business); writers of one subject in separate
//! processes at once can therefore still lose entries on a registry without the API.

use futures_util::StreamExt;
use oci_digest::Digest;
use oci_spec_types::{Descriptor, ImageIndex, Manifest, MediaType, referrers_tag};

use crate::client::{Client, pull_scopes};
use crate::endpoints::manifests::PushedManifest;
use crate::endpoints::pages::pages;
use crate::error::Error;
use crate::headers::OCI_FILTERS_APPLIED;
use crate::repository::{ManifestReference, Repository};

/// Where a referrers list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferrersSource {
    /// The referrers API.
    Api,
    /// The tag schema: the registry has no referrers API (it answered 404).
    TagSchema,
}

/// The manifests that refer to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Referrers {
    /// One descriptor per referrer (with `artifactType` and annotations), filtered by the
    /// artifact type asked for.
    pub descriptors: Vec<Descriptor>,
    /// Where the list came from.
    pub source: ReferrersSource,
}

/// Writes of a fallback index by one [`Client::push_referrer`] before it gives up with
/// [`Error::FallbackIndexContended`]: each write is followed by a read that checks the
/// referrer stayed listed, and another writer that overwrote it costs one more write.
pub const MAX_FALLBACK_INDEX_WRITES: usize = 5;

/// What pushing a referrer did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedReferrer {
    /// The referrer's own push.
    pub manifest: PushedManifest,
    /// The fallback tag updated, when the registry did not index the subject itself.
    pub fallback_tag: Option<String>,
}

impl Client {
    /// The referrers of `subject`, through the API when the registry has it, else through
    /// the tag schema. When the registry did not filter by `artifact_type`, the client does.
    pub async fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&MediaType>,
    ) -> Result<Referrers, Error> {
        let routed = self.route(repository)?;
        let mut url = self.repository_url(&routed, &format!("referrers/{subject}"))?;
        if let Some(artifact_type) = artifact_type {
            url.query_pairs_mut()
                .append_pair("artifactType", artifact_type.as_str());
        }
        let mut pages = Box::pin(pages(self, routed.registry(), pull_scopes(&routed)?, url));
        let mut descriptors = Vec::new();
        let mut filtered = true;
        let mut first = true;
        while let Some(page) = pages.next().await {
            let page = match page {
                Err(error) if first && error.is_not_found() => {
                    tracing::debug!(%subject, "no referrers API, reading the fallback tag");
                    let mut descriptors = self.referrers_by_tag(repository, subject).await?;
                    retain_artifact_type(&mut descriptors, artifact_type);
                    return Ok(Referrers {
                        descriptors,
                        source: ReferrersSource::TagSchema,
                    });
                }
                page => page?,
            };
            first = false;
            filtered &= page
                .headers
                .get(OCI_FILTERS_APPLIED)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.split(',').any(|f| f.trim() == "artifactType"));
            descriptors.extend(page.json::<ImageIndex>()?.manifests);
        }
        if !filtered {
            retain_artifact_type(&mut descriptors, artifact_type);
        }
        Ok(Referrers {
            descriptors,
            source: ReferrersSource::Api,
        })
    }

    /// Pushes `manifest` (which has a `subject`) by digest. When the registry does not
    /// answer `OCI-Subject` (it has no referrers API), adds the manifest to the subject's
    /// fallback index (tag `<alg>-<encoded>`), creating it when missing, and checks that
    /// the index still lists it after the write (see the module docs for the guards).
    pub async fn push_referrer(
        &self,
        repository: &Repository,
        manifest: &Manifest,
    ) -> Result<PushedReferrer, Error> {
        let subject = manifest.subject().ok_or(Error::NoSubject)?.digest.clone();
        let pushed = self
            .put_manifest(
                repository,
                &ManifestReference::Digest(manifest.digest()),
                manifest,
            )
            .await?;
        if pushed.subject.is_some() {
            return Ok(PushedReferrer {
                manifest: pushed,
                fallback_tag: None,
            });
        }
        let tag = self
            .add_to_fallback_index(repository, &subject, manifest)
            .await?;
        Ok(PushedReferrer {
            manifest: pushed,
            fallback_tag: Some(tag),
        })
    }

    /// Lists `referrer` in the fallback index of `subject`: reads the index, adds the
    /// referrer when missing, writes, and reads again, until the index lists it or
    /// [`MAX_FALLBACK_INDEX_WRITES`] writes did not make it stay. Returns the tag.
    async fn add_to_fallback_index(
        &self,
        repository: &Repository,
        subject: &Digest,
        referrer: &Manifest,
    ) -> Result<String, Error> {
        let tag = referrers_tag(subject);
        let reference = ManifestReference::tag(&tag)?;
        let digest = referrer.digest();
        let key = (
            repository.registry().to_owned(),
            repository.name().to_owned(),
            subject.clone(),
        );
        let _turn = self.fallback_locks().lock(&key).await;
        for writes in 0..=MAX_FALLBACK_INDEX_WRITES {
            let mut entries = self.referrers_by_tag(repository, subject).await?;
            if entries.iter().any(|entry| entry.digest == digest) {
                return Ok(tag);
            }
            if writes == MAX_FALLBACK_INDEX_WRITES {
                break;
            }
            if writes > 0 {
                tracing::warn!(
                    %subject, %digest, %tag,
                    "another writer replaced the fallback referrers index; merging again"
                );
            }
            entries.push(referrer.referrer_descriptor());
            let index = Manifest::from_index(ImageIndex::referrers(entries))?;
            self.put_manifest(repository, &reference, &index).await?;
        }
        Err(Error::FallbackIndexContended {
            tag,
            referrer: digest,
            writes: MAX_FALLBACK_INDEX_WRITES,
        })
    }

    /// The entries of the fallback index of `subject`; none when the tag does not exist.
    async fn referrers_by_tag(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Vec<Descriptor>, Error> {
        let tag = referrers_tag(subject);
        let pulled = match self
            .get_manifest(repository, &ManifestReference::tag(&tag)?)
            .await
        {
            Ok(pulled) => pulled,
            Err(error) if error.is_not_found() => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        match pulled.parse()? {
            Manifest::Index(index) => Ok(index.value().manifests.clone()),
            other => Err(Error::NotAnIndex {
                tag,
                media_type: other.media_type(),
            }),
        }
    }
}

/// Keeps the descriptors of `artifact_type`, when one is asked for.
fn retain_artifact_type(descriptors: &mut Vec<Descriptor>, artifact_type: Option<&MediaType>) {
    if let Some(wanted) = artifact_type {
        descriptors.retain(|entry| entry.artifact_type.as_ref() == Some(wanted));
    }
}
