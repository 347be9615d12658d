//! The pull-through cache against a second registry as its upstream (one that counts the
//! blob downloads it serves): pulls through, serves from the cache when the upstream is
//! gone, refreshes tags after their time to live, shares one fetch among concurrent misses,
//! and logs in to an upstream that wants credentials.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use http::{Method, Request};
use oci_digest::Digest;
use oci_server_core::{
    Authorizer, BasicAuthorizer, Registry, RegistryConfig,
    auth::parse_htpasswd,
    pull_through::{PullThrough, PullThroughConfig, UpstreamConfig},
};
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::common::{TestRegistry, content};

mod upstream_truth;

/// A registry on 127.0.0.1 that counts the blob `GET`s it answers.
struct Upstream {
    server_url: String,
    blob_gets: Arc<AtomicUsize>,
    /// Pushes go through this view of the same store (no counting, no auth).
    direct: TestRegistry,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Upstream {
    async fn start(authorizer: Option<Arc<dyn Authorizer>>) -> Self {
        let direct = TestRegistry::start().await;
        let mut registry = Registry::open_fs(direct.root(), RegistryConfig::default())
            .await
            .unwrap();
        if let Some(authorizer) = authorizer {
            registry = registry.with_authorizer(authorizer);
        }
        let blob_gets = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&blob_gets);
        let service = tower::service_fn(move |request: Request<axum::body::Body>| {
            if request.method() == Method::GET && request.uri().path().contains("/blobs/sha256:") {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let registry = registry.clone();
            async move { Ok::<_, Infallible>(registry.handle(request).await) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let router = axum::Router::new().fallback_service(service);
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Self {
            server_url,
            blob_gets,
            direct,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn blob_gets(&self) -> usize {
        self.blob_gets.load(Ordering::SeqCst)
    }

    /// Stops serving (the counting front; the store stays) and waits until it has.
    async fn go_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A caching registry mirroring `upstream` under `mirror/`, and its store's folder.
async fn cache(
    upstream: &Upstream,
    tag_ttl_secs: u64,
    login: Option<(&str, &str)>,
) -> (TestRegistry, TempDir) {
    let config = PullThroughConfig {
        tag_ttl_secs,
        upstreams: vec![UpstreamConfig {
            prefix: "mirror".into(),
            url: upstream.server_url.clone(),
            docker_hub: false,
            username: login.map(|(user, _)| user.to_owned()),
            password: login.map(|(_, password)| password.to_owned()),
        }],
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open_fs(dir.path(), RegistryConfig::default())
        .await
        .unwrap()
        .with_pull_through(Arc::new(PullThrough::new(config).unwrap()));
    (TestRegistry::from_registry(registry).await, dir)
}

/// Pushes an image with a `layer` of `layer_len` bytes as `team/app:<tag>` upstream;
/// returns the manifest's bytes and digest and the layer's digest.
async fn push_upstream(
    upstream: &Upstream,
    tag: &str,
    layer_len: usize,
) -> (Vec<u8>, Digest, Digest) {
    let layer = upstream
        .direct
        .push_blob("team/app", &content(layer_len, tag.len() as u8))
        .await;
    let (bytes, digest) = upstream
        .direct
        .push_image(
            "team/app",
            tag,
            json!({"layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.as_str(), "size": layer_len}]}),
        )
        .await;
    (bytes, digest, layer)
}

async fn body_digest(answer: reqwest::Response) -> Digest {
    assert_eq!(answer.status(), StatusCode::OK);
    Digest::compute(&answer.bytes().await.unwrap())
}

#[tokio::test]
async fn pulls_through_then_serves_the_cache_when_upstream_is_down() {
    let mut upstream = Upstream::start(None).await;
    let (manifest, manifest_digest, layer) = push_upstream(&upstream, "v1", 3 << 20).await;
    // A time to live of zero: every tag request asks upstream first.
    let (cache, _store) = cache(&upstream, 0, None).await;

    let pulled = cache.get("/v2/mirror/team/app/manifests/v1").await;
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(pulled.bytes().await.unwrap(), manifest);
    let blob_path = format!("/v2/mirror/team/app/blobs/{layer}");
    assert_eq!(body_digest(cache.get(&blob_path).await).await, layer);
    assert_eq!(body_digest(cache.get(&blob_path).await).await, layer);
    assert_eq!(
        upstream.blob_gets(),
        1,
        "the second pull came from the cache"
    );
    let ranged = cache
        .http
        .get(cache.url(&blob_path))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap().len(), 10);

    upstream.go_down().await;
    let stale = cache.get("/v2/mirror/team/app/manifests/v1").await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.bytes().await.unwrap(), manifest);
    let by_digest = cache
        .get(&format!("/v2/mirror/team/app/manifests/{manifest_digest}"))
        .await;
    assert_eq!(by_digest.status(), StatusCode::OK);
    assert_eq!(body_digest(cache.get(&blob_path).await).await, layer);
    // Nothing else was cached, so nothing else can be served.
    let other = cache.get("/v2/mirror/team/app/manifests/v2").await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    // Repositories outside the prefix never go upstream.
    let local = cache.get("/v2/team/app/manifests/v1").await;
    assert_eq!(local.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tags_are_refreshed_after_their_time_to_live() {
    let upstream = Upstream::start(None).await;
    let (_, first, _) = push_upstream(&upstream, "v1", 100).await;
    let (eager, _eager_store) = cache(&upstream, 0, None).await;
    let (patient, _patient_store) = cache(&upstream, 3600, None).await;
    let path = "/v2/mirror/team/app/manifests/v1";
    assert_eq!(body_digest(eager.get(path).await).await, first);
    assert_eq!(body_digest(patient.get(path).await).await, first);

    // Upstream moves the tag to another image.
    let (_, second) = upstream
        .direct
        .push_image("team/app", "v1", json!({"annotations": {"moved": "yes"}}))
        .await;
    assert_ne!(first, second);
    assert_eq!(body_digest(eager.get(path).await).await, second);
    assert_eq!(
        body_digest(patient.get(path).await).await,
        first,
        "within its time to live the cached tag is served"
    );
}

#[tokio::test]
async fn concurrent_misses_share_one_upstream_fetch() {
    let upstream = Upstream::start(None).await;
    let (_, _, layer) = push_upstream(&upstream, "v1", 8 << 20).await;
    let (cache, _store) = cache(&upstream, 300, None).await;
    let url = cache.url(&format!("/v2/mirror/team/app/blobs/{layer}"));
    let pulls = (0..6).map(|_| {
        let (http, url) = (cache.http.clone(), url.clone());
        async move { body_digest(http.get(url).send().await.unwrap()).await }
    });
    for digest in futures_util::future::join_all(pulls).await {
        assert_eq!(digest, layer);
    }
    assert_eq!(upstream.blob_gets(), 1);
}

#[tokio::test]
async fn upstream_credentials_are_used() {
    let hash = bcrypt::hash("up-pw", 4).unwrap();
    let users = parse_htpasswd(&format!("mirror-bot:{hash}")).unwrap();
    let upstream = Upstream::start(Some(Arc::new(BasicAuthorizer::new(users)))).await;
    let (manifest, _, _) = push_upstream(&upstream, "v1", 100).await;
    let path = "/v2/mirror/team/app/manifests/v1";

    let (anonymous, _anonymous_store) = cache(&upstream, 300, None).await;
    assert_eq!(anonymous.get(path).await.status(), StatusCode::NOT_FOUND);
    let (logged_in, _logged_in_store) = cache(&upstream, 300, Some(("mirror-bot", "up-pw"))).await;
    let pulled = logged_in.get(path).await;
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(pulled.bytes().await.unwrap(), manifest);
}

#[tokio::test]
async fn the_binary_reads_a_pull_through_config() {
    let upstream = Upstream::start(None).await;
    let (manifest, _, _) = push_upstream(&upstream, "v1", 100).await;
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("pull-through.toml");
    std::fs::write(
        &config,
        format!(
            "tag_ttl_secs = 60\n[[upstream]]\nprefix = \"mirror\"\nurl = \"{}\"\n",
            upstream.server_url
        ),
    )
    .unwrap();
    let registry = crate::process::start(
        &work.path().join("store"),
        &["--pull-through", config.to_str().unwrap()],
    );
    let pulled = reqwest::get(format!(
        "{}/v2/mirror/team/app/manifests/v1",
        registry.base()
    ))
    .await
    .unwrap();
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(pulled.bytes().await.unwrap(), manifest);
}
