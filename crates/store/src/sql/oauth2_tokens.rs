//! OAuth 2.0 grants and tokens: a grant and its first tokens are one transaction; a token is found
//! by one indexed look-up of its keyed hash, joined with its grant and user.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;
use crate::batch::{Done, What, Work};
use gatehouse_core::oauth2::{Grant, NewGrant, NewToken, Rotation, Token};
use std::collections::HashMap;

/// Writes a grant and its first tokens: queued, and written in one transaction with the other
/// writes waiting at the same time by whichever of their requests gets the turn (`crate::batch`).
pub(super) async fn insert_grant(
    store: &Backend,
    grant: &NewGrant,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<(Grant, Vec<Token>)> {
    match queued(store, What::Grant(grant.clone()), tokens, now).await? {
        Done::Rotation(Rotation::Rotated { grant, tokens }) => Ok((grant, tokens)),
        other => Err(mismatch(other)),
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
    match queued(store, What::Rotate(hash.to_string()), tokens, now).await? {
        Done::Rotation(r) => Ok(r),
        other => Err(mismatch(other)),
    }
}

/// A write answered as another kind of write: a defect of the batch, never seen.
fn mismatch(answer: Done) -> StoreError {
    StoreError::Backend(format!(
        "a batched write got the wrong kind of answer: {answer:?}"
    ))
}

/// Queues a write and waits for its answer; when this request gets the turn, it writes what is
/// waiting for everyone (`batch::Queue`).
async fn queued(
    store: &Backend,
    what: What,
    tokens: &[NewToken],
    now: Timestamp,
) -> StoreResult<Done> {
    let (done, answer) = tokio::sync::oneshot::channel();
    let work = Work {
        what,
        tokens: tokens.to_vec(),
        now,
        done,
    };
    store
        .write_queue
        .wait(work, answer, crate::batch::batch_of, |jobs| {
            let store = store.clone();
            async move { write_batch(&store, jobs).await }
        })
        .await
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

/// Every write of `jobs` in one transaction, in a fixed number of statements however many
/// there are: all uses of codes (one single-use statement), all new grants (one), all rotations
/// (one single-use statement), the grants of the rotated tokens (one), what a refused rotation
/// presented (one, only if any was refused), all codes' grants (one), then all new tokens (one);
/// the answers in the order of `jobs`.
async fn write_together(store: &Backend, jobs: &[Work]) -> StoreResult<Vec<Done>> {
    use sqlx::{FromRow, Row};
    let mut tx = store.begin_write().await?;
    // Per write: the grant its new tokens go under, or its answer without new tokens.
    let mut grants: Vec<Option<Result<Grant, Done>>> = jobs.iter().map(|_| None).collect();

    // Uses of codes: one single-use statement for all; of two uses of one code in the batch,
    // the first (in queue order) uses it and the later finds it used.
    let uses = first_of_each(jobs, |w| match w {
        What::UseCode(h) => Some(h.as_str()),
        _ => None,
    });
    if !uses.is_empty() {
        let mut qb = QueryBuilder::<Db>::new("UPDATE oauth2_codes SET used_at = v.column2 FROM (");
        qb.push_values(&uses, |mut b, (hash, i)| {
            b.push_bind(*hash).push_bind(jobs[*i].now);
        });
        qb.push(format!(
            ") AS v WHERE oauth2_codes.hash = v.column1 AND oauth2_codes.used_at IS NULL \
             RETURNING oauth2_codes.hash, {}",
            CODE_COLS
                .split(", ")
                .map(|c| format!("oauth2_codes.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut used: HashMap<String, gatehouse_core::oauth2::Code> = HashMap::new();
        for row in qb.build().fetch_all(&mut *tx).await.map_err(backend_err)? {
            let hash: String = row.try_get("hash").map_err(backend_err)?;
            used.insert(hash, CodeRow::from_row(&row).map_err(backend_err)?.into());
        }
        for (i, job) in jobs.iter().enumerate() {
            if let What::UseCode(h) = &job.what {
                let mine = uses.get(h.as_str()) == Some(&i);
                grants[i] = Some(Err(Done::Code(if mine { used.remove(h) } else { None })));
            }
        }
    }

    // New grants. RETURNING gives no order, so each row goes to a write that asked for exactly
    // its values; writes asking for the same values are alike, so which gets which is immaterial.
    let new: Vec<(usize, &NewGrant, Timestamp)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| match &j.what {
            What::Grant(g) => Some((i, g, j.now)),
            _ => None,
        })
        .collect();
    if !new.is_empty() {
        let mut waiting: HashMap<GrantValues, Vec<usize>> = HashMap::new();
        for (i, g, now) in &new {
            waiting
                .entry(GrantValues::of(g, *now))
                .or_default()
                .push(*i);
        }
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO oauth2_grants (client_id, user_id, site_id, scope, flow, created_at, expires_at) ",
        );
        qb.push_values(&new, |mut b, (_, g, now)| {
            b.push_bind(g.client_id.0)
                .push_bind(g.user_id.0)
                .push_bind(g.site_id.map(|s| s.0))
                .push_bind(&g.scope)
                .push_bind(g.flow.as_str())
                .push_bind(*now)
                .push_bind(g.expires_at);
        });
        qb.push(format!(" RETURNING {GRANT_COLS}"));
        let rows: Vec<GrantRow> = qb
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(missing_as_not_found)?;
        for row in rows {
            let i = waiting
                .get_mut(&GrantValues::of_row(&row))
                .and_then(Vec::pop)
                .ok_or_else(|| StoreError::Backend("a written grant matches no request".into()))?;
            grants[i] = Some(Ok(Grant::try_from(row)?));
        }
    }

    // Rotations: one single-use statement for all. Of two presentations of one token in the
    // batch, the first (in queue order) rotates it and the later is a replay.
    let mut rotating = first_of_each(jobs, |w| match w {
        What::Rotate(h) => Some(h.as_str()),
        _ => None,
    });
    let replayed_here: Vec<usize> = jobs
        .iter()
        .enumerate()
        .filter(|(i, j)| matches!(&j.what, What::Rotate(h) if rotating.get(h.as_str()) != Some(i)))
        .map(|(i, _)| i)
        .collect();
    if !rotating.is_empty() {
        let mut qb =
            QueryBuilder::<Db>::new("UPDATE oauth2_tokens SET rotated_at = v.column2 FROM (");
        qb.push_values(&rotating, |mut b, (hash, i)| {
            b.push_bind(*hash).push_bind(jobs[*i].now);
        });
        qb.push(
            ") AS v WHERE oauth2_tokens.hash = v.column1 AND oauth2_tokens.kind = 'refresh' \
             AND oauth2_tokens.rotated_at IS NULL AND oauth2_tokens.revoked_at IS NULL \
             RETURNING oauth2_tokens.hash, oauth2_tokens.grant_id",
        );
        let rotated: Vec<(String, i64)> = qb
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(backend_err)?;
        // The grants of the rotated tokens, one statement.
        let mut by_id: HashMap<i64, Grant> = HashMap::new();
        if !rotated.is_empty() {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {GRANT_COLS} FROM oauth2_grants WHERE id IN ("
            ));
            let mut ids = qb.separated(", ");
            for (_, g) in &rotated {
                ids.push_bind(*g);
            }
            qb.push(")");
            let rows: Vec<GrantRow> = qb
                .build_query_as()
                .fetch_all(&mut *tx)
                .await
                .map_err(backend_err)?;
            for row in rows {
                by_id.insert(row.id, Grant::try_from(row)?);
            }
        }
        for (hash, grant_id) in &rotated {
            let i = rotating
                .remove(hash.as_str())
                .ok_or_else(|| StoreError::Backend("a rotated token matches no request".into()))?;
            let grant = by_id
                .get(grant_id)
                .cloned()
                .ok_or_else(|| StoreError::Backend("a rotated token has no grant".into()))?;
            grants[i] = Some(Ok(grant));
        }
        // What was not rotated: a replay of a known refresh token, or an unknown one.
        let refused: Vec<usize> = rotating.into_values().chain(replayed_here).collect();
        if !refused.is_empty() {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT hash, grant_id FROM oauth2_tokens WHERE kind = 'refresh' AND hash IN (",
            );
            let mut hashes = qb.separated(", ");
            for i in &refused {
                if let What::Rotate(h) = &jobs[*i].what {
                    hashes.push_bind(h.as_str());
                }
            }
            qb.push(")");
            let seen: HashMap<String, i64> = qb
                .build_query_as::<(String, i64)>()
                .fetch_all(&mut *tx)
                .await
                .map_err(backend_err)?
                .into_iter()
                .collect();
            for i in refused {
                if let What::Rotate(h) = &jobs[i].what {
                    grants[i] = Some(Err(Done::Rotation(match seen.get(h) {
                        Some(g) => Rotation::Replayed { grant: GrantId(*g) },
                        None => Rotation::Unknown,
                    })));
                }
            }
        }
    }
    // Codes' grants: one statement for all, each row answering whether a replay of its code
    // was recorded before (a replay recorded after sees the grant and revokes it).
    let code_grants: Vec<(usize, &str, GrantId)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| match &j.what {
            What::CodeGrant(h, g) => Some((i, h.as_str(), *g)),
            _ => None,
        })
        .collect();
    if !code_grants.is_empty() {
        let mut qb = QueryBuilder::<Db>::new("UPDATE oauth2_codes SET grant_id = v.column2 FROM (");
        qb.push_values(&code_grants, |mut b, (_, hash, grant)| {
            b.push_bind(*hash).push_bind(grant.0);
        });
        qb.push(
            ") AS v WHERE oauth2_codes.hash = v.column1 \
             RETURNING oauth2_codes.hash, oauth2_codes.replayed_at",
        );
        let replayed: HashMap<String, Option<i64>> = qb
            .build_query_as::<(String, Option<i64>)>()
            .fetch_all(&mut *tx)
            .await
            .map_err(missing_as_not_found)?
            .into_iter()
            .collect();
        for (i, hash, _) in code_grants {
            let seen = matches!(replayed.get(hash), Some(Some(_)));
            grants[i] = Some(Err(Done::CodeReplayed(seen)));
        }
    }
    let grants: Vec<Result<Grant, Done>> = grants
        .into_iter()
        .map(|g| g.ok_or_else(|| StoreError::Backend("a write got no answer".into())))
        .collect::<StoreResult<_>>()?;

    let new_tokens: Vec<(&NewToken, GrantId, Timestamp)> = jobs
        .iter()
        .zip(&grants)
        .filter_map(|(job, g)| g.as_ref().ok().map(|g| (job, g.id)))
        .flat_map(|(job, id)| job.tokens.iter().map(move |t| (t, id, job.now)))
        .collect();
    let mut by_hash = HashMap::with_capacity(new_tokens.len());
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
                Done::Rotation(Rotation::Rotated { grant, tokens })
            }
            Err(answer) => answer,
        });
    }
    tx.commit().await.map_err(backend_err)?;
    Ok(out)
}

