//! The Content Discovery workflow, referrers: artifacts with a `subject`, `OCI-Subject`, the
//! referrers index, the `artifactType` filter, and subjects that are missing.

use serde_json::{Value, json};

use super::Ctx;
use super::basis::{Basis, Feature};
use super::checks::Checks;
use super::client::{Api, Reply};
use super::data::{Algorithm, Blob, OCI_INDEX, Rng, digest};
use super::management::deleted;
use super::pull::DELETING;
use super::referrers_data::{ANNOTATION, Referrer, ReferrersData, TYPE_A};
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked, push_image_checked};

const DISCOVERY: Scope = Scope::v1_1(Workflow::ContentDiscovery);
const MANAGEMENT: Scope = Scope::v1_1(Workflow::ContentManagement);
const REFERRERS: Basis = Basis::Feature(Feature::Referrers, "v1.1 §Listing Referrers");
/// A registry "MUST initially accept an otherwise valid manifest with a subject field that
/// references a manifest that does not exist".
const SUBJECT_FIRST: Basis = Basis::Must("v1.1 §Push: a subject may be pushed after its referrers");

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
            SUBJECT_FIRST,
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
        .setup(
            DISCOVERY,
            SUBJECT_FIRST,
            "setup: push the subject image",
            async |c| {
                push_image_checked(c, api, repo, "subject", &data.subject).await;
            },
        )
        .await;
    report
        .setup(
            DISCOVERY,
            SUBJECT_FIRST,
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
            REFERRERS,
            "GET referrers of an unknown digest returns an empty image index",
            async |c| {
                let unknown = Blob::random(rng, 32);
                if probe(c, api, repo).await
                    && let Some(entries) = referrers(c, api, repo, &unknown.digest, None).await
                {
                    c.equal("number of referrers", &0, &entries.len());
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            Basis::Feature(Feature::Referrers, "v1.1 §Pushing Manifests with Subject"),
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
            REFERRERS,
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
            REFERRERS,
            "GET referrers?artifactType= filters, and says so with OCI-Filters-Applied",
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
                    let expected: Vec<&Referrer> = data.referrers_of_subject().collect();
                    check_entries(c, &entries, &expected);
                    c.should("v1.1 §Listing Referrers: SHOULD support filtering", |c| {
                        c.fail("the registry does not filter by artifactType")
                    });
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            REFERRERS,
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
            REFERRERS,
            "GET referrers of a digest of invalid syntax returns 400",
            async |c| {
                // Not a digest at all: no algorithm, no colon.
                let reply = api.get(&format!("/v2/{repo}/referrers/notadigest")).await;
                c.status(&reply, &[400]);
                // Grammatical, but not a sha256: invalid as well, less plainly so.
                let reply = api
                    .get(&format!("/v2/{repo}/referrers/sha256:nothex"))
                    .await;
                c.should(
                    "v1.1 §Listing Referrers: an invalid request answers 400",
                    |c| c.status(&reply, &[400]),
                );
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            REFERRERS,
            "DELETE of a referrer removes it from the referrers index",
            async |c| {
                let removed = &data.after_subject[1];
                let reply = api
                    .delete(&format!("/v2/{repo}/manifests/{}", removed.manifest.digest))
                    .await;
                if !deleted(c, &reply, Feature::ManifestDelete) {
                    return c.skip("the registry does not delete manifests");
                }
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
            DELETING,
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

/// Finds out whether the registry offers the referrers API, asking in `repo` (which must
/// exist): "a registry that supports the referrers API MUST NOT return a 404" to it, and
/// clients take a 404 as its absence. Returns whether it is offered.
pub async fn probe(c: &mut Checks, api: &Api, repo: &str) -> bool {
    let unknown = digest(Algorithm::Sha256, repo.as_bytes());
    let reply = api.get(&format!("/v2/{repo}/referrers/{unknown}")).await;
    if reply.status == 404 {
        c.not_offered(
            Feature::Referrers,
            format!(
                "GET /v2/<name>/referrers/<digest> answered {}",
                reply.describe()
            ),
        );
        false
    } else {
        c.offered(Feature::Referrers);
        true
    }
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
