//! The command line of `cargo xtask conformance`.

use std::path::PathBuf;

use super::auth::Credentials;
use super::basis::Feature;
use super::client::Connection;
use super::report::{RunPolicy, Workflow};
use super::server::{Backend, ServerAuth};
use crate::error::XtaskError;

pub const USAGE: &str = "\
usage: cargo xtask conformance [options]

The registry (without --url: oci-registry, built and started with a temporary store):
  --url URL              test an already-running registry
  --username USER        credentials, sent as HTTP Basic or through the token flow the
  --password PASS          registry's challenge names (OCI_PASSWORD is read when --password
                           is not given)
  --ca-file FILE         trust the PEM CA certificate(s) in FILE for an https:// registry
  --insecure             accept any TLS certificate

What to test:
  --namespace NS         create repositories as NS/<check>-<run> (default: xtask-conformance)
  --mount-namespace NS   namespace of the cross-repository mount targets (default: NS)
  --only LIST            workflows whose checks run: pull,push,discovery,management
  --require LIST         optional features whose absence fails the run (see below)
  --keep-going           run every case even after its group's setup failed
  --deny-warnings        fail the run on a warning too (an unmet SHOULD)
  --junit FILE           also write the results as JUnit XML

Starting oci-registry (without --url):
  --release              build it in release mode (default: debug)
  --storage fs|s3        its store: a temporary directory (default), or a bucket on a
                         moto_server started for the run
  --auth none|basic|token  its authentication: none (default), an htpasswd file, or the
                         token service; the checks use the credentials made for the run
  --tls                  serve it over HTTPS with a certificate of a CA made for the run,
                         which the checks trust (the project's checks only)

Every check says what it rests on: a MUST of the distribution spec (only these fail a run),
a SHOULD or interoperability expectation (a warning), or an optional feature (a skip when
the registry does not offer it). Optional features: catalog, referrers, mount,
anonymous-mount, single-post, tag-delete, manifest-delete, blob-delete, upload-cancel,
chunk-minimum, ranges, sha512-blobs, sha512-manifests, tag-parameters, sparse-index,
sparse-image, foreign-layers.

With OCI_CONFORMANCE_BIN=<path to the official conformance binary> set, runs that suite
instead of the built-in checks (v1.1 and newer harness variables set; any OCI_* variable you
set yourself wins, e.g. OCI_AUTOMATIC_CROSSMOUNT=1) and summarises its junit.xml, which is
kept in <target>/conformance-report/.
";

/// Command-line options of `cargo xtask conformance`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The registry to test; `None` starts oci-registry.
    pub url: Option<String>,
    /// Build oci-registry in release mode.
    pub release: bool,
    /// oci-registry's store.
    pub storage: Backend,
    /// oci-registry's authentication.
    pub auth: ServerAuth,
    /// Serve oci-registry over HTTPS with a CA made for the run.
    pub tls: bool,
    /// TLS trust and credentials for `--url`.
    pub connection: Connection,
    /// The namespace of the repositories created.
    pub namespace: Option<String>,
    /// The namespace of the mount targets.
    pub mount_namespace: Option<String>,
    /// Workflows, required features, `--keep-going`.
    pub policy: RunPolicy,
    /// Where to write JUnit XML.
    pub junit: Option<PathBuf>,
    /// A warning fails the run too.
    pub deny_warnings: bool,
}

