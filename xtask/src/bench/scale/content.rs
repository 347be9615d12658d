//! The small documents the scale and S3-request benchmarks push: one image config, small
//! layers, and image manifests naming them, made distinct by an annotation.

use bytes::Bytes;
use oci_digest::Digest;

/// The media type of every manifest pushed.
pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// The one image config every manifest names.
pub fn config() -> Bytes {
    Bytes::from_static(
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
}

/// The content of small layer `index`: 64 bytes no other index shares.
pub fn small_layer(index: u64) -> Bytes {
    Bytes::from(format!("{index:0>64}"))
}

/// `len` bytes of layer `index` of a larger image: a cheap sequence that differs per index.
pub fn layer(index: u64, len: usize) -> Bytes {
    let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            // xorshift64: enough to make layers distinct and incompressible-looking.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    Bytes::from(bytes)
}

/// An image manifest naming the config and `layers` (content, size), with annotation
/// `n` = `variant` so that manifests with the same blobs still differ.
pub fn manifest(layers: &[(Digest, usize)], variant: u64) -> Bytes {
    let config = config();
    let descriptor = |media_type: &str, digest: &Digest, size: usize| {
        format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
    };
    let layers: Vec<String> = layers
        .iter()
        .map(|(digest, size)| descriptor(LAYER_TYPE, digest, *size))
        .collect();
    Bytes::from(format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}","config":{},"layers":[{}],"annotations":{{"n":"{variant}"}}}}"#,
        descriptor(CONFIG_TYPE, &Digest::compute(&config), config.len()),
        layers.join(",")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_json_and_differ_by_variant() {
        let small = small_layer(3);
        let layers = [(Digest::compute(&small), small.len())];
        let (a, b) = (manifest(&layers, 1), manifest(&layers, 2));
        assert_ne!(a, b);
        let parsed: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(parsed["layers"][0]["size"], 64);
        assert_ne!(small_layer(1), small_layer(2));
        assert_ne!(layer(1, 32), layer(2, 32));
        assert_eq!(layer(1, 100).len(), 100);
    }
}
