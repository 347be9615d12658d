//! Where a case belongs: its workflow (the spec's four conformance categories) and the spec
//! version it comes from.

use std::fmt;

/// The four workflows of the distribution spec's conformance section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workflow {
    /// Pulling manifests and blobs.
    Pull,
    /// Pushing blobs (every upload flavour) and manifests.
    Push,
    /// Tag listing, catalog and referrers.
    ContentDiscovery,
    /// Deleting tags, manifests and blobs.
    ContentManagement,
}

impl Workflow {
    /// All workflows in report order.
    pub const ALL: [Workflow; 4] = [
        Workflow::Pull,
        Workflow::Push,
        Workflow::ContentDiscovery,
        Workflow::ContentManagement,
    ];

    /// The name `--only` takes.
    pub fn option_name(self) -> &'static str {
        match self {
            Workflow::Pull => "pull",
            Workflow::Push => "push",
            Workflow::ContentDiscovery => "discovery",
            Workflow::ContentManagement => "management",
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Workflow::Pull => "Pull",
            Workflow::Push => "Push",
            Workflow::ContentDiscovery => "Content Discovery",
            Workflow::ContentManagement => "Content Management",
        })
    }
}

/// Which version of the spec a case comes from, so a v1.1 registry can be judged on v1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Covered by distribution-spec v1.1 and its conformance suite.
    V1_1,
    /// Newer than v1.1.1: spec main and the data-driven harness.
    Newer,
}

/// Where a case belongs: its workflow and spec level.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// The workflow.
    pub workflow: Workflow,
    /// The spec level.
    pub level: Level,
}

impl Scope {
    /// A v1.1 case of `workflow`.
    pub const fn v1_1(workflow: Workflow) -> Scope {
        Scope {
            workflow,
            level: Level::V1_1,
        }
    }

    /// A case for a feature newer than v1.1.1.
    pub const fn newer(workflow: Workflow) -> Scope {
        Scope {
            workflow,
            level: Level::Newer,
        }
    }
}
