//! Scratch PostgreSQL databases for tests: `PgScratch::create` makes a uniquely named database on
//! the server that `GATEHOUSE_TEST_POSTGRES_URL` names, and dropping the guard drops it (also
//! when a test panics). Randomness: the name mixes the process id, a counter and the time.

use gatehouse_core::store::StoreError;
use sqlx::{Connection, PgConnection};
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that enables the PostgreSQL half of the tests.
pub const TEST_POSTGRES_ENV: &str = "GATEHOUSE_TEST_POSTGRES_URL";
/// Set to `1` (CI does) to make a missing PostgreSQL a failure instead of a skip.
pub const REQUIRE_POSTGRES_ENV: &str = "GATEHOUSE_TEST_REQUIRE_POSTGRES";

/// The PostgreSQL URL tests should use, or `None` after printing that `what` was skipped — unless
/// `GATEHOUSE_TEST_REQUIRE_POSTGRES=1`, where a missing URL is a failure. Every PostgreSQL test
/// (store conformance, HTTP, CLI) asks here, so no suite can skip silently in CI.
#[allow(clippy::panic)]
pub fn postgres_url_for_test(what: &str) -> Option<String> {
    match std::env::var(TEST_POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_POSTGRES_ENV}=1 but {TEST_POSTGRES_ENV} is not set ({what})");
            }
            eprintln!(
                "SKIPPED {what} on PostgreSQL: set {TEST_POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/postgres to run it"
            );
            None
        }
    }
}

pub struct PgScratch {
    admin_url: String,
    name: String,
    pub url: String,
}

fn with_database(base: &str, db: &str) -> String {
    // postgres://user@host:port/db?params → swap the path.
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = head[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(head.len());
    let mut out = format!("{}/{}", &head[..authority_end], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl PgScratch {
    pub async fn create(admin_url: &str) -> Result<PgScratch, StoreError> {
        static N: AtomicU64 = AtomicU64::new(0);
        #[allow(clippy::disallowed_methods)]
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "gatehouse_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            t
        );
        let mut conn = PgConnection::connect(admin_url).await.map_err(|e| {
            StoreError::Backend(format!("cannot reach PostgreSQL at {admin_url}: {e}"))
        })?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(crate::backend_err)?;
        let _ = conn.close().await;
        Ok(PgScratch {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        })
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside a tokio runtime; do the async work on a thread of our own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
