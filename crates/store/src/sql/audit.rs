//! The audit log.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl AuditStore for Backend {
    async fn insert_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (at, event, user_id, login, address, detail, target_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(e.at).bind(&e.event).bind(e.user_id.map(|u| u.0)).bind(e.login.clone())
            .bind(e.address.clone()).bind(&e.detail).bind(e.target_user_id.map(|u| u.0))
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }

    async fn list_audit(
        &self,
        involving: Option<UserId>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT at, event, user_id, login, address, detail, target_user_id FROM audit_log \
             WHERE $1 IS NULL OR user_id = $1 OR target_user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(involving.map(|u| u.0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
