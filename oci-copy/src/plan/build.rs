//! Building a [`Plan`]: walking the source graph and asking the destination what it has.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::StreamExt;
use oci_spec_types::{Descriptor, Digest, Manifest, Platform, referrers_tag};

use crate::end::{Selector, Sink, Source, bare};
use crate::error::{Error, Result};
use crate::filter::artifact_type_allowed;
use crate::plan::narrow::{Narrowed, narrow_root};
use crate::plan::order::order_tags;
use crate::plan::{
    Action, Content, CopyOptions, ImagePair, Note, Plan, Root, SkipReason, Step, StepId,
};

/// Plans copying `images` from `source` to `sink`.
///
/// Requests made: one resolve per image; per tag, one lookup of what the destination tag
/// points to (when it already points to the image and neither referrers nor a forced
/// recursive copy are asked for, nothing else is read); otherwise a manifest existence
/// check and, for manifests the destination lacks, a manifest fetch and blob existence
/// checks, run [`check_concurrency`](CopyOptions::check_concurrency) at a time; with tags
/// of several manifests, one fetch of each tagged index whose bytes were not read yet, to
/// order its tag after its children's.
pub async fn build_plan(
    source: &dyn Source,
    sink: &dyn Sink,
    images: &[ImagePair],
    options: &CopyOptions,
) -> Result<Plan> {
    let mut builder = Builder {
        source,
        sink,
        options,
        plan: Plan {
            source: source.describe(),
            destination: sink.describe(),
            ..Plan::default()
        },
        manifest_steps: HashMap::new(),
        blob_steps: HashMap::new(),
        unchecked_blobs: Vec::new(),
        referrers_done: HashSet::new(),
        sparse_children: HashMap::new(),
        planned_tags: HashSet::new(),
    };
    for pair in images {
        builder.image(pair).await?;
    }
    if options.digest_tags {
        builder.digest_tags().await?;
    }
    builder.check_blobs().await?;
    order_tags(&mut builder.plan, source).await?;
    Ok(builder.plan)
}

/// Whether a manifest is known to be at the destination before asking.
#[derive(Debug, Clone, Copy)]
enum Presence {
    /// Ask the destination.
    Unknown,
    /// Known, for this reason.
    Known(SkipReason),
}

type Visit<'f> = Pin<Box<dyn Future<Output = Result<StepId>> + Send + 'f>>;

