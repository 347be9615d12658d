//! A description of the machine and peers, recorded with the numbers they produced.

use std::process::Command;

/// What the bench ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total RAM in GiB.
    pub ram_gib: Option<f64>,
    /// Kernel release.
    pub kernel: String,
}

impl Machine {
    /// Reads `/proc`; any part that cannot be read shows as `unknown`.
    pub fn describe() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        Machine {
            cpu: cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown".to_string()),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            ram_gib: mem_total_kib(&read("/proc/meminfo"))
                .map(|kib| kib as f64 / (1024.0 * 1024.0)),
            kernel: non_empty(read("/proc/sys/kernel/osrelease").trim()),
        }
    }

    /// A Markdown list item per property.
    pub fn to_markdown(&self) -> String {
        let ram = self
            .ram_gib
            .map_or_else(|| "unknown".to_string(), |gib| format!("{gib:.1} GiB"));
        format!(
            "- CPU: {} ({} cores)\n- RAM: {ram}\n- Kernel: Linux {}\n",
            self.cpu, self.cores, self.kernel
        )
    }
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    parse_load_average(&text).unwrap_or_else(|| "unknown".to_string())
}

/// The first line a program prints for `--version`, or `not found`.
pub fn version_of(program: &str) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(|line| line.trim().to_string())
        })
        .unwrap_or_else(|| "not found".to_string())
}

/// The filesystem that holds `path`, as `<type> on <device>` (only the type when the device
/// is named after it, as tmpfs is), from `/proc/mounts`; `unknown` when it cannot be told.
pub fn filesystem_of(path: &std::path::Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    mount_holding(&mounts, &path).unwrap_or_else(|| "unknown".to_string())
}

/// The `/proc/mounts` entry with the longest mount point that contains `path`.
fn mount_holding(mounts: &str, path: &std::path::Path) -> Option<String> {
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let device = fields.next()?;
            let mount_point = fields.next()?;
            let kind = fields.next()?;
            let described = match device == kind {
                true => kind.to_string(),
                false => format!("{kind} on {device}"),
            };
            path.starts_with(mount_point)
                .then_some((mount_point.len(), described))
        })
        .max_by_key(|(length, _)| *length)
        .map(|(_, described)| described)
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
        .filter(|model| !model.is_empty())
}

fn mem_total_kib(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?;
    line.split_whitespace().next()?.parse().ok()
}

fn parse_load_average(loadavg: &str) -> Option<String> {
    let fields: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

fn non_empty(text: &str) -> String {
    if text.is_empty() {
        "unknown".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_model_memory_and_load() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor\t: 0\n"), None);
        assert_eq!(
            mem_total_kib("MemTotal:       24684000 kB\nMemFree: 1 kB\n"),
            Some(24_684_000)
        );
        assert_eq!(mem_total_kib("MemFree: 1 kB\n"), None);
        assert_eq!(
            parse_load_average("2.34 2.20 1.72 3/456 7890\n").as_deref(),
            Some("2.34 2.20 1.72")
        );
        assert_eq!(parse_load_average("2.34\n"), None);
    }

    #[test]
    fn finds_the_innermost_mount_holding_a_path() {
        let mounts = "/dev/vda / ext4 rw,relatime 0 0\n\
                      tmpfs /dev/shm tmpfs rw,nosuid 0 0\n\
                      proc /proc proc rw 0 0\n";
        let holding = |path: &str| mount_holding(mounts, std::path::Path::new(path));
        assert_eq!(holding("/dev/shm/store").as_deref(), Some("tmpfs"));
        assert_eq!(holding("/tmp/store").as_deref(), Some("ext4 on /dev/vda"));
        // A mount point is a whole path component, not a string prefix.
        assert_eq!(holding("/dev/shmem").as_deref(), Some("ext4 on /dev/vda"));
    }

    #[test]
    fn renders_every_property() {
        let machine = Machine {
            cpu: "AMD EPYC".to_string(),
            cores: 2,
            ram_gib: Some(23.5),
            kernel: "6.1.0".to_string(),
        };
        assert_eq!(
            machine.to_markdown(),
            "- CPU: AMD EPYC (2 cores)\n- RAM: 23.5 GiB\n- Kernel: Linux 6.1.0\n"
        );
    }
}
