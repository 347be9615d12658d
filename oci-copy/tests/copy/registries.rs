//! Copies between registries: two `oci-registry` processes, Debian's `docker-registry`,
//! shared blobs, mounts, referrers, plan JSON and keep-going.

use oci_copy::plan::{Action, Plan, Root, build_plan};
use oci_copy::{CopyOptions, ExecuteOptions, ImagePair, Outcome};
use oci_test_support::Proxy;
use oci_test_support::peers::skopeo;
use oci_test_support::peers::{Distribution, OciRegistry};

use crate::common::fixtures::{self, layout_with_image};
use crate::common::{copy, copy_with, ends, root_digest};

#[tokio::test(flavor = "multi_thread")]
async fn copies_between_two_oci_registries_keep_digests_and_skip_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), 60).await;
    let (a, b) = (OciRegistry::start(), OciRegistry::start());
    copy(&layout, &format!("{}/team/app:v1", a.host())).await;
    let (plan, report) = copy(
        &format!("{}/team/app:v1", a.host()),
        &format!("docker://{}/mirror/app:v1", b.host()),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    assert_eq!(report.count(Outcome::Copied { bytes: 0 }), 5);
    let inspected: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}/mirror/app:v1", b.host()),
    ]))
    .unwrap();
    assert_eq!(inspected["manifests"].as_array().unwrap().len(), 2);

    // Nothing new: the plan is all skips, and the tag step is one of them.
    let (again, _) = copy(
        &format!("{}/team/app:v1", a.host()),
        &format!("{}/mirror/app:v1", b.host()),
    )
    .await;
    assert!(again.is_noop());
    assert_eq!(
        again.steps.len(),
        2,
        "the tag and its manifest; nothing below was read"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_shared_by_platforms_is_uploaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, images) = layout_with_image(dir.path(), 70).await;
    let registry = OciRegistry::start();
    let proxy = Proxy::start(registry.host()).await;
    let (plan, _) = copy(&layout, &format!("{}/shared:v1", proxy.host())).await;
    let base = &images[0].layers[0].descriptor.digest;
    assert_eq!(
        images[1].layers[0].descriptor.digest, *base,
        "the fixture shares its base layer"
    );
    let steps = plan
        .steps
        .iter()
        .filter(|step| &step.descriptor.digest == base)
        .count();
    assert_eq!(steps, 1, "one step for the shared blob");
    let uploads = proxy
        .requests()
        .into_iter()
        .filter(|line| {
            (line.starts_with("POST") || line.starts_with("PUT")) && line.contains(base.encoded())
        })
        .count();
    assert_eq!(uploads, 1, "requests: {:#?}", proxy.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_are_mounted_between_repositories_of_one_registry() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = layout_with_image(dir.path(), 80).await;
    let registry = OciRegistry::start();
    copy(&layout, &format!("{}/one:v1", registry.host())).await;
    let (plan, report) = copy(
        &format!("{}/one:v1", registry.host()),
        &format!("{}/two:v1", registry.host()),
    )
    .await;
    let mounts = plan
        .steps
        .iter()
        .filter(|step| matches!(step.action, Action::Mount { .. }))
        .count();
    assert_eq!(mounts, 5);
    assert_eq!(report.count(Outcome::Mounted), 5);
    assert_eq!(report.bytes_copied(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_between_distribution_and_oci_registry_in_both_directions() {
    if !Distribution::available() {
        eprintln!(
            "SKIPPED: /usr/bin/docker-registry is not installed (apt-get install docker-registry)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), 90).await;
    let (distribution, ours) = (Distribution::start(), OciRegistry::start());
    copy(&layout, &format!("{}/team/app:v1", distribution.host())).await;
    let (plan, _) = copy(
        &format!("{}/team/app:v1", distribution.host()),
        &format!("{}/team/app:v1", ours.host()),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    let (plan, _) = copy(
        &format!("{}/team/app:v1", ours.host()),
        &format!("{}/copy/app:v2", distribution.host()),
    )
    .await;
    assert_eq!(root_digest(&plan), index.descriptor.digest);
    let raw = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}/copy/app:v2", distribution.host()),
    ]);
    assert_eq!(raw.as_bytes(), &index.bytes[..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn referrers_follow_their_subject_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, images) = layout_with_image(dir.path(), 100).await;
    let a = OciRegistry::start();
    copy(&layout, &format!("{}/app:v1", a.host())).await;
    let (signature, blobs) =
        fixtures::artifact(&index.descriptor, "application/vnd.example.signature", 1);
    let (sbom, sbom_blobs) = fixtures::artifact(
        &images[0].manifest.descriptor,
        "application/vnd.example.sbom",
        2,
    );
    let (_, sink, _, _) = ends(&layout, &format!("{}/app", a.host())).await;
    fixtures::write_artifact(sink.as_ref(), &signature, &blobs).await;
    fixtures::write_artifact(sink.as_ref(), &sbom, &sbom_blobs).await;

    let ours = OciRegistry::start();
    check_referrer_copy(
        a.host(),
        ours.host(),
        &index.descriptor,
        &signature.descriptor.digest,
    )
    .await;
    if Distribution::available() {
        // docker-registry has no referrers API: the copy keeps the tag-schema index.
        let distribution = Distribution::start();
        check_referrer_copy(
            a.host(),
            distribution.host(),
            &index.descriptor,
            &signature.descriptor.digest,
        )
        .await;
    }
}

/// Copies `app:v1` with its signature referrers from `from` to `to`, and checks that
/// `to` lists exactly the signature as a referrer of the index.
async fn check_referrer_copy(
    from: &str,
    to: &str,
    subject: &oci_spec_types::Descriptor,
    signature: &oci_spec_types::Digest,
) {
    let options = CopyOptions {
        referrers: true,
        artifact_types: vec!["application/vnd.example.signature".into()],
        ..CopyOptions::default()
    };
    let (plan, _) = copy_with(&format!("{from}/app:v1"), &format!("{to}/app:v1"), &options).await;
    let referrers = plan
        .roots
        .iter()
        .filter(|root| matches!(root, Root::Referrer { .. }))
        .count();
    assert_eq!(
        referrers, 1,
        "only the signature passes the artifact-type filter"
    );
    let location: oci_copy::Location = format!("{to}/app:v1").parse().unwrap();
    let source = crate::common::opener().source(&location).await.unwrap();
    let found = source.referrers(subject).await.unwrap();
    assert_eq!(
        found.iter().map(|entry| &entry.digest).collect::<Vec<_>>(),
        [signature]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_serialise_to_json_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = layout_with_image(dir.path(), 110).await;
    let registry = OciRegistry::start();
    let (source, sink, _, _) = ends(&layout, &format!("{}/json:v1", registry.host())).await;
    let plan = build_plan(
        source.as_ref(),
        sink.as_ref(),
        &[ImagePair::tag("v1")],
        &CopyOptions::default(),
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["steps"].as_array().unwrap().len(), plan.steps.len());
    assert_eq!(json["steps"][0]["action"]["kind"], "copy_blob");
    let tag = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["action"]["kind"] == "tag")
        .unwrap();
    assert_eq!(tag["action"]["tag"], "v1");
    let back: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back.steps, plan.steps);
    assert_eq!(back.roots, plan.roots);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_going_copies_what_does_not_depend_on_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, images) = layout_with_image(dir.path(), 120).await;
    let folder = layout
        .trim_start_matches("oci:")
        .trim_end_matches(":v1")
        .to_owned();
    let missing = &images[1].layers[1].descriptor.digest;
    std::fs::remove_file(
        std::path::Path::new(&folder)
            .join("blobs/sha256")
            .join(missing.encoded()),
    )
    .unwrap();
    let registry = OciRegistry::start();

    for keep_going in [false, true] {
        let (source, sink, _, _) = ends(
            &layout,
            &format!("{}/partial{keep_going}:v1", registry.host()),
        )
        .await;
        let plan = build_plan(
            source.as_ref(),
            sink.as_ref(),
            &[ImagePair::tag("v1")],
            &CopyOptions::default(),
        )
        .await
        .unwrap();
        let options = ExecuteOptions {
            keep_going,
            concurrency: std::num::NonZeroUsize::MIN,
            ..ExecuteOptions::default()
        };
        let report = oci_copy::execute::execute(&plan, source, sink.clone(), &options)
            .await
            .unwrap();
        assert!(!report.is_success());
        assert_eq!(report.count(Outcome::Failed), 1);
        let amd64_present = sink
            .has_manifest(&images[0].manifest.descriptor)
            .await
            .unwrap();
        assert_eq!(
            amd64_present, keep_going,
            "the other platform is written only when going on"
        );
        assert!(
            !sink
                .has_manifest(&images[1].manifest.descriptor)
                .await
                .unwrap()
        );
        assert_eq!(
            sink.tagged("v1").await.unwrap(),
            None,
            "the tag needs every platform"
        );
        assert!(matches!(
            report.into_result(),
            Err(oci_copy::Error::StepsFailed { .. })
        ));
    }
}
