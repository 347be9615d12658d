//! Where the scheduler puts the server and the pulling client: on this two-CPU machine it
//! decides a loopback pull's rate as much as the server does.
//!
//! On loopback the kernel runs the receiving side's TCP work in the sender's context, so a
//! server and its client trade work every few segments. On one CPU they take turns; on two,
//! each waits for the other to wake up. A way of sending can win in one placement and lose
//! in the other: measured here, `oci-registry` without `TCP_CORK` pulled twice as fast as
//! corked on one CPU and half as fast on two. The free pull of [`super::blob`] lets the
//! scheduler choose, and runs that chose differently disagree; this pins both ends
//! (`sched_setaffinity`) to each placement in turn and reports the rate and the CPU of server
//! and client together, so the two regimes are measured apart. Elsewhere than on Linux no placement is made, and the rows are left
//! out.

#[cfg(target_os = "linux")]
use rustix::thread::{CpuSet, Pid, sched_getaffinity, sched_setaffinity};

use super::error::BenchError;

/// Where the server's threads and the client's receiving thread run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Both on the first CPU this process may use.
    OneCpu,
    /// The server on the first CPU this process may use, the client on the second.
    TwoCpus,
}

/// A placement with its CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    /// Which placement.
    pub placement: Placement,
    /// The CPU of every thread of the server.
    pub server_cpu: usize,
    /// The CPU of the client's receiving thread.
    pub client_cpu: usize,
}

impl Placement {
    /// The placements this machine can make: both when this process may use two CPUs or
    /// more.
    #[cfg(target_os = "linux")]
    pub fn available() -> Result<Vec<Pinned>, BenchError> {
        let allowed = sched_getaffinity(None).map_err(std::io::Error::from)?;
        let mut cpus = (0..CpuSet::MAX_CPU).filter(|&cpu| allowed.is_set(cpu));
        let pinned = |placement, server_cpu, client_cpu| Pinned {
            placement,
            server_cpu,
            client_cpu,
        };
        Ok(match (cpus.next(), cpus.next()) {
            (None, _) => Vec::new(),
            (Some(only), None) => vec![pinned(Placement::OneCpu, only, only)],
            (Some(first), Some(second)) => vec![
                pinned(Placement::OneCpu, first, first),
                pinned(Placement::TwoCpus, first, second),
            ],
        })
    }

    /// None: pinning is Linux's.
    #[cfg(not(target_os = "linux"))]
    pub fn available() -> Result<Vec<Pinned>, BenchError> {
        Ok(Vec::new())
    }

    /// The row names' words for it.
    pub fn label(self) -> &'static str {
        match self {
            Placement::OneCpu => "server and client pinned to one CPU",
            Placement::TwoCpus => "server and client pinned to two CPUs",
        }
    }
}

/// Pins every thread process `pid` has now to `cpu`; threads it starts later inherit the
/// affinity of the thread that starts them.
#[cfg(target_os = "linux")]
pub fn pin_process(pid: u32, cpu: usize) -> Result<(), BenchError> {
    let only = only(cpu);
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let tid = task?.file_name();
        let Some(tid) = tid.to_str().and_then(|tid| tid.parse().ok()) else {
            continue;
        };
        match sched_setaffinity(Pid::from_raw(tid), &only) {
            Ok(()) => {}
            // A thread that ended since the listing needs no pinning.
            Err(rustix::io::Errno::SRCH) => {}
            Err(error) => return Err(std::io::Error::from(error).into()),
        }
    }
    Ok(())
}

/// Runs `work` on the calling thread pinned to `cpu`, then gives the thread back the CPUs it
/// had (it may be a pool's, reused for other work).
#[cfg(target_os = "linux")]
pub fn on_cpu<T>(cpu: usize, work: impl FnOnce() -> T) -> Result<T, BenchError> {
    let had = sched_getaffinity(None).map_err(std::io::Error::from)?;
    sched_setaffinity(None, &only(cpu)).map_err(std::io::Error::from)?;
    let done = work();
    sched_setaffinity(None, &had).map_err(std::io::Error::from)?;
    Ok(done)
}

/// Elsewhere than on Linux, where [`Placement::available`] offers no placement to pin to.
#[cfg(not(target_os = "linux"))]
pub fn pin_process(_pid: u32, _cpu: usize) -> Result<(), BenchError> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported).into())
}

/// Elsewhere than on Linux, where [`Placement::available`] offers no placement to pin to.
#[cfg(not(target_os = "linux"))]
pub fn on_cpu<T>(_cpu: usize, _work: impl FnOnce() -> T) -> Result<T, BenchError> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported).into())
}

#[cfg(target_os = "linux")]
fn only(cpu: usize) -> CpuSet {
    let mut set = CpuSet::new();
    set.set(cpu);
    set
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_where_it_was_put_and_gets_its_cpus_back() {
        let cpu = Placement::available().unwrap()[0].server_cpu;
        let before = sched_getaffinity(None).unwrap().count();
        let inside = on_cpu(cpu, || sched_getaffinity(None).unwrap()).unwrap();
        assert!(inside.is_set(cpu));
        assert_eq!(inside.count(), 1);
        assert_eq!(sched_getaffinity(None).unwrap().count(), before);
    }

    #[test]
    fn pinning_a_process_pins_each_of_its_threads() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let cpu = Placement::available().unwrap()[0].server_cpu;
        pin_process(child.id(), cpu).unwrap();
        let pid = Pid::from_raw(child.id() as i32).unwrap();
        let set = sched_getaffinity(Some(pid)).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(set.is_set(cpu));
        assert_eq!(set.count(), 1);
    }

    #[test]
    fn two_placements_differ_in_the_client_cpu_only() {
        let placements = Placement::available().unwrap();
        let one = placements[0];
        assert_eq!(one.placement, Placement::OneCpu);
        assert_eq!(one.server_cpu, one.client_cpu);
        if let Some(two) = placements.get(1) {
            assert_eq!(two.placement, Placement::TwoCpus);
            assert_eq!(two.server_cpu, one.server_cpu);
            assert_ne!(two.client_cpu, two.server_cpu);
        }
    }
}
