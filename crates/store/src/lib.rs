//! The two implementations of `gatehouse_core::store::Store`: SQLite (the embedded default, one
//! file, WAL) and PostgreSQL (any number of instances on one database), with their migrations.
//! Both are compiled from ONE body of SQL — the files under `src/sql/`, one per aggregate — so
//! their statements cannot drift apart (the single-use statements are the security boundary and
//! must be identical). The statements use only syntax SQLite (≥ 3.35) and PostgreSQL share (`$n`
//! parameters, `RETURNING`, `ON CONFLICT … DO UPDATE`). The only backend differences live in
//! `sqlite.rs` and `postgres.rs`: connection set-up, migrations, and the write transaction
//! (`begin_write`: on SQLite `BEGIN IMMEDIATE`, which takes the write lock up front so a
//! read-then-write transaction never fails with `SQLITE_BUSY` half-way). `rows.rs` holds the row
//! structs; `conformance` the checks both backends must pass.
//! Invariants: counters change in one atomic statement; multi-row writes are one transaction.

use gatehouse_core::store::{Store, StoreError};
use std::sync::Arc;

mod batch;
pub mod conformance;
pub mod postgres;
mod rows;
pub mod scratch;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// True when `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the database `url` names (`postgres://…`, `sqlite://…`, or a file path), creating a
/// missing SQLite file, and applies pending migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if is_postgres_url(url) {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}

/// The migration names of each tree, for the test that keeps them identical.
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    let names = |m: &sqlx::migrate::Migrator| {
        m.iter()
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect::<Vec<_>>()
    };
    (names(&sqlite::MIGRATOR), names(&postgres::MIGRATOR))
}

pub(crate) fn backend_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Backend(other.to_string()),
    }
}

/// Maps a foreign-key violation — a row the write refers to (a client, user or site) was deleted
/// meanwhile — to `NotFound`, so the caller can answer as for a missing row rather than fail.
pub(crate) fn missing_as_not_found(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => backend_err(e),
    }
}

/// Maps a unique-constraint violation to `Conflict(what)`.
pub(crate) fn conflict_as(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => backend_err(e),
    }
}
