//! Tags of an index are written after the tags of its children, and tags of one manifest
//! one after another: the plan records the order, the tree view shows it, the executor
//! keeps to it at any parallelism, and a child's tag that fails does not hold its
//! parent's tag back under `--keep-going` (the order is not a need).

use std::sync::Arc;

use oci_copy::end::{Sink, Source};
use oci_copy::plan::{Action, Plan, build_plan};
use oci_copy::{CopyOptions, Event, ExecuteOptions, ImagePair, Outcome};
use oci_test_support::peers::OciRegistry;
use oci_test_support::{Action as ProxyAction, Fault, Proxy};

use crate::common::fixtures::{self, Blob, Image, two_platforms};
use crate::common::opener;

/// A registry holding a two-platform image under `v1` and `latest` (the index) and
/// `v1-amd64` (one child).
async fn tagged_registry() -> (OciRegistry, Blob, Vec<Image>) {
    let registry = OciRegistry::start();
    let location: oci_copy::Location = format!("{}/app", registry.host()).parse().unwrap();
    let sink = opener().sink(&location, None).await.unwrap();
    let (index, images) = two_platforms(1_700, 4 * 1024);
    fixtures::write(sink.as_ref(), &images, Some(&index), "v1").await;
    sink.tag(Some("latest"), &index.descriptor).await.unwrap();
    let mut child = images[0].manifest.descriptor.clone();
    child.platform = None;
    sink.tag(Some("v1-amd64"), &child).await.unwrap();
    (registry, index, images)
}

/// Plans copying the three tags from `from` to `to`.
async fn plan_three_tags(from: &str, to: &str) -> (Plan, Arc<dyn Source>, Arc<dyn Sink>) {
    let (from, to): (oci_copy::Location, oci_copy::Location) =
        (from.parse().unwrap(), to.parse().unwrap());
    let source = opener().source(&from).await.unwrap();
    let sink = opener().sink(&to, None).await.unwrap();
    let images = ["v1-amd64", "v1", "latest"].map(ImagePair::tag);
    let plan = build_plan(
        source.as_ref(),
        sink.as_ref(),
        &images,
        &CopyOptions::default(),
    )
    .await
    .unwrap();
    (plan, source, sink)
}

/// The step writing `tag`.
fn tag_step(plan: &Plan, tag: &str) -> usize {
    plan.steps
        .iter()
        .find(|step| {
            step.action
                == Action::Tag {
                    tag: Some(tag.to_owned()),
                }
        })
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_is_tagged_after_its_children_and_the_plan_says_so() {
    let (source, _, _) = tagged_registry().await;
    let destination = OciRegistry::start();
    let proxy = Proxy::start(destination.host()).await;
    let (plan, source_end, sink) = plan_three_tags(
        &format!("{}/app", source.host()),
        &format!("{}/app", proxy.host()),
    )
    .await;
    let (child, v1, latest) = (
        tag_step(&plan, "v1-amd64"),
        tag_step(&plan, "v1"),
        tag_step(&plan, "latest"),
    );
    assert!(plan.steps[child].after.is_empty());
    assert_eq!(plan.steps[v1].after, [child]);
    let mut latest_after = plan.steps[latest].after.clone();
    latest_after.sort();
    let mut expected = vec![child, v1];
    expected.sort();
    assert_eq!(
        latest_after, expected,
        "the child, and the other tag of the index"
    );
    let tree = plan.render();
    assert!(tree.contains("(after tag v1-amd64)"), "{tree}");
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["steps"][v1]["after"], serde_json::json!([child]));

    // At high parallelism the index's tags still arrive after the child's; the progress
    // events name the tag each tag step writes.
    let started_tags = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = Arc::clone(&started_tags);
    let progress: oci_copy::execute::ProgressFn = Arc::new(move |event: &Event| {
        if let Event::Started { tag: Some(tag), .. } = event {
            recorded.lock().unwrap().push(tag.clone());
        }
    });
    let options = ExecuteOptions {
        concurrency: std::num::NonZeroUsize::new(16).unwrap(),
        progress: Some(progress),
        ..ExecuteOptions::default()
    };
    let report = oci_copy::execute::execute(&plan, source_end, sink, &options)
        .await
        .unwrap();
    assert!(report.is_success(), "{:?}", report.errors);
    let started_tags = started_tags.lock().unwrap().clone();
    assert_eq!(started_tags.len(), 3, "{started_tags:?}");
    assert_eq!(started_tags[0], "v1-amd64", "{started_tags:?}");
    let seen = proxy.seen();
    let position = |tag: &str| {
        seen.iter()
            .position(|seen| seen.line == format!("PUT /v2/app/manifests/{tag}"))
            .unwrap()
    };
    assert!(
        position("v1-amd64") < position("v1"),
        "{:#?}",
        proxy.requests()
    );
    assert!(
        position("v1-amd64") < position("latest"),
        "{:#?}",
        proxy.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_child_tag_does_not_hold_back_its_index_tags_when_going_on() {
    let (source, index, _) = tagged_registry().await;
    let destination = OciRegistry::start();
    // A refusal that is never retried, so the child's tag fails for good.
    let refuse_child_tag = Fault::new("PUT", "/manifests/v1-amd64", ProxyAction::status(400));
    let proxy = Proxy::with_faults(destination.host(), vec![refuse_child_tag]).await;
    let (plan, source_end, sink) = plan_three_tags(
        &format!("{}/app", source.host()),
        &format!("{}/app", proxy.host()),
    )
    .await;
    let options = ExecuteOptions {
        concurrency: std::num::NonZeroUsize::new(16).unwrap(),
        keep_going: true,
        ..ExecuteOptions::default()
    };

    let report = oci_copy::execute::execute(&plan, source_end, sink.clone(), &options)
        .await
        .unwrap();

    assert_eq!(
        report.outcomes[tag_step(&plan, "v1-amd64")],
        Outcome::Failed
    );
    assert_eq!(report.outcomes[tag_step(&plan, "v1")], Outcome::Done);
    assert_eq!(report.outcomes[tag_step(&plan, "latest")], Outcome::Done);
    for tag in ["v1", "latest"] {
        assert_eq!(
            sink.tagged(tag).await.unwrap(),
            Some(index.descriptor.digest.clone())
        );
    }
    let error = report.into_result().unwrap_err();
    // The failure's message and its causes (Display shows one level).
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    assert!(
        message.contains(&format!(
            "tag \"v1-amd64\" of docker://{}/app",
            proxy.host()
        )),
        "{message}"
    );
}
