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
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(backend_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))?;
        Ok(PgStore { pool })
    }
}

crate::imp::impl_store!(PgStore, sqlx::Postgres, "postgres");
