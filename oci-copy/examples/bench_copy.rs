//! Benchmark: oci-copy against `regctl image copy` and `skopeo copy --all`, registry to
//! registry.
//!
//! Generates a two-platform image (20 layers of 10 MiB per platform, 400 MiB of
//! incompressible content), pushes it to a local `oci-registry`, then copies it to fresh
//! `oci-registry` instances with the `oci-copy` binary, with regctl (regclient's command line,
//! `../shared/peers/regctl` or `REGCTL`, when present) and with skopeo (when installed): cold
//! (the destination is empty) and again warm (nothing to do). Prints a Markdown table of wall
//! times (medians of 5, cold runs each into a fresh registry), ratios and peak RSS (from GNU
//! time, when installed). Registry stores live in `/dev/shm` unless `BENCH_STORE` names
//! another folder.
//!
//! ```text
//! cargo build --release -p oci-server-core -p oci-copy
//! cargo run --release -p oci-copy --example bench_copy [-- LAYERS_PER_PLATFORM LAYER_MIB]
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use oci_copy::end::{BlobStream, RegistryEnd, RegistryOptions, Selector, Source};
use oci_copy::{CopyOptions, ExecuteOptions, ImagePair};
use oci_digest::Digester;
use oci_distribution_client::{Client, ClientConfig, Repository};
use oci_spec_types::{
    Descriptor, Digest, ImageIndex, ImageManifest, Manifest, MediaType, Platform,
};

const CHUNK: usize = 256 * 1024;
/// Runs per tool and temperature; the table shows medians.
const RUNS: usize = 5;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<usize>());
    let layers = args.next().transpose()?.unwrap_or(20);
    let layer_mib = args.next().transpose()?.unwrap_or(10);
    let bin = binaries_dir()?;
    let registry = bin.join("oci-registry");
    let source = RegistryProcess::start(&registry)?;
    let image = Generated::new(layers, layer_mib * 1024 * 1024);
    let total_mib = image.total_bytes() as f64 / (1024.0 * 1024.0);
    eprintln!(
        "pushing the generated image ({total_mib:.0} MiB) to {}",
        source.host
    );
    push(&image, &source.host).await?;
    let from = format!("{}/bench/app:v1", source.host);

    let oci_copy = bin.join("oci-copy");
    // Told that both registries speak plain HTTP, as regctl is below (without it, loopback
    // registries are probed with a plain `GET /v2/` each run).
    let ours = cold_and_warm(&registry, &|_| Ok(()), &|to| {
        let mut command = Command::new(&oci_copy);
        command.args(["copy", "--plain-http", &source.host, "--plain-http", to]);
        command.args([&from, &format!("{to}/bench/app:v1")]);
        command
    })?;

    let regctl = regctl_binary();
    // regctl keeps per-host settings (plain HTTP here) in $HOME/.regctl: a home of its own.
    let regctl_home = tempfile::tempdir()?;
    let regctl_command = |args: &[&str]| {
        let mut command = Command::new(regctl.as_deref().unwrap_or(Path::new("regctl")));
        command.env("HOME", regctl_home.path()).args(args);
        command
    };
    let plain_http = |host: &str| {
        let status = regctl_command(&["registry", "set", host, "--tls", "disabled"])
            .stdout(Stdio::null())
            .status()?;
        match status.success() {
            true => Ok(()),
            false => Err(std::io::Error::other("regctl registry set failed")),
        }
    };
    let regctl_rows = match &regctl {
        Some(_) => {
            plain_http(&source.host)?;
            Some(cold_and_warm(&registry, &plain_http, &|to| {
                regctl_command(&["image", "copy", &from, &format!("{to}/bench/app:v1")])
            })?)
        }
        None => None,
    };

    let skopeo_rows = if Command::new("skopeo").arg("--version").output().is_ok() {
        let from = format!("docker://{from}");
        Some(cold_and_warm(&registry, &|_| Ok(()), &|to| {
            let mut command = Command::new("skopeo");
            command.args([
                "copy",
                "--all",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                &from,
                &format!("docker://{to}/bench/app:v1"),
            ]);
            command
        })?)
    } else {
        None
    };

    let plural = if layers == 1 { "" } else { "s" };
    println!(
        "Copy of a 2-platform image, {layers} layer{plural} x {layer_mib} MiB per platform ({total_mib:.0} MiB), \
         oci-registry to oci-registry on 127.0.0.1, stores in {}; medians of {RUNS} runs, each \
         cold run into a fresh registry\n",
        store_parent().display()
    );
    println!("| tool | cold (s) | warm (s) | peak RSS cold (MiB) | peak RSS warm (MiB) |");
    println!("|---|---:|---:|---:|---:|");
    println!("{}", row("oci-copy", &ours));
    let peers = [
        ("regctl image copy", regctl_rows),
        ("skopeo copy --all", skopeo_rows),
    ];
    for (name, runs) in &peers {
        match runs {
            Some(runs) => println!("{}", row(name, runs)),
            None => println!("| {name} | not found | | | |"),
        }
    }
    for (name, runs) in &peers {
        if let Some((cold, warm)) = runs {
            let ratio =
                |theirs: &Run, ours: &Run| theirs.wall.as_secs_f64() / ours.wall.as_secs_f64();
            println!(
                "| **oci-copy's speed-up over {}** | **{:.1}x** | **{:.1}x** | | |",
                name.split(' ').next().unwrap_or(name),
                ratio(cold, &ours.0),
                ratio(warm, &ours.1)
            );
        }
    }
    Ok(())
}

