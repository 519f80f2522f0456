//! The one SQL body of both backends, one file per aggregate. `sqlite.rs` and `postgres.rs` each
//! compile this module (`#[path = "sql/mod.rs"] mod sql;`) next to their own `Db` (the sqlx
//! database) and `Backend` (the store type) and `NAME`, so the statements are written once and
//! cannot drift apart, while every file is an ordinary module: formatted by rustfmt, and compile
//! errors point at its lines.

/// What every file of the body uses.
mod prelude {
    pub(crate) use super::super::{Backend, Db};
    pub(crate) use super::rows_in;
    pub(crate) use crate::rows::*;
    pub(crate) use crate::{backend_err, conflict_as, missing_as_not_found};
    pub(crate) use async_trait::async_trait;
    pub(crate) use gatehouse_core::caps::Role;
    pub(crate) use gatehouse_core::clock::Timestamp;
    pub(crate) use gatehouse_core::model::*;
    pub(crate) use gatehouse_core::store::*;
    pub(crate) use sqlx::QueryBuilder;
}

mod audit;
mod credentials;
mod keys;
mod oauth1;
mod oauth2_clients;
mod oauth2_tokens;
mod posts;
mod sessions;
mod sites;
mod throttle;
mod users;

use prelude::*;

#[async_trait]
impl Store for Backend {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
    fn backend(&self) -> &'static str {
        super::NAME
    }
    async fn change_epoch(&self) -> StoreResult<gatehouse_core::store::Epochs> {
        let (changes, content): (i64, i64) =
            sqlx::query_as("SELECT n, content FROM change_epoch WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(backend_err)?;
        Ok(gatehouse_core::store::Epochs { changes, content })
    }
    fn listen_for_changes(&self, wake: gatehouse_core::store::ChangeWaker) -> bool {
        self.listen(wake)
    }
}

/// The rows `select` (a statement ending in `… IN (`) finds for all of `keys` at once: the one
/// statement of a batched look-up (`crate::batch::Reads`).
pub(crate) async fn rows_in<R, K>(
    store: &Backend,
    select: &str,
    keys: impl IntoIterator<Item = K>,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    K: for<'q> sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send + 'static,
{
    let mut qb = QueryBuilder::<Db>::new(select);
    let mut sep = qb.separated(", ");
    for k in keys {
        sep.push_bind(k);
    }
    qb.push(")");
    qb.build_query_as()
        .fetch_all(&store.pool)
        .await
        .map_err(backend_err)
}
