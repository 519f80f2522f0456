//! Throttle counters: each failure is one atomic upsert, so instances share one count.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

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
    let rows: Vec<(String, i64, i64, i64)> = rows_in(
        &store,
        "SELECT key, failures, window_start, blocked_until FROM throttle WHERE key IN (",
        keys,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, failures, window_start, blocked_until)| ThrottleRow {
            key,
            failures,
            window_start,
            blocked_until,
        })
        .collect())
}
