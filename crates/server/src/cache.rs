//! The read cache (SPEC §11): what every authenticated request would otherwise fetch from the
//! database — the credential found by its keyed hash (API key, application password, OAuth 2.0
//! access token, session), OAuth 2.0 clients (for introspection; the token endpoint reads its
//! client from the database), the site a host resolves to, a user's role on a site, the
//! `users/me` body and list answers — kept in memory, bounded, and dropped whole whenever the
//! store's change counter moves (posts lists also when the content counter moves).
//!
//! Freshness: the counter is moved by database triggers on every committed change that can end
//! or alter one of these (migration 0008), whoever made it — this instance, another one, or the
//! CLI. A watcher polls it every 250 ms (and, on PostgreSQL, is woken by `NOTIFY` at commit);
//! this instance also reads it before handling a request with an unsafe method (a write is never
//! made with a credential revoked elsewhere) and before answering it (a revocation made through
//! this instance is in force for the next request). The cache answers only while its
//! last successful poll is under a second old: if the database stops answering, requests go to
//! the database (and fail there) rather than being served from memory.
//!
//! Never cached: a credential that was not found (a new credential needs no invalidation; a host
//! with no site of its own is kept, since a new site moves the counter), refresh tokens, codes, nonces,
//! throttle counters and anything single-use. What is cached is the stored row; every rule
//! (expiry, revocation, a disabled user) is still checked on each request against it.
//! A value loaded before a drop is never stored after it (the generation check).
//! Uses: `last_used_at`/`last_seen_at` are kept here per entry, so one request per interval is
//! told to record a use, however many requests share the credential.

use gatehouse_core::authn::ClientAuth;
use gatehouse_core::caps::Role;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::model::{Site, SiteId, UserId};
use gatehouse_core::store::{
    ApiKeyMatch, AppPasswordMatch, Epochs, SessionMatch, Store, StoreError, TokenMatch,
};
use quick_cache::sync::Cache;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often the watcher reads the change counter (SPEC §11 allows 1 s in all).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The cache answers only this long after a successful poll.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Credentials of each kind kept at most.
const CREDENTIALS: usize = 10_000;
/// Hosts (with their site, or none) and (site, user) roles kept at most.
const SITES: usize = 1_024;
const ROLES: usize = 10_000;
/// List answers kept at most, of each kind, in number and in bytes; a larger answer than
/// `PAGE_BYTES_MAX` is made again each time rather than kept.
const PAGES: usize = 1_024;
const PAGES_BYTES: u64 = 4 * 1024 * 1024;
const PAGE_BYTES_MAX: usize = 256 * 1024;
/// An entry older than this is loaded again even if nothing moved the counter.
const MAX_AGE_SECS: i64 = 300;
/// `last_use` of an entry whose row records no use yet.
const NEVER: i64 = i64::MIN;

struct Entry<T> {
    value: T,
    loaded_at: Timestamp,
    /// The last recorded use (`NEVER` when none), shared by every request this entry serves.
    last_use: AtomicI64,
}

/// A stored row with a "last used" time the cache keeps current.
pub trait Used: Clone + Send + Sync + 'static {
    fn last_use(&self) -> Option<Timestamp>;
    fn with_last_use(self, t: Option<Timestamp>) -> Self;
    /// Seconds between two recorded uses.
    const INTERVAL: i64 = gatehouse_core::credentials::TOUCH_INTERVAL_SECS;
    /// Whether a use at `now` of this row (with its last use as recorded) may be recorded: a
    /// session that idled out stays ended, however soon it is presented again.
    fn may_record(&self, _now: Timestamp) -> bool {
        true
    }
}

impl Used for ApiKeyMatch {
    fn last_use(&self) -> Option<Timestamp> {
        self.key.last_used_at
    }
    fn with_last_use(mut self, t: Option<Timestamp>) -> Self {
        self.key.last_used_at = t;
        self
    }
}

impl Used for AppPasswordMatch {
    fn last_use(&self) -> Option<Timestamp> {
        self.password.last_used_at
    }
    fn with_last_use(mut self, t: Option<Timestamp>) -> Self {
        self.password.last_used_at = t;
        self
    }
}

