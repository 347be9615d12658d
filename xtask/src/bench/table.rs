//! Collecting measurements from several runs and rendering them as one Markdown table of medians.

use super::metric::{Measurement, Metric};

/// Which server a measurement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This workspace's `oci-registry`.
    Ours,
    /// The peer it is compared with, and held to the targets against.
    Peer,
    /// A second peer, shown beside the first for comparison (olareg).
    Other,
}

/// Every value of one metric, per side, in the order the runs produced them.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    metric: Metric,
    ours: Vec<f64>,
    peer: Vec<f64>,
    other: Vec<f64>,
}

/// The measurements of a whole bench, grouped into rows by metric name (first seen, first shown).
#[derive(Debug, Default)]
pub struct Results {
    rows: Vec<Row>,
}

impl Results {
    /// Adds the measurements of one benchmark run against one side.
    pub fn record(&mut self, side: Side, measurements: Vec<Measurement>) {
        for Measurement { metric, value } in measurements {
            let index = match self.rows.iter().position(|row| row.metric == metric) {
                Some(index) => index,
                None => {
                    self.rows.push(Row {
                        metric,
                        ours: Vec::new(),
                        peer: Vec::new(),
                        other: Vec::new(),
                    });
                    self.rows.len() - 1
                }
            };
            let row = &mut self.rows[index];
            match side {
                Side::Ours => row.ours.push(value),
                Side::Peer => row.peer.push(value),
                Side::Other => row.other.push(value),
            }
        }
    }

    /// Whether any measurement came from the second peer.
    pub fn has_other(&self) -> bool {
        self.rows.iter().any(|row| !row.other.is_empty())
    }

    /// The table: one row per metric with each side's median, the ratio ours/peer and the
    /// target; the second peer's column only when `other_label` is given.
    pub fn to_markdown(
        &self,
        ours_label: &str,
        peer_label: &str,
        other_label: Option<&str>,
    ) -> String {
        let (other_head, other_rule) = match other_label {
            Some(label) => (format!(" {label} |"), "---:|"),
            None => (String::new(), ""),
        };
        let mut table = format!(
            "| benchmark | unit | {ours_label} | {peer_label} |{other_head} ours/peer | target | met |\n\
             |---|---|---:|---:|{other_rule}---:|---|---|\n"
        );
        for row in &self.rows {
            let ours = median(&row.ours);
            let peer = median(&row.peer);
            let ratio = ours.zip(peer).and_then(|(ours, peer)| ratio(ours, peer));
            let met = ours.and_then(|ours| row.metric.target.met(ours, ratio));
            let other = match other_label {
                Some(_) => format!(" {} |", format_value(median(&row.other))),
                None => String::new(),
            };
            table.push_str(&format!(
                "| {} | {} | {} | {} |{} {} | {} | {} |\n",
                row.metric.name,
                row.metric.unit.label(),
                format_value(ours),
                format_value(peer),
                other,
                ratio.map_or_else(|| "n/a".to_string(), |ratio| format!("{ratio:.2}x")),
                row.metric.target.label(),
                match met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "",
                },
            ));
        }
        table
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

/// `ours / peer`, or `None` when the peer's value is zero or not finite.
fn ratio(ours: f64, peer: f64) -> Option<f64> {
    let ratio = ours / peer;
    (peer != 0.0 && ratio.is_finite()).then_some(ratio)
}

fn format_value(value: Option<f64>) -> String {
    match value {
        Some(value) if value >= 100.0 => format!("{value:.0}"),
        // CPU seconds per GiB are fractions of a second.
        Some(value) if value < 10.0 => format!("{value:.2}"),
        Some(value) => format!("{value:.1}"),
        None => "n/a".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::metric::{Target, Unit};
    use super::*;

    fn measurement(metric: &Metric, value: f64) -> Vec<Measurement> {
        vec![Measurement {
            metric: metric.clone(),
            value,
        }]
    }

    #[test]
    fn median_of_odd_even_and_empty_input() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0, 2.0]), Some(2.0), "NaN sorts last");
    }

    #[test]
    fn table_shows_medians_ratio_and_target() {
        let push = Metric::throughput("blob push, 8 MiB".to_string());
        let rss = Metric::peak_rss("blob push");
        let mut results = Results::default();
        for (ours, peer) in [(300.0, 100.0), (900.0, 150.0), (400.0, 200.0)] {
            results.record(Side::Ours, measurement(&push, ours));
            results.record(Side::Peer, measurement(&push, peer));
        }
        results.record(Side::Ours, measurement(&rss, 80.0));
        results.record(Side::Peer, measurement(&rss, 40.0));
        results.record(Side::Other, measurement(&push, 250.0));
        let table = results.to_markdown("oci-registry", "distribution", Some("olareg"));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "| benchmark | unit | oci-registry | distribution | olareg | ours/peer | target | met |",
                "|---|---|---:|---:|---:|---:|---|---|",
                "| blob push, 8 MiB | MiB/s | 400 | 150 | 250 | 2.67x | >= 2x peer | yes |",
                "| blob push: server peak RSS | MiB | 80.0 | 40.0 | n/a | 2.00x | < 64 MiB | **no** |",
            ]
        );
    }

    #[test]
    fn a_side_without_values_shows_n_a() {
        let rate = Metric {
            name: "manifest GET".to_string(),
            unit: Unit::RequestsPerSecond,
            target: Target::TimesPeer(3.0),
        };
        let mut results = Results::default();
        results.record(Side::Ours, measurement(&rate, 12.5));
        let table = results.to_markdown("a", "b", None);
        assert!(
            table.ends_with("| manifest GET | req/s | 12.5 | n/a | n/a | >= 3x peer |  |\n"),
            "{table}"
        );
    }
}
