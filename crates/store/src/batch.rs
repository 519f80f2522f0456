//! Group commit for the token endpoint's durable writes — new grants with their first tokens,
//! and refresh-token rotations: a request queues its write, and whichever request gets the turn
//! writes everything queued in one transaction and answers each. SQLite admits one writer at a
//! time, so a transaction per request made the token endpoint's rate one over a transaction's
//! time; together, the fixed part (`BEGIN`, `COMMIT`, the writer turn, one statement for all the
//! new tokens) is paid once per batch. A rotation is still decided by its own single-use
//! statement inside the batch, so of two presentations of one refresh token exactly one rotates
//! it. A batch that fails as a whole (a grant whose client was deleted meanwhile) is written
//! again one request per transaction, so each gets its own answer and nothing half-written stays.

use gatehouse_core::clock::Timestamp;
use gatehouse_core::oauth2::{NewGrant, NewToken, Rotation};
use gatehouse_core::store::StoreResult;
use std::sync::Mutex;
use tokio::sync::oneshot::Sender;

/// Writes done together at most (bounded by the token statement's parameters: 7 per token).
pub(crate) const MAX_BATCH: usize = 64;

/// One request's write, waiting: its new tokens, under a new grant or under the grant of the
/// refresh token it rotates. Either is answered as a rotation — a new grant as `Rotated` with
/// its grant and tokens.
pub(crate) struct Work {
    pub what: What,
    pub tokens: Vec<NewToken>,
    pub now: Timestamp,
    pub done: Sender<StoreResult<Rotation>>,
}

pub(crate) enum What {
    /// A new grant.
    Grant(NewGrant),
    /// The rotation of the refresh token with this hash.
    Rotate(String),
}

/// The writes waiting, and the turn of the request that writes them.
#[derive(Default)]
pub(crate) struct WriteQueue {
    waiting: Mutex<Vec<Work>>,
    turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteQueue")
    }
}

impl WriteQueue {
    pub(crate) fn push(&self, work: Work) {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(work);
    }

    /// Up to `MAX_BATCH` waiting writes, oldest first.
    pub(crate) fn take(&self) -> Vec<Work> {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let n = w.len().min(MAX_BATCH);
        w.drain(..n).collect()
    }

    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }
}
