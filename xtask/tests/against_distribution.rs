//! The conformance checks against a real registry: Debian's CNCF distribution (`docker-registry`,
//! installed by `bash .ci/install-peers`). It implements v1.1 pulls, pushes and deletes but not
//! the referrers API, so the run must pass the former and fail the latter: that proves the checks
//! both accept a working registry and catch a missing feature.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `docker-registry` on a free port with a temporary store; killed on drop.
struct Distribution {
    child: Child,
    url: String,
    _store: tempfile::TempDir,
}

impl Distribution {
    fn start() -> Distribution {
        let store = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = store.path().join("config.yml");
        let root = store.path().join("root");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                root.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry must be installed: run `bash .ci/install-peers`");
        // Block until it logs that it listens; then keep draining its log.
        let mut log = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let read = log.read_line(&mut line).unwrap();
            assert_ne!(read, 0, "docker-registry exited before listening");
            if line.contains("listening on") {
                break;
            }
        }
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        Distribution {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _store: store,
        }
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn distribution_passes_v1_1_basics_and_fails_the_referrers_api() {
    let registry = Distribution::start();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["conformance", "--url", &registry.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "distribution cannot pass everything"
    );

    for passing in [
        "ok      [Pull] GET /v2/ returns 200",
        "ok      [Pull] GET manifest by tag returns manifest[0]'s bytes",
        "ok      [Push] PUT with a digest that does not match the body returns 400 DIGEST_INVALID",
        "ok      [Push] PUT manifest that is not JSON returns 400 MANIFEST_INVALID",
        "ok      [Content Management] Deleting a manifest by digest deletes its tags",
        "ok      [Pull] [newer] Range bytes=500-1499 returns 206 with those 1000 bytes",
    ] {
        assert!(
            stdout.contains(passing),
            "expected {passing:?} in\n{stdout}"
        );
    }
    for failing in [
        "FAIL    [Content Discovery] GET referrers of an unknown digest returns an empty image index",
        "FAIL    [Push] [newer] sha256 tag parameters: each tag resolves to the manifest",
    ] {
        assert!(
            stdout.contains(failing),
            "expected {failing:?} in\n{stdout}"
        );
    }

    let last = stdout.lines().last().unwrap_or_default();
    let counts: Vec<usize> = last
        .trim_start_matches("conformance: ")
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(last.starts_with("conformance: "), "{last}");
    assert_eq!(counts.len(), 3, "{last}");
    assert!(counts[0] >= 100 && counts[1] >= 10, "{last}");
}
