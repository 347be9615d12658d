//! Image references: a table of tricky cases, then properties over generated ones.

use oci_spec_types::{Digest, Reference, ReferenceError};
use proptest::prelude::*;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A reference without digest that parses, and the parts it normalises to.
struct Accepted {
    input: &'static str,
    registry: &'static str,
    repository: &'static str,
    tag: &'static str,
}

const ACCEPTED: &[Accepted] = &[
    Accepted {
        input: "ubuntu",
        registry: "docker.io",
        repository: "library/ubuntu",
        tag: "latest",
    },
    Accepted {
        input: "docker.io/ubuntu",
        registry: "docker.io",
        repository: "library/ubuntu",
        tag: "latest",
    },
    Accepted {
        input: "index.docker.io/library/ubuntu:22.04",
        registry: "docker.io",
        repository: "library/ubuntu",
        tag: "22.04",
    },
    Accepted {
        input: "bitnami/redis",
        registry: "docker.io",
        repository: "bitnami/redis",
        tag: "latest",
    },
    Accepted {
        input: "ubuntu:5000",
        registry: "docker.io",
        repository: "library/ubuntu",
        tag: "5000",
    },
    Accepted {
        // A proptest finding: a dotted component after the first is part of the
        // repository, and the number after it a tag, not a port.
        input: "team/0.41:3",
        registry: "docker.io",
        repository: "team/0.41",
        tag: "3",
    },
    Accepted {
        input: "localhost:5000/a",
        registry: "localhost:5000",
        repository: "a",
        tag: "latest",
    },
    Accepted {
        input: "localhost/a",
        registry: "localhost",
        repository: "a",
        tag: "latest",
    },
    Accepted {
        input: "localhost",
        registry: "docker.io",
        repository: "library/localhost",
        tag: "latest",
    },
    Accepted {
        input: "127.0.0.1:5000/a/b",
        registry: "127.0.0.1:5000",
        repository: "a/b",
        tag: "latest",
    },
    Accepted {
        input: "[::1]:5000/x:y",
        registry: "[::1]:5000",
        repository: "x",
        tag: "y",
    },
    Accepted {
        input: "ghcr.io/owner/repo/sub:v1.2",
        registry: "ghcr.io",
        repository: "owner/repo/sub",
        tag: "v1.2",
    },
    Accepted {
        input: "registry.example.com/a__b/c-d.e",
        registry: "registry.example.com",
        repository: "a__b/c-d.e",
        tag: "latest",
    },
];

#[test]
fn accepted_references_table() {
    for case in ACCEPTED {
        let input = case.input;
        let reference = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(reference.registry(), case.registry, "{input}");
        assert_eq!(reference.repository(), case.repository, "{input}");
        assert_eq!(reference.tag(), Some(case.tag), "{input}");
        assert_eq!(reference.digest(), None, "{input}");
        let printed = format!("{}/{}:{}", case.registry, case.repository, case.tag);
        assert_eq!(reference.to_string(), printed, "{input}");
        assert_eq!(
            printed.parse::<Reference>().unwrap(),
            reference,
            "{input}: printing round-trips"
        );
    }
}

#[test]
fn tag_and_digest_together_and_digest_alone() {
    let both = Reference::parse(&format!("a/b:tag@{DIGEST}")).unwrap();
    assert_eq!((both.repository(), both.tag()), ("a/b", Some("tag")));
    assert_eq!(both.digest().unwrap().as_str(), DIGEST);
    assert_eq!(
        both.manifest_reference(),
        DIGEST,
        "the digest pins the content"
    );
    assert_eq!(both.to_string(), format!("docker.io/a/b:tag@{DIGEST}"));

    let pinned = Reference::parse(&format!("localhost:5000/a@{DIGEST}")).unwrap();
    assert_eq!(pinned.tag(), None, "no default tag beside a digest");
    assert_eq!(pinned.to_string(), format!("localhost:5000/a@{DIGEST}"));
}

#[test]
fn docker_hub_maps_to_its_api_host() {
    assert_eq!(
        Reference::parse("ubuntu").unwrap().api_host(),
        "registry-1.docker.io"
    );
    assert_eq!(
        Reference::parse("index.docker.io/a/b").unwrap().api_host(),
        "registry-1.docker.io"
    );
    assert_eq!(
        Reference::parse("quay.io/a/b").unwrap().api_host(),
        "quay.io"
    );
}

