//! The high-level calls against the workspace's registry: push an image from bytes, a file
//! and a stream; pull it for a platform through an index into files; ranged blob reads;
//! tags as text; a bearer token given as the credential.

use std::time::SystemTime;

use futures_util::TryStreamExt;
use oci_auth::{
    Challenge, CredentialStore, Credentials, Scope, Scopes, TokenOptions, TokenRequest,
};
use oci_distribution_client::{Blob, Client, Error, ErrorKind, ManifestReference};
use oci_spec_types::{Digest, ImageIndex, Manifest, MediaType, Platform};
use oci_test_support::TestRegistry;

use crate::support::Repos;
use crate::support::content::{blob, pieces};
use crate::support::token::{self, TokenRegistry};
use crate::support::{client, config};

fn config_json(architecture: &str) -> Blob {
    let text = format!(
        r#"{{"architecture":"{architecture}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    );
    Blob::bytes(MediaType::OciImageConfig, text)
}

#[tokio::test]
async fn an_image_pushed_from_bytes_a_file_and_a_stream_pulls_back_into_files() {
    let registry = TestRegistry::start().await;
    let repository = registry.repo("images/app");
    let client = client();
    let work = tempfile::tempdir().unwrap();
    let (from_file, from_stream) = (blob(70_000, 1), blob(9_000, 2));
    let layer_file = work.path().join("layer.tar");
    std::fs::write(&layer_file, &from_file).unwrap();
    let layers = vec![
        Blob::file(MediaType::OciLayerTarGzip, &layer_file),
        Blob::stream(
            MediaType::OciLayerTarGzip,
            Digest::compute(&from_stream),
            from_stream.len() as u64,
            pieces(from_stream.clone(), 1000),
        ),
    ];
    let pushed = client
        .push_image(&repository, config_json("amd64"), layers, &["v1", "latest"])
        .await
        .unwrap();
    assert_eq!(pushed.tags, ["v1", "latest"]);

    let into = work.path().join("pulled");
    let amd64 = Platform::new("linux", "amd64");
    let pulled = client
        .pull_image(&repository, &"v1".parse().unwrap(), Some(&amd64), &into)
        .await
        .unwrap();
    assert_eq!(pulled.manifest.digest, pushed.digest);
    assert_eq!(std::fs::read(&pulled.layers[0]).unwrap(), from_file);
    assert_eq!(std::fs::read(&pulled.layers[1]).unwrap(), from_stream);
    assert!(
        std::fs::read_to_string(&pulled.config)
            .unwrap()
            .contains("amd64")
    );

    // Pushing the same image again skips every blob the repository has.
    let again = client
        .push_image(&repository, config_json("amd64"), vec![], &["empty"])
        .await
        .unwrap();
    assert_ne!(again.digest, pushed.digest);

    // A range of the file layer, and the range past its end.
    let layer = &pulled.image.layers[0];
    let part: Vec<bytes::Bytes> = client
        .get_blob_range(&repository, &layer.digest, 1000, Some(5000))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(part.concat(), from_file[1000..6000]);
    let tail: Vec<bytes::Bytes> = client
        .get_blob_range(&repository, &layer.digest, 69_990, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(tail.concat(), from_file[69_990..]);
}

#[tokio::test]
async fn the_manifest_for_a_platform_is_resolved_through_an_index() {
    let registry = TestRegistry::start().await;
    let repository = registry.repo("images/multi");
    let client = client();
    let mut entries = Vec::new();
    for (architecture, seed) in [("amd64", 3), ("arm64", 4)] {
        let layer = Blob::bytes(MediaType::OciLayerTarGzip, blob(100, seed));
        let pushed = client
            .push_image(&repository, config_json(architecture), vec![layer], &[])
            .await
            .unwrap();
        let manifest = client
            .get_manifest(&repository, &ManifestReference::Digest(pushed.digest))
            .await
            .unwrap();
        let mut entry = manifest.parse().unwrap().descriptor();
        entry.platform = Some(Platform::new("linux", architecture));
        entries.push(entry);
    }
    let index = Manifest::from_index(ImageIndex::new(entries.clone())).unwrap();
    client
        .put_manifest(&repository, "multi", &index)
        .await
        .unwrap();

    let tag: ManifestReference = "multi".parse().unwrap();
    let arm64 = Platform::new("linux", "arm64");
    let pulled = client
        .pull_manifest_for_platform(&repository, &tag, &arm64)
        .await
        .unwrap();
    assert_eq!(pulled.digest, entries[1].digest);
    let fetched = client
        .fetch_manifest(&repository, &entries[0])
        .await
        .unwrap();
    assert_eq!(fetched.digest, entries[0].digest);

    let riscv = Platform::new("linux", "riscv64");
    let error = client
        .pull_manifest_for_platform(&repository, &tag, &riscv)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NoMatchingPlatform { .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::NotFound);

    // A bad tag is refused before anything is sent.
    let error = client
        .put_manifest(&repository, ".bad", &index)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Reference(_)), "{error:?}");
}

#[tokio::test]
async fn a_bearer_token_is_sent_as_it_is() {
    let registry = TestRegistry::start().await;
    let tokens = TokenRegistry::start(registry.host()).await;
    let host = tokens.host();
    // A token obtained elsewhere: here, from the token server named by the challenge.
    let http = reqwest::Client::new();
    let answer = http.get(format!("http://{host}/v2/")).send().await.unwrap();
    let challenges = Challenge::from_headers(answer.headers().get_all("www-authenticate")).unwrap();
    let Some(Challenge::Bearer(bearer)) = Challenge::select(&challenges).cloned() else {
        panic!("expected a Bearer challenge");
    };
    let scopes = Scopes::from(Scope::push_pull("tokens/app").unwrap());
    let basic = Credentials::basic(token::USERNAME, token::PASSWORD);
    let request = TokenRequest::new(&bearer, &scopes, &basic);
    let token = oci_auth::fetch_token(&http, request, &TokenOptions::default(), SystemTime::now())
        .await
        .unwrap();
    let grants = tokens.basic_grants();

    let store =
        CredentialStore::new().with_credentials(&host, Credentials::bearer(token.value().clone()));
    let with_token = Client::new(config().credentials(store).build()).unwrap();
    let repository = oci_distribution_client::Repository::new(&host, "tokens/app").unwrap();
    let layer = Blob::bytes(MediaType::OciLayerTarGzip, blob(10, 5));
    with_token
        .push_image(&repository, config_json("amd64"), vec![layer], &["v1"])
        .await
        .unwrap();
    assert_eq!(tokens.basic_grants(), grants, "no token was asked for");
}
