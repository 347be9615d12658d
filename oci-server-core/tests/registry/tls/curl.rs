//! curl against a registry that requires client certificates: refused without one (or with
//! one of another CA), served with one, and still asked for a password under `--htpasswd`.
//! ALPN offers HTTP/2 and HTTP/1.1.

use std::process::Command;

use super::{
    Pki,
    certs::{KeyKind, TestCa},
    path_text,
};

/// Runs curl on `url` with `args`; returns whether it succeeded and the status it printed
/// (`000` when no HTTP answer came).
fn curl(pki: &Pki, url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code} %{http_version}"])
        .arg("--cacert")
        .arg(pki.path("ca.pem"))
        .args(args)
        .arg(url)
        .output()
        .expect("curl must be installed");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn curl_is_refused_without_a_client_certificate_and_served_with_one() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let registry = pki.serve(work.path(), true, &[]);
    assert!(registry.base().starts_with("https://"));
    let url = format!("{}/v2/", registry.base());
    let (client_cert, client_key) = (
        path_text(&pki.path("client.crt")),
        path_text(&pki.path("client.key")),
    );

    let (ok, status) = curl(&pki, &url, &[]);
    assert!(!ok, "served without a client certificate: {status}");
    assert!(
        status.starts_with("000"),
        "no HTTP answer without a certificate: {status}"
    );

    let stranger = TestCa::root("another root").client("mallory");
    let (stranger_cert, stranger_key) = stranger.write(pki.dir(), "stranger");
    let (ok, status) = curl(
        &pki,
        &url,
        &[
            "--cert",
            &path_text(&stranger_cert),
            "--key",
            &path_text(&stranger_key),
        ],
    );
    assert!(!ok, "served a certificate of another CA: {status}");

    let (ok, status) = curl(&pki, &url, &["--cert", &client_cert, "--key", &client_key]);
    assert!(ok);
    assert!(status.starts_with("200 "), "{status}");
}

#[test]
fn a_client_certificate_does_not_replace_the_password() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let htpasswd = work.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(&htpasswd, format!("dora:{hash}\n")).unwrap();
    let registry = pki.serve(work.path(), true, &["--htpasswd", &path_text(&htpasswd)]);
    let url = format!("{}/v2/", registry.base());
    let (client_cert, client_key) = (
        path_text(&pki.path("client.crt")),
        path_text(&pki.path("client.key")),
    );
    let with_cert = ["--cert", client_cert.as_str(), "--key", client_key.as_str()];

    let (_, status) = curl(&pki, &url, &with_cert);
    assert!(status.starts_with("401 "), "{status}");
    let mut with_password = with_cert.to_vec();
    with_password.extend(["--user", "dora:s3cret"]);
    let (_, status) = curl(&pki, &url, &with_password);
    assert!(status.starts_with("200 "), "{status}");
}

#[test]
fn alpn_serves_http2_and_http1_1() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let registry = pki.serve(work.path(), false, &[]);
    let url = format!("{}/v2/", registry.base());
    assert_eq!(curl(&pki, &url, &["--http2"]).1, "200 2");
    assert_eq!(curl(&pki, &url, &["--http1.1"]).1, "200 1.1");
}
