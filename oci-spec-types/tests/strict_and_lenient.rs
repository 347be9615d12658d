//! What strict parsing (pushed manifests) refuses and lenient parsing (stored ones)
//! still reads.

use bytes::Bytes;
use oci_spec_types::{DataError, DescriptorLocation, Manifest, ManifestError, MediaType};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY: &str = r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

fn image(fields: &str) -> String {
    format!(r#"{{"schemaVersion":2,"config":{EMPTY},"layers":[]{fields}}}"#)
}

fn strict(text: &str, content_type: Option<&str>) -> Result<Manifest, ManifestError> {
    Manifest::parse_strict(Bytes::copy_from_slice(text.as_bytes()), content_type)
}

fn lenient(text: &str, content_type: Option<&str>) -> Result<Manifest, ManifestError> {
    Manifest::parse_lenient(Bytes::copy_from_slice(text.as_bytes()), content_type)
}

#[test]
fn kind_comes_from_content_type_then_media_type_field_then_shape() {
    let docker = image(r#","mediaType":"application/vnd.docker.distribution.manifest.v2+json""#);
    assert_eq!(
        strict(&docker, None).unwrap().media_type(),
        MediaType::DockerManifestV2
    );
    assert_eq!(
        strict(&docker, Some("application/json"))
            .unwrap()
            .media_type(),
        MediaType::DockerManifestV2
    );
    assert_eq!(
        strict(&image(""), None).unwrap().media_type(),
        MediaType::OciImageManifest
    );
    assert_eq!(
        strict(
            &image(""),
            Some("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8")
        )
        .unwrap()
        .media_type(),
        MediaType::DockerManifestV2
    );
    let index = r#"{"schemaVersion":2,"manifests":[]}"#;
    assert_eq!(
        strict(index, None).unwrap().media_type(),
        MediaType::OciImageIndex
    );
    assert_eq!(strict(index, Some(OCI_INDEX)).unwrap().children().len(), 0);
}

/// Whether an error is the one a case expects.
type ErrorCheck = fn(&ManifestError) -> bool;

#[test]
fn strict_refusals_that_lenient_accepts() {
    let declared_index = r#","mediaType":"application/vnd.oci.image.index.v1+json""#;
    let cases: Vec<(String, Option<&str>, ErrorCheck)> = vec![
        (image(declared_index), Some(OCI_MANIFEST), |e| {
            matches!(e, ManifestError::MediaTypeMismatch { declared: MediaType::OciImageIndex, content_type: MediaType::OciImageManifest })
        }),
        (r#"{"config":{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}"#.into(), None, |e| {
            matches!(e, ManifestError::SchemaVersion { found: None })
        }),
        (image("").replace(r#""schemaVersion":2"#, r#""schemaVersion":3"#), None, |e| {
            matches!(e, ManifestError::SchemaVersion { found: Some(v) } if v == 3)
        }),
        (image(r#","manifests":[]"#), None, |e| matches!(e, ManifestError::Hybrid)),
        (image(""), Some("application/vnd.oci.image.layer.v1.tar"), |e| {
            matches!(e, ManifestError::UnsupportedMediaType(MediaType::OciLayerTar))
        }),
        (image(r#","mediaType":"application/vnd.oci.artifact.manifest.v1+json""#), None, |e| {
            matches!(e, ManifestError::UnsupportedMediaType(_))
        }),
        (image(r#","artifactType":"not a media type""#), None, |e| {
            matches!(e, ManifestError::InvalidMediaType { location: DescriptorLocation::Manifest, .. })
        }),
        (image("").replace(r#""layers":[]"#, &format!(r#""layers":[{}]"#, EMPTY.replace("application/vnd.oci.empty.v1+json", "no-slash"))), None, |e| {
            matches!(e, ManifestError::InvalidMediaType { location: DescriptorLocation::Layer(0), .. })
        }),
        (image("").replace(r#""size":2}"#, r#""size":2,"data":"e30K"}"#), None, |e| {
            matches!(e, ManifestError::DataMismatch { location: DescriptorLocation::Config, reason } if **reason == DataError::SizeMismatch { expected: 2, found: 3 })
        }),
        (image("").replace(r#""size":2}"#, r#""size":2,"data":"W10="}"#), None, |e| {
            matches!(e, ManifestError::DataMismatch { reason, .. } if matches!(**reason, DataError::DigestMismatch { .. }))
        }),
        (image("").replace(r#""size":2}"#, r#""size":2,"data":"%%%"}"#), None, |e| {
            matches!(e, ManifestError::DataMismatch { reason, .. } if **reason == DataError::NotBase64)
        }),
        (image(&format!(r#","subject":{}"#, EMPTY.replace(r#""size":2"#, r#""size":2,"data":"e30K""#))), None, |e| {
            matches!(e, ManifestError::DataMismatch { location: DescriptorLocation::Subject, .. })
        }),
    ];
    for (text, content_type, expected) in cases {
        let error = strict(&text, content_type).expect_err(&text);
        assert!(expected(&error), "{text}: {error:?}");
        let stored = lenient(&text, content_type).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(stored.raw().as_ref(), text.as_bytes());
    }
}

#[test]
fn lenient_prefers_the_media_type_field_on_disagreement() {
    let declared_docker =
        image(r#","mediaType":"application/vnd.docker.distribution.manifest.v2+json""#);
    let stored = lenient(&declared_docker, Some(OCI_MANIFEST)).unwrap();
    assert_eq!(stored.media_type(), MediaType::DockerManifestV2);
    let hybrid = image(r#","manifests":[]"#);
    assert_eq!(
        lenient(&hybrid, Some(OCI_INDEX)).unwrap().media_type(),
        MediaType::OciImageIndex
    );
    assert_eq!(
        lenient(&hybrid, None).unwrap().media_type(),
        MediaType::OciImageManifest
    );
}

#[test]
fn both_modes_refuse_what_the_types_cannot_hold() {
    let negative_size = image("").replace(r#""size":2}"#, r#""size":-1}"#);
    let bad_digest = image("").replace("sha256:44136fa3", "sha256:XX136fa3");
    let index_entry_without_digest =
        r#"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","size":1}]}"#;
    let image_without_config = r#"{"schemaVersion":2,"layers":[]}"#;
    for text in [
        negative_size.as_str(),
        bad_digest.as_str(),
        index_entry_without_digest,
    ] {
        assert!(
            matches!(strict(text, None), Err(ManifestError::Invalid(_))),
            "{text}"
        );
        assert!(
            matches!(lenient(text, None), Err(ManifestError::Invalid(_))),
            "{text}"
        );
    }
    assert!(matches!(
        strict(image_without_config, None),
        Err(ManifestError::UnknownKind)
    ));
    assert!(matches!(
        strict(image_without_config, Some(OCI_MANIFEST)),
        Err(ManifestError::Invalid(_))
    ));
}

#[test]
fn not_json_and_not_objects_are_told_apart() {
    for text in ["", "{", "nul", "{\"a\":}", "\u{feff}{}"] {
        assert!(
            matches!(lenient(text, None), Err(ManifestError::InvalidJson(_))),
            "{text:?}"
        );
    }
    for text in ["[]", "2", "\"x\"", " [2,{}]", "null"] {
        assert!(
            matches!(strict(text, None), Err(ManifestError::NotAnObject)),
            "{text:?}"
        );
    }
    assert!(matches!(
        lenient("{}", None),
        Err(ManifestError::UnknownKind)
    ));
    assert!(matches!(
        strict(r#"{"mediaType":5}"#, None),
        Err(ManifestError::Invalid(_))
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let arrays = image(&format!(
        r#","x":{}{}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    ));
    assert!(matches!(
        strict(&arrays, None),
        Err(ManifestError::InvalidJson(_))
    ));
    let objects = image(&format!(
        r#","x":{}1{}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    ));
    assert!(matches!(
        lenient(&objects, None),
        Err(ManifestError::InvalidJson(_))
    ));
    let bare = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(matches!(
        lenient(&bare, None),
        Err(ManifestError::NotAnObject)
    ));
}

#[test]
fn built_manifests_keep_the_bytes_they_were_written_as() {
    let index = oci_spec_types::ImageIndex::new(vec![oci_spec_types::Descriptor::empty()]);
    let manifest = Manifest::from_index(index.clone()).unwrap();
    assert_eq!(manifest.raw().as_ref(), serde_json::to_vec(&index).unwrap());
    let reparsed = Manifest::parse_strict(manifest.raw().clone(), Some(OCI_INDEX)).unwrap();
    assert_eq!(reparsed, manifest);
    assert_eq!(reparsed.digest(), manifest.digest());
}
