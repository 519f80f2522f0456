//! Group commit for the token endpoint's durable writes — new grants with their first tokens,
//! refresh-token rotations, and the code exchange's two writes (using up a code, recording the
//! grant it was redeemed for): a request queues its write, and whichever request gets the turn
//! writes everything queued in one transaction and answers each. SQLite admits one writer at a
//! time, so a transaction per request made the token endpoint's rate one over a transaction's
//! time; together, the fixed part (`BEGIN`, `COMMIT`, the writer turn, one statement per kind of
//! write) is paid once per batch. A single-use write (a rotation, a code's use) is still decided
//! by a conditional statement on its row inside the batch, so of two presentations of one refresh
//! token or code exactly one succeeds — within a batch, the first queued. A batch that fails as a
//! whole (a grant whose client was deleted meanwhile) is written again one request per
//! transaction, so each gets its own answer and nothing half-written stays.
//! Hot look-ups are read together the same way (`Reads`).

use gatehouse_core::authn::ClientAuth;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::model::{ClientId, GrantId, User, UserId};
use gatehouse_core::oauth2::{Code, NewGrant, NewToken, Rotation};
use gatehouse_core::store::StoreResult;
use std::sync::Mutex;
use tokio::sync::oneshot::Sender;

/// Writes done together at most (bounded by the token statement's parameters: 7 per token).
pub(crate) const MAX_BATCH: usize = 64;

/// One request's write, waiting, with the new tokens it brings (a new grant's or a rotation's).
pub(crate) struct Work {
    pub what: What,
    pub tokens: Vec<NewToken>,
    pub now: Timestamp,
    pub done: Sender<StoreResult<Done>>,
}

pub(crate) enum What {
    /// A new grant (answered as `Rotated` with its grant and tokens).
    Grant(NewGrant),
    /// The rotation of the refresh token with this hash.
    Rotate(String),
    /// Using up the code with this hash (answered with the code, if this write used it).
    UseCode(String),
    /// Recording the grant a code was redeemed for (answered with whether a replay of the code
    /// was seen meanwhile).
    CodeGrant(String, GrantId),
}

/// The answer to one write, by its kind.
#[derive(Debug)]
pub(crate) enum Done {
    Rotation(Rotation),
    Code(Option<Code>),
    CodeReplayed(bool),
}

/// Jobs waiting, and the turn of whichever waiting request does them for everyone. The turn is
/// held by a task of its own that does the work (`tokio::spawn`), never by a request's future: a
/// request is dropped when its client goes away, and work cut short there would fail every other
/// request in it and could leave a transaction open on a pooled connection.
pub(crate) struct Queue<J> {
    waiting: Mutex<Vec<J>>,
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl<J> Default for Queue<J> {
    fn default() -> Self {
        Queue {
            waiting: Mutex::new(Vec::new()),
            turn: Default::default(),
        }
    }
}

impl<J> std::fmt::Debug for Queue<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl<J: Send + 'static> Queue<J> {
    /// Queues `job` and waits for its answer on `answer`. Whenever this request gets the turn
    /// before its answer came, it takes the jobs waiting (`take`: how many from the oldest, at
    /// least one) and starts `work` on them as a task that holds the turn until it has answered
    /// every one — so a request whose job was taken finds its answer next time round.
    pub(crate) async fn wait<T, W, Fut>(
        &self,
        job: J,
        mut answer: tokio::sync::oneshot::Receiver<StoreResult<T>>,
        take: fn(&[J]) -> usize,
        work: W,
    ) -> StoreResult<T>
    where
        W: Fn(Vec<J>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(job);
        loop {
            tokio::select! {
                biased;
                a = &mut answer => {
                    return a.unwrap_or_else(|_| {
                        Err(gatehouse_core::store::StoreError::Backend("the work was interrupted".into()))
                    });
                }
                turn = self.turn.clone().lock_owned() => {
                    let jobs: Vec<J> = {
                        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
                        let n = take(&w).max(1).min(w.len());
                        w.drain(..n).collect()
                    };
                    if jobs.is_empty() {
                        continue;
                    }
                    let working = work(jobs);
                    tokio::spawn(async move {
                        working.await;
                        drop(turn);
                    });
                }
            }
        }
    }
}

/// The token endpoint's writes waiting (`Work`), written together up to `MAX_BATCH` at a time.
pub(crate) type WriteQueue = Queue<Work>;

/// How many of the waiting writes one batch takes.
pub(crate) fn batch_of(waiting: &[Work]) -> usize {
    waiting.len().min(MAX_BATCH)
}