struct Builder<'a> {
    source: &'a dyn Source,
    sink: &'a dyn Sink,
    options: &'a CopyOptions,
    plan: Plan,
    manifest_steps: HashMap<Digest, StepId>,
    blob_steps: HashMap<Digest, StepId>,
    /// Blob steps whose presence at the destination is still to be checked.
    unchecked_blobs: Vec<StepId>,
    referrers_done: HashSet<Digest>,
    /// Sparse indexes: the children to copy.
    sparse_children: HashMap<Digest, HashSet<Digest>>,
    /// Destination tags already planned.
    planned_tags: HashSet<Option<String>>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        action: Action,
        descriptor: Descriptor,
        needs: Vec<StepId>,
        platform: Option<Platform>,
    ) -> StepId {
        let id = self.plan.steps.len();
        self.plan.steps.push(Step {
            id,
            action,
            descriptor,
            needs,
            after: Vec::new(),
            platform,
        });
        id
    }

    /// Plans one image: its graph, then its tag.
    async fn image(&mut self, pair: &ImagePair) -> Result<()> {
        if !self.planned_tags.insert(pair.target.clone()) && pair.target.is_some() {
            return Ok(());
        }
        let resolved = self.source.resolve(&pair.source).await?;
        let (root, platform) =
            match narrow_root(self.source, self.sink, self.options, resolved).await? {
                Narrowed::Unchanged(root) => (root, None),
                Narrowed::OneImage {
                    image,
                    platform,
                    note,
                } => {
                    self.plan.notes.push(note);
                    (image, platform)
                }
                Narrowed::Sparse {
                    index,
                    manifest,
                    children,
                    note,
                } => {
                    self.plan.notes.push(note);
                    self.plan.manifests.insert(index.digest.clone(), manifest);
                    self.sparse_children.insert(index.digest.clone(), children);
                    (index, None)
                }
                Narrowed::Filtered {
                    index,
                    manifest,
                    note,
                } => {
                    self.plan.notes.push(note);
                    self.plan.manifests.insert(index.digest.clone(), manifest);
                    (index, None)
                }
            };
        if !self.sink.traits().keeps_manifest_digests {
            self.plan.notes.push(Note::ManifestNotPreserved {
                manifest: root.digest.clone(),
            });
        }
        let tag_current = match &pair.target {
            Some(tag) if !self.options.force_recursive => {
                self.sink.tagged(tag).await?.as_ref() == Some(&root.digest)
            }
            _ => false,
        };
        let presence = if tag_current {
            Presence::Known(SkipReason::Present)
        } else {
            Presence::Unknown
        };
        let manifest_step = self.manifest(root.clone(), platform, presence).await?;
        let action = if tag_current {
            Action::Skip {
                what: Content::Tag(pair.target.clone()),
                reason: SkipReason::TagCurrent,
            }
        } else {
            Action::Tag {
                tag: pair.target.clone(),
            }
        };
        let step = self.add(action, bare(&root), vec![manifest_step], None);
        self.plan.roots.push(Root::Image {
            source: pair.source.clone(),
            step,
        });
        Ok(())
    }

    /// Plans a manifest and everything under it; returns its step.
    fn manifest(
        &mut self,
        descriptor: Descriptor,
        platform: Option<Platform>,
        presence: Presence,
    ) -> Visit<'_> {
        Box::pin(async move {
            if let Some(&id) = self.manifest_steps.get(&descriptor.digest) {
                return Ok(id);
            }
            let known = match presence {
                Presence::Known(reason) => Some(reason),
                Presence::Unknown if self.sink.has_manifest(&descriptor).await? => {
                    Some(SkipReason::Present)
                }
                Presence::Unknown => None,
            };
            let force = self.options.force_recursive;
            let mut needs = Vec::new();
            if known.is_none() || force || self.options.referrers {
                let below = match known {
                    Some(_) if !force => Presence::Known(SkipReason::UnderPresentManifest),
                    _ => Presence::Unknown,
                };
                let manifest = self.load(&descriptor).await?;
                let wanted = self.sparse_children.get(&descriptor.digest).cloned();
                for child in manifest.children() {
                    if wanted
                        .as_ref()
                        .is_some_and(|wanted| !wanted.contains(&child.digest))
                    {
                        continue;
                    }
                    needs.push(
                        self.manifest(bare(child), child.platform.clone(), below)
                            .await?,
                    );
                }
                if let Some(image) = manifest.image() {
                    for blob in std::iter::once(&image.config).chain(&image.layers) {
                        needs.push(self.blob(blob, below));
                    }
                }
            }
            let action = match known {
                Some(reason) => Action::Skip {
                    what: Content::Manifest,
                    reason,
                },
                None => Action::PutManifest,
            };
            let id = self.add(action, descriptor.clone(), needs, platform);
            self.manifest_steps.insert(descriptor.digest.clone(), id);
            if self.options.referrers {
                self.referrers(&descriptor).await?;
            }
            Ok(id)
        })
    }

    /// A manifest's bytes (built while narrowing, or fetched), parsed leniently.
    async fn load(&mut self, descriptor: &Descriptor) -> Result<Manifest> {
        let bytes = match self.plan.manifests.get(&descriptor.digest) {
            Some(bytes) => bytes.clone(),
            None => {
                let bytes: Bytes = self.source.manifest(descriptor).await?;
                self.plan
                    .manifests
                    .insert(descriptor.digest.clone(), bytes.clone());
                bytes
            }
        };
        Manifest::parse_lenient(bytes, Some(descriptor.media_type.as_str())).map_err(|source| {
            Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            }
        })
    }

    /// Plans a blob (once per digest); its presence is checked later, all blobs at once.
    fn blob(&mut self, descriptor: &Descriptor, presence: Presence) -> StepId {
        if let Some(&id) = self.blob_steps.get(&descriptor.digest) {
            return id;
        }
        let action = match presence {
            _ if descriptor.is_non_distributable() && !self.options.include_nondistributable => {
                Action::Skip {
                    what: Content::Blob,
                    reason: SkipReason::NonDistributable,
                }
            }
            Presence::Known(reason) => Action::Skip {
                what: Content::Blob,
                reason,
            },
            Presence::Unknown => Action::CopyBlob,
        };
        let unchecked = action == Action::CopyBlob;
        let id = self.add(action, bare(descriptor), Vec::new(), None);
        if unchecked {
            self.unchecked_blobs.push(id);
        }
        self.blob_steps.insert(descriptor.digest.clone(), id);
        id
    }

    /// Plans the referrers of a manifest, each as a root of its own.
    async fn referrers(&mut self, subject: &Descriptor) -> Result<()> {
        if !self.referrers_done.insert(subject.digest.clone()) {
            return Ok(());
        }
        for referrer in self.source.referrers(subject).await? {
            if !artifact_type_allowed(
                &self.options.artifact_types,
                referrer.artifact_type.as_ref(),
            ) {
                continue;
            }
            let step = self
                .manifest(bare(&referrer), None, Presence::Unknown)
                .await?;
            self.plan.roots.push(Root::Referrer {
                subject: subject.digest.clone(),
                step,
            });
        }
        Ok(())
    }

    /// Plans the source's `<alg>-<hex>[.suffix]` tags of every manifest planned so far, and
    /// again for the manifests those bring, until none is new.
    async fn digest_tags(&mut self) -> Result<()> {
        let tags = self.source.tags().await?;
        loop {
            let by_tag: HashMap<String, Digest> = self
                .manifest_steps
                .keys()
                .map(|digest| (referrers_tag(digest), digest.clone()))
                .collect();
            let new: Vec<String> = tags
                .iter()
                .filter(|tag| by_tag.contains_key(tag.split('.').next().unwrap_or(tag)))
                .filter(|tag| !self.planned_tags.contains(&Some((*tag).clone())))
                .cloned()
                .collect();
            if new.is_empty() {
                return Ok(());
            }
            for tag in new {
                self.image(&ImagePair {
                    source: Selector::Tag(tag.clone()),
                    target: Some(tag),
                })
                .await?;
            }
        }
    }

    /// Asks the destination about every blob not known to be there, a bounded number at a
    /// time, and turns each step into a skip, a mount or a copy.
    async fn check_blobs(&mut self) -> Result<()> {
        let sink = self.sink;
        let checks: Vec<(StepId, Result<bool>)> =
            futures_util::stream::iter(self.unchecked_blobs.drain(..).map(|id| {
                let descriptor = self.plan.steps[id].descriptor.clone();
                async move { (id, sink.has_blob(&descriptor).await) }
            }))
            .buffer_unordered(self.options.check_concurrency.get())
            .collect()
            .await;
        let mount_from = match (self.source.repository(), self.sink.repository()) {
            (Some(from), Some(to))
                if from.registry == to.registry && from.repository != to.repository =>
            {
                Some(from)
            }
            _ => None,
        };
        for (id, present) in checks {
            self.plan.steps[id].action = match (present?, &mount_from) {
                (true, _) => Action::Skip {
                    what: Content::Blob,
                    reason: SkipReason::Present,
                },
                (false, Some(from)) => Action::Mount { from: from.clone() },
                (false, None) => Action::CopyBlob,
            };
        }
        Ok(())
    }
}