impl Used for TokenMatch {
    fn last_use(&self) -> Option<Timestamp> {
        self.grant.last_used_at
    }
    fn with_last_use(mut self, t: Option<Timestamp>) -> Self {
        self.grant.last_used_at = t;
        self
    }
}

impl Used for SessionMatch {
    fn last_use(&self) -> Option<Timestamp> {
        Some(self.session.last_seen_at)
    }
    fn with_last_use(mut self, t: Option<Timestamp>) -> Self {
        if let Some(t) = t {
            self.session.last_seen_at = t;
        }
        self
    }
    const INTERVAL: i64 = gatehouse_core::sessions::TOUCH_SECS;
    fn may_record(&self, now: Timestamp) -> bool {
        gatehouse_core::sessions::is_live(&self.session, now) && !self.user.disabled
    }
}

/// Values that are not credentials carry no use.
#[derive(Clone)]
struct Plain<T>(T);

impl<T: Clone + Send + Sync + 'static> Used for Plain<T> {
    fn last_use(&self) -> Option<Timestamp> {
        None
    }
    fn with_last_use(self, _: Option<Timestamp>) -> Self {
        self
    }
}

type Map<K, T> = Cache<K, Arc<Entry<T>>>;
/// List answers, weighed by their size: bounded in bytes, not only in count.
type PageMap = Cache<(&'static str, String), Arc<Entry<Plain<Kept>>>, BySize>;

/// The weight of a kept list answer: its bytes and its key's.
#[derive(Clone)]
struct BySize;

impl quick_cache::Weighter<(&'static str, String), Arc<Entry<Plain<Kept>>>> for BySize {
    fn weight(&self, key: &(&'static str, String), e: &Arc<Entry<Plain<Kept>>>) -> u64 {
        u64::try_from(key.1.len() + e.value.0.body.len() + 64).unwrap_or(u64::MAX)
    }
}
/// (route, site id, user id).
pub type BodyKey = (&'static str, i64, i64);

pub struct ReadCache {
    /// Moved (under the write lock) by every drop; a load that began under an older generation
    /// is not stored.
    generation: RwLock<u64>,
    /// The change counters as last read (`None` before the first read).
    epoch: RwLock<Option<Epochs>>,
    /// Milliseconds since `started` until which the cache may answer (0: not yet).
    fresh_until_ms: AtomicU64,
    started: Instant,
    /// False (the `cache` setting): every look-up goes to the store.
    enabled: bool,
    watching: AtomicBool,
    counters: crate::telemetry::CacheCounters,
    api_keys: Map<String, ApiKeyMatch>,
    app_passwords: Map<String, AppPasswordMatch>,
    access_tokens: Map<String, TokenMatch>,
    sessions: Map<String, SessionMatch>,
    clients: Map<i64, Plain<ClientAuth>>,
    sites: Map<String, Plain<Option<Site>>>,
    roles: Map<(i64, i64), Plain<Option<Role>>>,
    /// Response bodies: (route, site id, user id, fingerprint of what it was made from) → JSON.
    bodies: Map<(&'static str, i64, i64, u64), Plain<bytes::Bytes>>,
    /// List answers made from sites and memberships only: (route, what it is made from) →
    /// answer. The key is the whole description, not a hash of it: two requests share an
    /// answer only when everything it is made from is equal.
    pages: PageMap,
    /// List answers made from posts or comments too, dropped also when the content counter
    /// moves.
    content_pages: PageMap,
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("enabled", &self.enabled)
            .field("epoch", &self.epoch.read().ok().and_then(|e| *e))
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    pub fn new(enabled: bool, counters: crate::telemetry::CacheCounters) -> ReadCache {
        ReadCache {
            generation: RwLock::new(0),
            epoch: RwLock::new(None),
            fresh_until_ms: AtomicU64::new(0),
            started: Instant::now(),
            enabled,
            watching: AtomicBool::new(false),
            counters,
            api_keys: Cache::new(CREDENTIALS),
            app_passwords: Cache::new(CREDENTIALS),
            access_tokens: Cache::new(CREDENTIALS),
            sessions: Cache::new(CREDENTIALS),
            clients: Cache::new(CREDENTIALS),
            sites: Cache::new(SITES),
            roles: Cache::new(ROLES),
            bodies: Cache::new(CREDENTIALS),
            pages: Cache::with_weighter(PAGES, PAGES_BYTES, BySize),
            content_pages: Cache::with_weighter(PAGES, PAGES_BYTES, BySize),
            wake: tokio::sync::Notify::new(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the cache may answer now: enabled, and polled successfully within `FRESH_FOR`.
    fn fresh(&self) -> bool {
        self.enabled && self.elapsed_ms() < self.fresh_until_ms.load(Ordering::Acquire)
    }

    fn generation(&self) -> u64 {
        *self.generation.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops what is kept — everything, or (`content_only`: the content counter moved) only
    /// the answers made from posts and comments; loads that began before this are not stored
    /// afterwards.
    fn drop_kept(&self, content_only: bool) {
        let mut g = self.generation.write().unwrap_or_else(|e| e.into_inner());
        *g += 1;
        self.counters.drops.inc();
        self.content_pages.clear();
        if content_only {
            return;
        }
        self.api_keys.clear();
        self.app_passwords.clear();
        self.access_tokens.clear();
        self.sessions.clear();
        self.clients.clear();
        self.sites.clear();
        self.roles.clear();
        self.bodies.clear();
        self.pages.clear();
    }

    /// Reads the change counter and drops everything if it moved. Called by the watcher and
    /// after each request with an unsafe method. A failed read stops the cache answering.
    pub async fn sync(&self, store: &dyn Store) {
        if !self.enabled {
            return;
        }
        let started = self.elapsed_ms();
        // A read that takes longer than the cache may answer for (a locked table, a stalled
        // database) pauses the cache instead of holding up the request that waits for it.
        let read = tokio::time::timeout(FRESH_FOR, store.change_epoch())
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Backend(
                    "the change counter did not answer within a second".into(),
                ))
            });
        match read {
            Ok(n) => {
                let mut epoch = self.epoch.write().unwrap_or_else(|e| e.into_inner());
                // The counters only grow; a smaller value is a read that raced a newer one.
                match *epoch {
                    None => {
                        self.drop_kept(false);
                        *epoch = Some(n);
                    }
                    Some(seen) => {
                        if n.changes > seen.changes {
                            self.drop_kept(false);
                        } else if n.content > seen.content {
                            self.drop_kept(true);
                        }
                        *epoch = Some(Epochs {
                            changes: n.changes.max(seen.changes),
                            content: n.content.max(seen.content),
                        });
                    }
                }
                drop(epoch);
                let until = started + u64::try_from(FRESH_FOR.as_millis()).unwrap_or(1000);
                self.fresh_until_ms.fetch_max(until, Ordering::AcqRel);
            }
            Err(e) => {
                self.fresh_until_ms.store(0, Ordering::Release);
                self.drop_kept(false);
                tracing::warn!(error = %e, "could not read the change counter; caching paused");
            }
        }
    }

    /// Keeps the cache fresh until the returned task is aborted: polls every `POLL_INTERVAL`,
    /// and at once when the store's push channel (PostgreSQL `NOTIFY`) says something changed.
    pub fn watch(self: &Arc<Self>, store: Arc<dyn Store>) -> Option<tokio::task::JoinHandle<()>> {
        if !self.enabled || self.watching.swap(true, Ordering::AcqRel) {
            return None;
        }
        let me = self.clone();
        let woken = self.clone();
        store.listen_for_changes(Arc::new(move || woken.wake.notify_one()));
        Some(tokio::spawn(async move {
            loop {
                me.sync(store.as_ref()).await;
                tokio::select! {
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = me.wake.notified() => {}
                }
            }
        }))
    }

    /// The cached value for `key`, or `load`'s, stored when it found something and nothing
    /// was dropped meanwhile.
    async fn get<K, T, F, W>(
        &self,
        map: &Cache<K, Arc<Entry<T>>, W>,
        key: K,
        now: Timestamp,
        load: F,
    ) -> Result<Option<T>, StoreError>
    where
        K: Eq + Hash + Clone,
        T: Used,
        F: Future<Output = Result<Option<T>, StoreError>>,
        W: quick_cache::Weighter<K, Arc<Entry<T>>> + Clone,
    {
        self.get_if(map, key, now, load, |_| true).await
    }

    /// `get`, storing only what `keep` accepts.
    async fn get_if<K, T, F, W>(
        &self,
        map: &Cache<K, Arc<Entry<T>>, W>,
        key: K,
        now: Timestamp,
        load: F,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, StoreError>
    where
        K: Eq + Hash + Clone,
        T: Used,
        F: Future<Output = Result<Option<T>, StoreError>>,
        W: quick_cache::Weighter<K, Arc<Entry<T>>> + Clone,
    {
        if !self.fresh() {
            return load.await;
        }
        if let Some(e) = map.get(&key) {
            if now - e.loaded_at < MAX_AGE_SECS && e.loaded_at <= now {
                self.counters.hits.inc();
                return Ok(Some(claim(&e, now)));
            }
        }
        self.counters.misses.inc();
        let generation = self.generation();
        let Some(value) = load.await? else {
            return Ok(None);
        };
        if !keep(&value) {
            return Ok(Some(value));
        }
        let entry = Arc::new(Entry {
            last_use: AtomicI64::new(value.last_use().unwrap_or(NEVER)),
            value,
            loaded_at: now,
        });
        let presented = claim(&entry, now);
        let g = self.generation.read().unwrap_or_else(|e| e.into_inner());
        if *g == generation {
            map.insert(key, entry);
        }
        Ok(Some(presented))
    }

    pub async fn session(
        &self,
        store: &dyn Store,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionMatch>, StoreError> {
        self.get(
            &self.sessions,
            hash.to_string(),
            now,
            store.find_session_by_hash(hash),
        )
        .await
    }

    /// The site `find` resolves for `host` (`None`: the request named no host).
    pub async fn site<F>(
        &self,
        host: Option<&str>,
        now: Timestamp,
        find: F,
    ) -> Result<Option<Site>, StoreError>
    where
        F: Future<Output = Result<Option<Site>, StoreError>>,
    {
        // A miss is cached here (a new site moves the counter), under a key no host can spell.
        let key = host.map_or_else(|| "\0".to_string(), str::to_ascii_lowercase);
        let found = self
            .get(&self.sites, key, now, async {
                find.await.map(|s| Some(Plain(s)))
            })
            .await?;
        Ok(found.and_then(|p| p.0))
    }

    /// The site with this id (`None`: there is none; kept too, since a new site moves the
    /// counter), under a key no host can spell.
    pub async fn site_by_id(
        &self,
        store: &dyn Store,
        id: SiteId,
        now: Timestamp,
    ) -> Result<Option<Site>, StoreError> {
        let found = self
            .get(&self.sites, format!("#{}", id.0), now, async {
                match store.get_site(id).await {
                    Ok(s) => Ok(Some(Plain(Some(s)))),
                    Err(StoreError::NotFound) => Ok(Some(Plain(None))),
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(found.and_then(|p| p.0))
    }

    /// The body `make` serialises for `key`, kept under `fingerprint` too — a hash of
    /// everything `make` reads, from this request's own rows — so a kept body is never older
    /// than the rows the request itself was answered with.
    pub async fn body(
        &self,
        key: BodyKey,
        fingerprint: u64,
        now: Timestamp,
        make: impl FnOnce() -> bytes::Bytes,
    ) -> Result<bytes::Bytes, StoreError> {
        let (route, site, user) = key;
        let made = async { Ok(Some(Plain(make()))) };
        let kept = self.get(&self.bodies, (route, site, user, fingerprint), now, made);
        // `made` always finds a body, so `None` does not happen.
        Ok(kept.await?.map(|p| p.0).unwrap_or_default())
    }

    /// A list answer kept under `key` — the route and a description of everything the answer
    /// is made from besides the rows (the site, the filter, the context, the query) — or the
    /// one `make` makes from the database. `content`: made from posts or comments, so dropped
    /// when they change too. Who may see the list is decided before, on every request.
    pub async fn page<F>(
        &self,
        key: (&'static str, String),
        content: bool,
        now: Timestamp,
        make: F,
    ) -> Result<Kept, StoreError>
    where
        F: Future<Output = Result<Kept, StoreError>>,
    {
        let map = if content {
            &self.content_pages
        } else {
            &self.pages
        };
        let made = async { make.await.map(|k| Some(Plain(k))) };
        let small = |k: &Plain<Kept>| k.0.body.len() <= PAGE_BYTES_MAX;
        // `made` finds an answer or fails, so `None` does not happen.
        Ok(self
            .get_if(map, key, now, made, small)
            .await?
            .map(|p| p.0)
            .unwrap_or_default())
    }

    /// `user`'s role on `site`.
    pub async fn role(
        &self,
        store: &dyn Store,
        site: SiteId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<Role>, StoreError> {
        let found = self
            .get(&self.roles, (site.0, user.0), now, async {
                store.find_role(site, user).await.map(|r| Some(Plain(r)))
            })
            .await?;
        Ok(found.and_then(|p| p.0))
    }
}

/// A list answer as kept: the serialised body and the number of rows in all pages.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    pub body: bytes::Bytes,
    pub total: i64,
}

/// A fingerprint of `parts` for `ReadCache::body`.
pub fn fingerprint(parts: &[&str]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// A response extension: this unsafe-method request changed nothing an instance keeps (it
/// only made new credentials, which are never kept before they are used, or it only read), so
/// the change counter need not be read before it is answered.
#[derive(Debug, Clone, Copy)]
pub struct Unchanged;

/// A response extension: this safe-method request changed something cached (WordPress's
/// log-out link is a GET), so the change counter is read before it is answered.
#[derive(Debug, Clone, Copy)]
pub struct Changed;

/// The row to present to this request, with its last use: the recorded one when this request
/// is the one that records a use now (so it sees the use as due), else the newest recorded. A
/// use the row does not allow (an idled-out session) is not recorded.
fn claim<T: Used>(e: &Entry<T>, now: Timestamp) -> T {
    let at = |t: i64| (t != NEVER).then_some(t);
    let last = e.last_use.load(Ordering::Acquire);
    let value = e.value.clone().with_last_use(at(last));
    let due = last == NEVER || now - last >= T::INTERVAL;
    if !due || !value.may_record(now) {
        return value;
    }
    match e
        .last_use
        .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => value,
        // Another request recorded this use first.
        Err(newer) => value.with_last_use(at(newer)),
    }
}

/// The credential look-ups of `core::authn` through this server's cache.
#[async_trait::async_trait]
impl gatehouse_core::authn::Lookup for crate::app::AppState {
    async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyMatch>, StoreError> {
        let c = &self.cache;
        let load = self.store.find_api_key_by_hash(hash);
        c.get(&c.api_keys, hash.to_string(), self.clock.now(), load)
            .await
    }
    async fn app_password(&self, hash: &str) -> Result<Option<AppPasswordMatch>, StoreError> {
        let c = &self.cache;
        let load = self.store.find_app_password_by_hash(hash);
        c.get(&c.app_passwords, hash.to_string(), self.clock.now(), load)
            .await
    }
    async fn access_token(&self, hash: &str) -> Result<Option<TokenMatch>, StoreError> {
        let c = &self.cache;
        let load = self.store.find_token_by_hash(hash);
        // Only access tokens are kept: a refresh token's state is single-use.
        let access = |m: &TokenMatch| m.token.kind == gatehouse_core::oauth2::TokenKind::Access;
        c.get_if(
            &c.access_tokens,
            hash.to_string(),
            self.clock.now(),
            load,
            access,
        )
        .await
    }
    async fn client(
        &self,
        id: gatehouse_core::model::ClientId,
    ) -> Result<Option<ClientAuth>, StoreError> {
        let c = &self.cache;
        let load = async { Ok(self.store.find_client_auth(id).await?.map(Plain)) };
        let found = c.get(&c.clients, id.0, self.clock.now(), load).await?;
        Ok(found.map(|p| p.0))
    }
}
