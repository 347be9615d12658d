//! Checks of what a registry stores, over plain HTTP/1.0 and without our client (which
//! verifies on its own, so it could not witness its own mistakes): every manifest and blob
//! of an image answers with bytes that hash to its digest.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use oci_spec_types::Digest;

use super::fixtures::{Blob, Image};

/// Every manifest media type the fixtures write.
const MANIFEST_TYPES: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

/// One request on its own connection: the status and the body.
pub fn raw_request(host: &str, method: &str, path: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(host).unwrap();
    // A safety net against a registry that never answers, not a timing.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nAccept: {MANIFEST_TYPES}\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer"))
        + 4;
    let head = String::from_utf8_lossy(&answer[..head_end]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: bad status line in {head:?}"));
    (status, answer[head_end..].to_vec())
}

/// Whether `repository` on `host` has the blob `digest` (a `HEAD`).
pub fn has_blob(host: &str, repository: &str, digest: &Digest) -> bool {
    let (status, _) = raw_request(host, "HEAD", &format!("/v2/{repository}/blobs/{digest}"));
    status == 200
}

/// Asserts that `GET path` answers 200 with bytes hashing to `digest`.
fn assert_serves(host: &str, path: &str, digest: &Digest) {
    let (status, body) = raw_request(host, "GET", path);
    assert_eq!(status, 200, "GET {path}");
    assert_eq!(&Digest::compute(&body), digest, "GET {path}");
}

/// Asserts that `repository` on `host` holds `root` under `tag`, and every manifest,
/// config and layer of `images` with content matching its digest.
pub fn assert_stored(host: &str, repository: &str, tag: &str, root: &Blob, images: &[Image]) {
    let manifests = std::iter::once(root).chain(images.iter().map(|image| &image.manifest));
    for manifest in manifests {
        let digest = &manifest.descriptor.digest;
        assert_serves(
            host,
            &format!("/v2/{repository}/manifests/{digest}"),
            digest,
        );
    }
    let tagged = format!("/v2/{repository}/manifests/{tag}");
    assert_serves(host, &tagged, &root.descriptor.digest);
    let blobs = images
        .iter()
        .flat_map(|image| image.layers.iter().chain([&image.config]));
    for blob in blobs {
        let digest = &blob.descriptor.digest;
        assert_serves(host, &format!("/v2/{repository}/blobs/{digest}"), digest);
    }
}
