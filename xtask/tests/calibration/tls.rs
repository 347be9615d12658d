//! The judge against an `https://` registry: docker-registry serving a certificate signed by a
//! CA made at test time. Trusted with `--ca-file`, or with `--insecure`, the pull checks pass;
//! trusting neither, no request gets through.

use std::path::Path;
use std::process::Command;

use oci_test_support::peers::{Distribution, DistributionOptions};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

use crate::verdicts::Verdicts;

/// Writes a CA (`ca.pem`) and a certificate for 127.0.0.1 it signed (`server.pem`,
/// `server.key`) into `dir`.
fn certificates(dir: &Path) {
    let mut authority = CertificateParams::new(Vec::<String>::new()).unwrap();
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let authority = CertifiedIssuer::self_signed(authority, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &authority)
        .unwrap();
    for (file, pem) in [
        ("ca.pem", authority.pem()),
        ("server.pem", certificate.pem()),
        ("server.key", key.serialize_pem()),
    ] {
        std::fs::write(dir.join(file), pem).unwrap();
    }
}

#[test]
fn an_https_registry_is_judged_when_trusted_and_unreachable_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let registry = Distribution::start_with(DistributionOptions {
        tls: Some((dir.path().join("server.pem"), dir.path().join("server.key"))),
        ..DistributionOptions::default()
    });
    let url = format!("https://{}", registry.host());
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();

    for trust in [&["--ca-file", ca][..], &["--insecure"]] {
        let mut args = vec!["--only", "pull"];
        args.extend(trust);
        let run = Verdicts::of(&url, &args);
        // Exactly what it fails over plain HTTP (see the calibration above).
        let failed: Vec<&str> = run.named("FAIL").into_iter().collect();
        assert_eq!(
            failed,
            [crate::DISTRIBUTION_FAILURES[0].0],
            "{trust:?}\n{}",
            run.stdout
        );
        assert!(run.counts()[0] >= 20, "{trust:?}: {}", run.closing);
        // Other workflows' steps run only as the setups and teardowns pull checks need.
        let others = run.stdout.lines().filter(|line| {
            ["[Push]", "[Content"].iter().any(|w| line.contains(w))
                && !line.contains("setup")
                && !line.contains("teardown")
        });
        assert_eq!(
            others.count(),
            0,
            "only the pull workflow ran\n{}",
            run.stdout
        );
    }

    let untrusted = Verdicts::of(&url, &["--only", "pull"]);
    assert!(!untrusted.success);
    let refused = untrusted.case("setup: push two config blobs and a layer");
    assert!(
        refused
            .details
            .iter()
            .any(|line| line.contains("no answer") && line.contains("certificate")),
        "{:?}",
        refused.details
    );

    let missing = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["conformance", "--url", &url, "--ca-file"])
        .arg(dir.path().join("absent.pem"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("absent.pem"));
}
