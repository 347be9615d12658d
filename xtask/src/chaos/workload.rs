//! One client of a history: a seeded sequence of random operations on its own repositories
//! and on one all clients share.
//!
//! The operations: image pushes (new manifests, and manifests pushed before, so bytes come
//! back after their manifest was deleted), by tag (moving the tag) or by digest, with each
//! blob got there by a random way ([`super::uploads`]) and a pause before the manifest PUT;
//! index pushes over the repository's manifests; referrer pushes; manifest deletes (which
//! leave blobs unreferenced to age); tag deletes; and uploads whose PATCH trickles for longer
//! than the grace period. Choices depend only on the client's seed and the answers it got, so
//! a seed replays the same operations; their timing, and so some answers, can differ.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oci_digest::Digest;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Body, Method};

use super::content::{self, Built, Pool};
use super::history::{Action, Reference, SessionId};
use super::net::{Net, Reply, Sender};
use super::uploads::Upload;

/// Repositories each client owns.
const OWN_REPOS: usize = 3;
/// The repository every client pushes to.
const SHARED_REPO: &str = "chaos/shared";
/// Tags per repository: few, so pushes move them.
const TAGS: usize = 4;
/// How many live manifests a client keeps before it prefers deleting.
const LIVE_LIMIT: usize = 6;
/// How long a client waits after a request got no answer.
const BACKOFF: Duration = Duration::from_millis(250);

/// What every client of a history shares.
#[derive(Debug)]
pub struct Settings {
    /// How many clients there are (for mount sources in other clients' repositories).
    pub clients: usize,
    /// The longest pause between getting a manifest's blobs in and pushing it.
    pub max_think: Duration,
    /// How long a slow PATCH trickles.
    pub slow_patch: Duration,
    /// No operation starts after this moment.
    pub deadline: Instant,
}

/// A manifest this client pushed (and whether it believes it still stands).
#[derive(Debug, Clone)]
struct Pushed {
    repo: String,
    built: Built,
    live: bool,
}

/// One client.
#[derive(Debug)]
pub struct Worker {
    id: usize,
    rng: StdRng,
    net: Net,
    pool: Arc<Pool>,
    pub(super) settings: Arc<Settings>,
    op: usize,
    sessions: u32,
    /// (repository, blob) pairs this client was told are there.
    linked: Vec<(String, Digest)>,
    pushed: Vec<Pushed>,
    /// Whether a request of the current operation got no answer.
    unanswered: bool,
}

