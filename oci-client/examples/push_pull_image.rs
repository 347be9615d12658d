//! Push a one-layer image, then pull it back for linux/arm64 into files, with the
//! high-level calls. Run against a registry on 127.0.0.1:5000:
//! `cargo run -p oci-distribution-client --example push_pull_image -- LAYER.tar.gz`.

use oci_distribution_client::{Blob, Client, ClientConfig, Repository};
use oci_spec_types::{MediaType, Platform};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = std::env::args()
        .nth(1)
        .ok_or("usage: push_pull_image LAYER.tar.gz")?;
    let client = Client::new(ClientConfig::default())?;
    let repository: Repository = "127.0.0.1:5000/demo/app".parse()?;
    let config = Blob::bytes(
        MediaType::OciImageConfig,
        r#"{"architecture":"arm64","os":"linux"}"#,
    );
    let layers = vec![Blob::file(MediaType::OciLayerTarGzip, layer)];
    let pushed = client
        .push_image(&repository, config, layers, &["v1"])
        .await?;
    println!("pushed {}", pushed.digest);
    let arm64 = Platform::new("linux", "arm64");
    let pulled = client
        .pull_image(&repository, &"v1".parse()?, Some(&arm64), "pulled".as_ref())
        .await?;
    println!("pulled {} layers into pulled/", pulled.layers.len());
    Ok(())
}
