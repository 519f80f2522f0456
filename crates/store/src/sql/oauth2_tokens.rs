//! OAuth 2.0 grants and tokens: a grant and its first tokens are one transaction; a token is found
//! by one indexed look-up of its keyed hash, joined with its grant and user.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use gatehouse_core::oauth2::{Grant, NewGrant, NewToken, Token};

pub(super) async fn insert_grant(
    store: &Backend,
    grant: &NewGrant,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<(Grant, Vec<Token>)> {
    let mut tx = store.begin_write().await?;
    let q = format!(
        "INSERT INTO oauth2_grants (client_id, user_id, site_id, scope, flow, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {GRANT_COLS}"
    );
    let row: GrantRow = sqlx::query_as(&q)
        .bind(grant.client_id.0)
        .bind(grant.user_id.0)
        .bind(grant.site_id.map(|s| s.0))
        .bind(&grant.scope)
        .bind(grant.flow.as_str())
        .bind(now)
        .bind(grant.expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_err)?;
    let grant: Grant = row.try_into()?;
    let q = format!(
        "INSERT INTO oauth2_tokens (hash, key_version, kind, grant_id, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {TOKEN_COLS}"
    );
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        let row: TokenRow = sqlx::query_as(&q)
            .bind(&t.hash)
            .bind(t.key_version)
            .bind(t.kind.as_str())
            .bind(grant.id.0)
            .bind(&t.scope)
            .bind(now)
            .bind(t.expires_at)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_err)?;
        out.push(row.try_into()?);
    }
    tx.commit().await.map_err(backend_err)?;
    Ok((grant, out))
}

pub(super) async fn find_token_by_hash(
    store: &Backend,
    hash: &str,
) -> StoreResult<Option<TokenMatch>> {
    let q = format!(
        "SELECT {}, t.hash, g.id AS g_id, g.client_id AS g_client_id, g.user_id AS g_user_id, \
         g.site_id AS g_site_id, g.scope AS g_scope, g.flow AS g_flow, g.created_at AS g_created_at, \
         g.expires_at AS g_expires_at, g.revoked_at AS g_revoked_at, \
         g.last_used_at AS g_last_used_at, g.last_ip AS g_last_ip, {USER_COLS_PREFIXED} \
         FROM oauth2_tokens t JOIN oauth2_grants g ON g.id = t.grant_id \
         JOIN users u ON u.id = g.user_id WHERE t.hash = $1",
        TOKEN_COLS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let row: Option<TokenMatchRow> = sqlx::query_as(&q)
        .bind(hash)
        .fetch_optional(&store.pool)
        .await
        .map_err(backend_err)?;
    row.map(TryInto::try_into).transpose()
}
