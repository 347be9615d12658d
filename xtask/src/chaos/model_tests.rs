//! The checker's model on hand-written histories: no servers, no clocks.

use std::time::Duration;

use oci_digest::Digest;

use super::expect::{Expectations, Observed, Read};
use super::history::{
    Action, History, Outcome, PushedManifest, Reference, Request, SessionId, Span,
};
use super::model::runtime_violations;
use super::violation::{Kind, Via, Violation};

const REPO: &str = "chaos/c0/r0";

fn digest(text: &str) -> Digest {
    Digest::compute(text.as_bytes())
}

fn span(start_ms: u64, end_ms: u64) -> Span {
    Span {
        start: Duration::from_millis(start_ms),
        end: Duration::from_millis(end_ms),
    }
}

fn request(start_ms: u64, end_ms: u64, action: Action, outcome: Outcome) -> Request {
    Request {
        client: 0,
        op: 0,
        instance: 0,
        span: span(start_ms, end_ms),
        action,
        outcome,
    }
}

/// An answer with `status` and no error body.
fn status(status: u16) -> Outcome {
    Outcome::Answered {
        status,
        code: None,
        detail: None,
    }
}

/// An error answer with `code` and, when given, the digest its detail names.
fn refused(status: u16, code: &str, detail: Option<&Digest>) -> Outcome {
    Outcome::Answered {
        status,
        code: Some(code.into()),
        detail: detail.map(Digest::to_string),
    }
}

fn history(requests: Vec<Request>) -> History {
    History {
        requests,
        down: Vec::new(),
        window: Duration::from_millis(1900),
    }
}

fn upload(blob: &Digest) -> Action {
    Action::UploadFinish {
        repo: REPO.into(),
        digest: blob.clone(),
        session: None,
    }
}

fn image(name: &str, blobs: &[&Digest], subject: Option<&Digest>) -> PushedManifest {
    PushedManifest {
        digest: digest(name),
        blobs: blobs.iter().map(|blob| (*blob).clone()).collect(),
        children: Vec::new(),
        subject: subject.cloned(),
    }
}

fn put(manifest: &PushedManifest, reference: Reference) -> Action {
    Action::ManifestPut {
        repo: REPO.into(),
        reference,
        manifest: manifest.clone(),
    }
}

fn tag(name: &str) -> Reference {
    Reference::Tag(name.into())
}

fn key(digest: &Digest) -> (String, Digest) {
    (REPO.to_string(), digest.clone())
}

fn kinds(violations: &[Violation]) -> Vec<Kind> {
    violations.iter().map(|violation| violation.kind).collect()
}

/// What a healthy store holds at the end of `history`: everything expected, intact.
fn healthy(expectations: &Expectations) -> Observed {
    let mut observed = Observed::default();
    for expected in &expectations.manifests {
        let manifest = &expected.manifest;
        observed
            .manifests
            .insert(key(&manifest.digest), Read::Intact);
        for blob in &manifest.blobs {
            observed.blobs.insert(key(blob), Read::Intact);
        }
    }
    for expected in &expectations.tags {
        let value = expected.allowed.last().cloned().flatten();
        observed
            .tags
            .insert((expected.repo.clone(), expected.tag.clone()), Ok(value));
    }
    for ((repo, subject), referrers) in expectations.referrers() {
        observed.referrers.insert((repo, subject), Ok(referrers));
    }
    observed
}

#[test]
fn a_tag_left_at_an_earlier_push_is_lost() {
    let (one, two) = (image("one", &[], None), image("two", &[], None));
    let history = history(vec![
        request(0, 10, put(&one, tag("t0")), status(201)),
        request(20, 30, put(&two, tag("t0")), status(201)),
    ]);
    let expectations = Expectations::of(&history);
    let mut observed = healthy(&expectations);
    assert_eq!(expectations.check(&observed), Vec::new());
    let tag_key = (REPO.to_string(), "t0".to_string());
    observed.tags.insert(tag_key.clone(), Ok(Some(one.digest)));
    assert_eq!(kinds(&expectations.check(&observed)), [Kind::LostTag]);
    observed.tags.insert(tag_key, Ok(None));
    assert_eq!(kinds(&expectations.check(&observed)), [Kind::LostTag]);
}

#[test]
fn overlapping_tag_writes_may_end_either_way() {
    let one = image("one", &[], None);
    let history = history(vec![
        request(0, 50, put(&one, tag("t0")), status(201)),
        request(
            10,
            40,
            Action::TagDelete {
                repo: REPO.into(),
                tag: "t0".into(),
            },
            status(202),
        ),
    ]);
    let expectations = Expectations::of(&history);
    let mut observed = healthy(&expectations);
    let tag_key = (REPO.to_string(), "t0".to_string());
    for value in [Some(one.digest.clone()), None] {
        observed.tags.insert(tag_key.clone(), Ok(value));
        assert_eq!(expectations.check(&observed), Vec::new());
    }
}

#[test]
fn a_blob_missing_under_an_acknowledged_manifest_is_lost_and_named_by_how_it_got_there() {
    let (layer, config) = (digest("layer"), digest("config"));
    let manifest = image("m", &[&config, &layer], None);
    let history = history(vec![
        request(0, 10, upload(&config), status(201)),
        request(
            20,
            30,
            Action::BlobHead {
                repo: REPO.into(),
                digest: layer.clone(),
            },
            status(200),
        ),
        request(40, 50, put(&manifest, Reference::Digest), status(201)),
    ]);
    let expectations = Expectations::of(&history);
    let mut observed = healthy(&expectations);
    assert_eq!(expectations.check(&observed), Vec::new());
    observed
        .blobs
        .insert(key(&layer), Read::Missing("404 BLOB_UNKNOWN".into()));
    observed
        .blobs
        .insert(key(&config), Read::Corrupt(digest("other")));
    let found = kinds(&expectations.check(&observed));
    assert_eq!(
        found,
        [Kind::LostBlob(Via::Upload), Kind::LostBlob(Via::Head)]
    );
    assert_eq!(found[1].problem(), Some(2));
}

