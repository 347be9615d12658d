//! Copies through `olareg` (regclient's registry, a static build in `../shared/peers`): an
//! index with its platforms and a referrer, from `oci-registry` into olareg and from olareg
//! into a layout and another `oci-registry`, each byte-identical. Skipped, saying so, where
//! the binary is absent.

use crate::common::fixtures::{self, layout_with_image};
use crate::common::processes::run_oci_copy;
use crate::common::verify::assert_stored;
use oci_copy::CopyOptions;
use oci_test_support::peers::{OciRegistry, Olareg};

use crate::common::{copy_with, ends, text};

const SIGNATURE: &str = "application/vnd.example.signature";

/// `oci-copy copy` with `args`, which must succeed.
fn copy_cli(args: &[&str]) {
    let (code, _, stderr) = run_oci_copy(&[&["copy"], args].concat());
    assert_eq!(code, Some(0), "copy {args:?}: {stderr}");
}

/// The referrers of `reference` of type [`SIGNATURE`], as `oci-copy referrers` lists them.
fn signatures(reference: &str) -> String {
    let (code, stdout, stderr) =
        run_oci_copy(&["referrers", "--artifact-type", SIGNATURE, reference]);
    assert_eq!(code, Some(0), "{stderr}");
    stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_and_its_referrers_go_through_olareg_unchanged() {
    let Some(binary) = Olareg::binary() else {
        eprintln!("skipped: no olareg in ../shared/peers (see shared/peers/README.md)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, images) = layout_with_image(dir.path(), 140).await;
    let origin = OciRegistry::start();
    let olareg = Olareg::start(&binary);
    let destination = OciRegistry::start();
    let from = format!("{}/interop/app", origin.host());
    copy_cli(&[&layout, &format!("{from}:v1")]);
    let (signature, blobs) = fixtures::artifact(&index.descriptor, SIGNATURE, 141);
    let (_, sink, _, _) = ends(&layout, &from).await;
    fixtures::write_artifact(sink.as_ref(), &signature, &blobs).await;
    let listed = format!("{} {SIGNATURE}", signature.descriptor.digest);

    // Into olareg: the index, both platforms and the referrer.
    let through = format!("{}/interop/app", olareg.host());
    copy_cli(&[
        "--referrers",
        &format!("{from}:v1"),
        &format!("{through}:v1"),
    ]);
    assert_stored(olareg.host(), "interop/app", "v1", &index, &images);
    assert_eq!(signatures(&format!("{through}:v1")), listed);

    // Out of olareg, into another registry and into a layout.
    let to = format!("{}/interop/copied", destination.host());
    copy_cli(&["--referrers", &format!("{through}:v1"), &format!("{to}:v1")]);
    assert_stored(destination.host(), "interop/copied", "v1", &index, &images);
    assert_eq!(signatures(&format!("{to}:v1")), listed);
    let out = dir.path().join("out");
    copy_cli(&[&format!("{through}:v1"), &format!("oci:{}:v1", text(&out))]);
    let (_, digest, _) = run_oci_copy(&["digest", &format!("oci:{}:v1", text(&out))]);
    assert_eq!(digest.trim(), index.descriptor.digest.as_str());

    // A second run finds everything in place, the referrer included.
    let options = CopyOptions {
        referrers: true,
        ..CopyOptions::default()
    };
    let (again, _) = copy_with(&format!("{from}:v1"), &format!("{through}:v1"), &options).await;
    assert!(again.is_noop(), "{}", again.render());
}

/// The registry verbs against olareg: manifests, blobs and artifacts (referrers through its
/// referrers API); `catalog` and `search` fail, saying why, as olareg has neither.
#[tokio::test(flavor = "multi_thread")]
async fn registry_verbs_work_on_olareg() {
    let Some(binary) = Olareg::binary() else {
        eprintln!("skipped: no olareg in ../shared/peers (see shared/peers/README.md)");
        return;
    };
    let olareg = Olareg::start(&binary);
    crate::verbs_write::manifest_put_and_delete(olareg.host(), 142).await;
    crate::verbs_write::blob_put_get_and_delete(olareg.host(), 143);
    crate::artifacts::push_and_pull(olareg.host(), 144).await;
    let (code, _, stderr) = run_oci_copy(&["catalog", olareg.host()]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, _, stderr) = run_oci_copy(&["search", olareg.host(), "verbs"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("no /v1/search and no /v2/_catalog"),
        "{stderr}"
    );
}

/// olareg refuses an index whose platforms are not all there unless started with
/// `--api-sparse-index`: a `--sparse-index` copy into it fails with olareg's answer named.
#[tokio::test(flavor = "multi_thread")]
async fn a_sparse_index_refused_by_olareg_fails_the_copy_saying_so() {
    let Some(binary) = Olareg::binary() else {
        eprintln!("skipped: no olareg in ../shared/peers (see shared/peers/README.md)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, images) = layout_with_image(dir.path(), 145).await;
    let olareg = Olareg::start(&binary);
    let target = format!("{}/interop/sparse:v1", olareg.host());
    let (code, _, stderr) = run_oci_copy(&[
        "copy",
        "--platform",
        "linux/amd64",
        "--sparse-index",
        &layout,
        &target,
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    // The spec's code and the platform left out, as olareg answered them.
    assert!(stderr.contains("MANIFEST_BLOB_UNKNOWN"), "{stderr}");
    let left_out = images
        .iter()
        .map(|image| &image.manifest.descriptor)
        .find(|descriptor| {
            descriptor
                .platform
                .as_ref()
                .is_some_and(|platform| platform.architecture != "amd64")
        })
        .unwrap();
    assert!(stderr.contains(left_out.digest.as_str()), "{stderr}");
    let (code, _, _) = run_oci_copy(&["digest", &target]);
    assert_eq!(code, Some(1), "the tag was not written");
}
