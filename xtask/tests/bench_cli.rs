//! The command line of `cargo xtask bench`: listed in the help, bad options refused up front
//! (before any build or server start).

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_lists_bench() {
    let output = xtask(&["--help"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("bench"));
}

#[test]
fn bad_bench_options_are_usage_errors() {
    for args in [
        &["bench", "--frobnicate"][..],
        &["bench", "--runs", "0"],
        &["bench", "--size-mib"],
        &["bench", "--only", "everything"],
    ] {
        let output = xtask(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("usage: cargo xtask bench"), "{stderr}");
    }
}