impl Options {
    /// Parses the arguments after `conformance`.
    pub fn parse(args: &[String]) -> Result<Options, XtaskError> {
        let usage = |problem: String| XtaskError::Usage(format!("{problem}\n{USAGE}"));
        let mut options = Options::default();
        let mut username = None;
        let mut password = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| usage(format!("{arg} needs {what}")))
            };
            match arg.as_str() {
                "--url" => {
                    options.url = Some(value("a URL")?.trim_end_matches('/').to_string());
                }
                "--release" => options.release = true,
                "--keep-going" => options.policy.keep_going = true,
                "--deny-warnings" => options.deny_warnings = true,
                "--insecure" => options.connection.insecure = true,
                "--tls" => options.tls = true,
                "--storage" => {
                    options.storage = match value("fs or s3")?.as_str() {
                        "fs" => Backend::Filesystem,
                        "s3" => Backend::S3,
                        other => return Err(usage(format!("unsupported --storage {other:?}"))),
                    }
                }
                "--auth" => {
                    options.auth = match value("none, basic or token")?.as_str() {
                        "none" => ServerAuth::None,
                        "basic" => ServerAuth::Basic,
                        "token" => ServerAuth::Token,
                        other => return Err(usage(format!("unsupported --auth {other:?}"))),
                    }
                }
                "--username" => username = Some(value("a user name")?),
                "--password" => password = Some(value("a password")?),
                "--ca-file" => options.connection.ca_file = Some(value("a file")?.into()),
                "--namespace" => options.namespace = Some(namespace(&value("a namespace")?)?),
                "--mount-namespace" => {
                    options.mount_namespace = Some(namespace(&value("a namespace")?)?);
                }
                "--only" => {
                    for name in list(&value("a list of workflows")?) {
                        let workflow = Workflow::ALL
                            .into_iter()
                            .find(|workflow| workflow.option_name() == name)
                            .ok_or_else(|| usage(format!("unknown workflow {name:?}")))?;
                        options.policy.only.insert(workflow);
                    }
                }
                "--require" => {
                    for name in list(&value("a list of features")?) {
                        let feature = Feature::from_name(name)
                            .ok_or_else(|| usage(format!("unknown feature {name:?}")))?;
                        options.policy.required.insert(feature);
                    }
                }
                "--junit" => options.junit = Some(value("a file")?.into()),
                "-h" | "--help" => return Err(XtaskError::Usage(USAGE.to_string())),
                other => return Err(usage(format!("unexpected argument {other:?}"))),
            }
        }
        if options.url.is_none() && (username.is_some() || options.connection.ca_file.is_some()) {
            return Err(usage(
                "--username and --ca-file apply to --url; the started oci-registry uses --auth"
                    .into(),
            ));
        }
        if options.url.is_some() && (options.auth != ServerAuth::None || options.tls) {
            return Err(usage(
                "--auth and --tls apply to the started oci-registry, not --url".into(),
            ));
        }
        if let Some(username) = username {
            let password = password
                .or_else(|| std::env::var("OCI_PASSWORD").ok())
                .ok_or_else(|| usage("--username needs --password (or OCI_PASSWORD)".into()))?;
            options.connection.credentials = Some(Credentials { username, password });
        }
        Ok(options)
    }
}

/// The items of a comma-separated list.
fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A namespace must be a repository name itself, or every push would be refused.
fn namespace(text: &str) -> Result<String, XtaskError> {
    let text = text.trim_matches('/');
    let component_ok = |component: &str| {
        let bytes = component.as_bytes();
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        !bytes.is_empty()
            && bytes.first().is_some_and(alnum)
            && bytes.last().is_some_and(alnum)
            && bytes.iter().all(|b| alnum(b) || b"._-".contains(b))
    };
    if text.split('/').all(component_ok) {
        Ok(text.to_string())
    } else {
        Err(XtaskError::Usage(format!(
            "namespace {text:?} is not a repository name (lower-case letters, digits, and . _ - \
             between them, components separated by /)\n{USAGE}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn parses_every_option_for_a_running_registry() {
        let options = Options::parse(&args(&[
            "--url",
            "https://registry.example:5000/",
            "--username",
            "alice",
            "--password",
            "pw",
            "--ca-file",
            "/etc/ca.pem",
            "--insecure",
            "--namespace",
            "team/conformance",
            "--mount-namespace",
            "team/mounts",
            "--only",
            "pull,management",
            "--require",
            "referrers, catalog",
            "--keep-going",
            "--deny-warnings",
            "--junit",
            "out.xml",
        ]))
        .unwrap();
        assert_eq!(
            options.url.as_deref(),
            Some("https://registry.example:5000")
        );
        assert_eq!(
            options.connection,
            Connection {
                ca_file: Some("/etc/ca.pem".into()),
                ca_pem: None,
                insecure: true,
                credentials: Some(Credentials {
                    username: "alice".into(),
                    password: "pw".into()
                }),
            }
        );
        assert_eq!(options.namespace.as_deref(), Some("team/conformance"));
        assert_eq!(options.mount_namespace.as_deref(), Some("team/mounts"));
        assert_eq!(
            options.policy.only,
            [Workflow::Pull, Workflow::ContentManagement].into()
        );
        assert_eq!(
            options.policy.required,
            [Feature::Referrers, Feature::Catalog].into()
        );
        assert!(options.policy.keep_going);
        assert!(options.deny_warnings);
        assert_eq!(options.junit, Some("out.xml".into()));
    }

    #[test]
    fn parses_the_options_of_the_started_registry() {
        let options = Options::parse(&args(&[
            "--release",
            "--storage",
            "s3",
            "--auth",
            "token",
            "--tls",
        ]))
        .unwrap();
        assert!(options.release);
        assert!(options.tls);
        assert_eq!(options.storage, Backend::S3);
        assert_eq!(options.auth, ServerAuth::Token);
        assert_eq!(options.url, None);
    }

    #[test]
    fn rejects_what_cannot_work() {
        for bad in [
            &["--storage", "gcs"][..],
            &["--bogus"],
            &["--url"],
            &["--only", "pull,upload"],
            &["--require", "teleport"],
            &["--namespace", "Upper/Case"],
            &["--namespace", "a//b"],
            &["--auth", "kerberos"],
            &["--url", "http://h", "--auth", "basic"],
            &["--url", "http://h", "--tls"],
            &["--username", "alice", "--password", "pw"],
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?} parsed");
        }
    }
}
