//! OAuth 1.0a consumers, tokens and nonces (SPEC §8). Approval and exchange of a request token
//! are each one conditional statement; a nonce is one `INSERT … ON CONFLICT DO NOTHING`.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use gatehouse_core::oauth1::{
    Authorization, Consumer, ConsumerId, NewConsumer, NewToken, Oauth1TokenId, Token, TokenMatch,
};
use gatehouse_core::secrets::Sealed;

async fn insert_token_with<'e, E>(executor: E, t: &NewToken, now: Timestamp) -> StoreResult<Token>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let q = format!(
        "INSERT INTO oauth1_tokens (hash, key_version, secret_sealed, secret_version, kind, \
         consumer_id, user_id, callback, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {OAUTH1_TOKEN_COLS}"
    );
    let row: Oauth1TokenRow = sqlx::query_as(&q)
        .bind(&t.hash)
        .bind(t.key_version)
        .bind(&t.secret.data)
        .bind(t.secret.key_version)
        .bind(t.kind.as_str())
        .bind(t.consumer_id.0)
        .bind(t.user_id.map(|u| u.0))
        .bind(t.callback.as_deref())
        .bind(now)
        .bind(t.expires_at)
        .fetch_one(executor)
        .await
        .map_err(backend_err)?;
    row.try_into()
}

#[async_trait]
impl OAuth1Store for Backend {
    async fn insert_consumer(&self, new: &NewConsumer, now: Timestamp) -> StoreResult<Consumer> {
        let q = format!(
            "INSERT INTO oauth1_consumers (consumer_key, secret_sealed, secret_version, name, \
             description, callback, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CONSUMER_COLS}"
        );
        let row: ConsumerRow = sqlx::query_as(&q)
            .bind(&new.key)
            .bind(&new.secret.data)
            .bind(new.secret.key_version)
            .bind(&new.name)
            .bind(&new.description)
            .bind(new.callback.as_deref())
            .bind(new.owner_id.0)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(conflict_as("consumer_key"))?;
        Ok(row.into())
    }

    async fn find_consumer_by_key(
        &self,
        key: &str,
    ) -> StoreResult<Option<(Consumer, Sealed, bool)>> {
        let q = format!(
            "SELECT {}, c.secret_sealed, c.secret_version, o.disabled AS owner_disabled \
             FROM oauth1_consumers c JOIN users o ON o.id = c.owner_id WHERE c.consumer_key = $1",
            CONSUMER_COLS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<ConsumerAuthRow> = sqlx::query_as(&q)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(|r| {
            (
                r.consumer.into(),
                Sealed {
                    key_version: r.secret_version,
                    data: r.secret_sealed,
                },
                r.owner_disabled,
            )
        }))
    }

