//! Group commit for new grants (the token endpoint's one durable write): a request that has a
//! grant to write queues it, and whichever request gets the turn writes every queued grant and
//! its tokens in one transaction and answers each. SQLite admits one writer at a time, so a
//! transaction per request made the token endpoint's rate one over a transaction's time;
//! together, the fixed part (`BEGIN`, `COMMIT`, the writer turn) is paid once per batch.
//! A batch that fails as a whole (one grant's client deleted meanwhile) is written again one
//! grant per transaction, so each request gets its own answer and nothing half-written stays.

use gatehouse_core::clock::Timestamp;
use gatehouse_core::oauth2::{Grant, NewGrant, NewToken, Token};
use gatehouse_core::store::StoreResult;
use std::sync::Mutex;

/// Grants written together at most (bounded by the statement's parameters: 7 per token).
pub(crate) const MAX_BATCH: usize = 64;

/// One request's grant, waiting to be written.
pub(crate) struct GrantJob {
    pub grant: NewGrant,
    pub tokens: Vec<NewToken>,
    pub now: Timestamp,
    pub done: tokio::sync::oneshot::Sender<StoreResult<(Grant, Vec<Token>)>>,
}

/// The grants waiting, and the turn of the request that writes them.
#[derive(Default)]
pub(crate) struct GrantQueue {
    waiting: Mutex<Vec<GrantJob>>,
    turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GrantQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrantQueue")
    }
}

impl GrantQueue {
    pub(crate) fn push(&self, job: GrantJob) {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(job);
    }

    /// Up to `MAX_BATCH` waiting grants, oldest first.
    pub(crate) fn take(&self) -> Vec<GrantJob> {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let n = w.len().min(MAX_BATCH);
        w.drain(..n).collect()
    }

    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }
}
