//! Command-line peers run to completion: skopeo (with no signature policy), umoci and podman
//! (with its state in a folder of the test's).

use std::path::Path;
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
    printed(program, args, run(program, args))
}

/// The standard output of `program args`, which ended as `output`; fails the test with its
/// standard error when it failed.
fn printed(program: &str, args: &[&str], output: Output) -> String {
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

/// Runs `podman args` rootful with the vfs storage driver and every piece of its state under
/// `state`, so it touches no system image store; how it ended, whatever that was.
pub fn podman_output(state: &Path, args: &[&str]) -> Output {
    let (root, run_root) = (state.join("root"), state.join("run"));
    let mut all = vec![
        "--root",
        path_text(&root),
        "--runroot",
        path_text(&run_root),
    ];
    all.extend(["--storage-driver", "vfs"]);
    all.extend(args);
    run("podman", &all)
}

/// Like [`podman_output`]; returns its standard output and fails the test when it fails.
pub fn podman(state: &Path, args: &[&str]) -> String {
    printed("podman", args, podman_output(state, args))
}

fn path_text(path: &Path) -> &str {
    path.to_str().unwrap()
}