/// For the writes of one single-use kind (`key` names the row a write uses), the first write
/// in queue order of each row: the one that may use it.
fn first_of_each(jobs: &[Work], key: impl Fn(&What) -> Option<&str>) -> HashMap<&str, usize> {
    let mut first = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Some(k) = key(&job.what) {
            first.entry(k).or_insert(i);
        }
    }
    first
}

/// What a new grant is written with: a returned row is matched to the write that asked for it.
#[derive(PartialEq, Eq, Hash)]
struct GrantValues(i64, i64, Option<i64>, String, String, Timestamp, Timestamp);

impl GrantValues {
    fn of(g: &NewGrant, now: Timestamp) -> Self {
        GrantValues(
            g.client_id.0,
            g.user_id.0,
            g.site_id.map(|s| s.0),
            g.scope.clone(),
            g.flow.as_str().to_string(),
            now,
            g.expires_at,
        )
    }
    fn of_row(r: &GrantRow) -> Self {
        GrantValues(
            r.client_id,
            r.user_id,
            r.site_id,
            r.scope.clone(),
            r.flow.clone(),
            r.created_at,
            r.expires_at,
        )
    }
}

pub(super) async fn find_token_by_hash(
    store: &Backend,
    hash: &str,
) -> StoreResult<Option<TokenMatch>> {
    // Read together with the other requests' tokens at the same moment, never kept here.
    let found = store
        .reads
        .tokens
        .get(vec![hash.to_string()], crate::batch::token_key, |hashes| {
            read_tokens(store.clone(), hashes)
        })
        .await?;
    Ok(found.into_iter().next().map(|(_, m)| m))
}