#[test]
fn refused_references_table() {
    let long_host_name = format!("example.com/{}", "a".repeat(244));
    let cases: Vec<(String, ReferenceError)> = vec![
        (String::new(), ReferenceError::Empty),
        (
            "UPPER/case".into(),
            ReferenceError::UppercaseRepository {
                repository: "UPPER/case".into(),
            },
        ),
        (
            "localhost:5000".into(),
            ReferenceError::MissingRepository {
                input: "localhost:5000".into(),
            },
        ),
        (
            "registry.example.com:443".into(),
            ReferenceError::MissingRepository {
                input: "registry.example.com:443".into(),
            },
        ),
        (
            "example.com/".into(),
            ReferenceError::MissingRepository {
                input: "example.com/".into(),
            },
        ),
        (
            "localhost:5000/:v1".into(),
            ReferenceError::MissingRepository {
                input: "localhost:5000/:v1".into(),
            },
        ),
        (
            "a".repeat(256),
            ReferenceError::NameTooLong {
                length: 256,
                max: 255,
            },
        ),
        (
            long_host_name,
            ReferenceError::NameTooLong {
                length: 256,
                max: 255,
            },
        ),
        (
            "a".repeat(240),
            ReferenceError::NameTooLong {
                length: 258,
                max: 255,
            },
        ),
        (
            "a/b:".into(),
            ReferenceError::InvalidTag { tag: String::new() },
        ),
        (
            "a/b:-x".into(),
            ReferenceError::InvalidTag { tag: "-x".into() },
        ),
        (
            "a:b:c".into(),
            ReferenceError::InvalidRepository {
                repository: "a:b".into(),
            },
        ),
        (
            "a//b".into(),
            ReferenceError::InvalidRepository {
                repository: "a//b".into(),
            },
        ),
        (
            "exa_mple.com/a".into(),
            ReferenceError::InvalidRegistry {
                registry: "exa_mple.com".into(),
            },
        ),
        (
            "example.com:x/a".into(),
            ReferenceError::InvalidRegistry {
                registry: "example.com:x".into(),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(Reference::parse(&input), Err(expected), "{input}");
    }
    assert!(matches!(
        Reference::parse("a@sha256:abc"),
        Err(ReferenceError::InvalidDigest(_))
    ));
    assert!(matches!(
        Reference::parse("a@"),
        Err(ReferenceError::InvalidDigest(_))
    ));
}

#[test]
fn the_longest_names_allowed_fit_exactly() {
    let input = format!("example.com/{}", "a".repeat(243));
    assert_eq!(Reference::parse(&input).unwrap().repository().len(), 243);
}

#[test]
fn tags_and_digests_can_be_swapped() {
    let reference = Reference::parse("quay.io/a/b:1").unwrap();
    assert_eq!(
        reference.with_tag("2").unwrap().to_string(),
        "quay.io/a/b:2"
    );
    assert!(reference.with_tag("no/slash").is_err());
    let digest = Digest::parse(DIGEST).unwrap();
    assert_eq!(
        reference.with_digest(digest).to_string(),
        format!("quay.io/a/b:1@{DIGEST}")
    );
}

#[test]
fn serde_reads_and_writes_the_printed_form() {
    let reference: Reference = serde_json::from_str(r#""ubuntu:24.04""#).unwrap();
    assert_eq!(
        serde_json::to_string(&reference).unwrap(),
        r#""docker.io/library/ubuntu:24.04""#
    );
    assert!(serde_json::from_str::<Reference>(r#""BAD/Name""#).is_err());
}

fn name_component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,5}(([.]|_|__|-{1,2})[a-z0-9]{1,4})?"
}

fn registry() -> impl Strategy<Value = Option<String>> {
    let domain = "[a-z][a-z0-9-]{0,4}[a-z0-9](\\.[a-z0-9]{1,5}){1,2}";
    let host = prop_oneof![
        domain.prop_map(String::from),
        Just("localhost".to_owned()),
        Just("docker.io".to_owned()),
        Just("index.docker.io".to_owned()),
        Just("[::1]".to_owned())
    ];
    proptest::option::of(
        (host, proptest::option::of(1u16..)).prop_map(|(host, port)| match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }),
    )
}

prop_compose! {
    /// A reference's parts, and the text a user would type for them.
    fn typed_reference()(
        registry in registry(),
        first in "[a-z0-9]{1,6}",
        rest in proptest::collection::vec(name_component(), 0..3),
        tag in proptest::option::of("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}"),
        digest in proptest::option::of("[0-9a-f]{64}"),
    ) -> (Option<String>, String, Option<String>, Option<String>, String) {
        let repository = std::iter::once(first).chain(rest).collect::<Vec<_>>().join("/");
        let mut text = registry.as_ref().map_or_else(String::new, |r| format!("{r}/"));
        text.push_str(&repository);
        if let Some(tag) = &tag { text.push(':'); text.push_str(tag); }
        let digest = digest.map(|hex| format!("sha256:{hex}"));
        if let Some(digest) = &digest { text.push('@'); text.push_str(digest); }
        (registry, repository, tag, digest, text)
    }
}

proptest! {
    #[test]
    fn typed_references_parse_to_their_parts_and_print_back((registry, repository, tag, digest, text) in typed_reference()) {
        let parsed = Reference::parse(&text).unwrap();
        let hub = matches!(registry.as_deref(), None | Some("docker.io" | "index.docker.io"));
        prop_assert_eq!(parsed.registry(), if hub { "docker.io" } else { registry.as_deref().unwrap_or_default() });
        let expected_repository = if hub && !repository.contains('/') { format!("library/{repository}") } else { repository };
        prop_assert_eq!(parsed.repository(), expected_repository);
        let expected_tag = tag.or_else(|| digest.is_none().then(|| "latest".to_owned()));
        prop_assert_eq!(parsed.tag(), expected_tag.as_deref());
        prop_assert_eq!(parsed.digest().map(Digest::as_str), digest.as_deref());
        prop_assert_eq!(Reference::parse(&parsed.to_string()).unwrap(), parsed);
    }

    #[test]
    fn any_text_parses_or_is_refused_and_parsed_ones_print_stably(text in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,40}|\\PC{0,40}") {
        if let Ok(parsed) = Reference::parse(&text) {
            let printed = parsed.to_string();
            prop_assert_eq!(Reference::parse(&printed).unwrap().to_string(), printed);
        }
    }
}
