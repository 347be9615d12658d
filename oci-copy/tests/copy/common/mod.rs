//! Shared helpers of the integration tests.

pub mod fixtures;
pub mod processes;
pub mod verify;

use std::path::Path;
use std::sync::Arc;

use oci_copy::end::{RegistryOptions, Sink, Source};
use oci_copy::{CopyOptions, ExecuteOptions, ImagePair, Location, Opener, Plan, Report};
use oci_distribution_client::{Client, ClientConfig, RetryPolicy};

/// An opener whose client retries quickly (tests break connections on purpose).
pub fn opener() -> Opener {
    let retry = RetryPolicy::default().with_base_delay(std::time::Duration::from_millis(10));
    Opener::new(
        Client::new(
            ClientConfig::builder()
                .retry(retry)
                .max_requests_per_host(std::num::NonZeroUsize::new(32).unwrap())
                .build(),
        )
        .unwrap(),
    )
}

/// [`opener`], its registry ends pushing with `registry`.
pub fn opener_with(registry: RegistryOptions) -> Opener {
    Opener {
        registry,
        ..opener()
    }
}

/// Opens both ends of a copy.
pub async fn ends(from: &str, to: &str) -> (Arc<dyn Source>, Arc<dyn Sink>, Location, Location) {
    let (from, to): (Location, Location) = (from.parse().unwrap(), to.parse().unwrap());
    let opener = opener();
    let source = opener.source(&from).await.unwrap();
    let sink = opener.sink(&to, from.image_name()).await.unwrap();
    (source, sink, from, to)
}

/// Copies the image `from` names to `to` through the ends `opener` opens, with `options`;
/// the copy's own result.
pub async fn try_copy(
    opener: &Opener,
    from: &str,
    to: &str,
    options: &CopyOptions,
) -> oci_copy::Result<(Plan, Report)> {
    let (from, to): (Location, Location) = (from.parse().unwrap(), to.parse().unwrap());
    let source = opener.source(&from).await?;
    let sink = opener.sink(&to, from.image_name()).await?;
    let images: Vec<ImagePair> = vec![oci_copy::sync::single_image(&from, &to)];
    oci_copy::copy(source, sink, &images, options, &ExecuteOptions::default()).await
}

/// Copies the image `from` names to `to`, with `options`; panics on failure.
pub async fn copy_with(from: &str, to: &str, options: &CopyOptions) -> (Plan, Report) {
    try_copy(&opener(), from, to, options).await.unwrap()
}

/// Copies with default options.
pub async fn copy(from: &str, to: &str) -> (Plan, Report) {
    copy_with(from, to, &CopyOptions::default()).await
}

/// `path` as text, for command lines.
pub fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The digest the first image of a plan is tagged with.
pub fn root_digest(plan: &Plan) -> oci_spec_types::Digest {
    let step = plan
        .roots
        .iter()
        .find_map(|root| match root {
            oci_copy::plan::Root::Image { step, .. } => Some(*step),
            oci_copy::plan::Root::Referrer { .. } => None,
        })
        .unwrap();
    plan.steps[step].descriptor.digest.clone()
}

/// The `RepoTags` of the first image of a Docker archive's `manifest.json`.
pub fn repo_tags(archive: &Path) -> Vec<String> {
    let mut archive = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let entry = archive
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .find(|entry| entry.path().unwrap().to_str() == Some("manifest.json"))
        .unwrap();
    let toc: serde_json::Value = serde_json::from_reader(entry).unwrap();
    toc[0]["RepoTags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap().to_owned())
        .collect()
}
