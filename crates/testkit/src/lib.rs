//! `TestApp`: the real application on 127.0.0.1:0 against a fresh SQLite file or a fresh
//! PostgreSQL scratch database, with a `FakeClock`, seeded through the same `core::admin` code the
//! CLI uses. One site (at the app's own URL) with a user per role, a network admin and an outsider.
//! PostgreSQL tests run when `GATEHOUSE_TEST_POSTGRES_URL` is set, and are reported as skipped
//! otherwise — unless `GATEHOUSE_TEST_REQUIRE_POSTGRES=1` (CI), which makes a missing database fatal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use gatehouse_core::admin::{self, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::clock::{Clock, FakeClock};
use gatehouse_core::model::{Site, User};
use gatehouse_core::secrets::ServerKey;
use gatehouse_core::store::Store;
use gatehouse_server::{AppState, Application, Settings};
use gatehouse_store::scratch::{postgres_url_for_test, PgScratch};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

pub use reqwest;

/// 2026-11-23T09:00:00Z: the fake clock's start.
pub const START: i64 = 1_795_424_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A seeded account and its password.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user: User,
    pub login: String,
    pub password: String,
}

impl TestUser {
    /// `Authorization: Basic …` for this user's account password.
    pub fn basic(&self) -> String {
        basic(&self.login, &self.password)
    }
}

pub fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

pub struct TestApp {
    pub base_url: String,
    pub addr: std::net::SocketAddr,
    pub clock: FakeClock,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub site: Site,
    pub backend: Backend,
    users: Vec<(String, TestUser)>,
    verifications: Arc<AtomicU64>,
    /// The server key material (version, key), for siblings and rotation.
    key_material: Vec<(i64, ServerKey)>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    dir: Option<PathBuf>,
    _pg: Option<PgScratch>,
}

fn scratch_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "gatehouse-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The roles seeded on the test site, by login.
pub const ROLE_USERS: [(&str, Role); 5] = [
    ("siteadmin", Role::Administrator),
    ("editor", Role::Editor),
    ("author", Role::Author),
    ("contributor", Role::Contributor),
    ("subscriber", Role::Subscriber),
];

impl TestApp {
    /// What the server's watcher does at its next poll (at most 250 ms away): reads the change
    /// counter and drops its cache if anything moved it. For tests that change the database
    /// directly, as another instance or the CLI would; the watcher itself is proved by the CLI
    /// tests, which wait the second SPEC §11 allows.
    pub async fn settle(&self) {
        self.state.cache.sync(self.state.store.as_ref()).await;
    }

    /// Spawns with test settings: Basic with the account password on.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns after `tweak` adjusts the settings. `None` when the backend is not available here.
    pub async fn spawn_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        let (url, dir, pg) = match backend {
            Backend::Sqlite => {
                let dir = scratch_dir();
                (
                    format!("sqlite://{}/gatehouse.db", dir.display()),
                    Some(dir),
                    None,
                )
            }
            Backend::Postgres => {
                let base = postgres_url_for_test("this HTTP test")?;
                let pg = PgScratch::create(&base).await.unwrap();
                (pg.url.clone(), None, Some(pg))
            }
        };
        let store = gatehouse_store::connect(&url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://{addr}");
        let mut settings = Settings {
            listen: addr,
            public_url: Some(base_url.clone()),
            database_url: Some(url),
            basic_auth_with_account_password: true,
            argon2_max_concurrency: 8,
            ..Settings::default()
        };
        tweak(&mut settings);
        let clock = FakeClock::new(START);
        let key_material = vec![(1, ServerKey::generate())];
        let keys = gatehouse_server::keys::verify(&*store, &key_material, START)
            .await
            .unwrap();
        let mut state = AppState::new(store.clone(), Arc::new(clock.clone()), settings, keys);
        let verifications = count_verifications(&mut state);

        // Seed: a network admin who owns the site, one user per role, and an outsider.
        let now = clock.now();
        let mut users = Vec::new();
        let netadmin = seed_user(&*store, "netadmin", true, now).await;
        let site = admin::add_site(&*store, "Test Site", &base_url, netadmin.user.id, now)
            .await
            .unwrap();
        users.push(("netadmin".to_string(), netadmin));
        for (login, role) in ROLE_USERS {
            let u = seed_user(&*store, login, false, now).await;
            admin::set_member(&*store, site.id, u.user.id, role)
                .await
                .unwrap();
            users.push((login.to_string(), u));
        }
        users.push((
            "outsider".to_string(),
            seed_user(&*store, "outsider", false, now).await,
        ));

        let (tx, server) = serve(listener, state.clone());
        Some(TestApp {
            base_url,
            addr,
            clock,
            store,
            state,
            site,
            backend,
            users,
            verifications,
            key_material,
            shutdown: Some(tx),
            server: Some(server),
            dir,
            _pg: pg,
        })
    }

