//! The Content Discovery workflow, referrers: artifacts with a `subject`, `OCI-Subject`, the
//! referrers index, the `artifactType` filter, and subjects that are missing.

use serde_json::{Value, json};

use super::Ctx;
use super::client::{Api, Reply};
use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, Rng, image_index,
    image_manifest,
};
use super::report::{Checks, Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked, push_image_checked};

const DISCOVERY: Scope = Scope::v1_1(Workflow::ContentDiscovery);
const MANAGEMENT: Scope = Scope::v1_1(Workflow::ContentManagement);
const TYPE_A: &str = "application/vnd.xtask.conformance.a";
const TYPE_B: &str = "application/vnd.xtask.conformance.b";
const TYPE_INDEX: &str = "application/vnd.xtask.conformance.index";
const ANNOTATION: &str = "org.opencontainers.conformance.test";

/// A referrer: its manifest and what its referrers-index entry must say.
struct Referrer {
    manifest: Manifest,
    artifact_type: &'static str,
    annotation: String,
}

/// The subject image, five referrers of it, and one referrer of a subject never pushed.
struct ReferrersData {
    subject: Image,
    blobs: [Blob; 3],
    before_subject: Vec<Referrer>,
    after_subject: Vec<Referrer>,
    orphan: Referrer,
    missing_subject: Blob,
}

