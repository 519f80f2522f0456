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
use gatehouse_core::oauth2::{Grant, NewGrant, NewToken, Rotation, Token};
use gatehouse_core::store::{StoreError, StoreResult};
use std::sync::Mutex;
use tokio::sync::oneshot::Sender;

/// Writes done together at most (bounded by the token statement's parameters: 7 per token).
pub(crate) const MAX_BATCH: usize = 64;

/// One request's write, waiting.
pub(crate) enum Work {
    /// A new grant and its first tokens.
    Grant {
        grant: NewGrant,
        tokens: Vec<NewToken>,
        now: Timestamp,
        done: Sender<StoreResult<(Grant, Vec<Token>)>>,
    },
    /// The rotation of the refresh token with this hash into `tokens`.
    Rotate {
        hash: String,
        tokens: Vec<NewToken>,
        now: Timestamp,
        done: Sender<StoreResult<Rotation>>,
    },
}

/// What a write came to.
pub(crate) enum Answer {
    Grant((Grant, Vec<Token>)),
    Rotate(Rotation),
}

impl Work {
    /// The new tokens this write makes.
    pub(crate) fn tokens(&self) -> &[NewToken] {
        match self {
            Work::Grant { tokens, .. } | Work::Rotate { tokens, .. } => tokens,
        }
    }
    pub(crate) fn now(&self) -> Timestamp {
        match self {
            Work::Grant { now, .. } | Work::Rotate { now, .. } => *now,
        }
    }
    /// Sends `answer` to the request that queued this write (gone: nothing to do).
    pub(crate) fn answer(self, answer: StoreResult<Answer>) {
        let mismatch = || StoreError::Backend("a batched write got another kind's answer".into());
        match self {
            Work::Grant { done, .. } => {
                let _ = done.send(answer.and_then(|a| match a {
                    Answer::Grant(g) => Ok(g),
                    Answer::Rotate(_) => Err(mismatch()),
                }));
            }
            Work::Rotate { done, .. } => {
                let _ = done.send(answer.and_then(|a| match a {
                    Answer::Rotate(r) => Ok(r),
                    Answer::Grant(_) => Err(mismatch()),
                }));
            }
        }
    }
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
