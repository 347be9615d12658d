//! The whole `BENCHMARKS.md` document: context first, then the numbers, then how they were taken.

use super::copy::CopyOutcome;
use super::floor::Step;
use super::machine::Machine;
use super::manifest_load::{CONCURRENCY, REQUESTS};
use super::table::Results;

/// The server benchmarks run with the stores in one folder.
#[derive(Debug)]
pub struct ServerTable {
    /// Where the stores were, and on what filesystem.
    pub store: String,
    /// The measurements.
    pub results: Results,
}

/// The bare receiver's costs with its files in one folder.
#[derive(Debug)]
pub struct FloorColumn {
    /// Where the files were, and on what filesystem.
    pub store: String,
    /// CPU seconds per GiB of each of [`Step::ALL`], in that order.
    pub seconds_per_gib: Vec<f64>,
}

/// Everything the document says.
#[derive(Debug)]
pub struct Report {
    /// The command line that produced it.
    pub command: String,
    /// How many runs each median is taken over.
    pub runs: usize,
    /// The machine.
    pub machine: Machine,
    /// Load averages before the first measurement and after the last.
    pub load_at_start: String,
    /// See `load_at_start`.
    pub load_at_end: String,
    /// `--version` lines of the peers.
    pub peer_versions: Vec<String>,
    /// The server benchmarks, one table per store folder; empty when none ran.
    pub servers: Vec<ServerTable>,
    /// The floor under a push, one column per store folder; empty when it did not run.
    pub floors: Vec<FloorColumn>,
    /// The copy benchmark, when it was asked for.
    pub copy: Option<CopyOutcome>,
}

impl Report {
    /// The Markdown document.
    pub fn to_markdown(&self) -> String {
        let mut document = format!(
            "# Benchmarks\n\n\
             Produced by `{command}` on the machine below; medians of {runs} run(s). The client \
             and the servers share the machine, so compare the two columns of one file, not \
             numbers across files.\n\n\
             ## Machine\n\n{machine}\
             - Load average (1, 5, 15 min) at start: {start}; at end: {end}\n\
             - Peers: {peers}\n\n",
            command = self.command,
            runs = self.runs,
            machine = self.machine.to_markdown(),
            start = self.load_at_start,
            end = self.load_at_end,
            peers = self.peer_versions.join("; "),
        );
        for table in &self.servers {
            let olareg = table.results.has_other().then_some("olareg");
            document.push_str(&format!(
                "## Servers: oci-registry vs distribution{}, stores in {}\n\n\
                 `oci-registry` is this workspace's server (release build); `distribution` is \
                 Debian's `docker-registry`{}. Ratios are ours/distribution: above 1 is better \
                 for throughput and request rates, below 1 is better for memory and CPU.\n\n",
                olareg.map_or("", |_| " and olareg"),
                table.store,
                olareg.map_or(
                    "",
                    |_| "; `olareg` is regclient's server, shown for comparison"
                ),
            ));
            document.push_str(
                &table
                    .results
                    .to_markdown("oci-registry", "distribution", olareg),
            );
            document.push('\n');
        }
        if !self.servers.is_empty() {
            document.push_str(&method());
        }
        if !self.floors.is_empty() {
            document.push_str(&floor_table(&self.floors));
        }
        if let Some(copy) = &self.copy {
            document.push_str(&copy.to_markdown());
        }
        document
    }
}

/// The floor's section: one row per step, one column per store folder.
fn floor_table(columns: &[FloorColumn]) -> String {
    let mut table = String::from(
        "## The floor under a push: a bare receiver, no HTTP\n\n\
         CPU seconds per GiB of one thread that receives a blob over loopback TCP in 256 KiB \
         reads and does the row's work with it, files in the column's folder, one `fdatasync` \
         at the end (`cargo xtask bench --only floor`). A server's push CPU per GiB above \
         can be read against the last row: the difference is what the server adds.\n\n\
         | step |",
    );
    for column in columns {
        table.push_str(&format!(" {} |", column.store));
    }
    table.push_str("\n|---|");
    table.push_str(&"---:|".repeat(columns.len()));
    table.push('\n');
    for (row, step) in Step::ALL.iter().enumerate() {
        table.push_str(&format!("| {} |", step.label()));
        for column in columns {
            match column.seconds_per_gib.get(row) {
                Some(seconds) => table.push_str(&format!(" {seconds:.2} |")),
                None => table.push_str(" |"),
            }
        }
        table.push('\n');
    }
    table.push('\n');
    table
}