#[test]
fn a_deleted_manifest_is_not_expected_but_a_surviving_one_is() {
    let (gone, kept) = (image("gone", &[], None), image("kept", &[], None));
    let history = history(vec![
        request(0, 10, put(&gone, Reference::Digest), status(201)),
        request(5, 15, put(&kept, Reference::Digest), status(201)),
        request(
            20,
            30,
            Action::ManifestDelete {
                repo: REPO.into(),
                digest: gone.digest.clone(),
            },
            status(202),
        ),
    ]);
    let expectations = Expectations::of(&history);
    let expected: Vec<&Digest> = expectations
        .manifests
        .iter()
        .map(|e| &e.manifest.digest)
        .collect();
    assert_eq!(expected, [&kept.digest]);
    let mut observed = healthy(&expectations);
    observed.manifests.insert(
        key(&kept.digest),
        Read::Missing("404 MANIFEST_UNKNOWN".into()),
    );
    assert_eq!(kinds(&expectations.check(&observed)), [Kind::LostManifest]);
}

#[test]
fn a_missing_referrer_is_flagged() {
    let subject = image("subject", &[], None);
    let note = image("note", &[], Some(&subject.digest));
    let history = history(vec![
        request(0, 10, put(&subject, tag("t0")), status(201)),
        request(20, 30, put(&note, Reference::Digest), status(201)),
    ]);
    let expectations = Expectations::of(&history);
    let mut observed = healthy(&expectations);
    assert_eq!(expectations.check(&observed), Vec::new());
    observed
        .referrers
        .insert(key(&subject.digest), Ok(Vec::new()));
    assert_eq!(kinds(&expectations.check(&observed)), [Kind::LostReferrer]);
}

#[test]
fn a_5xx_is_flagged_unless_an_instance_was_down_meanwhile() {
    let one = image("one", &[], None);
    let failed = request(100, 200, put(&one, tag("t0")), status(500));
    let mut history = history(vec![failed]);
    assert_eq!(kinds(&runtime_violations(&history)), [Kind::ServerError]);
    history.down.push(span(150, 400));
    assert_eq!(runtime_violations(&history), Vec::new());
    // The PUT may or may not have happened: either state of the tag is fine.
    let expectations = Expectations::of(&history);
    assert_eq!(expectations.tags[0].allowed, [Some(one.digest), None]);
}

#[test]
fn a_manifest_refused_for_a_blob_reuploaded_moments_before_is_problem_1() {
    let layer = digest("layer");
    let manifest = image("m", &[&layer], None);
    let refused = refused(400, "MANIFEST_BLOB_UNKNOWN", Some(&layer));
    let history = history(vec![
        request(0, 10, upload(&layer), status(201)),
        request(5000, 5010, upload(&layer), status(201)),
        request(5500, 5510, put(&manifest, tag("t0")), refused.clone()),
        // Past the window, the store may have collected the unreferenced blob.
        request(9000, 9010, put(&manifest, tag("t0")), refused),
    ]);
    let found = kinds(&runtime_violations(&history));
    assert_eq!(found, [Kind::BlobVanished(Via::Reupload)]);
    assert_eq!(found[0].problem(), Some(1));
}

#[test]
fn a_slow_upload_may_end_in_404_but_never_in_a_5xx() {
    let layer = digest("layer");
    let session = SessionId {
        client: 0,
        number: 1,
    };
    let patch = Action::UploadPatch {
        repo: REPO.into(),
        session,
        slow: true,
    };
    let finish = Action::UploadFinish {
        repo: REPO.into(),
        digest: layer,
        session: Some(session),
    };
    let unknown = refused(404, "BLOB_UPLOAD_UNKNOWN", None);
    let open = Action::UploadOpen {
        repo: REPO.into(),
        session,
    };
    let clean = history(vec![
        request(0, 10, open.clone(), status(202)),
        request(10, 3010, patch.clone(), status(202)),
        request(3020, 3030, finish.clone(), unknown),
    ]);
    assert_eq!(runtime_violations(&clean), Vec::new());
    let broken = history(vec![
        request(0, 10, open, status(202)),
        request(10, 3010, patch, status(202)),
        request(3020, 3030, finish, status(500)),
    ]);
    let found = kinds(&runtime_violations(&broken));
    assert_eq!(found, [Kind::UploadDestroyed]);
    assert_eq!(found[0].problem(), Some(3));
}

#[test]
fn a_fast_upload_session_lost_within_the_window_is_flagged() {
    let session = SessionId {
        client: 0,
        number: 1,
    };
    let unknown = refused(404, "BLOB_UPLOAD_UNKNOWN", None);
    let history = history(vec![
        request(
            0,
            10,
            Action::UploadOpen {
                repo: REPO.into(),
                session,
            },
            status(202),
        ),
        request(
            20,
            30,
            Action::UploadPatch {
                repo: REPO.into(),
                session,
                slow: false,
            },
            unknown,
        ),
    ]);
    assert_eq!(
        kinds(&runtime_violations(&history)),
        [Kind::UploadSessionLost]
    );
}
