//! Runs every conformance check against a fresh SQLite file and, when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set, a fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_store::conformance as c;
use gatehouse_store::scratch::{postgres_url_for_test, PgScratch};

async fn on_sqlite<F, Fut>(check: F)
where
    F: FnOnce(std::sync::Arc<dyn gatehouse_core::store::Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempdir();
    let store = gatehouse_store::connect(&format!("{}/t.db", dir.display()))
        .await
        .unwrap();
    check(store).await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn on_postgres<F, Fut>(name: &str, check: F)
where
    F: FnOnce(std::sync::Arc<dyn gatehouse_core::store::Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(base) = postgres_url_for_test(&format!("conformance check {name}")) else {
        return;
    };
    let db = PgScratch::create(&base).await.unwrap();
    let store = gatehouse_store::connect(&db.url).await.unwrap();
    check(store).await;
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "gatehouse-store-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::on_sqlite(|s| async move { super::c::$name(&*s).await }).await;
            }
            #[tokio::test]
            #[cfg_attr(
                gatehouse_no_postgres,
                ignore = "PostgreSQL half: set GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
            )]
            async fn postgres() {
                super::on_postgres(stringify!($name), |s| async move { super::c::$name(&*s).await }).await;
            }
        }
    )*};
}

both!(
    users_share_one_identifier_namespace,
    password_hash_is_replaced,
    sites_and_roles,
    posts_and_comments,
    throttle_counters,
    throttle_attempts,
    audit_log,
    key_fingerprints,
    api_keys,
    api_key_inventory,
    app_passwords,
    sessions,
    oauth2_clients,
    oauth2_tokens,
    oauth2_codes_and_rotation,
    oauth1_consumers_tokens_and_nonces,
    change_counter,
    grants_written_together,
    reads_answered_together,
    abandoned_requests_do_not_break_batches,
);

#[test]
fn migration_trees_are_identical() {
    let (sqlite, postgres) = gatehouse_store::migration_names();
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must list the same migrations"
    );
}
