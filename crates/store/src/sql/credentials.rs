//! API keys and application passwords: stored as keyed hashes, found by one indexed look-up.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl ApiKeyStore for Backend {
    async fn insert_api_key(&self, new: &NewApiKey, now: Timestamp) -> StoreResult<ApiKey> {
        let q = format!(
            "INSERT INTO api_keys (kind, user_id, site_id, created_by, description, scopes, methods, expires_at, hash, key_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {API_KEY_COLS}"
        );
        let row: ApiKeyRow = sqlx::query_as(&q)
            .bind(new.kind.as_str())
            .bind(new.user_id.map(|u| u.0))
            .bind(new.site_id.map(|s| s.0))
            .bind(new.created_by.0)
            .bind(&new.description)
            .bind(new.scopes.as_ref().map(|s| Scope::join(s)))
            .bind(new.methods.as_ref().map(|m| m.join(" ")))
            .bind(new.expires_at)
            .bind(&new.hash)
            .bind(new.key_version)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(ApiKeyMatch::try_from(row)?.key)
    }

    async fn find_api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyMatch>> {
        let q = format!(
            "SELECT {}, {USER_COLS_PREFIXED}, m.role AS site_role FROM api_keys k \
             LEFT JOIN users u ON u.id = COALESCE(k.user_id, k.created_by) \
             LEFT JOIN memberships m ON m.site_id = k.site_id AND m.user_id = u.id \
             WHERE k.hash = $1",
            API_KEY_COLS
                .split(", ")
                .map(|c| format!("k.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<ApiKeyUserRow> = sqlx::query_as(&q)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.map(ApiKeyMatch::try_from).transpose()
    }

    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<ApiKey> {
        let q = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE id = $1");
        let row: ApiKeyRow = sqlx::query_as(&q)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(ApiKeyMatch::try_from(row)?.key)
    }

    async fn list_api_keys(&self, user: UserId) -> StoreResult<Vec<ApiKey>> {
        let q = format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE (user_id = $1 OR created_by = $1) AND revoked_at IS NULL ORDER BY id DESC"
        );
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&q)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| ApiKeyMatch::try_from(r).map(|m| m.key))
            .collect()
    }

    async fn list_site_api_keys(&self, site: SiteId) -> StoreResult<Vec<ApiKey>> {
        let q = format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE site_id = $1 AND kind = 'site' AND revoked_at IS NULL ORDER BY id DESC"
        );
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&q)
            .bind(site.0)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| ApiKeyMatch::try_from(r).map(|m| m.key))
            .collect()
    }

    async fn list_all_api_keys(
        &self,
        user: Option<UserId>,
        site: Option<SiteId>,
    ) -> StoreResult<Vec<ApiKey>> {
        let q = format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE ($1 IS NULL OR user_id = $1 OR created_by = $1) \
             AND ($2 IS NULL OR site_id = $2) ORDER BY id"
        );
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&q)
            .bind(user.map(|u| u.0))
            .bind(site.map(|s| s.0))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| ApiKeyMatch::try_from(r).map(|m| m.key))
            .collect()
    }

    async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.0)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_user_api_keys(&self, user: UserId, now: Timestamp) -> StoreResult<u64> {
        let r = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE (user_id = $1 OR created_by = $1) AND revoked_at IS NULL")
            .bind(user.0).bind(now)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(r.rows_affected())
    }

    async fn touch_api_key(
        &self,
        id: ApiKeyId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2, last_ip = $3 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $4)")
            .bind(id.0).bind(now).bind(ip).bind(now - min_interval)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }
}

#[async_trait]
impl AppPasswordStore for Backend {
    async fn insert_app_password(
        &self,
        new: &NewAppPassword,
        now: Timestamp,
    ) -> StoreResult<AppPassword> {
        let q = format!(
            "INSERT INTO app_passwords (uuid, user_id, app_id, name, hash, key_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {APP_PASSWORD_COLS}"
        );
        let row: AppPasswordRow = sqlx::query_as(&q)
            .bind(&new.uuid)
            .bind(new.user_id.0)
            .bind(&new.app_id)
            .bind(&new.name)
            .bind(&new.hash)
            .bind(new.key_version)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(conflict_as("name"))?;
        Ok(<(AppPassword, String)>::from(row).0)
    }

    async fn find_app_password_by_hash(&self, hash: &str) -> StoreResult<Option<AppPasswordMatch>> {
        let q = format!(
            "SELECT {}, {USER_COLS_PREFIXED} FROM app_passwords a JOIN users u ON u.id = a.user_id WHERE a.hash = $1",
            APP_PASSWORD_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row: Option<AppPasswordUserRow> = sqlx::query_as(&q)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(|r| {
            let user = r.user();
            let (password, hash) = r.password.into();
            AppPasswordMatch {
                password,
                hash,
                user,
            }
        }))
    }

    async fn list_app_passwords(&self, user: UserId) -> StoreResult<Vec<AppPassword>> {
        let q = format!("SELECT {APP_PASSWORD_COLS} FROM app_passwords WHERE user_id = $1 ORDER BY created_at, uuid");
        let rows: Vec<AppPasswordRow> = sqlx::query_as(&q)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(rows
            .into_iter()
            .map(|r| <(AppPassword, String)>::from(r).0)
            .collect())
    }

    async fn get_app_password(&self, user: UserId, uuid: &str) -> StoreResult<AppPassword> {
        let q = format!(
            "SELECT {APP_PASSWORD_COLS} FROM app_passwords WHERE user_id = $1 AND uuid = $2"
        );
        let row: AppPasswordRow = sqlx::query_as(&q)
            .bind(user.0)
            .bind(uuid)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(<(AppPassword, String)>::from(row).0)
    }

    async fn rename_app_password(
        &self,
        user: UserId,
        uuid: &str,
        name: &str,
    ) -> StoreResult<AppPassword> {
        let q = format!("UPDATE app_passwords SET name = $3 WHERE user_id = $1 AND uuid = $2 RETURNING {APP_PASSWORD_COLS}");
        let row: AppPasswordRow = sqlx::query_as(&q)
            .bind(user.0)
            .bind(uuid)
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(conflict_as("name"))?;
        Ok(<(AppPassword, String)>::from(row).0)
    }

    async fn delete_app_password(&self, user: UserId, uuid: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM app_passwords WHERE user_id = $1 AND uuid = $2")
            .bind(user.0)
            .bind(uuid)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_app_passwords(&self, user: UserId) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM app_passwords WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected())
    }

    async fn touch_app_password(
        &self,
        uuid: &str,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE app_passwords SET last_used_at = $2, last_ip = $3 WHERE uuid = $1 AND (last_used_at IS NULL OR last_used_at <= $4)")
            .bind(uuid).bind(now).bind(ip).bind(now - min_interval)
            .execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }
}
