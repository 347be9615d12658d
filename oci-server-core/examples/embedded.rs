//! Embeds a registry in a program: a filesystem store in a temporary folder, served on a free
//! port of 127.0.0.1, then pushes a blob and a manifest over HTTP and pulls the manifest back.
//!
//! ```sh
//! cargo run -p oci-server-core --example embedded
//! ```

use std::sync::Arc;

use oci_server_core::{FsStorage, Registry, RegistryConfig, serve};
use tokio::{net::TcpListener, sync::oneshot};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join(format!("oci-embedded-{}", std::process::id()));
    let storage = FsStorage::open(&root).await?;
    let registry = Registry::new(
        Arc::new(storage),
        RegistryConfig::default().with_delete(true),
    );

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, registry, async {
        let _ = stopped.await;
    }));
    println!("registry on {base}, store in {}", root.display());

    let http = reqwest::Client::new();
    // An empty config blob, pushed in one POST.
    let config = b"{}";
    let config_digest = oci_digest::Digest::compute(config);
    let pushed = http
        .post(format!(
            "{base}/v2/demo/app/blobs/uploads/?digest={config_digest}"
        ))
        .body(&config[..])
        .send()
        .await?;
    println!("blob push: {}", pushed.status());

    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": config_digest.as_str(),
            "size": config.len(),
        },
        "layers": [],
    });
    let pushed = http
        .put(format!("{base}/v2/demo/app/manifests/v1"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(serde_json::to_vec(&manifest)?)
        .send()
        .await?;
    println!(
        "manifest push: {} {:?}",
        pushed.status(),
        pushed.headers().get("docker-content-digest")
    );

    let tags = http
        .get(format!("{base}/v2/demo/app/tags/list"))
        .send()
        .await?
        .text()
        .await?;
    println!("tags: {tags}");

    let _ = stop.send(());
    server.await??;
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