/// regctl: `REGCTL` when set, else the static build in the workspace's shared peers folder.
fn regctl_binary() -> Option<PathBuf> {
    let path = match std::env::var_os("REGCTL") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/regctl"),
    };
    path.is_file().then_some(path)
}

/// One tool's cold and warm runs: `copy(host)` copies into the registry at `host`, which
/// `prepare(host)` readies first, untimed. Cold runs each copy into a fresh registry; warm
/// runs repeat the copy into the last one.
fn cold_and_warm(
    registry: &Path,
    prepare: &dyn Fn(&str) -> std::io::Result<()>,
    copy: &dyn Fn(&str) -> Command,
) -> std::io::Result<(Run, Run)> {
    let mut last = None;
    let cold = median_of(RUNS, || {
        let fresh = RegistryProcess::start(registry)?;
        prepare(&fresh.host)?;
        let run = timed(&mut copy(&fresh.host));
        last = Some(fresh);
        run
    })?;
    let to = last.as_ref().map_or("", |fresh| fresh.host.as_str());
    let warm = timed_short(RUNS, || copy(to))?;
    Ok((cold, warm))
}

/// One timed process run.
struct Run {
    wall: Duration,
    peak_rss_kib: Option<u64>,
}

fn row(name: &str, (cold, warm): &(Run, Run)) -> String {
    let rss = |run: &Run| {
        run.peak_rss_kib.map_or_else(
            || "-".to_owned(),
            |kib| format!("{:.0}", kib as f64 / 1024.0),
        )
    };
    format!(
        "| {name} | {:.2} | {:.3} | {} | {} |",
        cold.wall.as_secs_f64(),
        warm.wall.as_secs_f64(),
        rss(cold),
        rss(warm)
    )
}

/// The run of median wall time among `times` runs.
fn median_of(times: usize, mut run: impl FnMut() -> std::io::Result<Run>) -> std::io::Result<Run> {
    let mut runs = (0..times)
        .map(|_| run())
        .collect::<std::io::Result<Vec<Run>>>()?;
    runs.sort_by_key(|run| run.wall);
    let middle = runs.len() / 2;
    runs.into_iter()
        .nth(middle)
        .ok_or_else(|| std::io::Error::other("no run"))
}

/// Runs `command` under GNU time (when installed) for its peak RSS; fails on a non-zero
/// exit.
fn timed(command: &mut Command) -> std::io::Result<Run> {
    run(command, Path::new("/usr/bin/time").exists())
}

/// Times `command` run `times` times directly (no wrapper process to skew short runs) and
/// keeps the median run, then runs it once more under GNU time for its peak RSS.
fn timed_short(times: usize, mut command: impl FnMut() -> Command) -> std::io::Result<Run> {
    let median = median_of(times, || run(&mut command(), false))?;
    let peak_rss_kib = timed(&mut command())?.peak_rss_kib;
    Ok(Run {
        peak_rss_kib,
        ..median
    })
}

