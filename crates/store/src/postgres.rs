//! PostgreSQL backend: a pool per instance; every instance shares one database and therefore one
//! truth for counters and revocations (SPEC §11). Migrations take sqlx's advisory lock, so
//! instances starting together apply them once.

use crate::backend_err;
use gatehouse_core::store::StoreError;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// The token endpoint's writes, done together (`crate::batch`): fewer commits, each a WAL flush.
    pub(crate) write_queue: std::sync::Arc<crate::batch::WriteQueue>,
    /// Hot look-ups read together (`crate::batch::Reads`).
    pub(crate) reads: std::sync::Arc<crate::batch::ReadQueues>,
}

/// Prepared statements kept per connection (sqlx's default is 100).
const STATEMENT_CACHE: usize = 1024;

/// A pooled connection idle this long is pinged before it is used again.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings a pooled connection before every acquire by default: a round trip to
            // the server per statement. A connection idle for less than this is used as it is
            // (one that broke meanwhile fails its statement and is replaced); a longer idle
            // one is pinged first.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        use sqlx::Connection;
                        if conn.ping().await.is_err() {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })
            })
            .connect_with(
                url.parse::<sqlx::postgres::PgConnectOptions>()
                    .map_err(backend_err)?
                    // Statements read or written together differ by their number of rows
                    // (`key IN ($1, …)`, `VALUES (…), …`), up to `batch::MAX_*` each: room for
                    // every shape, so each is prepared once per connection, not once per use.
                    .statement_cache_capacity(STATEMENT_CACHE),
            )
            .await
            .map_err(backend_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))?;
        Ok(PgStore {
            pool,
            write_queue: Default::default(),
            reads: Default::default(),
        })
    }
}

impl PgStore {
    /// A connection for one writing statement (see the SQLite backend's).
    pub(crate) async fn write_conn(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        self.pool.acquire().await.map_err(backend_err)
    }

    /// A write transaction (PostgreSQL's row locks and unique constraints decide conflicts).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(backend_err)
    }
}

/// The channel the change-counter trigger notifies on commit (migration 0008).
const CHANGES_CHANNEL: &str = "gatehouse_changes";

impl PgStore {
    /// `LISTEN gatehouse_changes` on a connection of its own, calling `wake` for each
    /// notification. When the connection fails, `wake` is called too (a change may have been
    /// missed) and the listener reconnects after a pause; the caller's polling covers the gap.
    pub(crate) fn listen(&self, wake: gatehouse_core::store::ChangeWaker) -> bool {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
                            tracing::warn!(error = %e, "could not LISTEN for changes; polling");
                        } else {
                            loop {
                                match listener.try_recv().await {
                                    Ok(Some(_)) => wake(),
                                    // The connection was lost; sqlx reconnects on the next
                                    // call, and anything sent meanwhile is covered by a poll.
                                    Ok(None) => wake(),
                                    Err(e) => {
                                        tracing::warn!(error = %e, "change listener failed; polling");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not LISTEN for changes; polling"),
                }
                wake();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        true
    }
}

// ---- the shared SQL body, compiled for this backend ----------------------------------------

/// The sqlx database the shared SQL body (`sql/`) is compiled for here.
pub(crate) type Db = sqlx::Postgres;
/// The store type the shared SQL body implements `Store` for here.
pub(crate) type Backend = PgStore;
/// `Store::backend`.
const NAME: &str = "postgres";

// The same files are compiled once per backend on purpose: one body of SQL, two databases.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
