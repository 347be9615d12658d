//! The command line of `cargo xtask chaos`.

use std::path::PathBuf;
use std::time::Duration;

use crate::conformance::server::Backend;
use crate::error::XtaskError;

/// The usage text.
pub const USAGE: &str = "\
usage: cargo xtask chaos [--seed N] [--histories N] [--ops N] [--clients N] [--storage fs|s3]
                         [--instances N] [--kill] [--grace SECS] [--liveness-refresh SECS]
                         [--registry-bin PATH] [--release] [--no-shrink]

Runs randomized concurrent histories against oci-registry while `oci-registry gc` sweeps in a
loop, then checks that nothing acknowledged was lost. Prints
`chaos: N histories, M operations, K violations`; on a violation, the seed and the shortest
failing history found by re-running the seed with fewer operations and clients.

  --seed N              seed of the first history (default: from the clock); history i uses N+i
  --histories N         histories to run (default 2)
  --ops N               operations per history, shared out among the clients (default 240)
  --clients N           concurrent clients (default 4)
  --storage fs|s3       a temporary folder (default), or a bucket on a moto_server
  --instances N         registry instances on the one store (default 1)
  --kill                kill -9 and restart an instance at random moments
  --grace SECS          the collector's grace period, whole seconds (default 2s)
  --liveness-refresh SECS  the servers' liveness refresh interval (default 0s), passed as
                        OCI_REGISTRY_LIVENESS_REFRESH
  --registry-bin PATH   run this oci-registry instead of building the workspace's
  --release             build oci-registry in release mode (default: debug)
  --no-shrink           on a violation, do not look for a shorter failing history
";

/// Options of `cargo xtask chaos`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The first history's seed.
    pub seed: u64,
    /// How many histories.
    pub histories: usize,
    /// Operations per history.
    pub ops: usize,
    /// Clients per history.
    pub clients: usize,
    /// The store.
    pub storage: Backend,
    /// Instances per history.
    pub instances: usize,
    /// Whether to kill and restart instances.
    pub kill: bool,
    /// The collector's grace period.
    pub grace: Duration,
    /// The servers' liveness refresh interval.
    pub refresh: Duration,
    /// A binary to run instead of building one.
    pub registry_bin: Option<PathBuf>,
    /// Build in release mode.
    pub release: bool,
    /// Look for a shorter failing history.
    pub shrink: bool,
}

impl Options {
    /// Parses the arguments after `chaos`; the seed defaults to one from the clock.
    pub fn parse(args: &[String]) -> Result<Options, XtaskError> {
        let usage = |problem: String| XtaskError::Usage(format!("{problem}\n{USAGE}"));
        let mut options = Options {
            seed: seed_from_clock(),
            histories: 2,
            ops: 240,
            clients: 4,
            storage: Backend::Filesystem,
            instances: 1,
            kill: false,
            grace: Duration::from_secs(2),
            refresh: Duration::ZERO,
            registry_bin: None,
            release: false,
            shrink: true,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| usage(format!("{arg} needs a value")))
            };
            let number = |text: String| {
                text.parse::<u64>()
                    .map_err(|_| usage(format!("{arg}: {text:?} is not a number")))
            };
            match arg.as_str() {
                "--seed" => options.seed = number(value()?)?,
                "--histories" => options.histories = number(value()?)? as usize,
                "--ops" => options.ops = number(value()?)? as usize,
                "--clients" => options.clients = number(value()?)?.max(1) as usize,
                "--instances" => options.instances = number(value()?)?.max(1) as usize,
                "--storage" => {
                    options.storage = match value()?.as_str() {
                        "fs" => Backend::Filesystem,
                        "s3" => Backend::S3,
                        other => return Err(usage(format!("unsupported --storage {other:?}"))),
                    }
                }
                "--kill" => options.kill = true,
                "--grace" => options.grace = seconds(&value()?).ok_or_else(|| usage(bad(arg)))?,
                "--liveness-refresh" => {
                    options.refresh = seconds(&value()?).ok_or_else(|| usage(bad(arg)))?;
                }
                "--registry-bin" => options.registry_bin = Some(PathBuf::from(value()?)),
                "--release" => options.release = true,
                "--no-shrink" => options.shrink = false,
                "-h" | "--help" => return Err(XtaskError::Usage(USAGE.to_string())),
                other => return Err(usage(format!("unexpected argument {other:?}"))),
            }
        }
        Ok(options)
    }
}

fn bad(arg: &str) -> String {
    format!("{arg} takes whole seconds, such as 2s")
}

/// `2s` or `2`: whole seconds, the unit both the collector and the server accept.
fn seconds(text: &str) -> Option<Duration> {
    let digits = text.strip_suffix('s').unwrap_or(text);
    digits.parse().ok().map(Duration::from_secs)
}

fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() ^ u64::from(elapsed.subsec_nanos()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_every_option() {
        let options = Options::parse(&args(
            "--seed 42 --histories 3 --ops 100 --clients 2 --storage s3 --instances 2 --kill \
             --grace 3s --liveness-refresh 1 --registry-bin /bin/oci-registry --release \
             --no-shrink",
        ))
        .unwrap();
        assert_eq!(
            options,
            Options {
                seed: 42,
                histories: 3,
                ops: 100,
                clients: 2,
                storage: Backend::S3,
                instances: 2,
                kill: true,
                grace: Duration::from_secs(3),
                refresh: Duration::from_secs(1),
                registry_bin: Some(PathBuf::from("/bin/oci-registry")),
                release: true,
                shrink: false,
            }
        );
    }

    #[test]
    fn rejects_bad_values_and_unknown_arguments() {
        for bad in [
            "--storage gcs",
            "--ops many",
            "--grace 500ms",
            "--seed",
            "--bogus",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
