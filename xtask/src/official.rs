//! Running the official distribution-spec conformance binary (`OCI_CONFORMANCE_BIN`) against a
//! registry and summarising its `junit.xml` in our own format.
//!
//! Both generations of the suite are configured at once: the v1.1 Ginkgo suite (`OCI_ROOT_URL`,
//! `OCI_NAMESPACE`, `OCI_TEST_*`, `OCI_REPORT_DIR`, ...) and the newer data-driven harness
//! (`OCI_REGISTRY`, `OCI_TLS`, `OCI_REPO1`/`OCI_REPO2`, every `OCI_API_*` and `OCI_DATA_*` switch,
//! `OCI_RESULTS_DIR`). A variable already set in the environment wins over our default.
//! `OCI_AUTOMATIC_CROSSMOUNT` is left unset (that v1.1 case is then skipped) because whether a
//! registry mounts without `from` is its choice; set it to `1` or `0` to test either answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::conformance::auth::Credentials;
use crate::error::XtaskError;

/// API switches of the newer harness (`OCI_API_*`), all turned on.
const API_SWITCHES: [&str; 16] = [
    "OCI_API_PING",
    "OCI_API_PULL",
    "OCI_API_PUSH",
    "OCI_API_BLOBS_ATOMIC",
    "OCI_API_BLOBS_DELETE",
    "OCI_API_BLOBS_DIGEST_HEADER",
    "OCI_API_BLOBS_MOUNT_ANONYMOUS",
    "OCI_API_BLOBS_UPLOAD_CANCEL",
    "OCI_API_MANIFESTS_ATOMIC",
    "OCI_API_MANIFESTS_DELETE",
    "OCI_API_MANIFESTS_DIGEST_HEADER",
    "OCI_API_MANIFESTS_TAG_PARAM",
    "OCI_API_TAGS_ATOMIC",
    "OCI_API_TAGS_DELETE",
    "OCI_API_TAGS_LIST",
    "OCI_API_REFERRER",
];

/// Data-set switches of the newer harness (`OCI_DATA_*`), all turned on.
const DATA_SWITCHES: [&str; 15] = [
    "OCI_DATA_IMAGE",
    "OCI_DATA_INDEX",
    "OCI_DATA_INDEX_LIST",
    "OCI_DATA_SPARSE",
    "OCI_DATA_ARTIFACT",
    "OCI_DATA_SUBJECT",
    "OCI_DATA_SUBJECT_MISSING",
    "OCI_DATA_ARTIFACT_LIST",
    "OCI_DATA_SUBJECT_LIST",
    "OCI_DATA_DATA_FIELD",
    "OCI_DATA_NONDISTRIBUTABLE",
    "OCI_DATA_CUSTOM_FIELDS",
    "OCI_DATA_NO_LAYERS",
    "OCI_DATA_EMPTY_BLOB",
    "OCI_DATA_SHA512",
];

/// Runs `binary` against the registry at `url` (as the user of `credentials`, if any) and prints
/// the summary.
pub fn run(
    binary: &Path,
    url: &str,
    credentials: Option<&Credentials>,
) -> Result<ExitCode, XtaskError> {
    let report_dir = report_dir();
    std::fs::create_dir_all(&report_dir)?;
    let junit = report_dir.join("junit.xml");
    if junit.exists() {
        std::fs::remove_file(&junit)?;
    }
    let mut command = Command::new(binary);
    command.current_dir(&report_dir);
    let mut variables = environment(url, &report_dir);
    if let Some(credentials) = credentials {
        variables.push(("OCI_USERNAME".into(), credentials.username.clone()));
        variables.push(("OCI_PASSWORD".into(), credentials.password.clone()));
    }
    for (name, value) in variables {
        if std::env::var_os(&name).is_none() {
            command.env(name, value);
        }
    }
    eprintln!(
        "running {} against {url} (reports in {})",
        binary.display(),
        report_dir.display()
    );
    let status = command.status().map_err(|source| XtaskError::Spawn {
        command: binary.display().to_string(),
        source,
    })?;
    let xml = std::fs::read_to_string(&junit).map_err(|error| XtaskError::Report {
        path: junit.clone(),
        reason: format!("{error} (the suite exited with {status})"),
    })?;
    let cases = parse_junit(&xml);
    if cases.is_empty() {
        return Err(XtaskError::Report {
            path: junit,
            reason: "no <testcase> elements".to_string(),
        });
    }
    let totals = print_summary(&cases);
    Ok(if totals.failed == 0 && status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `<target>/conformance-report`, honouring `CARGO_TARGET_DIR`.
fn report_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::cargo::workspace_root().join("target"));
    target.join("conformance-report")
}

