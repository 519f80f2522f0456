//! Throttle counters: each failure is one atomic upsert, so instances share one count.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use gatehouse_core::store::Settled;
use gatehouse_core::throttle::ThrottlePolicy;

/// How long a check counted as in flight holds its place in the pair's budget: far longer than a
/// check takes (a wait in line and one for an Argon2id turn give up after a second each). Checks
/// run as tasks of their own, which a client hanging up does not cancel, so only an instance that
/// died mid-check leaves places that lapse.
const IN_FLIGHT_SECS: i64 = 10;

#[async_trait]
impl ThrottleStore for Backend {
    async fn throttle_get(&self, keys: &[String]) -> StoreResult<Vec<ThrottleRow>> {
        // Read together with the other requests' counters at the same moment, never kept.
        self.reads
            .throttle
            .get(keys.to_vec(), crate::batch::throttle_key, |keys| {
                read_counters(self.clone(), keys)
            })
            .await
    }

    async fn throttle_fail(
        &self,
        key: &str,
        now: Timestamp,
        window_secs: i64,
    ) -> StoreResult<Counter> {
        let (failures, window_start): (i64, i64) = sqlx::query_as(
            "INSERT INTO throttle (key, failures, window_start, blocked_until) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN throttle.window_start < $3 THEN 1 ELSE throttle.failures + 1 END, \
               window_start = CASE WHEN throttle.window_start < $3 THEN $2 ELSE throttle.window_start END \
             RETURNING failures, window_start",
        )
        .bind(key).bind(now).bind(now.saturating_sub(window_secs))
        .fetch_one(&self.pool).await.map_err(backend_err)?;
        Ok(Counter {
            failures,
            window_start,
        })
    }

    async fn throttle_block(&self, key: &str, until: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE throttle SET blocked_until = $2 WHERE key = $1 AND blocked_until < $2")
            .bind(key)
            .bind(until)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn throttle_attempt(
        &self,
        key: &str,
        now: Timestamp,
        memory_secs: i64,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Option<Counter>> {
        // One statement decides. The pair goes ahead when it is not blocked and its failures plus
        // the checks in flight are under the threshold — or, past the threshold (a block that
        // ended), when nothing is in flight: one check at a time, as before. Otherwise nothing is
        // written and no row comes back. Concurrent attempts serialise on the row, so they cannot
        // all see the same free budget. Failures older than the memory count as none; checks in
        // flight longer than `IN_FLIGHT_SECS` (an instance that died mid-check) as none.
        const F: &str = "(CASE WHEN throttle.window_start < $3 THEN 0 ELSE throttle.failures END)";
        const P: &str = "(CASE WHEN throttle.pending_until < $2 THEN 0 ELSE throttle.pending END)";
        let sql = format!(
            "INSERT INTO throttle (key, failures, window_start, blocked_until, pending, pending_until) \
             VALUES ($1, 0, $2, 0, 1, $2 + $5) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = {F}, \
               window_start = CASE WHEN throttle.window_start < $3 THEN $2 ELSE throttle.window_start END, \
               pending = {P} + 1, \
               pending_until = $2 + $5 \
             WHERE throttle.blocked_until <= $2 AND ({F} + {P} < $4 OR {P} = 0) \
             RETURNING failures, window_start"
        );
        let row: Option<(i64, i64)> = sqlx::query_as(&sql)
            .bind(key)
            .bind(now)
            .bind(now.saturating_sub(memory_secs))
            .bind(policy.pair_failures)
            .bind(IN_FLIGHT_SECS)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(|(failures, window_start)| Counter {
            failures,
            window_start,
        }))
    }

    async fn throttle_settle(
        &self,
        key: &str,
        now: Timestamp,
        outcome: Settled,
        policy: &ThrottlePolicy,
    ) -> StoreResult<i64> {
        const LESS: &str = "pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END";
        let sql = match outcome {
            // A failure counts and, from the threshold on, blocks for the doubling backoff (as
            // `ThrottlePolicy::pair_blocked_until`), in the same statement.
            Settled::Failed => format!(
                "UPDATE throttle SET failures = failures + 1, {LESS}, \
                   blocked_until = CASE WHEN failures + 1 < $3 THEN blocked_until \
                     WHEN failures + 1 - $3 >= 20 OR ($4 << CAST(failures + 1 - $3 AS INTEGER)) > $5 THEN $2 + $5 \
                     ELSE $2 + ($4 << CAST(failures + 1 - $3 AS INTEGER)) END \
                 WHERE key = $1 RETURNING failures"
            ),
            // "Consecutive": a success forgets the failures and any block.
            Settled::Succeeded => format!(
                "UPDATE throttle SET failures = 0, blocked_until = 0, {LESS} \
                 WHERE key = $1 RETURNING failures"
            ),
            Settled::Unchecked => {
                format!("UPDATE throttle SET {LESS} WHERE key = $1 RETURNING failures")
            }
        };
        let mut query = sqlx::query_scalar(&sql).bind(key);
        if outcome == Settled::Failed {
            query = query
                .bind(now)
                .bind(policy.pair_failures)
                .bind(policy.pair_base_secs)
                .bind(policy.pair_max_secs);
        }
        let failures: Option<i64> = query
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(failures.unwrap_or(0))
    }

    async fn throttle_clear(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}

async fn read_counters(store: Backend, keys: Vec<String>) -> StoreResult<Vec<ThrottleRow>> {
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = rows_in(
        &store,
        "SELECT key, failures, window_start, blocked_until, pending, pending_until FROM throttle WHERE key IN (",
        keys,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(key, failures, window_start, blocked_until, pending, pending_until)| ThrottleRow {
                key,
                failures,
                window_start,
                blocked_until,
                pending,
                pending_until,
            },
        )
        .collect())
}
