//! Referrers: per subject, one small object per referring manifest holding the descriptor
//! the referrers API lists. Kept up to date on manifest push and delete, so a listing never
//! has to scan manifests.

use oci_digest::Digest;
use oci_spec_types::Descriptor;

use super::Store;
use crate::{error::Error, names::RepoName, storage::Key};

impl Store {
    pub(super) async fn add_referrer(
        &self,
        name: &RepoName,
        subject: &Digest,
        entry: &Descriptor,
    ) -> Result<(), Error> {
        self.write_json(&Key::referrer(name, subject, &entry.digest), entry)
            .await
    }

    pub(super) async fn remove_referrer(
        &self,
        name: &RepoName,
        subject: &Digest,
        referrer: &Digest,
    ) -> Result<bool, Error> {
        Ok(self
            .storage
            .meta_delete(&Key::referrer(name, subject, referrer))
            .await?)
    }

    /// The descriptors of every manifest in `name` whose subject is `subject`, ordered by
    /// digest; empty for an unknown subject.
    pub async fn referrers(
        &self,
        name: &RepoName,
        subject: &Digest,
    ) -> Result<Vec<Descriptor>, Error> {
        let folder = Key::referrers(name, subject);
        let mut descriptors = Vec::new();
        for entry in self.storage.meta_list(&folder).await? {
            let descriptor: Option<Descriptor> = self.read_json(&folder.child(&entry)).await?;
            descriptors.extend(descriptor);
        }
        descriptors.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(descriptors)
    }
}
