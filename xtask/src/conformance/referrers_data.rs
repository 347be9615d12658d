//! The content of the referrers checks: a subject image, referrers typed by their config or by
//! `artifactType` (an index among them), pushed before and after their subject, and one whose
//! subject is never pushed.

use serde_json::{Value, json};

use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, Rng, image_index,
    image_manifest,
};

/// Artifact type A.
pub const TYPE_A: &str = "application/vnd.xtask.conformance.a";
/// Artifact type B.
pub const TYPE_B: &str = "application/vnd.xtask.conformance.b";
/// The artifact type of the referrer index.
pub const TYPE_INDEX: &str = "application/vnd.xtask.conformance.index";
/// The annotation every referrer carries.
pub const ANNOTATION: &str = "org.opencontainers.conformance.test";

/// A referrer: its manifest and what its referrers-index entry must say.
pub struct Referrer {
    /// The referrer itself.
    pub manifest: Manifest,
    /// The `artifactType` its entry must carry.
    pub artifact_type: &'static str,
    /// Its annotation's value, which also names it in messages.
    pub annotation: String,
}

/// The subject image, five referrers of it, and one referrer of a subject never pushed.
pub struct ReferrersData {
    /// The subject image.
    pub subject: Image,
    /// The empty config and two payloads.
    pub blobs: [Blob; 3],
    /// Referrers pushed before their subject (the last is an index over the others).
    pub before_subject: Vec<Referrer>,
    /// Referrers pushed after it.
    pub after_subject: Vec<Referrer>,
    /// A referrer of a subject never pushed.
    pub orphan: Referrer,
    /// That subject's stand-in, for its digest.
    pub missing_subject: Blob,
}

impl ReferrersData {
    /// Fresh content for one run.
    pub fn generate(rng: &mut Rng) -> ReferrersData {
        let subject = Image::generate(rng, 1, Algorithm::Sha256);
        let empty = Blob::empty_json();
        let payload_a = Blob::random(rng, 40);
        let payload_b = Blob::random(rng, 40);
        let subject_descriptor = subject.manifest.descriptor();
        let missing_subject = Blob::random(rng, 500);
        let missing_descriptor =
            super::data::descriptor(OCI_MANIFEST, &missing_subject.digest, 500);
        // Type given by the config's media type (the pre-1.1 artifact convention).
        let by_config = |payload: &Blob, kind: &'static str, subject: &Value, label: &str| {
            let value = image_manifest(payload.descriptor(kind), vec![empty.descriptor(OCI_EMPTY)]);
            referrer(value, subject, kind, label)
        };
        // Type given by `artifactType`, with the empty config.
        let by_field = |payload: &Blob, kind: &'static str, subject: &Value, label: &str| {
            let mut value =
                image_manifest(empty.descriptor(OCI_EMPTY), vec![payload.descriptor(kind)]);
            value["artifactType"] = json!(kind);
            referrer(value, subject, kind, label)
        };
        let config_a = by_config(&payload_a, TYPE_A, &subject_descriptor, "config a");
        let field_a = by_field(&payload_a, TYPE_A, &subject_descriptor, "layer a");
        let mut index = image_index(vec![
            config_a.manifest.descriptor(),
            field_a.manifest.descriptor(),
        ]);
        index["artifactType"] = json!(TYPE_INDEX);
        let index = referrer(index, &subject_descriptor, TYPE_INDEX, "index");
        let before_subject = vec![config_a, field_a, index];
        let after_subject = vec![
            by_config(&payload_b, TYPE_B, &subject_descriptor, "config b"),
            by_field(&payload_b, TYPE_B, &subject_descriptor, "layer b"),
        ];
        let orphan = by_field(&payload_b, TYPE_B, &missing_descriptor, "orphan");
        ReferrersData {
            subject,
            blobs: [empty, payload_a, payload_b],
            before_subject,
            after_subject,
            orphan,
            missing_subject,
        }
    }

    /// Every referrer of the subject.
    pub fn referrers_of_subject(&self) -> impl Iterator<Item = &Referrer> {
        self.before_subject.iter().chain(&self.after_subject)
    }
}

/// Adds `subject` and an annotation to `value` and freezes it into a [`Referrer`].
fn referrer(
    mut value: Value,
    subject: &Value,
    artifact_type: &'static str,
    label: &str,
) -> Referrer {
    value["subject"] = subject.clone();
    value["annotations"] = json!({ ANNOTATION: label });
    let media_type = if value["mediaType"] == OCI_INDEX {
        OCI_INDEX
    } else {
        OCI_MANIFEST
    };
    Referrer {
        manifest: Manifest::from_json(media_type, &value),
        artifact_type,
        annotation: label.to_string(),
    }
}