/// The variables for both harnesses.
fn environment(url: &str, report_dir: &Path) -> Vec<(String, String)> {
    let host = url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let tls = if url.starts_with("https://") {
        "enabled"
    } else {
        "disabled"
    };
    let dir = report_dir.display().to_string();
    let mut env: Vec<(String, String)> = [
        ("OCI_ROOT_URL", url),
        ("OCI_NAMESPACE", "conformance/repo1"),
        ("OCI_CROSSMOUNT_NAMESPACE", "conformance/repo2"),
        ("OCI_TEST_PULL", "1"),
        ("OCI_TEST_PUSH", "1"),
        ("OCI_TEST_CONTENT_DISCOVERY", "1"),
        ("OCI_TEST_CONTENT_MANAGEMENT", "1"),
        ("OCI_HIDE_SKIPPED_WORKFLOWS", "0"),
        ("OCI_DELETE_MANIFEST_BEFORE_BLOBS", "0"),
        ("OCI_REPORT_DIR", &dir),
        ("OCI_REGISTRY", host),
        ("OCI_TLS", tls),
        ("OCI_REPO1", "conformance/repo1"),
        ("OCI_REPO2", "conformance/repo2"),
        ("OCI_RESULTS_DIR", &dir),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    for switch in API_SWITCHES.iter().chain(&DATA_SWITCHES) {
        env.push((switch.to_string(), "true".to_string()));
    }
    env
}

/// How one junit test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// One `<testcase>`: its group (workflow, or first path segment) and verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JunitCase {
    group: String,
    verdict: Verdict,
}

/// Reads every `<testcase>`; a child `<failure>`/`<error>` fails it, `<skipped>` skips it, and
/// otherwise the Ginkgo `status` attribute decides.
fn parse_junit(xml: &str) -> Vec<JunitCase> {
    let mut cases = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<testcase") {
        rest = &rest[start + "<testcase".len()..];
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let attributes = &rest[..tag_end];
        let self_closing = attributes.ends_with('/');
        let body = if self_closing {
            ""
        } else {
            let end = rest.find("</testcase>").unwrap_or(rest.len());
            &rest[tag_end..end]
        };
        let status = attribute(attributes, "status").unwrap_or_default();
        let verdict = if body.contains("<failure") || body.contains("<error") {
            Verdict::Failed
        } else if body.contains("<skipped") {
            Verdict::Skipped
        } else {
            match status.as_str() {
                "failed" | "failure" | "error" | "panicked" | "interrupted" | "timedout" => {
                    Verdict::Failed
                }
                "skipped" | "pending" | "disabled" => Verdict::Skipped,
                _ => Verdict::Passed,
            }
        };
        let name = attribute(attributes, "name").unwrap_or_default();
        cases.push(JunitCase {
            group: group_of(&name),
            verdict,
        });
    }
    cases
}

