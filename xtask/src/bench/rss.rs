//! A server's peak resident memory, from the kernel's own high-water mark.
//!
//! Linux keeps the peak resident set size of every process as `VmHWM` in `/proc/<pid>/status`, so
//! no sampling is needed: reading it after a phase gives the true peak of that phase. Writing `5`
//! to `/proc/<pid>/clear_refs` resets the mark to the current size, which lets one server process
//! report separate peaks for consecutive phases.

use super::error::BenchError;

const KIB_PER_MIB: f64 = 1024.0;

/// The peak resident set size of process `pid`, in MiB.
pub fn peak_rss_mib(pid: u32) -> Result<f64, BenchError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = parse_vm_hwm_kib(&status).ok_or(BenchError::NoPeakRss { pid })?;
    Ok(kib as f64 / KIB_PER_MIB)
}

/// Resets the peak of process `pid` to its current resident size.
pub fn reset_peak_rss(pid: u32) -> Result<(), BenchError> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    Ok(())
}

/// The value of the `VmHWM:` line of a `/proc/<pid>/status` text, in KiB.
pub fn parse_vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?;
    let mut fields = line.split_whitespace();
    let value = fields.next()?.parse().ok()?;
    // The kernel has always written kB; anything else is not a file we understand.
    (fields.next() == Some("kB")).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark_in_kib() {
        let status =
            "Name:\toci-registry\nVmPeak:\t  123456 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_vm_hwm_kib(status), Some(20480));
    }

    #[test]
    fn refuses_missing_or_malformed_lines() {
        assert_eq!(parse_vm_hwm_kib("Name:\tx\nVmRSS:\t 1 kB\n"), None);
        assert_eq!(parse_vm_hwm_kib("VmHWM:\tmany kB\n"), None);
        assert_eq!(parse_vm_hwm_kib("VmHWM:\t12 MB\n"), None);
        assert_eq!(parse_vm_hwm_kib("VmHWM:\n"), None);
    }

    #[test]
    fn reads_and_resets_our_own_peak() {
        let pid = std::process::id();
        reset_peak_rss(pid).unwrap();
        let peak = peak_rss_mib(pid).unwrap();
        assert!(peak > 0.0, "a running test has resident memory");
    }
}
