//! Log-in sessions and the one-time page message each may hold.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl SessionStore for Backend {
    async fn insert_session(
        &self,
        hash: &str,
        user: UserId,
        now: Timestamp,
        expires_at: Timestamp,
        ip: &str,
        user_agent: &str,
    ) -> StoreResult<Session> {
        let q = format!(
            "INSERT INTO sessions (hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING {SESSION_COLS}"
        );
        let row: SessionRow = sqlx::query_as(&q)
            .bind(hash)
            .bind(user.0)
            .bind(now)
            .bind(expires_at)
            .bind(ip)
            .bind(user_agent)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.into())
    }

    async fn find_session_by_hash(&self, hash: &str) -> StoreResult<Option<SessionMatch>> {
        let q = format!(
            "SELECT {}, s.hash, {USER_COLS_PREFIXED} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.hash = $1 AND s.revoked_at IS NULL",
            SESSION_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row: Option<SessionUserRow> = sqlx::query_as(&q)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(|r| {
            let user = User {
                id: UserId(r.u_id),
                login: r.u_login,
                email: r.u_email,
                display_name: r.u_display_name,
                network_admin: r.u_network_admin,
                disabled: r.u_disabled,
                created_at: r.u_created_at,
            };
            SessionMatch {
                session: r.session.into(),
                hash: r.hash,
                user,
            }
        }))
    }

    async fn touch_session(&self, id: i64, now: Timestamp, min_interval: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at <= $3")
            .bind(id)
            .bind(now)
            .bind(now - min_interval)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn list_sessions(
        &self,
        user: UserId,
        now: Timestamp,
        idle_secs: i64,
    ) -> StoreResult<Vec<Session>> {
        let q = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
             AND expires_at > $2 AND last_seen_at > $3 ORDER BY id DESC"
        );
        let rows: Vec<SessionRow> = sqlx::query_as(&q)
            .bind(user.0)
            .bind(now)
            .bind(now - idle_secs)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_session(&self, user: UserId, id: i64, now: Timestamp) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL")
            .bind(user.0).bind(id).bind(now)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET flash_id = $2 WHERE id = $1")
            .bind(id)
            .bind(flash_id)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn take_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE sessions SET flash_id = NULL WHERE id = $1 AND flash_id = $2 AND revoked_at IS NULL")
            .bind(id).bind(flash_id)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let r = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)")
            .bind(user.0).bind(keep).bind(now)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(r.rows_affected())
    }
}