/// The value of `name="..."` in a tag's attribute text, with the XML entities decoded.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let pattern = format!(" {name}=\"");
    let start = format!(" {attributes}").find(&pattern)? + pattern.len() - 1;
    let value = &attributes[start..];
    let end = value.find('"')?;
    Some(
        value[..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// The workflow a Ginkgo test name starts with, else its first `/` segment.
fn group_of(name: &str) -> String {
    let name = name.trim_start_matches("[It]").trim();
    let workflows = ["Content Discovery", "Content Management", "Pull", "Push"];
    if let Some(workflow) = workflows.iter().find(|w| name.starts_with(*w)) {
        return workflow.to_string();
    }
    match name.split('/').find(|segment| !segment.is_empty()) {
        Some(segment) if name.contains('/') => segment.to_string(),
        _ => "official".to_string(),
    }
}

/// Per-group counts and the final `conformance: ...` line; returns the totals.
fn print_summary(cases: &[JunitCase]) -> crate::conformance::Counts {
    let mut groups: BTreeMap<&str, crate::conformance::Counts> = BTreeMap::new();
    let mut totals = crate::conformance::Counts::default();
    for case in cases {
        let counts = groups.entry(&case.group).or_default();
        for target in [counts, &mut totals] {
            match case.verdict {
                Verdict::Passed => target.passed += 1,
                Verdict::Failed => target.failed += 1,
                Verdict::Skipped => target.skipped += 1,
            }
        }
    }
    println!("\nsummary (official suite):");
    for (group, counts) in &groups {
        println!("  {group:<20} {counts}");
    }
    println!("conformance: {totals}");
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ginkgo_junit() {
        let xml = r#"<?xml version="1.0"?>
<testsuites><testsuite name="conformance tests" tests="3">
  <testcase name="[It] Pull Pull blobs HEAD request to nonexistent blob should result in 404 response" classname="conformance tests" status="passed" time="0.01"></testcase>
  <testcase name="[It] Push Blob Upload Chunked Out-of-order blob upload should return 416" classname="conformance tests" status="failed" time="0.02"><failure message="Expected 416" type="failed">boom</failure></testcase>
  <testcase name="[It] Content Discovery Teardown Delete created manifest &amp; associated tags" classname="conformance tests" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
</testsuite></testsuites>"#;
        let cases = parse_junit(xml);
        let summary: Vec<(&str, Verdict)> = cases
            .iter()
            .map(|case| (case.group.as_str(), case.verdict))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Pull", Verdict::Passed),
                ("Push", Verdict::Failed),
                ("Content Discovery", Verdict::Skipped),
            ]
        );
    }

    #[test]
    fn reads_the_newer_harness_junit() {
        let xml = r#"<testsuites tests="3"><testsuite name="OCI Conformance Test" tests="3">
  <testcase name="OCI Conformance Test/blobs-sha256/post only" classname="OCI Conformance Test" status="passed"/>
  <testcase name="OCI Conformance Test/image/push" classname="x" status="error"><error message="x"></error></testcase>
  <testcase name="OCI Conformance Test/sparse/push" classname="x" status="disabled"/>
</testsuite></testsuites>"#;
        let cases = parse_junit(xml);
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].group, "OCI Conformance Test");
        assert_eq!(cases[0].verdict, Verdict::Passed);
        assert_eq!(cases[1].verdict, Verdict::Failed);
        assert_eq!(cases[2].verdict, Verdict::Skipped);
    }

    #[test]
    fn decodes_attribute_entities_and_ignores_prefixes() {
        let attributes = r#" classname="a" name="x &amp; y &lt;z&gt;" status="passed""#;
        assert_eq!(attribute(attributes, "name").as_deref(), Some("x & y <z>"));
        assert_eq!(attribute(attributes, "classname").as_deref(), Some("a"));
        assert_eq!(attribute(attributes, "missing"), None);
    }

    #[test]
    fn configures_both_harnesses_for_plain_http() {
        let env: BTreeMap<String, String> = environment("http://127.0.0.1:5000", Path::new("/r"))
            .into_iter()
            .collect();
        assert_eq!(env["OCI_ROOT_URL"], "http://127.0.0.1:5000");
        assert_eq!(env["OCI_REGISTRY"], "127.0.0.1:5000");
        assert_eq!(env["OCI_TLS"], "disabled");
        assert_eq!(env["OCI_DATA_SHA512"], "true");
        assert_eq!(env["OCI_API_MANIFESTS_TAG_PARAM"], "true");
        assert_eq!(env["OCI_REPORT_DIR"], "/r");
    }
}
