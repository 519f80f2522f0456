//! Throttling arithmetic for guessable secrets (SPEC §2): per (account, address group) after N
//! consecutive failures, a block that doubles up to a ceiling; per address group, M failures in a
//! window. Owns the numbers and keys; the counting itself is one atomic statement in the store.
//! Invariant: nothing here can lock an account for everyone — every key includes the address.

use crate::clock::Timestamp;
use serde::Deserialize;

/// Tunables, all configurable (`[throttle]` in the config file).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottlePolicy {
    /// Consecutive failures for one (account, address) pair before it is blocked.
    pub pair_failures: i64,
    /// First block, in seconds; each further failure doubles it.
    pub pair_base_secs: i64,
    /// Longest block, in seconds (15 minutes).
    pub pair_max_secs: i64,
    /// Failures from one address group within `address_window_secs` before it is blocked.
    pub address_failures: i64,
    pub address_window_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            pair_failures: 10,
            pair_base_secs: 30,
            pair_max_secs: 900,
            address_failures: 100,
            address_window_secs: 300,
        }
    }
}

/// The counter key for one presented name (login or email, compared case-insensitively) from one
/// address group. Counters are kept per *name as presented*, never per resolved account: if a
/// login and its email shared a counter, blocking one would block the other, and that difference
/// would tell an attacker which names exist and which email belongs to which login. The price is
/// that an account with two names (login and email) has two budgets. The group (an IP address or
/// a /64) never contains `|`, so the last `|` separates it and no two pairs share a key.
/// The name is stored as a SHA-256 digest: keys have a fixed length whatever is presented (a
/// database index cannot take an arbitrarily long key), and the table holds no typed-in names.
pub fn pair_key(name: &str, group: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.to_lowercase().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("pair:n:{hex}|{group}")
}

/// The counter key for one address group.
pub fn address_key(group: &str) -> String {
    format!("addr:{group}")
}

impl ThrottlePolicy {
    /// After `failures` consecutive failures of a pair, until when is it blocked (if at all)?
    pub fn pair_blocked_until(&self, failures: i64, now: Timestamp) -> Option<Timestamp> {
        if failures < self.pair_failures {
            return None;
        }
        let doublings = (failures - self.pair_failures).min(20) as u32;
        let secs = self
            .pair_base_secs
            .saturating_mul(1i64 << doublings)
            .min(self.pair_max_secs);
        Some(now + secs)
    }

    /// After `failures` in the window that began at `window_start`, until when is the address
    /// blocked (if at all)?
    pub fn address_blocked_until(
        &self,
        failures: i64,
        window_start: Timestamp,
    ) -> Option<Timestamp> {
        (failures >= self.address_failures).then_some(window_start + self.address_window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_block_starts_at_threshold_and_doubles_to_ceiling() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.pair_blocked_until(9, 100), None);
        assert_eq!(p.pair_blocked_until(10, 100), Some(130));
        assert_eq!(p.pair_blocked_until(11, 100), Some(160));
        assert_eq!(p.pair_blocked_until(12, 100), Some(220));
        assert_eq!(p.pair_blocked_until(40, 100), Some(1000));
        assert_eq!(p.pair_blocked_until(i64::MAX, 0), Some(900));
    }

    #[test]
    fn address_block_ends_with_the_window() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.address_blocked_until(99, 50), None);
        assert_eq!(p.address_blocked_until(100, 50), Some(350));
    }

    #[test]
    fn keys_fold_case_and_include_the_address() {
        assert_eq!(
            pair_key("Admin", "1.2.3.4"),
            "pair:n:8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918|1.2.3.4"
        );
        assert_eq!(pair_key("ADMIN", "1.2.3.4"), pair_key("admin", "1.2.3.4"));
        assert_ne!(pair_key("admin", "1.2.3.4"), pair_key("admin", "1.2.3.5"));
        assert_ne!(pair_key("admin", "1.2.3.4"), pair_key("admin@x", "1.2.3.4"));
        let long = "x".repeat(100_000);
        assert!(pair_key(&long, "2001:db8::/64").len() < 100, "bounded");
        assert_eq!(address_key("2001:db8::/64"), "addr:2001:db8::/64");
    }
}

/// How long a (pair, address) failure counter is remembered without a new failure.
pub const PAIR_MEMORY_SECS: i64 = 86_400;

/// The outcome of consulting the throttle before a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Not blocked; `counted`: the pair has failures on record (a success clears them).
    Open {
        counted: bool,
    },
    Blocked {
        retry_after: i64,
    },
}

