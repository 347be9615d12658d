//! A server's CPU time, from the kernel's per-process accounting.
//!
//! Fields 14 and 15 of `/proc/<pid>/stat` are the user and system time of every thread of the
//! process, living or ended, in clock ticks. Reading them before and after a phase gives the CPU
//! seconds the server spent on it, whatever its threading; divided by the bytes moved, that is
//! the cost per GiB the tables show.

use super::error::BenchError;

/// Clock ticks per second in `/proc` (`USER_HZ`), fixed at 100 by Linux's user-space ABI.
const TICKS_PER_SECOND: f64 = 100.0;
const BYTES_PER_GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// User plus system CPU seconds process `pid` has used so far.
pub fn cpu_seconds(pid: u32) -> Result<f64, BenchError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_cpu_ticks(&stat).ok_or(BenchError::NoCpuTime { pid })?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// User plus system CPU seconds the calling thread has used so far.
pub fn thread_cpu_seconds() -> Result<f64, BenchError> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")?;
    let ticks = parse_cpu_ticks(&stat).ok_or(BenchError::NoCpuTime {
        pid: std::process::id(),
    })?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU seconds per GiB for `seconds` spent moving `bytes`.
pub fn seconds_per_gib(seconds: f64, bytes: u64) -> f64 {
    seconds / (bytes as f64 / BYTES_PER_GIB).max(f64::MIN_POSITIVE)
}

/// `utime + stime` from a `/proc/<pid>/stat` line, in clock ticks.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself,
    // so fields are counted from the last `)`: field 3 (state) is the first one after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_user_and_system_ticks_after_an_awkward_name() {
        let stat = "4242 (oci (reg) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    250 75 0 0 20 0 9 0 100 1000 200 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
    }

    #[test]
    fn refuses_truncated_or_malformed_lines() {
        assert_eq!(parse_cpu_ticks("4242 (x) S 1 2 3"), None);
        assert_eq!(parse_cpu_ticks("no name at all"), None);
        assert_eq!(
            parse_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 lots 2 0"),
            None
        );
    }

    #[test]
    fn our_own_cpu_time_grows_with_work() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).unwrap();
        let mut x = 0u64;
        // Far more than one 10 ms tick of work, whatever the build profile.
        for i in 0..200_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(cpu_seconds(pid).unwrap() > before, "{x}");
        assert!((seconds_per_gib(0.5, 512 * 1024 * 1024) - 1.0).abs() < 1e-9);
    }
}