    /// A second server on the same database (its own connection pool, listener and state, as a
    /// second instance would have), sharing this one's clock and seeded users. With `rotate`, its
    /// server key material has a new version added (as `gatehouse key rotate` does). The database
    /// is this app's: dropping the sibling leaves it alone.
    pub async fn sibling(&self, rotate: bool) -> TestApp {
        let url = self.state.settings.database_url.clone().unwrap();
        let store = gatehouse_store::connect(&url).await.unwrap();
        let mut key_material = self.key_material.clone();
        if rotate {
            key_material.push((key_material.len() as i64 + 1, ServerKey::generate()));
        }
        let keys = gatehouse_server::keys::verify(&*store, &key_material, self.clock.now())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = (*self.state.settings).clone();
        settings.listen = addr;
        let mut state = AppState::new(store.clone(), Arc::new(self.clock.clone()), settings, keys);
        let verifications = count_verifications(&mut state);
        let (tx, server) = serve(listener, state.clone());
        TestApp {
            // Absolute URLs come from the site's URL, which stays the first server's.
            base_url: format!("http://{addr}"),
            addr,
            clock: self.clock.clone(),
            store,
            state,
            site: self.site.clone(),
            backend: self.backend,
            users: self.users.clone(),
            verifications,
            key_material,
            shutdown: Some(tx),
            server: Some(server),
            dir: None,
            _pg: None,
        }
    }

    /// How many account-password verifications (Argon2id, real or dummy) the server has run.
    pub fn argon2_verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// A seeded user by login (`netadmin`, `siteadmin`, `editor`, `author`, `contributor`,
    /// `subscriber`, `outsider`).
    pub fn user(&self, login: &str) -> &TestUser {
        &self
            .users
            .iter()
            .find(|(l, _)| l == login)
            .expect("seeded user")
            .1
    }

    /// Creates an application password for a seeded user; returns it as WordPress shows it.
    pub async fn app_password(&self, login: &str, name: &str) -> String {
        let user = self.user(login).user.id;
        let (_, secret) = gatehouse_core::credentials::create_app_password(
            &*self.store,
            &self.state.keys,
            user,
            name,
            "",
            self.clock.now(),
        )
        .await
        .unwrap();
        gatehouse_core::secrets::group_app_password(secret.expose_secret())
    }