impl ReferrersData {
    fn generate(rng: &mut Rng) -> ReferrersData {
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

    fn referrers_of_subject(&self) -> impl Iterator<Item = &Referrer> {
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

/// Runs the referrers half of the Content Discovery workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("referrers");
    let data = ReferrersData::generate(rng);
    let subject = data.subject.manifest.digest.as_str();
    let mut subject_headers: Vec<(String, Option<String>)> = Vec::new();
    report.group("Content Discovery: referrers");

    report
        .setup(
            DISCOVERY,
            "setup: push blobs and three referrers before their subject",
            async |c| {
                for blob in &data.blobs {
                    push_blob_checked(c, api, repo, blob).await;
                }
                for referrer in &data.before_subject {
                    subject_headers.push((
                        subject.to_string(),
                        push_referrer(c, api, repo, referrer).await,
                    ));
                }
            },
        )
        .await;
    report
        .setup(DISCOVERY, "setup: push the subject image", async |c| {
            push_image_checked(c, api, repo, "subject", &data.subject).await;
        })
        .await;
    report
        .setup(
            DISCOVERY,
            "setup: push two referrers after the subject and one with a missing subject",
            async |c| {
                for referrer in &data.after_subject {
                    subject_headers.push((
                        subject.to_string(),
                        push_referrer(c, api, repo, referrer).await,
                    ));
                }
                let orphan_header = push_referrer(c, api, repo, &data.orphan).await;
                subject_headers.push((data.missing_subject.digest.clone(), orphan_header));
            },
        )
        .await;

    report
        .case(
            DISCOVERY,
            "PUT of a manifest with subject answers OCI-Subject",
            async |c| {
                for (expected, got) in &subject_headers {
                    c.equal("OCI-Subject header", &Some(expected), &got.as_ref());
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET referrers of an unknown digest returns an empty image index",
            async |c| {
                let unknown = Blob::random(rng, 32);
                if let Some(entries) = referrers(c, api, repo, &unknown.digest, None).await {
                    c.equal("number of referrers", &0, &entries.len());
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET referrers lists every referrer with its annotations",
            async |c| {
                let expected: Vec<&Referrer> = data.referrers_of_subject().collect();
                if let Some(entries) = referrers(c, api, repo, subject, None).await {
                    check_entries(c, &entries, &expected);
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET referrers?artifactType= filters (or lists all without OCI-Filters-Applied)",
            async |c| {
                let Some((entries, reply)) =
                    referrers_reply(c, api, repo, subject, Some(TYPE_A)).await
                else {
                    return;
                };
                if reply.header("oci-filters-applied").is_some() {
                    c.header_eq(&reply, "oci-filters-applied", "artifactType");
                    let expected: Vec<&Referrer> = data.before_subject[..2].iter().collect();
                    check_entries(c, &entries, &expected);
                } else {
                    c.note("the registry does not filter by artifactType");
                    let expected: Vec<&Referrer> = data.referrers_of_subject().collect();
                    check_entries(c, &entries, &expected);
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET referrers of a missing subject lists its referrer",
            async |c| {
                if let Some(entries) =
                    referrers(c, api, repo, &data.missing_subject.digest, None).await
                {
                    check_entries(c, &entries, &[&data.orphan]);
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET referrers with a malformed digest returns 400",
            async |c| {
                let reply = api
                    .get(&format!("/v2/{repo}/referrers/sha256:nothex"))
                    .await;
                c.status(&reply, &[400]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            "DELETE of a referrer removes it from the referrers index",
            async |c| {
                let removed = &data.after_subject[1];
                let reply = api
                    .delete(&format!("/v2/{repo}/manifests/{}", removed.manifest.digest))
                    .await;
                c.status(&reply, &[202]);
                let expected: Vec<&Referrer> = data
                    .referrers_of_subject()
                    .filter(|referrer| referrer.manifest.digest != removed.manifest.digest)
                    .collect();
                if let Some(entries) = referrers(c, api, repo, subject, None).await {
                    check_entries(c, &entries, &expected);
                }
            },
        )
        .await;

    report
        .teardown(
            DISCOVERY,
            "teardown: delete referrers, subject and blobs",
            async |c| {
                let mut manifests: Vec<&str> = data
                    .referrers_of_subject()
                    .chain([&data.orphan])
                    .map(|referrer| referrer.manifest.digest.as_str())
                    .collect();
                manifests.push(subject);
                let blobs: Vec<&str> = data
                    .blobs
                    .iter()
                    .chain(data.subject.blobs())
                    .map(|blob| blob.digest.as_str())
                    .collect();
                delete_all(c, api, repo, &manifests, &blobs).await;
            },
        )
        .await;
}

/// Pushes a referrer by digest; returns its `OCI-Subject` answer.
async fn push_referrer(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    referrer: &Referrer,
) -> Option<String> {
    let manifest = &referrer.manifest;
    let reply = api
        .put_manifest(
            repo,
            &manifest.digest,
            manifest.media_type,
            manifest.bytes.clone(),
        )
        .await;
    c.check(reply.status == 201, || {
        format!(
            "pushing referrer {:?}: {}",
            referrer.annotation,
            reply.describe()
        )
    });
    reply.header("oci-subject").map(str::to_string)
}

async fn referrers(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    digest: &str,
    filter: Option<&str>,
) -> Option<Vec<Value>> {
    referrers_reply(c, api, repo, digest, filter)
        .await
        .map(|(entries, _)| entries)
}

/// `GET /v2/<repo>/referrers/<digest>[?artifactType=]`, asserting it is an OCI image index;
/// `None` when it is not.
async fn referrers_reply(
    c: &mut Checks,
    api: &Api,
    repo: &str,
    digest: &str,
    filter: Option<&str>,
) -> Option<(Vec<Value>, Reply)> {
    let mut path = format!("/v2/{repo}/referrers/{digest}");
    if let Some(artifact_type) = filter {
        path.push_str(&format!("?artifactType={artifact_type}"));
    }
    let reply = api.get(&path).await;
    if !c.status(&reply, &[200]) {
        return None;
    }
    c.header_eq(&reply, "content-type", OCI_INDEX);
    let index = c.json(&reply)?;
    c.equal("schemaVersion", &json!(2), &index["schemaVersion"]);
    c.equal("mediaType", &json!(OCI_INDEX), &index["mediaType"]);
    let entries = index["manifests"].as_array().cloned();
    c.check(entries.is_some(), || {
        format!("no \"manifests\" array in {index}")
    });
    Some((entries?, reply))
}

/// The entries must be exactly `expected` (any order), each with the referrer's media type,
/// size, artifactType and annotations.
fn check_entries(c: &mut Checks, entries: &[Value], expected: &[&Referrer]) {
    c.equal("number of referrers", &expected.len(), &entries.len());
    for referrer in expected {
        let manifest = &referrer.manifest;
        let Some(entry) = entries
            .iter()
            .find(|entry| entry["digest"] == manifest.digest.as_str())
        else {
            c.fail(format!(
                "referrer {:?} ({}) is missing",
                referrer.annotation, manifest.digest
            ));
            continue;
        };
        let label = &referrer.annotation;
        c.equal(
            &format!("{label}: mediaType"),
            &json!(manifest.media_type),
            &entry["mediaType"],
        );
        c.equal(
            &format!("{label}: size"),
            &json!(manifest.bytes.len()),
            &entry["size"],
        );
        c.equal(
            &format!("{label}: artifactType"),
            &json!(referrer.artifact_type),
            &entry["artifactType"],
        );
        c.equal(
            &format!("{label}: annotations"),
            &json!({ ANNOTATION: label }),
            &entry["annotations"],
        );
    }
}