fn run(command: &mut Command, gnu_time: bool) -> std::io::Result<Run> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let mut wrapped = if gnu_time {
        let mut outer = Command::new("/usr/bin/time");
        outer
            .args(["-f", "%M", "-o"])
            .arg(rss_file.path())
            .arg(command.get_program())
            .args(command.get_args());
        outer
    } else {
        let mut same = Command::new(command.get_program());
        same.args(command.get_args());
        same
    };
    // The wrapper is a new command: carry over the settings given (regctl's HOME).
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let started = Instant::now();
    let output = wrapped
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let wall = started.elapsed();
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let peak_rss_kib = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|text| text.trim().parse().ok());
    Ok(Run { wall, peak_rss_kib })
}

/// The folder holding the release binaries (next to this example's own folder).
fn binaries_dir() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| std::io::Error::other("no binaries folder"))?
        .to_owned();
    for binary in ["oci-registry", "oci-copy"] {
        if !dir.join(binary).exists() {
            return Err(std::io::Error::other(format!(
                "{} is missing: run `cargo build --release -p oci-server-core -p oci-copy` first",
                dir.join(binary).display()
            )));
        }
    }
    Ok(dir)
}

/// An `oci-registry` on a free port over a temporary store; killed on drop.
struct RegistryProcess {
    child: Child,
    host: String,
    _root: tempfile::TempDir,
}