async fn read_tokens(
    store: Backend,
    hashes: Vec<String>,
) -> StoreResult<Vec<(String, TokenMatch)>> {
    let select = format!(
        "SELECT {}, t.hash, g.id AS g_id, g.client_id AS g_client_id, g.user_id AS g_user_id, \
         g.site_id AS g_site_id, g.scope AS g_scope, g.flow AS g_flow, g.created_at AS g_created_at, \
         g.expires_at AS g_expires_at, g.revoked_at AS g_revoked_at, \
         g.last_used_at AS g_last_used_at, g.last_ip AS g_last_ip, {USER_COLS_PREFIXED}, \
         o.disabled AS client_suspended \
         FROM oauth2_tokens t JOIN oauth2_grants g ON g.id = t.grant_id \
         JOIN users u ON u.id = g.user_id JOIN oauth2_clients c ON c.id = g.client_id \
         JOIN users o ON o.id = c.owner_id WHERE t.hash IN (",
        TOKEN_COLS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows: Vec<TokenMatchRow> = rows_in(&store, &select, hashes).await?;
    rows.into_iter()
        .map(|r| {
            let hash = r.hash.clone();
            Ok((hash, r.try_into()?))
        })
        .collect()
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

/// The single-use statement: only the first caller gets the row back. Queued and written with
/// the other token-endpoint writes of the moment (`crate::batch`).
pub(super) async fn consume_code(
    store: &Backend,
    hash: &str,
    now: Timestamp,
) -> StoreResult<Option<gatehouse_core::oauth2::Code>> {
    match queued(store, What::UseCode(hash.to_string()), &[], now).await? {
        Done::Code(c) => Ok(c),
        other => Err(mismatch(other)),
    }
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

/// Records the grant a code was redeemed for, queued like `consume_code`; true when a replay
/// of the code was recorded before (the caller revokes the grant). One statement per code: a
/// concurrent `mark_code_replayed` either ran before (its mark is seen) or runs after (it sees
/// this grant).
pub(super) async fn set_code_grant(
    store: &Backend,
    hash: &str,
    grant: GrantId,
) -> StoreResult<bool> {
    // The time is not written; the batch's writes each carry one.
    let now = 0;
    match queued(store, What::CodeGrant(hash.to_string(), grant), &[], now).await? {
        Done::CodeReplayed(seen) => Ok(seen),
        other => Err(mismatch(other)),
    }
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
