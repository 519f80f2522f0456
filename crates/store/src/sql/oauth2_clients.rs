//! OAuth 2.0 clients: registration, secrets (keyed hashes only), deletion.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use gatehouse_core::oauth2::{Client, NewClient, StoredSecret};

#[async_trait]
impl OAuth2Store for Backend {
    async fn insert_client(&self, new: &NewClient, now: Timestamp) -> StoreResult<Client> {
        let q = format!(
            "INSERT INTO oauth2_clients (name, description, owner_id, confidential, secret_hash, \
             secret_version, redirect_uris, grants, access_ttl, introspect_any, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {CLIENT_COLS}"
        );
        let grants: Vec<&str> = new.grants.iter().map(|g| g.as_str()).collect();
        let row: ClientRow = sqlx::query_as(&q)
            .bind(&new.name)
            .bind(&new.description)
            .bind(new.owner_id.0)
            .bind(new.confidential)
            .bind(new.secret.as_ref().map(|s| s.hash.as_str()))
            .bind(new.secret.as_ref().map(|s| s.key_version))
            .bind(new.redirect_uris.join("\n"))
            .bind(grants.join(" "))
            .bind(new.access_ttl)
            .bind(new.introspect_any)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn get_client(&self, id: ClientId) -> StoreResult<Client> {
        let q = format!("SELECT {CLIENT_COLS} FROM oauth2_clients WHERE id = $1");
        let row: ClientRow = sqlx::query_as(&q)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn find_client_auth(
        &self,
        id: ClientId,
    ) -> StoreResult<Option<(Client, Option<StoredSecret>)>> {
        // Read together with the other requests' clients at the same moment, never kept.
        let found = self
            .reads
            .clients
            .get(vec![id], crate::batch::client_key, |ids| {
                read_clients(self.clone(), ids)
            })
            .await?;
        Ok(found.into_iter().next())
    }

    async fn list_clients(&self, owner: Option<UserId>) -> StoreResult<Vec<Client>> {
        let q = format!(
            "SELECT {CLIENT_COLS} FROM oauth2_clients WHERE ($1 IS NULL OR owner_id = $1) ORDER BY id"
        );
        let rows: Vec<ClientRow> = sqlx::query_as(&q)
            .bind(owner.map(|o| o.0))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn set_client_secret(&self, id: ClientId, secret: &StoredSecret) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE oauth2_clients SET secret_hash = $2, secret_version = $3 \
             WHERE id = $1 AND confidential = TRUE",
        )
        .bind(id.0)
        .bind(&secret.hash)
        .bind(secret.key_version)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_client_redirect_uris(&self, id: ClientId, uris: &[String]) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE oauth2_clients SET redirect_uris = $2 WHERE id = $1")
            .bind(id.0)
            .bind(uris.join("\n"))
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_client(&self, id: ClientId) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM oauth2_clients WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_client_grants(&self, id: ClientId, now: Timestamp) -> StoreResult<u64> {
        let r = sqlx::query(
            "UPDATE oauth2_grants SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_grant(
        &self,
        grant: &gatehouse_core::oauth2::NewGrant,
        tokens: &[gatehouse_core::oauth2::NewToken],
        now: Timestamp,
    ) -> StoreResult<(
        gatehouse_core::oauth2::Grant,
        Vec<gatehouse_core::oauth2::Token>,
    )> {
        super::oauth2_tokens::insert_grant(self, grant, tokens, now).await
    }

    async fn find_token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenMatch>> {
        super::oauth2_tokens::find_token_by_hash(self, hash).await
    }

    async fn revoke_grant(&self, id: GrantId, now: Timestamp) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE oauth2_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE oauth2_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_code(
        &self,
        code: &gatehouse_core::oauth2::NewCode,
        now: Timestamp,
    ) -> StoreResult<()> {
        super::oauth2_tokens::insert_code(self, code, now).await
    }

    async fn consume_code(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<gatehouse_core::oauth2::Code>> {
        super::oauth2_tokens::consume_code(self, hash, now).await
    }

    async fn find_code(&self, hash: &str) -> StoreResult<Option<gatehouse_core::oauth2::Code>> {
        super::oauth2_tokens::find_code(self, hash).await
    }

    async fn set_code_grant(&self, hash: &str, grant: GrantId) -> StoreResult<bool> {
        super::oauth2_tokens::set_code_grant(self, hash, grant).await
    }

    async fn mark_code_replayed(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Option<GrantId>>> {
        super::oauth2_tokens::mark_code_replayed(self, hash, now).await
    }

    async fn rotate_refresh_token(
        &self,
        hash: &str,
        tokens: &[gatehouse_core::oauth2::NewToken],
        now: Timestamp,
    ) -> StoreResult<gatehouse_core::oauth2::Rotation> {
        super::oauth2_tokens::rotate_refresh_token(self, hash, tokens, now).await
    }

    async fn find_live_grant(
        &self,
        user: UserId,
        client: ClientId,
        scope: &str,
        site: Option<SiteId>,
        now: Timestamp,
    ) -> StoreResult<Option<gatehouse_core::oauth2::Grant>> {
        super::oauth2_tokens::find_live_grant(self, user, client, scope, site, now).await
    }

    async fn list_user_grants(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<(gatehouse_core::oauth2::Grant, String)>> {
        let q = format!(
            "SELECT {}, c.name AS client_name FROM oauth2_grants g \
             JOIN oauth2_clients c ON c.id = g.client_id \
             WHERE g.user_id = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 ORDER BY g.id DESC",
            GRANT_COLS
                .split(", ")
                .map(|c| format!("g.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<GrantNameRow> = sqlx::query_as(&q)
            .bind(user.0)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| Ok((r.grant.try_into()?, r.client_name)))
            .collect()
    }

    async fn revoke_user_grant(
        &self,
        user: UserId,
        id: GrantId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE oauth2_grants SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn touch_grant(
        &self,
        id: GrantId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE oauth2_grants SET last_used_at = $2, last_ip = $3 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $4)",
        )
        .bind(id.0)
        .bind(now)
        .bind(ip)
        .bind(now - min_interval)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(())
    }
}

async fn read_clients(
    store: Backend,
    ids: Vec<ClientId>,
) -> StoreResult<Vec<(Client, Option<StoredSecret>)>> {
    let rows: Vec<ClientAuthRow> = rows_in(
        &store,
        &format!(
            "SELECT {CLIENT_COLS}, secret_hash, secret_version FROM oauth2_clients WHERE id IN ("
        ),
        ids.into_iter().map(|id| id.0),
    )
    .await?;
    rows.into_iter()
        .map(|r| {
            let secret = match (r.secret_hash, r.secret_version) {
                (Some(hash), Some(key_version)) => Some(StoredSecret { hash, key_version }),
                _ => None,
            };
            Ok((r.client.try_into()?, secret))
        })
        .collect()
}
