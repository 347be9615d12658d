//! Looking for a shorter failing history: the failing seed again with half the operations,
//! then half the clients, for as long as the violations persist.
//!
//! A history's choices replay from its seed but its timing does not, so a shorter run can pass
//! where a longer one failed; the search keeps the shortest run that still showed one of the
//! original kinds of violation, within a bounded number of runs.

use std::collections::HashSet;

use super::run::{Plan, Verdict, run};
use super::violation::Kind;
use crate::error::XtaskError;

/// At most this many extra runs per failing history.
const ATTEMPTS: usize = 6;
/// Fewer operations than this hardly make a history.
const MIN_OPS: usize = 8;

/// The shortest failing history found, starting from `failing`.
pub fn shortest(failing: Verdict) -> Result<Verdict, XtaskError> {
    let kinds: HashSet<Kind> = failing.violations.iter().map(|v| v.kind).collect();
    let mut best = failing;
    let mut attempts = 0;
    for halve in [halve_ops as fn(&Plan) -> Option<Plan>, halve_clients] {
        while attempts < ATTEMPTS {
            let Some(plan) = halve(&best.plan) else {
                break;
            };
            attempts += 1;
            eprintln!(
                "chaos: shrinking seed {}: {} operations, {} clients",
                plan.seed, plan.ops, plan.clients
            );
            let verdict = run(&plan)?;
            if !verdict.violations.iter().any(|v| kinds.contains(&v.kind)) {
                break;
            }
            best = verdict;
        }
    }
    Ok(best)
}

fn halve_ops(plan: &Plan) -> Option<Plan> {
    (plan.ops / 2 >= MIN_OPS).then(|| Plan {
        ops: plan.ops / 2,
        ..plan.clone()
    })
}

fn halve_clients(plan: &Plan) -> Option<Plan> {
    (plan.clients > 1).then(|| Plan {
        clients: plan.clients / 2,
        ..plan.clone()
    })
}
