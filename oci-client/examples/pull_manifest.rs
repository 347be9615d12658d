//! Pulls a manifest and prints it with its digest.
//!
//! ```text
//! cargo run -p oci-distribution-client --example pull_manifest -- 127.0.0.1:5000/repo:tag
//! ```
//!
//! Loopback registries are spoken to over plain HTTP; credentials come from the Docker and
//! podman files of the environment.

use std::process::ExitCode;

use oci_distribution_client::{Client, ClientConfig};
use oci_spec_types::Reference;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(argument) = std::env::args().nth(1) else {
        eprintln!("usage: pull_manifest <registry/repository[:tag][@digest]>");
        return ExitCode::FAILURE;
    };
    match run(&argument).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(argument: &str) -> Result<(), Box<dyn std::error::Error>> {
    let reference = Reference::parse(argument)?;
    let client = Client::new(ClientConfig::default())?;
    let manifest = client.pull_manifest(&reference).await?;
    println!("reference:  {reference}");
    println!("digest:     {}", manifest.digest);
    if let Some(media_type) = &manifest.media_type {
        println!("media type: {media_type}");
    }
    println!("size:       {} bytes", manifest.bytes.len());
    println!();
    println!("{}", String::from_utf8_lossy(&manifest.bytes));
    Ok(())
}
