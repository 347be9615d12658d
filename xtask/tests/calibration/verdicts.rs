//! Running `cargo xtask conformance --url` as a user would, and reading its verdicts.

use std::collections::BTreeSet;
use std::process::Command;

/// One case as the judge printed it.
#[derive(Debug)]
pub struct Case {
    /// `ok`, `WARN`, `FAIL` or `skip`.
    pub verdict: String,
    /// The name, without the workflow and `[newer]` labels.
    pub name: String,
    /// The indented lines under it: reasons, warnings, notes.
    pub details: Vec<String>,
}

/// The whole run.
#[derive(Debug)]
pub struct Verdicts {
    /// Every case, in order.
    pub cases: Vec<Case>,
    /// The closing line.
    pub closing: String,
    /// The `warnings: W` line's count.
    pub warnings: usize,
    /// Whether the process exited successfully.
    pub success: bool,
    /// Everything printed, for failure messages.
    pub stdout: String,
}

impl Verdicts {
    /// Runs the judge against `url` with `extra` options.
    pub fn of(url: &str, extra: &[&str]) -> Verdicts {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["conformance", "--url", url])
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut cases: Vec<Case> = Vec::new();
        let mut warnings = None;
        for line in stdout.lines() {
            if let Some(detail) = line.strip_prefix("          ") {
                if let Some(case) = cases.last_mut() {
                    case.details.push(detail.trim().to_string());
                }
            } else if let Some(count) = line.strip_prefix("warnings: ") {
                warnings = count.parse().ok();
            } else if let Some(case) = parse_case(line) {
                cases.push(case);
            }
        }
        Verdicts {
            cases,
            closing: stdout.lines().last().unwrap_or_default().to_string(),
            warnings: warnings.unwrap_or_else(|| panic!("no warnings line in\n{stdout}")),
            success: output.status.success(),
            stdout,
        }
    }

    /// The names of the cases with `verdict`.
    pub fn named(&self, verdict: &str) -> BTreeSet<&str> {
        self.cases
            .iter()
            .filter(|case| case.verdict == verdict)
            .map(|case| case.name.as_str())
            .collect()
    }

    /// The case called `name`.
    pub fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|case| case.name == name)
            .unwrap_or_else(|| panic!("no case {name:?} in\n{}", self.stdout))
    }

    /// The closing line's counts: passed, failed, skipped.
    pub fn counts(&self) -> [usize; 3] {
        let counts: Vec<usize> = self
            .closing
            .trim_start_matches("conformance: ")
            .split(", ")
            .filter_map(|part| part.split(' ').next()?.parse().ok())
            .collect();
        counts
            .try_into()
            .unwrap_or_else(|_| panic!("closing line {:?}", self.closing))
    }
}

/// `<verdict> [<workflow>] [newer] <name>  (<basis>)`.
fn parse_case(line: &str) -> Option<Case> {
    let (verdict, rest) = line.split_once(' ')?;
    if !["ok", "WARN", "FAIL", "skip"].contains(&verdict) {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('[')?;
    let (_, rest) = rest.split_once("] ")?;
    let rest = rest.strip_prefix("[newer] ").unwrap_or(rest);
    let name = match rest.rfind("  (") {
        Some(end) => &rest[..end],
        None => rest,
    };
    Some(Case {
        verdict: verdict.to_string(),
        name: name.to_string(),
        details: Vec::new(),
    })
}