fn method() -> String {
    format!(
        "How:\n\n\
         - Every benchmark of every run starts a fresh server with an empty store in a temporary \
           directory; which server goes first alternates between runs.\n\
         - Request logging is off on both (`RUST_LOG=warn`; distribution's `log.level: warn` \
           and access log disabled); otherwise distribution runs the minimal filesystem \
           configuration.\n\
         - The client is this xtask (reqwest, HTTP/1.1 over 127.0.0.1). It generates blob bytes \
           on the fly and hashes them (SHA-256) as they are sent, and as they are received in \
           the verifying pull, never holding a blob in memory; that work shares the CPU with \
           the server.\n\
         - Blob push: POST, one streamed PATCH of the whole blob, PUT with the digest.\n\
         - Blob pull (the server's rate): one GET over a bare socket (`Connection: close`); the \
           client checks the status is 200, reads the head, then has the kernel discard exactly \
           `Content-Length` body bytes with `recv(MSG_TRUNC)` (Linux TCP drops them without \
           copying), and checks the count and that the stream ends there. Why not an ordinary \
           client: on 2 shared cores every byte the client copies is CPU taken from the \
           servers; this one takes as little as a client can. Nothing real pulls this way. On \
           loopback the kernel's TCP path, which every server pays whether it sends with \
           `sendfile` or copies, still sets most of the rate, and so does where the \
           scheduler puts the two processes (it may choose differently from run to run). \
           oci-registry's `sendfile` into a same-host client's socket, whose send buffer it \
           caps, meets this client's discarding `recv`: no byte is copied at either end, so \
           its rate there is several times the copying servers'. A client that copies sees \
           much less of that gain: `curl` writing a tmpfs file went from about 1,050 to \
           1,200-1,450 MiB/s with the cap.\n\
         - Blob pull, pinned to one CPU and to two: the same counting pull, last, with every \
           thread of the server and the client's receiving thread pinned \
           (`sched_setaffinity`) to one CPU, then to one CPU each. On one CPU the two take \
           turns; on two, each waits for the other to wake. How a server sends (corked or \
           not, `sendfile` or copies) can win in one placement and lose in the other, so \
           each is measured apart. The CPU row of each adds the server's and the client's, \
           which is what the machine paid.\n\
         - Blob pull, client verifies the digest: a second GET with size and digest checked as \
           the bytes arrive (reqwest), which is what a verifying client sees: its SHA-256 \
           competes with the server for the 2 cores and caps all servers alike, so that row has \
           no target.\n\
         - Manifest GET: {CONCURRENCY} tokio tasks share {REQUESTS} GETs of one OCI manifest by \
           tag over keep-alive connections, after an untimed warm-up.\n\
         - Chunked upload: PATCHes with `Content-Range`, then a PUT with the digest.\n\
         - Server CPU per GiB: user plus system time of the server process (all its threads, \
           `/proc/<pid>/stat`, 10 ms ticks) read before and after the push and the counting \
           pull, divided by the GiB moved.\n\
         - Server peak RSS: the kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`), reset \
           through `/proc/<pid>/clear_refs` before each phase.\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_machine_servers_and_copy_sections() {
        let report = Report {
            command: "cargo xtask bench --runs 1".to_string(),
            runs: 1,
            machine: Machine {
                cpu: "AMD EPYC".to_string(),
                cores: 2,
                ram_gib: None,
                kernel: "6.1.0".to_string(),
            },
            load_at_start: "1.00 0.50 0.25".to_string(),
            load_at_end: "2.00 1.00 0.50".to_string(),
            peer_versions: vec!["skopeo version 1.9.3".to_string()],
            servers: vec![ServerTable {
                store: "/dev/shm (tmpfs)".to_string(),
                results: Results::default(),
            }],
            floors: vec![FloorColumn {
                store: "/tmp (ext4)".to_string(),
                seconds_per_gib: vec![0.3, 0.9, 0.75, 1.35],
            }],
            copy: Some(CopyOutcome::NoTable),
        };
        let document = report.to_markdown();
        for expected in [
            "`cargo xtask bench --runs 1`",
            "at start: 1.00 0.50 0.25; at end: 2.00 1.00 0.50",
            "- Peers: skopeo version 1.9.3",
            "## Servers: oci-registry vs distribution, stores in /dev/shm (tmpfs)",
            "| benchmark | unit | oci-registry | distribution |",
            "## Copy (oci-copy vs regctl and skopeo)",
            "| step | /tmp (ext4) |",
            "| receive, SHA-256, write, fdatasync (the push floor) | 1.35 |",
        ] {
            assert!(
                document.contains(expected),
                "{expected} missing from {document}"
            );
        }
    }
}
