//! What a benchmark measures: named metrics with a unit and a target, and single measurements.

/// The unit of a metric, which also says whether more is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Throughput in MiB per second; more is better.
    MibPerSecond,
    /// Requests per second; more is better.
    RequestsPerSecond,
    /// Memory in MiB; less is better.
    Mib,
    /// CPU seconds per GiB moved; less is better.
    CpuSecondsPerGib,
}

impl Unit {
    /// How the unit is written in the table.
    pub fn label(self) -> &'static str {
        match self {
            Unit::MibPerSecond => "MiB/s",
            Unit::RequestsPerSecond => "req/s",
            Unit::Mib => "MiB",
            Unit::CpuSecondsPerGib => "CPU s/GiB",
        }
    }
}

/// The goal a metric is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Ours divided by the peer's must be at least this.
    TimesPeer(f64),
    /// Ours must stay under this many MiB, whatever the peer does.
    BelowMib(f64),
    /// Ours must be at most this many CPU seconds per GiB, whatever the peer does.
    AtMostCpuSeconds(f64),
    /// No goal: the row explains another one (say, how much a client-side cost narrows a
    /// difference between the servers).
    Informational,
}

impl Target {
    /// Whether `ours` (and the ratio ours/peer, when there is one) meets the target; `None` when
    /// there is not enough data to judge.
    pub fn met(self, ours: f64, ratio: Option<f64>) -> Option<bool> {
        match self {
            Target::TimesPeer(times) => ratio.map(|ratio| ratio >= times),
            Target::BelowMib(limit) => Some(ours < limit),
            Target::AtMostCpuSeconds(limit) => Some(ours <= limit),
            Target::Informational => None,
        }
    }

    /// How the target is written in the table.
    pub fn label(self) -> String {
        match self {
            Target::TimesPeer(times) => format!(">= {times}x peer"),
            Target::BelowMib(limit) => format!("< {limit} MiB"),
            Target::AtMostCpuSeconds(limit) => format!("<= {limit} s/GiB"),
            Target::Informational => "(information)".to_string(),
        }
    }
}

/// A named quantity compared between the two servers.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The row's name, e.g. `blob push, 1024 MiB`.
    pub name: String,
    /// Its unit.
    pub unit: Unit,
    /// Its goal.
    pub target: Target,
}

/// The peak-RSS goal every server-memory row is held to.
pub const RSS_TARGET: Target = Target::BelowMib(64.0);

impl Metric {
    /// A throughput metric in MiB/s with the ">= 2x" goal.
    pub fn throughput(name: String) -> Metric {
        Metric {
            name,
            unit: Unit::MibPerSecond,
            target: Target::TimesPeer(2.0),
        }
    }

    /// A throughput metric in MiB/s that is shown but held to no goal.
    pub fn throughput_for_information(name: String) -> Metric {
        Metric {
            name,
            unit: Unit::MibPerSecond,
            target: Target::Informational,
        }
    }

    /// The server's CPU seconds (user and system) per GiB moved in the phase called `phase`.
    pub fn cpu_per_gib(phase: &str, target: Target) -> Metric {
        Metric {
            name: format!("{phase}: server CPU per GiB"),
            unit: Unit::CpuSecondsPerGib,
            target,
        }
    }

    /// The CPU seconds of server and client together per GiB moved in the phase called
    /// `phase`, shown but held to no goal.
    pub fn total_cpu_per_gib(phase: &str) -> Metric {
        Metric {
            name: format!("{phase}: server and client CPU per GiB"),
            unit: Unit::CpuSecondsPerGib,
            target: Target::Informational,
        }
    }

    /// The server's peak RSS during the phase called `phase`.
    pub fn peak_rss(phase: &str) -> Metric {
        Metric {
            name: format!("{phase}: server peak RSS"),
            unit: Unit::Mib,
            target: RSS_TARGET,
        }
    }
}

/// One value of one metric from one run against one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// What was measured.
    pub metric: Metric,
    /// The value, in the metric's unit.
    pub value: f64,
}

/// MiB per second for `bytes` moved in `elapsed`.
pub fn mib_per_second(bytes: u64, elapsed: std::time::Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn targets_judge_ratio_or_absolute_value() {
        assert_eq!(Target::TimesPeer(2.0).met(100.0, Some(2.0)), Some(true));
        assert_eq!(Target::TimesPeer(2.0).met(100.0, Some(1.9)), Some(false));
        assert_eq!(Target::TimesPeer(2.0).met(100.0, None), None);
        assert_eq!(Target::BelowMib(64.0).met(63.9, Some(9.0)), Some(true));
        assert_eq!(Target::BelowMib(64.0).met(64.0, None), Some(false));
        assert_eq!(
            Target::AtMostCpuSeconds(1.2).met(1.2, Some(9.0)),
            Some(true)
        );
        assert_eq!(
            Target::AtMostCpuSeconds(1.2).met(1.3, Some(0.1)),
            Some(false)
        );
        assert_eq!(Target::Informational.met(100.0, Some(0.5)), None);
    }

    #[test]
    fn throughput_is_mib_per_second() {
        let rate = mib_per_second(512 * 1024 * 1024, Duration::from_secs(2));
        assert!((rate - 256.0).abs() < 1e-9);
    }
}
