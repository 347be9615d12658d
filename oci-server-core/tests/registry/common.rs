//! Small helpers of the server's tests. The registry they run (in-process, on a free port)
//! and its request helpers come from `oci-test-support`.

use std::path::{Path, PathBuf};

use oci_digest::{Algorithm, Digest};
use reqwest::Response;
use serde_json::Value;

pub use oci_test_support::TestRegistry;
pub use oci_test_support::registry::{OCI_INDEX, OCI_MANIFEST, RawAnswer, code_of};

/// The spec error code of an error answer.
pub async fn error_code(answer: Response) -> String {
    let body: Value = answer.json().await.unwrap();
    body["errors"][0]["code"].as_str().unwrap().to_owned()
}

/// A header as text.
pub fn header<'a>(answer: &'a Response, name: &str) -> &'a str {
    answer
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Deterministic test content of `len` bytes.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Digest of `data` with `algorithm`.
pub fn digest_with(algorithm: &Algorithm, data: &[u8]) -> Digest {
    Digest::compute_with(algorithm, data).unwrap()
}

/// Every file below `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
