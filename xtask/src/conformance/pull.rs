//! The Pull workflow: blobs and manifests by digest and tag, misses, and the headers of answers.

use base64::Engine as _;
use serde_json::json;

use super::Ctx;
use super::basis::Basis;
use super::client::blob_path;
use super::data::{Blob, Manifest, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, Rng, image_manifest};
use super::expect::REFUSAL_DETAIL;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked, push_manifest_checked};

const PULL: Scope = Scope::v1_1(Workflow::Pull);
const PULL_NEWER: Scope = Scope::newer(Workflow::Pull);

/// Two configs, one shared layer, and a manifest over each. As in the v1.1 suite, the config
/// descriptors carry a `data` field and a field the spec does not define.
struct PullData {
    configs: [Blob; 2],
    layer: Blob,
    manifests: [Manifest; 2],
    tag: String,
}

impl PullData {
    fn generate(rng: &mut Rng) -> PullData {
        let configs = [
            Blob::image_config(rng, super::data::Algorithm::Sha256),
            Blob::image_config(rng, super::data::Algorithm::Sha256),
        ];
        let layer = Blob::random(rng, 2000);
        let manifest_over = |config: &Blob| {
            let mut config_descriptor = config.descriptor(OCI_CONFIG);
            let base64 = base64::engine::general_purpose::STANDARD;
            config_descriptor["data"] = json!(base64.encode(&config.bytes));
            config_descriptor["newUnspecifiedField"] = json!(base64.encode("hello world"));
            let value = image_manifest(config_descriptor, vec![layer.descriptor(OCI_LAYER_GZIP)]);
            Manifest::from_json(OCI_MANIFEST, &value)
        };
        let manifests = [manifest_over(&configs[0]), manifest_over(&configs[1])];
        PullData {
            configs,
            layer,
            manifests,
            tag: format!("pull-{}", rng.token(6)),
        }
    }
}

/// The sections the Pull checks rest on.
const PULLING_MANIFESTS: Basis = Basis::Must("v1.1 §Pulling manifests");
const PULLING_BLOBS: Basis = Basis::Must("v1.1 §Pulling blobs");
const CONTENT_EXISTS: Basis = Basis::Must("v1.1 §Checking if content exists in the registry");
const PUSHING: Basis = Basis::Must("v1.1 §Push");
const CONTENT_HEADERS: Basis =
    Basis::Must("main §Pulling blobs, §Pulling manifests, §Checking if content exists");
/// The reference the v1.1 suite asks for: it is not a valid tag, so it cannot exist.
pub const IMPOSSIBLE_REFERENCE: &str = ".INVALID_MANIFEST_NAME";