/// Consults the counters of the name `name` from `group` (one indexed read).
pub async fn gate(
    store: &dyn crate::store::Store,
    name: &str,
    group: &str,
    now: Timestamp,
) -> Result<Gate, crate::store::StoreError> {
    let pair = pair_key(name, group);
    let rows = store
        .throttle_get(&[pair.clone(), address_key(group)])
        .await?;
    let until = rows.iter().map(|r| r.blocked_until).max().unwrap_or(0);
    if until > now {
        return Ok(Gate::Blocked {
            retry_after: until - now,
        });
    }
    Ok(Gate::Open {
        counted: rows.iter().any(|r| r.key == pair && r.failures > 0),
    })
}

/// Counts an attempt at the pair `pair` (`pair_key`) as in flight before its (Argon2id) check, in
/// one atomic statement: of a burst of parallel attempts only as many are checked at once as the
/// pair's budget allows (SPEC §11: counted things are decided by the database, never in
/// process). False when it holds no place: see [`standing`].
pub async fn attempt(
    store: &dyn crate::store::Store,
    policy: &ThrottlePolicy,
    pair: &str,
    now: Timestamp,
) -> Result<bool, crate::store::StoreError> {
    Ok(store
        .throttle_attempt(pair, now, PAIR_MEMORY_SECS, policy)
        .await?
        .is_some())
}

/// Where a pair stands for an attempt that holds no place (one read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Blocked {
        retry_after: i64,
    },
    /// Its budget has room: the attempt may ask the database again.
    Room,
    /// Checks in flight fill its budget: wait for their outcome.
    Full,
}

/// Where the pair `pair` stands: blocked, with room in its budget, or full of checks in flight.
pub async fn standing(
    store: &dyn crate::store::Store,
    policy: &ThrottlePolicy,
    pair: &str,
    now: Timestamp,
) -> Result<Standing, crate::store::StoreError> {
    let rows = store.throttle_get(&[pair.to_string()]).await?;
    let Some(row) = rows.iter().find(|r| r.key == pair) else {
        return Ok(Standing::Room);
    };
    if row.blocked_until > now {
        return Ok(Standing::Blocked {
            retry_after: row.blocked_until - now,
        });
    }
    // As `throttle_attempt` counts them: old failures and lapsed places are none.
    let failures = if row.window_start < now - PAIR_MEMORY_SECS {
        0
    } else {
        row.failures
    };
    let pending = if row.pending_until < now {
        0
    } else {
        row.pending
    };
    Ok(
        if failures + pending < policy.pair_failures || pending == 0 {
            Standing::Room
        } else {
            Standing::Full
        },
    )
}

/// Ends a check counted by [`attempt`]. Returns true when this failure completed a burst (the
/// caller writes it to the audit log).
pub async fn settle(
    store: &dyn crate::store::Store,
    policy: &ThrottlePolicy,
    pair: &str,
    now: Timestamp,
    outcome: crate::store::Settled,
) -> Result<bool, crate::store::StoreError> {
    let failures = store.throttle_settle(pair, now, outcome, policy).await?;
    Ok(outcome == crate::store::Settled::Failed && failures == policy.pair_failures)
}

/// Counts one failed check of a guessable secret presented under `name`. Returns true when this
/// failure completed a burst (the caller writes it to the audit log).
pub async fn record_failure(
    store: &dyn crate::store::Store,
    policy: &ThrottlePolicy,
    name: &str,
    group: &str,
    now: Timestamp,
) -> Result<bool, crate::store::StoreError> {
    let pair = pair_key(name, group);
    let c = store.throttle_fail(&pair, now, PAIR_MEMORY_SECS).await?;
    if let Some(until) = policy.pair_blocked_until(c.failures, now) {
        store.throttle_block(&pair, until).await?;
    }
    record_address_failure(store, policy, group, now).await?;
    Ok(c.failures == policy.pair_failures)
}

/// Counts one failure from the address group `group` (its window budget, SPEC §2).
pub async fn record_address_failure(
    store: &dyn crate::store::Store,
    policy: &ThrottlePolicy,
    group: &str,
    now: Timestamp,
) -> Result<(), crate::store::StoreError> {
    let addr = address_key(group);
    let a = store
        .throttle_fail(&addr, now, policy.address_window_secs)
        .await?;
    if let Some(until) = policy.address_blocked_until(a.failures, a.window_start) {
        store.throttle_block(&addr, until).await?;
    }
    Ok(())
}

/// Forgets a pair's failures after a success ("consecutive" starts again). One small write
/// after a successful Argon2id check (which costs far more); clearing an empty pair is a no-op.
pub async fn record_success(
    store: &dyn crate::store::Store,
    name: &str,
    group: &str,
) -> Result<(), crate::store::StoreError> {
    store.throttle_clear(&pair_key(name, group)).await
}
