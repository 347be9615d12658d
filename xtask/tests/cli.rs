//! The command line of the `xtask` binary: help, and refusal of unknown arguments.

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_lists_the_tasks() {
    let output = xtask(&["--help"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for task in ["conformance", "package-check", "test"] {
        assert!(stdout.contains(task), "{task} missing from {stdout}");
    }
}

#[test]
fn unknown_task_and_options_are_usage_errors() {
    for args in [
        &["frobnicate"][..],
        &["conformance", "--frobnicate"],
        &["conformance", "--storage", "gcs"],
        &["package-check", "extra"],
    ] {
        let output = xtask(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
    }
}