/// Runs the Pull workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("pull");
    let data = PullData::generate(rng);
    let missing_blob = Blob::random(rng, 64);
    let missing_tag = format!("missing-{}", rng.token(8));
    report.group("Pull: blobs and manifests");

    report
        .setup(
            PULL,
            PUSHING,
            "setup: push two config blobs and a layer",
            async |c| {
                for blob in data.configs.iter().chain([&data.layer]) {
                    push_blob_checked(c, api, repo, blob).await;
                }
            },
        )
        .await;
    report
        .setup(PULL, PUSHING, "setup: push manifest[0] by tag", async |c| {
            push_manifest_checked(c, api, repo, &data.tag, &data.manifests[0]).await;
        })
        .await;
    report
        .setup(
            PULL,
            PUSHING,
            "setup: push manifest[1] by digest",
            async |c| {
                let manifest = &data.manifests[1];
                push_manifest_checked(c, api, repo, &manifest.digest, manifest).await;
            },
        )
        .await;

    report
        .case(
            PULL,
            Basis::Must("v1.1 §Determining Support"),
            "GET /v2/ returns 200",
            async |c| {
                let reply = api.get("/v2/").await;
                c.status(&reply, &[200]);
                // Optional in the spec, but Docker clients refuse a registry without it.
                c.should("interoperability: Docker clients require it", |c| {
                    c.header_eq(&reply, "docker-distribution-api-version", "registry/2.0")
                });
            },
        )
        .await;
    report
        .case(
            PULL,
            CONTENT_EXISTS,
            "HEAD nonexistent blob returns 404",
            async |c| {
                let reply = api.head(&blob_path(repo, &missing_blob.digest)).await;
                c.status(&reply, &[404]);
                c.body_empty(&reply);
            },
        )
        .await;
    report
        .case(
            PULL,
            CONTENT_EXISTS,
            "HEAD existing blob returns 200",
            async |c| {
                let config = &data.configs[0];
                let reply = api.head(&blob_path(repo, &config.digest)).await;
                c.status(&reply, &[200]);
                c.body_empty(&reply);
                c.header_eq_if_present(&reply, "docker-content-digest", &config.digest);
            },
        )
        .await;
    report
        .case(
            PULL,
            PULLING_BLOBS,
            "GET nonexistent blob returns 404 BLOB_UNKNOWN",
            async |c| {
                let reply = api.get(&blob_path(repo, &missing_blob.digest)).await;
                if c.status(&reply, &[404]) {
                    c.json_error_shape(&reply);
                    c.should(REFUSAL_DETAIL, |c| c.error_code(&reply, "BLOB_UNKNOWN"));
                }
            },
        )
        .await;
    for (name, blob) in [
        (
            "GET existing config blob returns its bytes",
            &data.configs[0],
        ),
        ("GET existing layer blob returns its bytes", &data.layer),
    ] {
        report
            .case(PULL, PULLING_BLOBS, name, async |c| {
                let reply = api.get(&blob_path(repo, &blob.digest)).await;
                c.status(&reply, &[200]);
                c.body_eq(&reply, &blob.bytes);
                c.header_eq_if_present(&reply, "docker-content-digest", &blob.digest);
            })
            .await;
    }
    report
        .case(
            PULL,
            CONTENT_EXISTS,
            "HEAD nonexistent manifest returns 404",
            async |c| {
                let reply = api.head_manifest(repo, &missing_tag).await;
                c.status(&reply, &[404]);
                c.body_empty(&reply);
            },
        )
        .await;
    report
        .case(
            PULL,
            PULLING_MANIFESTS,
            "GET and HEAD of the reference .INVALID_MANIFEST_NAME return 404 (as the v1.1 suite asks)",
            async |c| {
                let head = api.head_manifest(repo, IMPOSSIBLE_REFERENCE).await;
                c.status(&head, &[404]);
                let get = api.get_manifest(repo, IMPOSSIBLE_REFERENCE).await;
                if c.status(&get, &[404]) {
                    c.json_error_shape(&get);
                    c.should(REFUSAL_DETAIL, |c| c.error_code(&get, "MANIFEST_UNKNOWN"));
                }
            },
        )
        .await;
    for (index, manifest) in data.manifests.iter().enumerate() {
        let name = format!("HEAD manifest[{index}] by digest returns 200");
        report
            .case(PULL, CONTENT_EXISTS, &name, async |c| {
                let reply = api.head_manifest(repo, &manifest.digest).await;
                c.status(&reply, &[200]);
                c.body_empty(&reply);
                c.header_eq_if_present(&reply, "docker-content-digest", &manifest.digest);
            })
            .await;
    }
    report
        .case(
            PULL,
            CONTENT_EXISTS,
            "HEAD manifest by tag returns 200",
            async |c| {
                let reply = api.head_manifest(repo, &data.tag).await;
                c.status(&reply, &[200]);
                c.header_eq_if_present(&reply, "docker-content-digest", &data.manifests[0].digest);
            },
        )
        .await;
    for (name, reference) in [
        (
            "GET nonexistent manifest returns 404 MANIFEST_UNKNOWN",
            missing_tag.as_str(),
        ),
        (
            "GET manifest by unknown digest returns 404 MANIFEST_UNKNOWN",
            missing_blob.digest.as_str(),
        ),
    ] {
        report
            .case(PULL, PULLING_MANIFESTS, name, async |c| {
                let reply = api.get_manifest(repo, reference).await;
                if c.status(&reply, &[404]) {
                    c.json_error_shape(&reply);
                    c.should(REFUSAL_DETAIL, |c| c.error_code(&reply, "MANIFEST_UNKNOWN"));
                }
            })
            .await;
    }
    for (index, manifest) in data.manifests.iter().enumerate() {
        let name = format!("GET manifest[{index}] by digest returns the pushed bytes");
        report
            .case(PULL, PULLING_MANIFESTS, &name, async |c| {
                let reply = api.get_manifest(repo, &manifest.digest).await;
                c.status(&reply, &[200]);
                c.body_eq(&reply, &manifest.bytes);
                c.should(PUSHED_CONTENT_TYPE, |c| {
                    c.header_eq(&reply, "content-type", OCI_MANIFEST)
                });
            })
            .await;
    }
    report
        .case(
            PULL,
            PULLING_MANIFESTS,
            "GET manifest by tag returns manifest[0]'s bytes",
            async |c| {
                let reply = api.get_manifest(repo, &data.tag).await;
                c.status(&reply, &[200]);
                c.body_eq(&reply, &data.manifests[0].bytes);
                c.header_eq_if_present(&reply, "docker-content-digest", &data.manifests[0].digest);
            },
        )
        .await;
    super::pull_paths::malformed_references(api, repo, report).await;
    report
        .case(
            PULL,
            Basis::Must("v1.1 §Pushing Manifests: pulling a nonexistent repository"),
            "GET manifest from an unknown repository returns 404",
            async |c| {
                let unknown = ctx.repo("never-pushed");
                let reply = api.get_manifest(&unknown, &data.tag).await;
                if c.status(&reply, &[404]) {
                    c.json_error_shape(&reply);
                    c.should(REFUSAL_DETAIL, |c| {
                        let codes = c.error_codes(&reply);
                        c.check(
                            codes
                                .iter()
                                .any(|code| code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN"),
                            || format!("expected NAME_UNKNOWN or MANIFEST_UNKNOWN, got {codes:?}"),
                        )
                    });
                }
            },
        )
        .await;
    super::pull_paths::dot_segments(ctx, &data.tag, &data.layer.digest, report).await;
    report
        .case(
            PULL_NEWER,
            CONTENT_HEADERS,
            "HEAD and GET of a blob answer Content-Length and Docker-Content-Digest",
            async |c| {
                let blob = &data.layer;
                let path = blob_path(repo, &blob.digest);
                c.content_headers(&api.head(&path).await, &blob.bytes, &blob.digest);
                c.content_headers(&api.get(&path).await, &blob.bytes, &blob.digest);
            },
        )
        .await;
    report
        .case(
            PULL_NEWER,
            CONTENT_HEADERS,
            "HEAD and GET of a manifest answer Content-Length and Docker-Content-Digest",
            async |c| {
                let manifest = &data.manifests[0];
                for reference in [manifest.digest.as_str(), data.tag.as_str()] {
                    let head = api.head_manifest(repo, reference).await;
                    c.content_headers(&head, &manifest.bytes, &manifest.digest);
                    let get = api.get_manifest(repo, reference).await;
                    c.content_headers(&get, &manifest.bytes, &manifest.digest);
                }
            },
        )
        .await;

    report
        .teardown(
            PULL,
            DELETING,
            "teardown: delete manifests and blobs",
            async |c| {
                let manifests: Vec<&str> =
                    data.manifests.iter().map(|m| m.digest.as_str()).collect();
                let blobs: Vec<&str> = data
                    .configs
                    .iter()
                    .chain([&data.layer])
                    .map(|b| b.digest.as_str())
                    .collect();
                delete_all(c, api, repo, &manifests, &blobs).await;
            },
        )
        .await;
}

/// What the `Content-Type` of a pulled manifest rests on.
pub const PUSHED_CONTENT_TYPE: &str =
    "v1.1 §Pulling manifests: Content-Type SHOULD match what the client pushed";
/// What teardowns rest on: 202, or 400/405 when deletes are disabled, or 404 when gone.
pub const DELETING: Basis = Basis::Must("v1.1 §Content Management");