    /// `Authorization: Basic` with a fresh application password of `login`.
    pub async fn app_basic(&self, login: &str) -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        let pw = self
            .app_password(login, &format!("test-{}", N.fetch_add(1, Ordering::SeqCst)))
            .await;
        basic(login, &pw)
    }

    /// Creates an API key; returns its id and secret.
    pub async fn api_key(&self, spec: gatehouse_core::credentials::ApiKeySpec) -> (i64, String) {
        let (key, secret) = gatehouse_core::credentials::create_api_key(
            &*self.store,
            &self.state.keys,
            &spec,
            self.clock.now(),
        )
        .await
        .unwrap();
        (key.id.0, secret.expose_secret().to_string())
    }

    /// A user key for `login` on the test site, with optional scopes, methods and lifetime.
    pub fn user_key_spec(&self, login: &str) -> gatehouse_core::credentials::ApiKeySpec {
        let id = self.user(login).user.id;
        gatehouse_core::credentials::ApiKeySpec {
            kind: gatehouse_core::model::ApiKeyKind::User,
            user: Some(id),
            site: Some(self.site.id),
            created_by: id,
            description: format!("{login} test key"),
            scopes: Vec::new(),
            methods: Vec::new(),
            expires_in: None,
        }
    }

    /// Every byte the database holds, for checking that no secret is stored in clear: the SQLite
    /// file with its WAL, or every row of every PostgreSQL table as text.
    pub async fn raw_database_dump(&self) -> Vec<u8> {
        let url = self.state.settings.database_url.clone().unwrap();
        if gatehouse_store::is_postgres_url(&url) {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut out = Vec::new();
            for t in tables {
                let rows = sqlx::query(&format!("SELECT t::text FROM \"{t}\" t"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                for r in rows {
                    let text: String = r.get(0);
                    out.extend_from_slice(text.as_bytes());
                }
            }
            out
        } else {
            let path = url.trim_start_matches("sqlite://").to_string();
            let mut out = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    out.extend_from_slice(&bytes);
                }
            }
            out
        }
    }

    /// A raw HTTP client: redirects off, short timeouts, loopback only.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Signals shutdown and returns a future that resolves when the server has stopped.
    pub fn begin_shutdown(&mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let handle = self.server.take();
        async move {
            if let Some(h) = handle {
                let _ = h.await;
            }
        }
    }

    /// Stops the server gracefully and waits for it (in-flight requests finish first).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

/// Runs the application on `listener` until the returned sender fires (or is dropped).
fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let app = Application::from_listener(listener, state);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (tx, server)
}

/// Puts a counting verifier into `state`; returns its counter.
fn count_verifications(state: &mut AppState) -> Arc<AtomicU64> {
    let n = Arc::new(AtomicU64::new(0));
    state.set_verifier(Arc::new(CountingVerifier(n.clone())));
    n
}

/// The production verifier, counting each check.
#[derive(Debug)]
struct CountingVerifier(Arc<AtomicU64>);

impl gatehouse_core::password::Verifier for CountingVerifier {
    fn verify(&self, phc: &str, password: &str) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        gatehouse_core::password::verify(phc, password)
    }
}

async fn seed_user(store: &dyn Store, login: &str, network_admin: bool, now: i64) -> TestUser {
    let password = format!("pw-{login}-secret");
    let user = admin::add_user(
        store,
        &UserSpec {
            login: login.into(),
            email: format!("{login}@example.com"),
            display_name: Some(format!("Test {login}")),
            password: password.clone(),
            network_admin,
        },
        now,
    )
    .await
    .unwrap();
    TestUser {
        user,
        login: login.into(),
        password,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Declares a test that runs the same async body against SQLite and PostgreSQL:
/// `both!(name, |app| async move { … });`
#[macro_export]
macro_rules! both {
    // A test that also needs an outside tool: where the build found it missing (`$missing`, a cfg
    // from `build-support/test_cfg.rs`), both variants are ignored with `$how` to enable them.
    ($name:ident, needs($missing:meta, $how:literal), $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr($missing, ignore = $how)]
            async fn sqlite() {
                let app = $crate::TestApp::spawn($crate::Backend::Sqlite)
                    .await
                    .unwrap();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                gatehouse_no_postgres,
                ignore = "PostgreSQL half: set GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
            )]
            #[cfg_attr(all($missing, not(gatehouse_no_postgres)), ignore = $how)]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::spawn($crate::Backend::Sqlite)
                    .await
                    .unwrap();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                gatehouse_no_postgres,
                ignore = "PostgreSQL half: set GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
            )]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
    ($name:ident, settings = $tweak:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::spawn_with($crate::Backend::Sqlite, $tweak)
                    .await
                    .unwrap();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                gatehouse_no_postgres,
                ignore = "PostgreSQL half: set GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
            )]
            async fn postgres() {
                if let Some(app) =
                    $crate::TestApp::spawn_with($crate::Backend::Postgres, $tweak).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}