/// Look-ups made by many requests at once, answered by one statement: a request queues the keys
/// it wants, and whichever waiting request gets the turn reads everything queued (`key IN (…)`)
/// and answers each with the rows of its own keys. The profile of the token endpoint and of
/// introspection was dominated by hand-offs to the database's connection threads (SQLite) or
/// round trips (PostgreSQL), one per statement; together, one per batch. Nothing is kept: every
/// answer comes from a statement begun after its request was queued, so a throttle counter or a
/// client read this way is as fresh as one read alone.
pub(crate) struct Reads<K, V> {
    queue: Queue<ReadJob<K, V>>,
}

struct ReadJob<K, V> {
    keys: Vec<K>,
    done: Sender<StoreResult<Vec<V>>>,
}

/// Keys read together at most (well under either database's limit on a statement's parameters).
const MAX_READ_KEYS: usize = 512;

impl<K, V> Default for Reads<K, V> {
    fn default() -> Self {
        Reads {
            queue: Queue::default(),
        }
    }
}

impl<K, V> std::fmt::Debug for Reads<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reads")
    }
}

impl<K, V> Reads<K, V>
where
    K: Clone + Eq + std::hash::Hash + Send + 'static,
    V: Clone + Send + 'static,
{
    /// The rows for `keys` (those that exist), read together with the keys of the other
    /// requests waiting at the same time. `fetch` makes the read of a set of distinct keys (a
    /// future owning what it needs: it runs in a task of its own, see `Queue`); `key_of` names
    /// the key a row answers.
    pub(crate) async fn get<F, Fut>(
        &self,
        keys: Vec<K>,
        key_of: fn(&V) -> &K,
        fetch: F,
    ) -> StoreResult<Vec<V>>
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: std::future::Future<Output = StoreResult<Vec<V>>> + Send + 'static,
    {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (done, answer) = tokio::sync::oneshot::channel();
        self.queue
            .wait(ReadJob { keys, done }, answer, up_to_max_keys, |jobs| {
                let mut distinct = std::collections::HashSet::new();
                let keys: Vec<K> = jobs
                    .iter()
                    .flat_map(|j| j.keys.iter())
                    .filter(|k| distinct.insert(*k))
                    .cloned()
                    .collect();
                let read = fetch(keys);
                async move { Self::answer(jobs, key_of, read.await) }
            })
            .await
    }

    fn answer(jobs: Vec<ReadJob<K, V>>, key_of: fn(&V) -> &K, read: StoreResult<Vec<V>>) {
        match read {
            Ok(rows) => {
                let mut by_key: std::collections::HashMap<K, Vec<V>> =
                    std::collections::HashMap::new();
                for row in rows {
                    by_key.entry(key_of(&row).clone()).or_default().push(row);
                }
                for job in jobs {
                    let mine = job
                        .keys
                        .iter()
                        .filter_map(|k| by_key.get(k))
                        .flatten()
                        .cloned()
                        .collect();
                    let _ = job.done.send(Ok(mine));
                }
            }
            Err(e) => {
                for job in jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// How many waiting look-ups one read takes: the oldest, up to `MAX_READ_KEYS` keys.
fn up_to_max_keys<K, V>(waiting: &[ReadJob<K, V>]) -> usize {
    let mut keys = 0;
    waiting
        .iter()
        .take_while(|j| {
            keys += j.keys.len();
            keys <= MAX_READ_KEYS
        })
        .count()
}

/// The look-ups read together (`Reads`), one queue per kind.
#[derive(Debug, Default)]
pub(crate) struct ReadQueues {
    /// Throttle counters by key: every check of a guessable secret reads them.
    pub throttle: Reads<String, gatehouse_core::store::ThrottleRow>,
    /// Clients with their stored secret: the token endpoint authenticates its client fresh.
    pub clients: Reads<ClientId, ClientAuth>,
    /// Users by id (the token endpoint's client owner, a code's user).
    pub users: Reads<UserId, User>,
    /// OAuth 2.0 tokens by keyed hash, with their grant and user (a refresh token presented,
    /// an access token the read cache does not hold).
    pub tokens: Reads<String, (String, gatehouse_core::store::TokenMatch)>,
}

pub(crate) fn throttle_key(r: &gatehouse_core::store::ThrottleRow) -> &String {
    &r.key
}
pub(crate) fn client_key(c: &ClientAuth) -> &ClientId {
    &c.0.id
}
pub(crate) fn user_key(u: &User) -> &UserId {
    &u.id
}
pub(crate) fn token_key(t: &(String, gatehouse_core::store::TokenMatch)) -> &String {
    &t.0
}