impl RegistryProcess {
    fn start(binary: &Path) -> std::io::Result<Self> {
        let root = tempfile::tempdir_in(store_parent())?;
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--root"])
            .arg(root.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let host = line
            .trim()
            .strip_prefix("oci-registry listening on http://")
            .unwrap_or_default()
            .to_owned();
        let process = RegistryProcess {
            child,
            host,
            _root: root,
        };
        if process.host.is_empty() {
            return Err(std::io::Error::other(format!(
                "unexpected first line {line:?}"
            )));
        }
        Ok(process)
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where registry stores go: `BENCH_STORE` when set, else `/dev/shm` when present (so
/// the disk's fsync speed, the same for both tools, does not drown the difference
/// between them), else the temporary folder.
fn store_parent() -> PathBuf {
    match std::env::var_os("BENCH_STORE") {
        Some(dir) => PathBuf::from(dir),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    }
}

/// Pushes the generated image to `host` with the library.
async fn push(image: &Generated, host: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(ClientConfig::default())?;
    let sink = RegistryEnd::new(
        client,
        Repository::new(host, "bench/app")?,
        RegistryOptions::default(),
    );
    let source: Arc<dyn Source> = Arc::new(image.clone());
    oci_copy::copy(
        source,
        Arc::new(sink),
        &[ImagePair::tag("v1")],
        &CopyOptions::default(),
        &ExecuteOptions::default(),
    )
    .await?;
    Ok(())
}

/// A two-platform image whose layers are generated on the fly, never held whole.
#[derive(Clone)]
struct Generated {
    manifests: Arc<Vec<(Descriptor, Bytes)>>,
    root: Descriptor,
    /// Layer descriptors with their seeds; configs are small and kept as bytes.
    layers: Arc<Vec<(Descriptor, u64)>>,
    configs: Arc<Vec<(Descriptor, Bytes)>>,
}

impl Generated {
    fn new(layers_per_platform: usize, layer_size: usize) -> Self {
        let mut manifests = Vec::new();
        let mut layers = Vec::new();
        let mut configs = Vec::new();
        let mut entries = Vec::new();
        for (index, platform) in ["linux/amd64", "linux/arm64"].iter().enumerate() {
            let platform: Platform = platform.parse().unwrap_or_default();
            let own: Vec<Descriptor> = (0..layers_per_platform)
                .map(|n| {
                    let seed = (index * 1000 + n) as u64 + 1;
                    let descriptor = Descriptor::new(
                        MediaType::OciLayerTar,
                        noise_digest(seed, layer_size),
                        layer_size as u64,
                    );
                    layers.push((descriptor.clone(), seed));
                    descriptor
                })
                .collect();
            let diff_ids: Vec<String> = own.iter().map(|layer| layer.digest.to_string()).collect();
            let config = serde_json::json!({
                "architecture": platform.architecture, "os": platform.os,
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            });
            let config = Bytes::from(config.to_string());
            let config_descriptor = Descriptor::new(
                MediaType::OciImageConfig,
                Digest::compute(&config),
                config.len() as u64,
            );
            configs.push((config_descriptor.clone(), config));
            if let Ok(manifest) = Manifest::from_image(ImageManifest::new(config_descriptor, own)) {
                let mut descriptor =
                    Descriptor::new(manifest.media_type(), manifest.digest(), manifest.size());
                manifests.push((descriptor.clone(), manifest.raw().clone()));
                descriptor.platform = Some(platform);
                entries.push(descriptor);
            }
        }
        let index = Manifest::from_index(ImageIndex::new(entries)).ok();
        let root = match &index {
            Some(index) => Descriptor::new(index.media_type(), index.digest(), index.size()),
            None => Descriptor::empty(),
        };
        if let Some(index) = index {
            manifests.push((root.clone(), index.raw().clone()));
        }
        Generated {
            manifests: Arc::new(manifests),
            root,
            layers: Arc::new(layers),
            configs: Arc::new(configs),
        }
    }

    fn total_bytes(&self) -> u64 {
        self.layers
            .iter()
            .map(|(descriptor, _)| descriptor.size)
            .sum()
    }
}

/// Chunk number `index` of the content of `seed` (xorshift64*), `len` bytes.
fn noise_chunk(seed: u64, index: u64, len: usize) -> Bytes {
    let mut state =
        (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03)) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

fn noise_chunks(seed: u64, size: usize) -> impl Iterator<Item = Bytes> {
    (0..size.div_ceil(CHUNK))
        .map(move |index| noise_chunk(seed, index as u64, CHUNK.min(size - index * CHUNK)))
}

fn noise_digest(seed: u64, size: usize) -> Digest {
    let mut digester = Digester::sha256();
    for chunk in noise_chunks(seed, size) {
        digester.update(&chunk);
    }
    digester.finish()
}

#[async_trait]
impl Source for Generated {
    fn describe(&self) -> String {
        "generated".into()
    }

    async fn resolve(&self, _selector: &Selector) -> oci_copy::Result<Descriptor> {
        Ok(self.root.clone())
    }

    async fn tags(&self) -> oci_copy::Result<Vec<String>> {
        Ok(vec!["v1".into()])
    }

    async fn manifest(&self, descriptor: &Descriptor) -> oci_copy::Result<Bytes> {
        self.manifests
            .iter()
            .find(|(own, _)| own.digest == descriptor.digest)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| oci_copy::Error::ContentNotFound {
                end: self.describe(),
                digest: descriptor.digest.clone(),
            })
    }

    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> oci_copy::Result<BlobStream> {
        if let Some((_, bytes)) = self
            .configs
            .iter()
            .find(|(own, _)| own.digest == descriptor.digest)
        {
            let bytes = bytes.slice(offset as usize..);
            return Ok(Box::pin(futures_util::stream::once(
                async move { Ok(bytes) },
            )));
        }
        let (own, seed) = self
            .layers
            .iter()
            .find(|(own, _)| own.digest == descriptor.digest)
            .ok_or_else(|| oci_copy::Error::ContentNotFound {
                end: self.describe(),
                digest: descriptor.digest.clone(),
            })?;
        let (seed, size) = (*seed, own.size as usize);
        let (skip, within) = ((offset as usize) / CHUNK, (offset as usize) % CHUNK);
        let chunks = noise_chunks(seed, size).skip(skip).enumerate();
        let tail =
            chunks.map(move |(n, chunk)| Ok(if n == 0 { chunk.slice(within..) } else { chunk }));
        Ok(Box::pin(futures_util::stream::iter(tail)))
    }

    async fn referrers(&self, _subject: &Descriptor) -> oci_copy::Result<Vec<Descriptor>> {
        Ok(Vec::new())
    }
}
