//! OAuth 2.0 grants and tokens: a grant and its first tokens are one transaction; a token is found
//! by one indexed look-up of its keyed hash, joined with its grant and user.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use crate::batch::{What, Work};
use gatehouse_core::oauth2::{Grant, NewGrant, NewToken, Rotation, Token};

/// Writes a grant and its first tokens: queued, and written in one transaction with the other
/// writes waiting at the same time by whichever of their requests gets the turn (`crate::batch`).
pub(super) async fn insert_grant(
    store: &Backend,
    grant: &NewGrant,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<(Grant, Vec<Token>)> {
    match queued(store, What::Grant(grant.clone()), tokens, now).await? {
        Rotation::Rotated { grant, tokens } => Ok((grant, tokens)),
        Rotation::Replayed { .. } | Rotation::Unknown => Err(StoreError::Backend(
            "a new grant was answered as a refused rotation".into(),
        )),
    }
}

/// Rotates a refresh token — its single-use statement, then the new tokens under its grant —
/// queued like `insert_grant`.
pub(super) async fn rotate_refresh_token(
    store: &Backend,
    hash: &str,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<Rotation> {
    queued(store, What::Rotate(hash.to_string()), tokens, now).await
}

/// Queues a write and waits for its answer, writing the queue itself when it gets the turn.
async fn queued(
    store: &Backend,
    what: What,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<Rotation> {
    let (done, mut answer) = tokio::sync::oneshot::channel();
    store.write_queue.push(Work {
        what,
        tokens: tokens.to_vec(),
        now,
        done,
    });
    loop {
        tokio::select! {
            biased;
            a = &mut answer => {
                return a.unwrap_or_else(|_| {
                    Err(StoreError::Backend("the write was interrupted".into()))
                });
            }
            turn = store.write_queue.turn() => {
                // The writer of a batch answers every write in it before it gives up the turn,
                // so a request whose write was taken finds its answer next time round.
                let jobs = store.write_queue.take();
                if !jobs.is_empty() {
                    write_batch(store, jobs).await;
                }
                drop(turn);
            }
        }
    }
}

async fn write_batch(store: &Backend, jobs: Vec<Work>) {
    if jobs.len() > 1 {
        if let Ok(answers) = write_together(store, &jobs).await {
            for (job, a) in jobs.into_iter().zip(answers) {
                let _ = job.done.send(Ok(a));
            }
            return;
        }
        // Rolled back whole: each write again in its own transaction, for its own answer.
    }
    for job in jobs {
        let answer = write_together(store, std::slice::from_ref(&job))
            .await
            .and_then(|mut one| {
                one.pop()
                    .ok_or_else(|| StoreError::Backend("a write got no answer".into()))
            });
        let _ = job.done.send(answer);
    }
}

/// Every write of `jobs` in one transaction: each grant (one statement) and each rotation (its
/// single-use statement, then its grant), then all their new tokens (one statement); the
/// answers in the order of `jobs`.
async fn write_together(store: &Backend, jobs: &[Work]) -> StoreResult<Vec<Rotation>> {
    use sqlx::{FromRow, Row};
    let mut tx = store.begin_write().await?;
    let insert_grant = format!(
        "INSERT INTO oauth2_grants (client_id, user_id, site_id, scope, flow, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {GRANT_COLS}"
    );
    let grant_by_id = format!("SELECT {GRANT_COLS} FROM oauth2_grants WHERE id = $1");
    // Per write: the grant its new tokens go under, or a refused rotation's answer.
    let mut grants: Vec<Result<Grant, Rotation>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let row: GrantRow = match &job.what {
            What::Grant(g) => sqlx::query_as(&insert_grant)
                .bind(g.client_id.0)
                .bind(g.user_id.0)
                .bind(g.site_id.map(|s| s.0))
                .bind(&g.scope)
                .bind(g.flow.as_str())
                .bind(job.now)
                .bind(g.expires_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(missing_as_not_found)?,
            What::Rotate(hash) => {
                let used: Option<(i64,)> = sqlx::query_as(ROTATE)
                    .bind(hash)
                    .bind(job.now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend_err)?;
                let Some((grant_id,)) = used else {
                    let seen: Option<(i64,)> = sqlx::query_as(REFRESH_GRANT)
                        .bind(hash)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend_err)?;
                    grants.push(Err(match seen {
                        Some((g,)) => Rotation::Replayed { grant: GrantId(g) },
                        None => Rotation::Unknown,
                    }));
                    continue;
                };
                sqlx::query_as(&grant_by_id)
                    .bind(grant_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend_err)?
            }
        };
        grants.push(Ok(Grant::try_from(row)?));
    }
    let new_tokens: Vec<(&NewToken, GrantId, Timestamp)> = jobs
        .iter()
        .zip(&grants)
        .filter_map(|(job, g)| g.as_ref().ok().map(|g| (job, g.id)))
        .flat_map(|(job, id)| job.tokens.iter().map(move |t| (t, id, job.now)))
        .collect();
    let mut by_hash = std::collections::HashMap::with_capacity(new_tokens.len());
    if !new_tokens.is_empty() {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO oauth2_tokens (hash, key_version, kind, grant_id, scope, created_at, expires_at) ",
        );
        qb.push_values(new_tokens, |mut b, (t, grant_id, now)| {
            b.push_bind(&t.hash)
                .push_bind(t.key_version)
                .push_bind(t.kind.as_str())
                .push_bind(grant_id.0)
                .push_bind(&t.scope)
                .push_bind(now)
                .push_bind(t.expires_at);
        });
        qb.push(format!(" RETURNING {TOKEN_COLS}, hash"));
        for row in qb
            .build()
            .fetch_all(&mut *tx)
            .await
            .map_err(missing_as_not_found)?
        {
            let hash: String = row.try_get("hash").map_err(backend_err)?;
            let token: Token = TokenRow::from_row(&row).map_err(backend_err)?.try_into()?;
            by_hash.insert(hash, token);
        }
    }
    let mut out = Vec::with_capacity(jobs.len());
    for (job, grant) in jobs.iter().zip(grants) {
        out.push(match grant {
            Ok(grant) => {
                let tokens = job
                    .tokens
                    .iter()
                    .map(|t| {
                        by_hash.remove(&t.hash).ok_or_else(|| {
                            StoreError::Backend("a token of the batch was not written".into())
                        })
                    })
                    .collect::<StoreResult<Vec<Token>>>()?;
                Rotation::Rotated { grant, tokens }
            }
            Err(refused) => refused,
        });
    }
    tx.commit().await.map_err(backend_err)?;
    Ok(out)
}

/// The single-use statement of a rotation: of two racing presentations, exactly one updates
/// the row.
const ROTATE: &str =
    "UPDATE oauth2_tokens SET rotated_at = $2 WHERE hash = $1 AND kind = 'refresh' \
     AND rotated_at IS NULL AND revoked_at IS NULL RETURNING grant_id";
/// The grant of a refresh token that could not be rotated (a replay), if it exists.
const REFRESH_GRANT: &str =
    "SELECT grant_id FROM oauth2_tokens WHERE hash = $1 AND kind = 'refresh'";

pub(super) async fn find_token_by_hash(
    store: &Backend,
    hash: &str,
) -> StoreResult<Option<TokenMatch>> {
    let q = format!(
        "SELECT {}, t.hash, g.id AS g_id, g.client_id AS g_client_id, g.user_id AS g_user_id, \
         g.site_id AS g_site_id, g.scope AS g_scope, g.flow AS g_flow, g.created_at AS g_created_at, \
         g.expires_at AS g_expires_at, g.revoked_at AS g_revoked_at, \
         g.last_used_at AS g_last_used_at, g.last_ip AS g_last_ip, {USER_COLS_PREFIXED}, \
         o.disabled AS client_suspended \
         FROM oauth2_tokens t JOIN oauth2_grants g ON g.id = t.grant_id \
         JOIN users u ON u.id = g.user_id JOIN oauth2_clients c ON c.id = g.client_id \
         JOIN users o ON o.id = c.owner_id WHERE t.hash = $1",
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

pub(super) async fn insert_code(
    store: &Backend,
    c: &gatehouse_core::oauth2::NewCode,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oauth2_codes (hash, key_version, client_id, user_id, site_id, scope, \
         redirect_uri, code_challenge, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.hash)
    .bind(c.key_version)
    .bind(c.client_id.0)
    .bind(c.user_id.0)
    .bind(c.site_id.map(|s| s.0))
    .bind(&c.scope)
    .bind(c.redirect_uri.as_deref())
    .bind(c.code_challenge.as_deref())
    .bind(now)
    .bind(c.expires_at)
    .execute(&store.pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

/// The single-use statement: only the first caller gets the row back.
pub(super) async fn consume_code(
    store: &Backend,
    hash: &str,
    now: Timestamp,
) -> StoreResult<Option<gatehouse_core::oauth2::Code>> {
    let mut w = store.write_conn().await?;
    let q = format!(
        "UPDATE oauth2_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL RETURNING {CODE_COLS}"
    );
    let row: Option<CodeRow> = sqlx::query_as(&q)
        .bind(hash)
        .bind(now)
        .fetch_optional(&mut *w)
        .await
        .map_err(backend_err)?;
    Ok(row.map(Into::into))
}

pub(super) async fn find_code(
    store: &Backend,
    hash: &str,
) -> StoreResult<Option<gatehouse_core::oauth2::Code>> {
    let q = format!("SELECT {CODE_COLS} FROM oauth2_codes WHERE hash = $1");
    let row: Option<CodeRow> = sqlx::query_as(&q)
        .bind(hash)
        .fetch_optional(&store.pool)
        .await
        .map_err(backend_err)?;
    Ok(row.map(Into::into))
}

pub(super) async fn set_code_grant(
    store: &Backend,
    hash: &str,
    grant: GrantId,
) -> StoreResult<bool> {
    let mut w = store.write_conn().await?;
    // One statement: a concurrent `mark_code_replayed` either ran before (we see its mark) or
    // runs after (it sees this grant).
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "UPDATE oauth2_codes SET grant_id = $2 WHERE hash = $1 RETURNING replayed_at",
    )
    .bind(hash)
    .bind(grant.0)
    .fetch_optional(&mut *w)
    .await
    .map_err(backend_err)?;
    Ok(matches!(row, Some((Some(_),))))
}

pub(super) async fn mark_code_replayed(
    store: &Backend,
    hash: &str,
    now: Timestamp,
) -> StoreResult<Option<Option<GrantId>>> {
    let mut w = store.write_conn().await?;
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "UPDATE oauth2_codes SET replayed_at = COALESCE(replayed_at, $2) \
         WHERE hash = $1 AND used_at IS NOT NULL RETURNING grant_id",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(&mut *w)
    .await
    .map_err(backend_err)?;
    Ok(row.map(|(g,)| g.map(GrantId)))
}

pub(super) async fn find_live_grant(
    store: &Backend,
    user: UserId,
    client: ClientId,
    scope: &str,
    site: Option<SiteId>,
    now: Timestamp,
) -> StoreResult<Option<Grant>> {
    let q = format!(
        "SELECT {GRANT_COLS} FROM oauth2_grants WHERE user_id = $1 AND client_id = $2 \
         AND scope = $3 AND (site_id = $4 OR (site_id IS NULL AND $4 IS NULL)) \
         AND flow = 'authorization_code' AND revoked_at IS NULL AND expires_at > $5 \
         ORDER BY id DESC LIMIT 1"
    );
    let row: Option<GrantRow> = sqlx::query_as(&q)
        .bind(user.0)
        .bind(client.0)
        .bind(scope)
        .bind(site.map(|s| s.0))
        .bind(now)
        .fetch_optional(&store.pool)
        .await
        .map_err(backend_err)?;
    row.map(TryInto::try_into).transpose()
}
