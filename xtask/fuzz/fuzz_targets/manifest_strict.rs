//! `Manifest::parse_strict` (what a client pushes) on any bytes and `Content-Type`.
//!
//! Input: the `Content-Type` on the first line (an empty line for none), the body after it.
//! A strictly accepted manifest must keep its bytes exactly (raw bytes, size and digest of the
//! bytes), be accepted leniently as the same manifest, and parse again, strictly, when served
//! back with the `Content-Type` of its own kind.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oci_digest::Digest;
use oci_fuzz::split_header_line;
use oci_spec_types::Manifest;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = split_header_line(data);
    let content_type = content_type.as_deref().filter(|value| !value.is_empty());
    let bytes = Bytes::copy_from_slice(body);
    let Ok(manifest) = Manifest::parse_strict(bytes.clone(), content_type) else {
        return;
    };
    assert_eq!(manifest.raw(), &bytes);
    assert_eq!(manifest.size(), body.len() as u64);
    assert_eq!(manifest.digest(), Digest::compute(body));

    let lenient = Manifest::parse_lenient(bytes.clone(), content_type)
        .unwrap_or_else(|error| panic!("strictly accepted, leniently refused: {error}"));
    assert_eq!(lenient, manifest);

    let own_type = manifest.media_type();
    let served = Manifest::parse_strict(bytes, Some(own_type.as_str()))
        .unwrap_or_else(|error| panic!("refused with its own type {own_type}: {error}"));
    assert_eq!(served, manifest);

    assert_eq!(manifest.image().is_some(), manifest.index().is_none());
    let _ = (
        manifest.blobs(),
        manifest.children(),
        manifest.artifact_type(),
        manifest.subject(),
    );
});
