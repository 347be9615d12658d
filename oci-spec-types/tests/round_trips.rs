//! Property tests: round-trips of platforms, media types and descriptors, and a manifest
//! parser that never panics whatever it is given.

use std::collections::BTreeMap;

use bytes::Bytes;
use oci_spec_types::{Descriptor, Digest, Manifest, MediaType, Platform};
use proptest::prelude::*;

fn platform_text() -> impl Strategy<Value = String> {
    let os = prop_oneof![
        Just("linux".to_owned()),
        Just("Windows".to_owned()),
        "[a-z][a-z0-9]{0,7}"
    ];
    let arch = prop_oneof![
        Just("amd64".to_owned()),
        Just("x86_64".to_owned()),
        Just("aarch64".to_owned()),
        Just("arm64".to_owned()),
        Just("arm".to_owned()),
        Just("armhf".to_owned()),
        Just("i386".to_owned()),
        "[a-z0-9][a-z0-9_.-]{0,7}"
    ];
    let variant = proptest::option::of(prop_oneof!["v[0-9]", "[0-9]", "[a-z0-9]{1,4}"]);
    (os, arch, variant).prop_map(|(os, arch, variant)| match variant {
        Some(variant) => format!("{os}/{arch}/{variant}"),
        None => format!("{os}/{arch}"),
    })
}

fn media_type() -> impl Strategy<Value = MediaType> {
    prop_oneof![
        Just(MediaType::OciImageManifest),
        Just(MediaType::OciLayerTarZstd),
        Just(MediaType::DockerForeignLayerTarGzip),
        "[a-z]{1,8}/[a-z0-9][a-z0-9.+-]{0,19}".prop_map(MediaType::from),
    ]
}

fn string_map() -> impl Strategy<Value = Option<BTreeMap<String, String>>> {
    proptest::option::of(proptest::collection::btree_map(
        "[a-z.]{1,12}",
        "\\PC{0,12}",
        0..3,
    ))
}

prop_compose! {
    fn descriptor()(
        media_type in media_type(),
        content in proptest::collection::vec(any::<u8>(), 0..16),
        urls in proptest::option::of(proptest::collection::vec("https://[a-z]{1,8}\\.example/[a-z]{0,8}", 0..2)),
        annotations in string_map(),
        embed in any::<bool>(),
        artifact_type in proptest::option::of(media_type()),
        platform in proptest::option::of(platform_text()),
        os_version in proptest::option::of("[0-9.]{1,10}"),
        extra in proptest::collection::btree_map("x-[a-z]{1,6}", any::<i32>(), 0..3),
    ) -> Descriptor {
        use base64::Engine as _;
        let mut descriptor = Descriptor::new(media_type, Digest::compute(&content), content.len() as u64);
        descriptor.urls = urls;
        descriptor.annotations = annotations;
        descriptor.data = embed.then(|| base64::engine::general_purpose::STANDARD.encode(&content));
        descriptor.artifact_type = artifact_type;
        descriptor.platform = platform.map(|text| Platform { os_version, ..text.parse().unwrap() });
        descriptor.extra = extra.into_iter().map(|(key, value)| (key, value.into())).collect();
        descriptor
    }
}

proptest! {
    #[test]
    fn platforms_print_and_parse_back(text in platform_text()) {
        let platform: Platform = text.parse().unwrap();
        prop_assert_eq!(platform.to_string().parse::<Platform>().unwrap(), platform.clone());
        prop_assert!(platform.matches(&platform));
        let json = serde_json::to_string(&platform).unwrap();
        prop_assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), platform);
    }

    #[test]
    fn a_platform_without_variant_matches_its_default_variant(text in platform_text()) {
        let platform: Platform = text.parse().unwrap();
        let bare = Platform { variant: None, ..platform.clone() };
        let defaulted = Platform { variant: bare.effective_variant(), ..platform };
        prop_assert!(bare.matches(&defaulted) && defaulted.matches(&bare));
    }

    #[test]
    fn platform_parsing_never_panics(text in "\\PC{0,30}") {
        let _ = text.parse::<Platform>();
    }

    #[test]
    fn media_types_keep_their_text(text in "\\PC{0,60}") {
        let media_type = MediaType::from(text.as_str());
        prop_assert_eq!(media_type.as_str(), text.as_str());
        prop_assert_eq!(MediaType::from(text.clone()), media_type.clone());
        let json = serde_json::to_string(&media_type).unwrap();
        prop_assert_eq!(serde_json::from_str::<MediaType>(&json).unwrap(), media_type);
    }

    #[test]
    fn descriptors_survive_json(descriptor in descriptor()) {
        let json = serde_json::to_string(&descriptor).unwrap();
        prop_assert_eq!(serde_json::from_str::<Descriptor>(&json).unwrap(), descriptor.clone());
        prop_assert!(descriptor.verified_data().is_ok());
    }

    #[test]
    fn manifests_built_from_descriptors_parse_strictly_to_the_same_bytes(
        config in descriptor(),
        layers in proptest::collection::vec(descriptor(), 0..4),
    ) {
        let built = Manifest::from_image(oci_spec_types::ImageManifest::new(config, layers)).unwrap();
        let parsed = Manifest::parse_strict(built.raw().clone(), Some("application/vnd.oci.image.manifest.v1+json")).unwrap();
        prop_assert_eq!(parsed.digest(), Digest::compute(built.raw()));
        prop_assert_eq!(parsed, built);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_manifest_parser(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        content_type in proptest::option::of(prop_oneof![
            Just("application/vnd.oci.image.manifest.v1+json"),
            Just("application/vnd.docker.distribution.manifest.list.v2+json"),
            Just("application/json"),
            Just("text/plain"),
        ]),
    ) {
        let bytes = Bytes::from(bytes);
        let results = [
            Manifest::parse_strict(bytes.clone(), content_type),
            Manifest::parse_lenient(bytes.clone(), content_type),
        ];
        for manifest in results.into_iter().flatten() {
            prop_assert_eq!(manifest.raw(), &bytes);
        }
    }

    #[test]
    fn json_like_text_never_panics_the_parser(text in "\\{[{}\\[\\]\":,0-9a-zA-Z. -]{0,200}") {
        let bytes = Bytes::from(text.into_bytes());
        for manifest in [
            Manifest::parse_strict(bytes.clone(), None),
            Manifest::parse_lenient(bytes.clone(), None),
        ].into_iter().flatten() {
            prop_assert_eq!(manifest.raw(), &bytes);
        }
    }

    #[test]
    fn mutated_manifests_never_panic_the_parser(
        position in any::<prop::sample::Index>(),
        replacement in prop_oneof![Just(&b"{"[..]), Just(&b"}"[..]), Just(&b"\""[..]), Just(&b"-1"[..]), Just(&b"[]"[..]), Just(&b"null"[..]), Just(&b""[..])],
        cut in 0usize..8,
    ) {
        let text = include_bytes!("fixtures/oci-artifact-with-subject.json");
        let at = position.index(text.len());
        let end = (at + cut).min(text.len());
        let mutated = [&text[..at], replacement, &text[end..]].concat();
        let bytes = Bytes::from(mutated);
        if let Ok(manifest) = Manifest::parse_strict(bytes.clone(), None) {
            prop_assert_eq!(manifest.digest(), Digest::compute(&bytes));
        }
        let _ = Manifest::parse_lenient(bytes, None);
    }
}
