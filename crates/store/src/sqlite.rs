//! SQLite backend: one file in the data directory, WAL journal, foreign keys on, a busy timeout
//! so the CLI and a running server can share the file (SPEC §10).

use crate::backend_err;
use gatehouse_core::store::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// This process's writers take turns here before `BEGIN IMMEDIATE`: SQLite admits one
    /// writer at a time, and a writer refused the lock sleeps in SQLite's busy handler (1, 2,
    /// 5, … 100 ms) instead of being woken when the lock is free. Another process (the CLI)
    /// still meets the busy timeout.
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The token endpoint's writes, done together (`crate::batch`).
    pub(crate) write_queue: std::sync::Arc<crate::batch::WriteQueue>,
    /// Hot look-ups read together (`crate::batch::Reads`).
    pub(crate) reads: std::sync::Arc<crate::batch::ReadQueues>,
}

/// A connection (a pooled one for one writing statement, or a write transaction) holding this
/// process's writer turn until it is dropped (the connection first, then the turn), so its
/// writes never meet another writer of this process in SQLite's busy handler.
pub(crate) struct InTurn<C> {
    conn: C,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// A write transaction in this process's writer turn.
pub(crate) type WriteTx = InTurn<sqlx::Transaction<'static, sqlx::Sqlite>>;

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.conn.commit().await
    }
}

impl<C: std::ops::Deref<Target = sqlx::SqliteConnection>> std::ops::Deref for InTurn<C> {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.conn
    }
}

impl<C: std::ops::DerefMut<Target = sqlx::SqliteConnection>> std::ops::DerefMut for InTurn<C> {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let opts = SqliteConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Backend(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Statement journals and sorts in memory: a multi-row write inside a transaction
            // otherwise creates and deletes a temporary file each time (seen in the profile).
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            // Each connection is a thread of its own with its own page cache and C heap arena
            // (≈ 4 MiB each under load). The hot look-ups are read together and the token
            // endpoint's writes are batched (`crate::batch`), so few statements run at once:
            // 4 measured as fast as 8, with 20 MiB less peak memory.
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            // An embedded database has no link to lose: sqlx's default ping before every
            // acquire was one more hand-off to the connection's thread per statement.
            .test_before_acquire(false)
            .connect_with(opts)
            .await
            .map_err(backend_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))?;
        Ok(SqliteStore {
            pool,
            write_turn: Default::default(),
            write_queue: Default::default(),
            reads: Default::default(),
        })
    }
}

impl SqliteStore {
    /// A write transaction that holds SQLite's write lock from its first statement
    /// (`BEGIN IMMEDIATE`): a transaction that reads and then writes never meets another
    /// writer half-way, so it never fails with `SQLITE_BUSY` after doing work (it waits for the
    /// lock, up to the busy timeout, before starting).
    /// A connection for one writing statement on the token endpoint's path (using up a code),
    /// taken in turn with the transactions of this process.
    pub(crate) async fn write_conn(
        &self,
    ) -> Result<InTurn<sqlx::pool::PoolConnection<sqlx::Sqlite>>, StoreError> {
        let turn = self.write_turn.clone().lock_owned().await;
        let conn = self.pool.acquire().await.map_err(backend_err)?;
        Ok(InTurn { conn, _turn: turn })
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = self.write_turn.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend_err)?;
        Ok(InTurn {
            conn: tx,
            _turn: turn,
        })
    }
}

impl SqliteStore {
    /// No push channel: instances sharing the file (the server and the CLI) poll the change
    /// counter, one indexed row.
    pub(crate) fn listen(&self, _wake: gatehouse_core::store::ChangeWaker) -> bool {
        false
    }
}

// ---- the shared SQL body, compiled for this backend ----------------------------------------

/// The sqlx database the shared SQL body (`sql/`) is compiled for here.
pub(crate) type Db = sqlx::Sqlite;
/// The store type the shared SQL body implements `Store` for here.
pub(crate) type Backend = SqliteStore;
/// `Store::backend`.
const NAME: &str = "sqlite";

// The same files are compiled once per backend on purpose: one body of SQL, two databases.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