impl Worker {
    /// Client `id` of the history of `seed`.
    pub fn new(id: usize, seed: u64, net: Net, pool: Arc<Pool>, settings: Arc<Settings>) -> Worker {
        let stream = (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Worker {
            id,
            rng: StdRng::seed_from_u64(seed ^ stream),
            net,
            pool,
            settings,
            op: 0,
            sessions: 0,
            linked: Vec::new(),
            pushed: Vec::new(),
            unanswered: false,
        }
    }

    /// Runs `ops` operations (fewer if the deadline passes); returns how many it ran.
    pub async fn run(mut self, ops: usize) -> usize {
        for op in 0..ops {
            if Instant::now() >= self.settings.deadline {
                return op;
            }
            self.op = op;
            if std::mem::take(&mut self.unanswered) {
                // Like a client retrying later: an instance is probably down, and operations
                // thrown at it now would only fail at once.
                tokio::time::sleep(BACKOFF).await;
            }
            let repo = self.random_repo();
            let live = self.pushed.iter().filter(|p| p.live).count();
            let delete_weight = if live > LIVE_LIMIT { 60 } else { 22 };
            let roll = self.rng_range(0..100 + delete_weight);
            match roll {
                0..50 => self.push_image(&repo).await,
                50..60 => self.push_index(&repo).await,
                60..70 => self.push_referrer(&repo).await,
                70..77 => self.delete_tag(&repo).await,
                77..80 => self.slow_upload(&repo).await,
                _ => self.delete_manifest().await,
            }
        }
        ops
    }

    /// A uniform number in `range` from this client's generator.
    pub(super) fn rng_range(&mut self, range: Range<usize>) -> usize {
        if range.is_empty() {
            return range.start;
        }
        self.rng.random_range(range)
    }

    /// Sends a request to a random instance.
    pub(super) async fn send(
        &mut self,
        method: Method,
        target: &str,
        headers: HeaderMap,
        body: Option<Body>,
        action: Action,
    ) -> Reply {
        let sender = Sender {
            client: self.id,
            op: self.op,
            instance: self.rng_range(0..self.net.instances()),
        };
        let acknowledged = match &action {
            Action::BlobHead { repo, digest } => Some((repo.clone(), digest.clone(), 200)),
            Action::Mount { repo, digest, .. } | Action::UploadFinish { repo, digest, .. } => {
                Some((repo.clone(), digest.clone(), 201))
            }
            _ => None,
        };
        let reply = self
            .net
            .send(sender, method, target, headers, body, action)
            .await;
        self.unanswered |= reply.status.is_none();
        if let Some((repo, digest, status)) = acknowledged
            && reply.status == Some(status)
            && !self.linked.contains(&(repo.clone(), digest.clone()))
        {
            self.linked.push((repo, digest));
        }
        reply
    }

    /// A new upload session number.
    pub(super) fn new_session(&mut self) -> SessionId {
        self.sessions += 1;
        SessionId {
            client: self.id,
            number: self.sessions,
        }
    }

    /// Where to mount `digest` from: another repository this client put it in, or else one of
    /// another client's repositories, which may hold it (the server then opens an upload).
    pub(super) fn mount_source(&mut self, repo: &str, digest: &Digest) -> String {
        let known: Vec<String> = self
            .linked
            .iter()
            .filter(|(source, linked)| linked == digest && source != repo)
            .map(|(source, _)| source.clone())
            .collect();
        if !known.is_empty() {
            let pick = self.rng_range(0..known.len());
            return known[pick].clone();
        }
        let client = self.rng_range(0..self.settings.clients);
        let index = self.rng_range(0..OWN_REPOS);
        format!("chaos/c{client}/r{index}")
    }

    fn random_repo(&mut self) -> String {
        if self.rng_range(0..5) == 0 {
            SHARED_REPO.to_string()
        } else {
            let index = self.rng_range(0..OWN_REPOS);
            format!("chaos/c{}/r{index}", self.id)
        }
    }

    fn nonce(&self) -> String {
        format!("c{}-op{}", self.id, self.op)
    }

    /// A live manifest of `repo` pushed by this client, at random.
    fn pick_live(&mut self, repo: &str, images_only: bool) -> Option<Built> {
        let candidates: Vec<Built> = self
            .pushed
            .iter()
            .filter(|p| p.live && p.repo == repo)
            .filter(|p| !images_only || p.built.pushed.children.is_empty())
            .map(|p| p.built.clone())
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pick = self.rng_range(0..candidates.len());
        Some(candidates[pick].clone())
    }

    /// Pushes an image: a manifest pushed before (a quarter of the time) or a new one over
    /// random pool blobs; gets its blobs in, pauses, then PUTs it.
    async fn push_image(&mut self, repo: &str) {
        let earlier: Vec<Built> = self
            .pushed
            .iter()
            .filter(|p| p.repo == repo && p.built.pushed.subject.is_none())
            .filter(|p| p.built.pushed.children.is_empty())
            .map(|p| p.built.clone())
            .collect();
        let built = if !earlier.is_empty() && self.rng_range(0..4) == 0 {
            let pick = self.rng_range(0..earlier.len());
            earlier[pick].clone()
        } else {
            let pool = Arc::clone(&self.pool);
            let config = pool.item(self.rng_range(0..pool.len()));
            let count = self.rng_range(1..4);
            let layers: Vec<_> = (0..count)
                .map(|_| pool.item(self.rng_range(0..pool.len())))
                .collect();
            content::image(config, &layers, &self.nonce())
        };
        if self.acquire_blobs(repo, &built).await {
            self.think().await;
            self.put_manifest(repo, built).await;
        }
    }

    /// Gets every blob of `built` into `repo`; `false` as soon as one fails.
    async fn acquire_blobs(&mut self, repo: &str, built: &Built) -> bool {
        let pool = Arc::clone(&self.pool);
        let mut done: Vec<&Digest> = Vec::new();
        for digest in &built.pushed.blobs {
            if done.contains(&digest) {
                continue;
            }
            let item = (0..pool.len())
                .map(|index| pool.item(index))
                .chain([pool.empty()])
                .find(|item| item.digest == *digest);
            let Some(item) = item else {
                return false;
            };
            if !self.acquire(repo, item).await {
                return false;
            }
            done.push(digest);
        }
        true
    }

    /// Pushes an index over one to three of the repository's images.
    async fn push_index(&mut self, repo: &str) {
        let mut children: Vec<Built> = Vec::new();
        for _ in 0..self.rng_range(1..4) {
            if let Some(child) = self.pick_live(repo, true)
                && !children.contains(&child)
            {
                children.push(child);
            }
        }
        if children.is_empty() {
            return self.push_image(repo).await;
        }
        let refs: Vec<&Built> = children.iter().collect();
        let built = content::index(&refs, &self.nonce());
        self.put_manifest(repo, built).await;
    }

    /// Pushes an artifact referring to one of the repository's manifests.
    async fn push_referrer(&mut self, repo: &str) {
        let Some(subject) = self.pick_live(repo, false) else {
            return self.push_image(repo).await;
        };
        let built = content::referrer(self.pool.empty(), &subject, &self.nonce());
        if self.acquire_blobs(repo, &built).await {
            self.put_manifest(repo, built).await;
        }
    }

    /// PUTs a manifest by digest or by one of the repository's tags.
    async fn put_manifest(&mut self, repo: &str, built: Built) {
        let reference = if self.rng_range(0..2) == 0 {
            Reference::Digest
        } else {
            Reference::Tag(format!("t{}", self.rng_range(0..TAGS)))
        };
        let target = match &reference {
            Reference::Digest => format!("/v2/{repo}/manifests/{}", built.pushed.digest),
            Reference::Tag(tag) => format!("/v2/{repo}/manifests/{tag}"),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(built.media_type));
        let action = Action::ManifestPut {
            repo: repo.to_string(),
            reference,
            manifest: built.pushed.clone(),
        };
        let body = Some(Body::from(built.bytes.clone()));
        let reply = self.send(Method::PUT, &target, headers, body, action).await;
        if reply.status == Some(201) {
            self.pushed
                .retain(|p| !(p.repo == repo && p.built == built));
            self.pushed.push(Pushed {
                repo: repo.to_string(),
                built,
                live: true,
            });
        }
    }

    /// Deletes one of this client's live manifests by digest.
    async fn delete_manifest(&mut self) {
        let live: Vec<usize> = (0..self.pushed.len())
            .filter(|&index| self.pushed[index].live)
            .collect();
        if live.is_empty() {
            let repo = self.random_repo();
            return self.push_image(&repo).await;
        }
        let index = live[self.rng_range(0..live.len())];
        let repo = self.pushed[index].repo.clone();
        let digest = self.pushed[index].built.pushed.digest.clone();
        let target = format!("/v2/{repo}/manifests/{digest}");
        let action = Action::ManifestDelete { repo, digest };
        let reply = self
            .send(Method::DELETE, &target, HeaderMap::new(), None, action)
            .await;
        if matches!(reply.status, Some(202 | 404)) {
            self.pushed[index].live = false;
        }
    }

    /// Deletes one of the repository's tags (404 when it has none by that name).
    async fn delete_tag(&mut self, repo: &str) {
        let tag = format!("t{}", self.rng_range(0..TAGS));
        let target = format!("/v2/{repo}/manifests/{tag}");
        let action = Action::TagDelete {
            repo: repo.to_string(),
            tag,
        };
        self.send(Method::DELETE, &target, HeaderMap::new(), None, action)
            .await;
    }

    /// Uploads a pool blob with a PATCH that trickles for longer than the grace period.
    async fn slow_upload(&mut self, repo: &str) {
        let pool = Arc::clone(&self.pool);
        let item = pool.item(self.rng_range(0..pool.len()));
        self.upload(repo, item, Upload::Slow).await;
    }

    /// Pauses between getting a manifest's blobs in and pushing it: a collection may run
    /// meanwhile, which must not take what was just acknowledged.
    async fn think(&mut self) {
        let millis = self.settings.max_think.as_millis() as usize;
        let pause = Duration::from_millis(self.rng_range(0..millis.max(1)) as u64);
        // The pause is part of the workload, not a synchronisation.
        tokio::time::sleep(pause).await;
    }
}
