//! Who checks a blob's digest. Into a registry, the bytes pass through unhashed and the
//! destination, which checks every blob pushed to it, refuses a damaged one; into files (a
//! layout), the copy itself hashes every byte and refuses a damaged blob. Damage is made in
//! the source registry's store, so the source serves the wrong bytes under the right digest.

use crate::common::fixtures::{self, Image, image, layer};
use crate::common::verify::has_blob;
use crate::common::{opener, try_copy};
use oci_copy::{CopyOptions, Location};
use oci_test_support::peers::OciRegistry;

/// A registry holding one image as `app:v1`, whose only layer's stored bytes are then damaged
/// (same length, one byte flipped).
async fn source_with_a_damaged_layer() -> (OciRegistry, Image) {
    let registry = OciRegistry::start();
    let images = vec![image("linux/amd64", vec![layer(91, 300 * 1024)])];
    let to: Location = format!("{}/app:v1", registry.host()).parse().unwrap();
    let sink = opener().sink(&to, None).await.unwrap();
    fixtures::write(sink.as_ref(), &images, None, "v1").await;
    let path = registry.blob_file(&images[0].layers[0].descriptor.digest);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    (registry, images.into_iter().next().unwrap())
}

#[tokio::test]
async fn a_damaged_blob_copied_into_a_layout_fails_the_copy() {
    let (source, image) = source_with_a_damaged_layer().await;
    let dir = tempfile::tempdir().unwrap();
    let from = format!("{}/app:v1", source.host());
    let to = format!("oci:{}:v1", dir.path().join("layout").display());
    let failed = try_copy(&opener(), &from, &to, &CopyOptions::default()).await;
    let Err(error) = failed else {
        panic!("the copy must fail")
    };
    let error = format!("{error:?}");
    let digest = image.layers[0].descriptor.digest.to_string();
    assert!(error.contains(&digest), "{error}");
    let stored = dir
        .path()
        .join("layout/blobs/sha256")
        .join(image.layers[0].descriptor.digest.encoded());
    assert!(
        !stored.exists(),
        "the damaged blob must not land in the layout"
    );
}

#[tokio::test]
async fn a_damaged_blob_copied_into_a_registry_is_refused_there() {
    let (source, image) = source_with_a_damaged_layer().await;
    let destination = OciRegistry::start();
    let from = format!("{}/app:v1", source.host());
    let to = format!("{}/app:v1", destination.host());
    let failed = try_copy(&opener(), &from, &to, &CopyOptions::default()).await;
    let Err(error) = failed else {
        panic!("the destination must refuse the damaged blob")
    };
    let error = format!("{error:?}");
    assert!(error.contains("DigestInvalid"), "{error}");
    let layer = &image.layers[0].descriptor.digest;
    assert!(!has_blob(destination.host(), "app", layer));
}
