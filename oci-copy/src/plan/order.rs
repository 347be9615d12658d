//! The order of tag writes within one destination repository.
//!
//! Writing a tag on a registry is a `PUT` of the whole manifest under the tag, and a
//! registry may rewrite the manifest's own links while it does (CNCF distribution
//! truncates and rewrites them in place). A `PUT` of an index checks that each child is
//! there, reading those links; one that lands while a child's tag is being written can
//! be refused with `MANIFEST_BLOB_UNKNOWN`. So a tag of an index waits for every tag of
//! its children, and tags of one manifest go one after another; unrelated tags still run
//! in parallel. The order is recorded in [`Step::after`](crate::plan::Step::after), not in
//! `needs`: a child's tag that fails does not stop its parent's tag, whose manifest is
//! written by digest either way.

use std::collections::HashMap;

use bytes::Bytes;
use oci_spec_types::{Digest, Manifest};

use crate::end::Source;
use crate::error::{Error, Result};
use crate::plan::{Action, Plan, StepId};

/// Orders the plan's tag steps: tags of one manifest in plan order, and tags of an index
/// after the tags of its children. Reads an index from the source when the plan does not
/// hold its bytes and other manifests are tagged too.
pub(super) async fn order_tags(plan: &mut Plan, source: &dyn Source) -> Result<()> {
    let mut tags_of: HashMap<Digest, Vec<StepId>> = HashMap::new();
    let mut tag_steps = Vec::new();
    for step in &plan.steps {
        if let Action::Tag { tag: Some(_) } = step.action {
            tags_of
                .entry(step.descriptor.digest.clone())
                .or_default()
                .push(step.id);
            tag_steps.push(step.id);
        }
    }
    for same in tags_of.values() {
        for pair in same.windows(2) {
            plan.steps[pair[1]].after.push(pair[0]);
        }
    }
    if tags_of.len() < 2 {
        return Ok(());
    }
    for id in tag_steps {
        let descriptor = plan.steps[id].descriptor.clone();
        if !descriptor.media_type.is_index() {
            continue;
        }
        let bytes = match plan.manifests.get(&descriptor.digest) {
            Some(bytes) => bytes.clone(),
            None => {
                let bytes: Bytes = source.manifest(&descriptor).await?;
                plan.manifests
                    .insert(descriptor.digest.clone(), bytes.clone());
                bytes
            }
        };
        let index = Manifest::parse_lenient(bytes, Some(descriptor.media_type.as_str())).map_err(
            |source| Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            },
        )?;
        let child_tags: Vec<StepId> = index
            .children()
            .into_iter()
            .filter_map(|child| tags_of.get(&child.digest))
            .flatten()
            .copied()
            .collect();
        plan.steps[id].after.extend(child_tags);
    }
    Ok(())
}
