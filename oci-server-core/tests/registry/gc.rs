//! Garbage collection while a registry serves: unreferenced blobs go once past the grace
//! period, untagged manifests only when asked (index children and referrers of kept
//! manifests stay), abandoned uploads go, and `oci-registry gc` prints what it removes.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, SystemTime},
};

use oci_digest::Digest;
use oci_server_core::{FsStorage, GcOptions, RegistryConfig, Storage, UploadId, collect_garbage};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{OCI_INDEX, OCI_MANIFEST, TestRegistry, content, header};

/// Two hours from now: past the default one-hour grace period.
fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(7200)
}

async fn status(server: &TestRegistry, path: &str) -> StatusCode {
    server.get(path).await.status()
}

pub async fn orphans_go_after_the_grace_period(storage: &Arc<dyn Storage>) {
    let storage = Arc::clone(storage);
    let server =
        TestRegistry::on_storage(storage.clone(), RegistryConfig::default().with_delete(true))
            .await;
    let (_, image) = server.push_image("app", "v1", json!({})).await;
    let manifest: serde_json::Value = server
        .get(&format!("/v2/app/manifests/{image}"))
        .await
        .json()
        .await
        .unwrap();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
    let orphan = server.push_blob("app", &content(5000, 4)).await;
    let started = server
        .http
        .post(server.url("/v2/app/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    let upload = header(&started, "location").to_owned();

    // Everything is young: nothing goes.
    let report = collect_garbage(storage.clone(), &GcOptions::default())
        .await
        .unwrap();
    assert!(
        report.blobs.is_empty() && report.uploads.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.young_blobs, 1);

    // A dry run two hours later names the orphan, its link and the upload, and removes none.
    let dry = GcOptions::default().with_now(later()).with_dry_run(true);
    let report = collect_garbage(storage.clone(), &dry).await.unwrap();
    assert_eq!(report.blobs.len(), 1);
    assert_eq!(report.blobs[0].digest, orphan);
    assert_eq!(report.bytes_freed(), 5000);
    assert_eq!(report.links, [("app".to_owned(), orphan.clone())]);
    assert_eq!(report.uploads.len(), 1);
    assert_eq!(
        status(&server, &format!("/v2/app/blobs/{orphan}")).await,
        StatusCode::OK
    );

    let report = collect_garbage(storage.clone(), &GcOptions::default().with_now(later()))
        .await
        .unwrap();
    assert_eq!(report.blobs.len(), 1);
    assert_eq!(
        status(&server, &format!("/v2/app/blobs/{orphan}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status(&server, &upload).await, StatusCode::NOT_FOUND);
    assert_eq!(storage.blob_size(&orphan).await.unwrap(), None);
    // The image is whole.
    assert_eq!(
        status(&server, "/v2/app/manifests/v1").await,
        StatusCode::OK
    );
    assert_eq!(
        status(&server, &format!("/v2/app/blobs/{config}")).await,
        StatusCode::OK
    );

    // A second run finds nothing more.
    let report = collect_garbage(storage, &GcOptions::default().with_now(later()))
        .await
        .unwrap();
    assert!(
        report.blobs.is_empty() && report.links.is_empty(),
        "{report:?}"
    );
}

/// A session whose process died between creating it and saving its state has no state object
/// to age it by: it is aged by its creation, and goes once that is past the grace period.
pub async fn session_without_state_goes_after_the_grace_period(storage: &Arc<dyn Storage>) {
    let storage = Arc::clone(storage);
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();

    let report = collect_garbage(storage.clone(), &GcOptions::default())
        .await
        .unwrap();
    assert!(report.uploads.is_empty(), "{report:?}");
    assert!(storage.upload_created(&id).await.unwrap().is_some());

    let report = collect_garbage(storage.clone(), &GcOptions::default().with_now(later()))
        .await
        .unwrap();
    assert_eq!(report.uploads, [id.as_str()]);
    assert_eq!(storage.upload_created(&id).await.unwrap(), None);
}

crate::storage_contract::on_every_backend!(crate::gc;
    orphans_go_after_the_grace_period,
    session_without_state_goes_after_the_grace_period,
);

#[tokio::test]
async fn untagged_manifests_go_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(FsStorage::open(dir.path()).await.unwrap());
    let server =
        TestRegistry::on_storage(storage.clone(), RegistryConfig::default().with_delete(true))
            .await;
    let (tagged_bytes, tagged) = server.push_image("app", "v1", json!({})).await;
    let tagged_size = tagged_bytes.len();
    let (_, untagged) = server.push_image("app", "scratch", json!({})).await;
    assert_eq!(
        server.delete("/v2/app/manifests/scratch").await.status(),
        StatusCode::ACCEPTED
    );
    let (child_bytes, child) = server.push_image("app", "child", json!({})).await;
    server.delete("/v2/app/manifests/child").await;
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child.as_str(), "size": child_bytes.len()}],
    }))
    .unwrap();
    let put = server.put_manifest("app", "multi", OCI_INDEX, &index).await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let subject =
        json!({"mediaType": OCI_MANIFEST, "digest": tagged.as_str(), "size": tagged_size});
    let (_, referrer) = server
        .push_image(
            "app",
            "sig",
            json!({"subject": subject, "artifactType": "application/x-sig"}),
        )
        .await;
    server.delete("/v2/app/manifests/sig").await;

    // Without --untagged every manifest is a root.
    let plain = GcOptions::default().with_now(later());
    let report = collect_garbage(storage.clone(), &plain).await.unwrap();
    assert!(
        report.manifests.is_empty() && report.blobs.is_empty(),
        "{report:?}"
    );

    let report = collect_garbage(storage.clone(), &plain.clone().with_untagged(true))
        .await
        .unwrap();
    let removed: Vec<Digest> = report.manifests.iter().map(|m| m.digest.clone()).collect();
    assert_eq!(removed, std::slice::from_ref(&untagged));
    // The untagged manifest's content and its config blob went with it.
    assert_eq!(report.blobs.len(), 2, "{report:?}");
    assert_eq!(
        status(&server, &format!("/v2/app/manifests/{untagged}")).await,
        StatusCode::NOT_FOUND
    );
    for kept in [&tagged, &child, &referrer] {
        assert_eq!(
            status(&server, &format!("/v2/app/manifests/{kept}")).await,
            StatusCode::OK,
            "{kept}"
        );
    }
    let referrers: serde_json::Value = server
        .get(&format!("/v2/app/referrers/{tagged}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(referrers["manifests"][0]["digest"], referrer.as_str());

    // Young untagged manifests survive even with --untagged.
    let (_, fresh) = server
        .push_image("app", "fresh", json!({"annotations": {"n": "2"}}))
        .await;
    server.delete("/v2/app/manifests/fresh").await;
    let now = GcOptions::default().with_untagged(true);
    let report = collect_garbage(storage, &now).await.unwrap();
    assert!(report.manifests.is_empty(), "{report:?}");
    assert_eq!(
        status(&server, &format!("/v2/app/manifests/{fresh}")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_gc_command_lists_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestRegistry::on_root(dir.path(), RegistryConfig::default()).await;
    server.push_image("app", "v1", json!({})).await;
    let orphan = server.push_blob("app", b"orphan").await;
    let gc = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_oci-registry"))
            .args(["gc", "--root"])
            .arg(dir.path())
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };

    let young = gc(&["--dry-run"]);
    assert!(
        young.contains("would remove 0 manifests, 0 blobs"),
        "{young}"
    );
    assert!(young.contains("kept 1 young"), "{young}");

    let dry = gc(&["--dry-run", "--grace", "0s"]);
    assert!(dry.contains(&format!("blob {orphan} 6\n")), "{dry}");
    assert!(
        dry.contains("would remove 0 manifests, 1 blobs (6 bytes), 1 links"),
        "{dry}"
    );
    assert_eq!(
        status(&server, &format!("/v2/app/blobs/{orphan}")).await,
        StatusCode::OK
    );

    let done = gc(&["--grace", "0s", "--untagged"]);
    assert!(
        done.contains("removed 0 manifests, 1 blobs (6 bytes), 1 links"),
        "{done}"
    );
    assert_eq!(
        status(&server, &format!("/v2/app/blobs/{orphan}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&server, "/v2/app/manifests/v1").await,
        StatusCode::OK
    );
}
