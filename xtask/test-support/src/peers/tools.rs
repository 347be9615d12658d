//! Command-line peers run to completion: skopeo (with no signature policy) and umoci.

use std::process::{Command, Output};

/// Runs `program` with `args`; its output, or a panic naming how to install it.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): run `bash .ci/install-peers`"))
}

/// What `program args` printed; fails the test with its standard error when it fails.
fn succeeding(program: &str, args: &[&str]) -> String {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `skopeo --insecure-policy args` and returns its standard output; fails the test
/// with its standard error when it fails.
pub fn skopeo(args: &[&str]) -> String {
    succeeding("skopeo", &[&["--insecure-policy"][..], args].concat())
}

/// Runs `skopeo --insecure-policy args` expecting it to fail, and returns its standard
/// error.
pub fn skopeo_fails(args: &[&str]) -> String {
    let output = run("skopeo", &[&["--insecure-policy"][..], args].concat());
    assert!(!output.status.success(), "skopeo {args:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `umoci args` and returns its standard output; fails the test with its standard
/// error when it fails.
pub fn umoci(args: &[&str]) -> String {
    succeeding("umoci", args)
}