    async fn get_consumer(&self, id: ConsumerId) -> StoreResult<Consumer> {
        let q = format!("SELECT {CONSUMER_COLS} FROM oauth1_consumers WHERE id = $1");
        let row: ConsumerRow = sqlx::query_as(&q)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.into())
    }

    async fn list_consumers(&self, owner: Option<UserId>) -> StoreResult<Vec<Consumer>> {
        let q = format!(
            "SELECT {CONSUMER_COLS} FROM oauth1_consumers \
             WHERE ($1 IS NULL OR owner_id = $1) ORDER BY id"
        );
        let rows: Vec<ConsumerRow> = sqlx::query_as(&q)
            .bind(owner.map(|u| u.0))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_consumer(&self, id: ConsumerId) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM oauth1_tokens WHERE consumer_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        sqlx::query("DELETE FROM oauth1_nonces WHERE consumer_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        let n = sqlx::query("DELETE FROM oauth1_consumers WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?
            .rows_affected();
        tx.commit().await.map_err(backend_err)?;
        Ok(n > 0)
    }

    async fn insert_oauth1_token(&self, new: &NewToken, now: Timestamp) -> StoreResult<Token> {
        insert_token_with(&self.pool, new, now).await
    }

    async fn find_oauth1_token(&self, hash: &str) -> StoreResult<Option<TokenMatch>> {
        // Built once: this look-up runs on every signed request.
        static Q: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {}, t.hash, t.secret_sealed, t.secret_version, \
             c.id AS c_id, c.consumer_key AS c_key, c.name AS c_name, \
             c.description AS c_description, c.callback AS c_callback, \
             c.owner_id AS c_owner_id, c.created_at AS c_created_at, \
             c.secret_sealed AS c_secret_sealed, c.secret_version AS c_secret_version, \
             {USER_COLS_PREFIXED}, o.disabled AS consumer_suspended \
             FROM oauth1_tokens t JOIN oauth1_consumers c ON c.id = t.consumer_id \
             JOIN users o ON o.id = c.owner_id LEFT JOIN users u ON u.id = t.user_id \
             WHERE t.hash = $1",
                OAUTH1_TOKEN_COLS
                    .split(", ")
                    .map(|c| format!("t.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let row: Option<Oauth1TokenMatchRow> = sqlx::query_as(Q.as_str())
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn approve_request_token(
        &self,
        id: Oauth1TokenId,
        user: UserId,
        verifier_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE oauth1_tokens SET user_id = $2, verifier_hash = $3, authorized_at = $4 \
             WHERE id = $1 AND kind = 'request' AND user_id IS NULL AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $4",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(verifier_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn exchange_request_token(
        &self,
        id: Oauth1TokenId,
        verifier_hash: &str,
        access: &NewToken,
        now: Timestamp,
    ) -> StoreResult<Option<Token>> {
        let mut tx = self.begin_write().await?;
        let won: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE oauth1_tokens SET used_at = $3 \
             WHERE id = $1 AND kind = 'request' AND verifier_hash = $2 AND user_id IS NOT NULL \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             RETURNING consumer_id, user_id",
        )
        .bind(id.0)
        .bind(verifier_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend_err)?;
        let Some((consumer_id, user_id)) = won else {
            return Ok(None);
        };
        let access = NewToken {
            consumer_id: ConsumerId(consumer_id),
            user_id: Some(UserId(user_id)),
            ..access.clone()
        };
        let token = insert_token_with(&mut *tx, &access, now).await?;
        tx.commit().await.map_err(backend_err)?;
        Ok(Some(token))
    }

    async fn remember_nonce(
        &self,
        consumer: ConsumerId,
        token: &str,
        timestamp: i64,
        nonce: &str,
        expires_at: Timestamp,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO oauth1_nonces (consumer_id, token, ts, nonce, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(consumer.0)
        .bind(token)
        .bind(timestamp)
        .bind(nonce)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn list_user_oauth1(&self, user: UserId) -> StoreResult<Vec<Authorization>> {
        let q = format!(
            "SELECT {}, c.id AS c_id, c.consumer_key AS c_key, c.name AS c_name, \
             c.description AS c_description, c.callback AS c_callback, \
             c.owner_id AS c_owner_id, c.created_at AS c_created_at \
             FROM oauth1_tokens t JOIN oauth1_consumers c ON c.id = t.consumer_id \
             WHERE t.user_id = $1 AND t.kind = 'access' AND t.revoked_at IS NULL \
             ORDER BY t.id DESC",
            OAUTH1_TOKEN_COLS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            token: Oauth1TokenRow,
            c_id: i64,
            c_key: String,
            c_name: String,
            c_description: String,
            c_callback: Option<String>,
            c_owner_id: i64,
            c_created_at: i64,
        }
        let rows: Vec<Row> = sqlx::query_as(&q)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(Authorization {
                    token: r.token.try_into()?,
                    consumer: ConsumerRow {
                        id: r.c_id,
                        consumer_key: r.c_key,
                        name: r.c_name,
                        description: r.c_description,
                        callback: r.c_callback,
                        owner_id: r.c_owner_id,
                        created_at: r.c_created_at,
                    }
                    .into(),
                })
            })
            .collect()
    }

    async fn revoke_oauth1_token(
        &self,
        user: Option<UserId>,
        id: Oauth1TokenId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE oauth1_tokens SET revoked_at = $3 \
             WHERE id = $1 AND ($2 IS NULL OR user_id = $2) AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(user.map(|u| u.0))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn revoke_user_oauth1(&self, user: UserId, now: Timestamp) -> StoreResult<u64> {
        let n = sqlx::query(
            "UPDATE oauth1_tokens SET revoked_at = $2 \
             WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL",
        )
        .bind(user.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?
        .rows_affected();
        Ok(n)
    }

    async fn touch_oauth1_token(
        &self,
        id: Oauth1TokenId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE oauth1_tokens SET last_used_at = $2, last_ip = $3 \
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

    async fn purge_oauth1(&self, now: Timestamp) -> StoreResult<u64> {
        let a = sqlx::query("DELETE FROM oauth1_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?
            .rows_affected();
        let b =
            sqlx::query("DELETE FROM oauth1_tokens WHERE kind = 'request' AND expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(backend_err)?
                .rows_affected();
        Ok(a + b)
    }
}
