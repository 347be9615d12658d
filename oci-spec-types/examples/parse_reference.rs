//! Parses image references given on the command line and prints their parts; with
//! `--manifest FILE` (and optionally `--content-type TYPE`), also parses a manifest
//! strictly and prints what it is.
//!
//! ```text
//! cargo run -p oci-spec-types --example parse_reference -- ubuntu localhost:5000/app:v1
//! cargo run -p oci-spec-types --example parse_reference -- --manifest manifest.json
//! ```

use std::process::ExitCode;

use bytes::Bytes;
use oci_spec_types::{Manifest, Reference};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut manifest_path = None;
    let mut content_type = None;
    let mut references = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--manifest" => manifest_path = args.next(),
            "--content-type" => content_type = args.next(),
            "-h" | "--help" => {
                println!(
                    "usage: parse_reference [REFERENCE...] [--manifest FILE [--content-type TYPE]]"
                );
                return ExitCode::SUCCESS;
            }
            _ => references.push(arg),
        }
    }

    let mut ok = true;
    for input in &references {
        ok &= print_reference(input);
    }
    if let Some(path) = manifest_path {
        ok &= print_manifest(&path, content_type.as_deref());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_reference(input: &str) -> bool {
    match Reference::parse(input) {
        Ok(reference) => {
            println!("{input}");
            println!("  normalised: {reference}");
            println!(
                "  registry:   {} (API host {})",
                reference.registry(),
                reference.api_host()
            );
            println!("  repository: {}", reference.repository());
            println!("  tag:        {}", reference.tag().unwrap_or("-"));
            println!(
                "  digest:     {}",
                reference
                    .digest()
                    .map_or_else(|| "-".to_owned(), ToString::to_string)
            );
            true
        }
        Err(error) => {
            eprintln!("{input}: {error}");
            false
        }
    }
}

fn print_manifest(path: &str, content_type: Option<&str>) -> bool {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => Bytes::from(bytes),
        Err(error) => {
            eprintln!("{path}: {error}");
            return false;
        }
    };
    match Manifest::parse_strict(bytes, content_type) {
        Ok(manifest) => {
            println!("{path}");
            println!("  media type: {}", manifest.media_type());
            println!("  digest:     {}", manifest.digest());
            println!("  size:       {}", manifest.size());
            if let Some(artifact_type) = manifest.artifact_type() {
                println!("  artifact:   {artifact_type}");
            }
            if let Some(subject) = manifest.subject() {
                println!("  subject:    {}", subject.digest);
            }
            for blob in manifest.blobs() {
                println!(
                    "  blob:       {} {} ({} bytes)",
                    blob.digest, blob.media_type, blob.size
                );
            }
            for child in manifest.children() {
                let platform = child
                    .platform
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string);
                println!("  manifest:   {} {platform}", child.digest);
            }
            true
        }
        Err(error) => {
            eprintln!("{path}: {error}");
            false
        }
    }
}
