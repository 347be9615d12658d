//! `Manifest::parse_lenient` (what is already stored) on any bytes and `Content-Type`.
//!
//! Input: the `Content-Type` on the first line (an empty line for none), the body after it.
//! An accepted manifest keeps its bytes exactly, parses to the same manifest when served back
//! with the `Content-Type` of its own kind, and its typed value survives a re-serialisation
//! (unknown fields included).
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
    let Ok(manifest) = Manifest::parse_lenient(bytes.clone(), content_type) else {
        return;
    };
    assert_eq!(manifest.raw(), &bytes);
    assert_eq!(manifest.size(), body.len() as u64);
    assert_eq!(manifest.digest(), Digest::compute(body));

    let own_type = manifest.media_type();
    let served = Manifest::parse_lenient(bytes, Some(own_type.as_str()))
        .unwrap_or_else(|error| panic!("refused with its own type {own_type}: {error}"));
    assert_eq!(served, manifest);

    let rebuilt = match (manifest.image(), manifest.index()) {
        (Some(image), _) => Manifest::from_image(image.clone()),
        (_, Some(index)) => Manifest::from_index(index.clone()),
        (None, None) => unreachable!("a manifest is an image or an index"),
    }
    .expect("a parsed manifest serialises");
    let reread = Manifest::parse_lenient(rebuilt.raw().clone(), Some(own_type.as_str()))
        .unwrap_or_else(|error| panic!("re-serialised manifest refused: {error}"));
    assert_eq!(reread.image(), manifest.image());
    assert_eq!(reread.index(), manifest.index());
});
