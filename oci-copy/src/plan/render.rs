//! The plan as a readable tree (`--dry-run`).

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use oci_spec_types::{Descriptor, Digest};

use crate::plan::{Action, Content, Note, Plan, Root, SkipReason, Step, StepId};

impl Plan {
    /// The plan as a tree, one line per step: each tag above its manifest, each manifest
    /// above its children and blobs. Content shared by several parents is printed once and
    /// referred to afterwards. Notes and a summary follow.
    pub fn render(&self) -> String {
        let mut out = format!("{} -> {}\n", self.source, self.destination);
        let mut printed = HashSet::new();
        for root in &self.roots {
            let step = match root {
                Root::Image { step, .. } => *step,
                Root::Referrer { subject, step } => {
                    let _ = writeln!(out, "referrer of {}:", short(subject));
                    *step
                }
            };
            self.render_step(step, "", "", &mut printed, &mut out);
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        let summary = self.summary();
        let _ = writeln!(
            out,
            "summary: {} blob(s) to copy ({}), {} to mount, {} manifest(s), {} tag(s), {} skipped",
            summary.blobs,
            human_size(summary.bytes),
            summary.mounts,
            summary.manifests,
            summary.tags,
            summary.skipped
        );
        out
    }

    fn render_step(
        &self,
        id: StepId,
        lead: &str,
        indent: &str,
        printed: &mut HashSet<StepId>,
        out: &mut String,
    ) {
        let Some(step) = self.steps.get(id) else {
            return;
        };
        let first_time = printed.insert(id);
        let _ = write!(out, "{lead}{}{}", label(step), self.after_text(step));
        if !first_time && !step.needs.is_empty() {
            out.push_str(" (shown above)\n");
            return;
        }
        out.push('\n');
        for (position, &child) in step.needs.iter().enumerate() {
            let last = position + 1 == step.needs.len();
            let (branch, next) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            self.render_step(
                child,
                &format!("{indent}{branch}"),
                &format!("{indent}{next}"),
                printed,
                out,
            );
        }
    }

    /// ` (after tag a, tag b)` for a step ordered after others, else nothing.
    fn after_text(&self, step: &Step) -> String {
        let before: Vec<String> = step
            .after
            .iter()
            .filter_map(|&id| self.steps.get(id))
            .map(|before| match &before.action {
                Action::Tag { tag: Some(tag) } => format!("tag {tag}"),
                _ => format!("step {}", before.id),
            })
            .collect();
        if before.is_empty() {
            return String::new();
        }
        format!(" (after {})", before.join(", "))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn label(step: &Step) -> String {
    let descriptor = &step.descriptor;
    let digest = short(&descriptor.digest);
    let size = human_size(descriptor.size);
    let platform = step
        .platform
        .as_ref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    match &step.action {
        Action::Tag { tag: Some(tag) } => format!("tag {tag} -> {digest}"),
        Action::Tag { tag: None } => format!("record untagged {digest}"),
        Action::PutManifest => format!("put {} {digest} {size}{platform}", kind(descriptor)),
        Action::CopyBlob => format!("copy blob {digest} {size} {}", descriptor.media_type),
        Action::Mount { from } => format!("mount blob {digest} {size} from {from}"),
        Action::Skip { what, reason } => {
            let what = match what {
                Content::Blob => format!("blob {digest}"),
                Content::Manifest => format!("{} {digest}{platform}", kind(descriptor)),
                Content::Tag(Some(tag)) => format!("tag {tag} -> {digest}"),
                Content::Tag(None) => format!("untagged {digest}"),
            };
            format!("skip {what} ({})", reason_text(*reason))
        }
    }
}

fn kind(descriptor: &Descriptor) -> &'static str {
    if descriptor.media_type.is_index() {
        "index"
    } else {
        "manifest"
    }
}

fn reason_text(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::Present => "present",
        SkipReason::UnderPresentManifest => "under a present manifest",
        SkipReason::TagCurrent => "tag up to date",
        SkipReason::NonDistributable => "non-distributable",
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NewIndex {
                original,
                filtered,
                kept,
                of,
            } => write!(
                f,
                "{kept} of {of} entries of index {} are written as a NEW index {} (its digest differs from the source's; use --sparse-index to keep the original)",
                short(original),
                short(filtered)
            ),
            Note::SparseIndex { index, kept, of } => {
                write!(
                    f,
                    "index {} is copied as is, but only {kept} of its {of} entries are copied (sparse index)",
                    short(index)
                )
            }
            Note::SinglePlatform {
                index,
                image,
                platform,
                attestations_left,
            } => {
                let platform = platform
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "?".into());
                write!(
                    f,
                    "only {platform} ({}) of index {} is copied; the tag points to that image manifest",
                    short(image),
                    short(index)
                )?;
                if *attestations_left > 0 {
                    write!(
                        f,
                        "; its {attestations_left} attestation manifest(s) (unknown/unknown) are not copied (--sparse-index keeps them)"
                    )?;
                }
                Ok(())
            }
            Note::ManifestNotPreserved { manifest } => write!(
                f,
                "the destination regenerates manifests: config and layer digests are kept, manifest {} is not",
                short(manifest)
            ),
        }
    }
}

/// `sha256:0123456789ab`: the algorithm and 12 hex digits, enough to tell content apart.
pub(crate) fn short(digest: &Digest) -> String {
    let encoded = digest.encoded();
    format!(
        "{}:{}",
        digest.algorithm().as_str(),
        &encoded[..encoded.len().min(12)]
    )
}

/// `1.5 MiB`-style sizes.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MiB");
    }

    #[test]
    fn digests_are_shortened() {
        let digest = Digest::compute(b"");
        assert_eq!(short(&digest), "sha256:e3b0c44298fc");
    }
}
