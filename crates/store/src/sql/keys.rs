//! Server key fingerprints: which key versions this database has seen.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl KeyStore for Backend {
    async fn record_key_fingerprint(
        &self,
        version: i64,
        fingerprint: &str,
        now: Timestamp,
    ) -> StoreResult<String> {
        sqlx::query("INSERT INTO server_keys (version, fingerprint, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING")
            .bind(version).bind(fingerprint).bind(now)
            .execute(&self.pool).await.map_err(backend_err)?;
        sqlx::query_scalar("SELECT fingerprint FROM server_keys WHERE version = $1")
            .bind(version)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)
    }

    async fn list_key_versions(&self) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar("SELECT version FROM server_keys ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)
    }
}
