//! The application: shared state, the router and serving with graceful shutdown.
//! Routing: `/wp-json/…` and `/?rest_route=…` → WordPress dialect; `/v1/…` → hosting;
//! `/rest/v1/…`, `/rest/v1.1/…` → WordPress.com; `/healthz`, `/readyz`, `/metrics` → operations.
//! SPEC §9, §11. Time comes from `clock`; nothing here decides access (see `policy`).

use crate::config::Settings;
use crate::error::Dialect;
use crate::routes;
use crate::telemetry::{access_log, Metrics};
use crate::web;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use gatehouse_core::clock::Clock;
use gatehouse_core::password::{Argon2id, Verifier};
use gatehouse_core::secrets::Keyring;
use gatehouse_core::store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Everything a request may use: one reference-counted pointer, so the clones axum makes for
/// each request and middleware cost one atomic increment (the profile showed ten).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What `AppState` points to.
#[derive(Clone, Debug)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// Bounds concurrent Argon2id checks (SPEC §2).
    pub argon2: Arc<Semaphore>,
    /// Checks waiting for an Argon2id permit now (bounded by `ARGON2_QUEUE_PER_PERMIT`).
    pub argon2_waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// This process's lines of account-password attempts, one per throttle pair with attempts
    /// in progress (first come, first served; only each line's head asks the database). An
    /// entry lives while someone holds or waits for its turn.
    pub admit_lines: Arc<AdmitLines>,
    pub metrics: Arc<Metrics>,
    /// Purpose subkeys of the server key, for keyed hashes of secrets (SPEC §2).
    pub keys: Arc<Keyring>,
    /// Checks account passwords (Argon2id; tests count its calls).
    pub verifier: Arc<dyn Verifier>,
    /// Credentials, sites and roles in memory, dropped when the change counter moves (SPEC §11).
    pub cache: Arc<crate::cache::ReadCache>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        keys: Keyring,
    ) -> AppState {
        let metrics = Metrics::new();
        let cache = crate::cache::ReadCache::new(settings.cache, metrics.cache.clone());
        AppState(Arc::new(Shared {
            keys: Arc::new(keys),
            argon2: Arc::new(Semaphore::new(settings.argon2_permits())),
            argon2_waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            admit_lines: Arc::default(),
            store,
            clock,
            settings: Arc::new(settings),
            metrics: Arc::new(metrics),
            verifier: Arc::new(Argon2id),
            cache: Arc::new(cache),
        }))
    }

    /// Replaces the password verifier (tests count its calls); before the state is shared, or
    /// on a copy of it.
    pub fn set_verifier(&mut self, verifier: Arc<dyn Verifier>) {
        Arc::make_mut(&mut self.0).verifier = verifier;
    }
}

impl AppState {
    /// The credential checks of `core::authn`, with this server's store, keys, throttle policy and
    /// Argon2id pool.
    pub fn checker(&self) -> gatehouse_core::authn::Checker<'_> {
        gatehouse_core::authn::Checker {
            store: self.store.as_ref(),
            lookup: self,
            keys: &self.keys,
            throttle: &self.settings.throttle,
            hashing: self,
        }
    }

    /// The checks with every look-up made in the database, for requests that act on what they
    /// authenticate at once (the token endpoint mints tokens with the client it authenticated):
    /// nothing a second old, even for a credential revoked through another instance.
    pub fn fresh_checker(&self) -> gatehouse_core::authn::Checker<'_> {
        gatehouse_core::authn::Checker {
            lookup: &self.store,
            ..self.checker()
        }
    }
}

impl AppState {
    /// An account-password check (`Checker::account_password_of`) run as a task of its own: a
    /// client that hangs up mid-check cancels nothing, so the place the check took in its
    /// throttle pair's budget is always settled (a dropped check would hold it until it lapses,
    /// shrinking the budget of that name from that address for everyone there).
    pub async fn account_password(
        &self,
        addr: std::net::IpAddr,
        name: &str,
        password: String,
        only: Option<gatehouse_core::model::UserId>,
    ) -> Result<gatehouse_core::model::User, gatehouse_core::authn::Refusal> {
        let (app, name) = (self.clone(), name.to_string());
        let now = self.clock.now();
        tokio::spawn(async move {
            app.checker()
                .account_password_of(addr, &name, password, now, only)
                .await
        })
        .await
        .unwrap_or_else(|e| {
            Err(gatehouse_core::authn::Refusal::Store(
                gatehouse_core::store::StoreError::Backend(e.to_string()),
            ))
        })
    }
}

/// How long a password check waits for an Argon2id permit before the request gets 503.
const ARGON2_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// How many checks may wait, per permit: a burst of log-ins is served in turn (each check takes
/// about 20 ms), a flood is refused at once instead of piling up memory and latency.
const ARGON2_QUEUE_PER_PERMIT: usize = 32;

/// Argon2id off the async runtime, at most `argon2_permits` at a time (SPEC §2). When every permit
/// is taken, a check waits its turn for up to `ARGON2_WAIT` in a bounded queue; beyond that (or
/// when the queue is full) it is refused with 503 + `Retry-After`.
#[async_trait::async_trait]
impl gatehouse_core::authn::PasswordHashing for AppState {
    async fn verify(
        &self,
        stored: Option<String>,
        presented: String,
    ) -> Result<bool, gatehouse_core::authn::Refusal> {
        use gatehouse_core::authn::Refusal;
        use std::sync::atomic::Ordering;
        let permit = match self.argon2.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                // Counted while waiting, however the wait ends (a dropped request included).
                struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::AcqRel);
                    }
                }
                let bound = self.settings.argon2_permits() * ARGON2_QUEUE_PER_PERMIT;
                let ahead = self.argon2_waiting.fetch_add(1, Ordering::AcqRel);
                let _waiting = Waiting(&self.argon2_waiting);
                if ahead >= bound {
                    None
                } else {
                    let turn = self.argon2.clone().acquire_owned();
                    tokio::time::timeout(ARGON2_WAIT, turn)
                        .await
                        .ok()
                        .and_then(Result::ok)
                }
            }
        };
        let Some(permit) = permit else {
            self.metrics.argon2_busy();
            return Err(Refusal::Busy);
        };
        let verifier = self.verifier.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match stored {
                Some(h) => verifier.verify(&h, &presented),
                None => gatehouse_core::password::verify_dummy(verifier.as_ref(), &presented),
            }
        })
        .await
        .map_err(|e| Refusal::Store(gatehouse_core::store::StoreError::Backend(e.to_string())))
    }

    async fn line_up(&self, pair: &str) -> Option<Box<dyn Send>> {
        let line = lock_lines(&self.admit_lines)
            .entry(pair.to_string())
            .or_default()
            .clone();
        // Declared before the wait, so that a wait that runs out (or is dropped with its request)
        // has let go of the line before the place leaves, and the entry goes with the last one.
        let mut place = Place {
            turn: None,
            lines: self.admit_lines.clone(),
            pair: pair.to_string(),
        };
        let turn = tokio::time::timeout(ARGON2_WAIT, line.lock_owned())
            .await
            .ok()?;
        place.turn = Some(turn);
        Some(Box::new(place))
    }

    async fn pause(&self) {
        tokio::time::sleep(ADMIT_PAUSE).await;
    }
}

/// How long the head of a line of account-password attempts waits before asking again whether
/// its pair's budget has room (`gatehouse_core::authn::ADMIT_PAUSES` times at most): shorter
/// than one Argon2id check.
const ADMIT_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// Lines by throttle pair key (`AppState::admit_lines`).
pub type AdmitLines =
    std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

fn lock_lines(
    lines: &AdmitLines,
) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
    lines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A place in a pair's line, holding its turn once it came. Leaving gives the turn to the next
/// one and, when nobody else holds or waits for the line, removes it.
struct Place {
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    lines: Arc<AdmitLines>,
    pair: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.turn.take();
        let mut lines = lock_lines(&self.lines);
        if lines
            .get(&self.pair)
            .is_some_and(|line| Arc::strong_count(line) == 1)
        {
            lines.remove(&self.pair);
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/openapi.json", get(routes::openapi::openapi_get))
        .route("/", any(root))
        .route("/index.php", any(root))
        .route("/wp-json", any(wp))
        .route("/wp-json/", any(wp))
        .route("/wp-json/{*rest}", any(wp))
        .route("/v1", any(hosting))
        .route("/v1/", any(hosting))
        .route("/v1/{*rest}", any(hosting))
        .route("/rest/v1", any(wpcom))
        .route("/rest/v1/", any(wpcom))
        .route("/rest/v1/{*rest}", any(wpcom))
        .route("/rest/v1.1", any(wpcom))
        .route("/rest/v1.1/", any(wpcom))
        .route("/rest/v1.1/{*rest}", any(wpcom))
        .route("/login", get(web::login_get).post(web::login_post))
        .route("/wp-login.php", get(web::login_get).post(web::login_post))
        .route("/logout", post(web::logout_post))
        .route("/profile", get(web::profile_get))
        .route("/profile/api-keys", post(web::profile_api_key_create))
        .route(
            "/profile/api-keys/{id}/revoke",
            get(web::profile_api_key_confirm).post(web::profile_api_key_revoke),
        )
        .route(
            "/profile/app-passwords",
            post(web::profile_app_password_create),
        )
        .route(
            "/profile/app-passwords/{uuid}/revoke",
            get(web::profile_app_password_confirm).post(web::profile_app_password_revoke),
        )
        .route(
            "/profile/sessions/{id}/revoke",
            get(web::profile_session_confirm).post(web::profile_session_revoke),
        )
        .route(
            "/profile/grants/{id}/revoke",
            get(web::profile_grant_confirm).post(web::profile_grant_revoke),
        )
        .route(
            "/profile/oauth1/{id}/revoke",
            get(web::profile_oauth1_confirm).post(web::profile_oauth1_revoke),
        )
        .route(
            "/profile/sessions/revoke-others",
            post(web::profile_sessions_revoke_others),
        )
        .route(
            "/developer",
            get(web::developer_get).post(web::developer_create),
        )
        .route(
            "/developer/{id}/redirect-uris",
            post(web::developer_redirects),
        )
        .route(
            "/developer/{id}/rotate-secret",
            get(web::developer_rotate_confirm).post(web::developer_rotate),
        )
        .route(
            "/developer/{id}/delete",
            get(web::developer_delete_confirm).post(web::developer_delete),
        )
        .route("/developer/oauth1", post(web::developer_oauth1_create))
        .route(
            "/developer/oauth1/{id}/delete",
            get(web::developer_oauth1_delete_confirm).post(web::developer_oauth1_delete),
        )
        .route("/admin", get(web::admin_get))
        .route("/admin/users", post(web::admin_user_add))
        .route("/admin/users/{id}/disable", post(web::admin_user_disable))
        .route("/admin/users/{id}/enable", post(web::admin_user_enable))
        .route("/admin/sites", post(web::admin_site_add))
        .route(
            "/admin/sites/{id}/require-auth",
            post(web::admin_site_require_auth),
        )
        .route("/admin/members", post(web::admin_member_set))
        .route(
            "/admin/site-keys/{id}/revoke",
            get(web::admin_site_key_confirm).post(web::admin_site_key_revoke),
        )
        .route(
            "/wp-admin/admin-ajax.php",
            get(web::admin_ajax).post(web::admin_ajax),
        )
        .route(
            "/wp-admin/authorize-application.php",
            get(web::authorize_get).post(web::authorize_post),
        )
        .merge(crate::oauth2::routes())
        .merge(crate::oauth1::routes())
        .route("/assets/app.css", get(web::asset_css))
        .route("/assets/app.js", get(web::asset_js))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::rest::body_deadline))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log,
        ))
        .with_state(state)
}

/// The route inside a dialect: the path after `prefix`, without a trailing slash, starting `/`.
fn inner_route(path: &str, prefix: &str) -> String {
    let rest = path.strip_prefix(prefix).unwrap_or("");
    let trimmed = rest.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

async fn wp(State(app): State<AppState>, req: Request) -> Response {
    let route = inner_route(req.uri().path(), "/wp-json");
    routes::dialect_entry(app, Dialect::Wp, route, req).await
}

async fn hosting(State(app): State<AppState>, req: Request) -> Response {
    let route = inner_route(req.uri().path(), "/v1");
    routes::dialect_entry(app, Dialect::Hosting, route, req).await
}

async fn wpcom(State(app): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let prefix = if path.starts_with("/rest/v1.1") {
        "/rest/v1.1"
    } else {
        "/rest/v1"
    };
    let route = inner_route(&path, prefix);
    routes::dialect_entry(app, Dialect::Wpcom, route, req).await
}

/// `/?rest_route=/wp/v2/posts` is the WordPress dialect; plain `/` is the front door page.
async fn root(State(app): State<AppState>, req: Request) -> Response {
    let rest_route = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "rest_route")
            .map(|(_, v)| v.into_owned())
    });
    match rest_route {
        Some(r) => {
            let route = inner_route(&r, "");
            routes::dialect_entry(app, Dialect::Wp, route, req).await
        }
        None => {
            let (parts, _) = req.into_parts();
            web::home(app, &parts.extensions, parts.headers).await
        }
    }
}

async fn not_found(req: Request<Body>) -> Response {
    let body = serde_json::json!({ "error": "not_found", "message": format!("No route for {}", req.uri().path()) });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn bind(addr: SocketAddr, state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Application { listener, state })
    }

    /// Serves on an already bound listener (tests bind port 0 first to learn their URL).
    pub fn from_listener(listener: TcpListener, state: AppState) -> Application {
        Application { listener, state }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves; in-flight requests then finish before this returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Expired OAuth 1.0a nonces and request tokens are forgotten once a minute, off the
        // request path (a nonce is kept past its timestamp's window, so none is forgotten early).
        let watcher = self.state.cache.watch(self.state.store.clone());
        let state = self.state.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = state.store.purge_oauth1(state.clock.now()).await {
                    tracing::warn!(error = %e, "could not purge expired OAuth 1.0a nonces");
                }
            }
        });
        let served = serve(self.listener, router(self.state), shutdown).await;
        sweeper.abort();
        if let Some(w) = watcher {
            w.abort();
        }
        served
    }
}

/// How long a client may take to send a request's headers (HTTP/1; hyper's default, which
/// `axum::serve` left without the timer it needs). Without it, a client sending a header line now
/// and then held a connection and its task for as long as it liked (a "slowloris").
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Accepts connections until `shutdown` resolves, then lets every connection finish its request
/// in flight. Each request carries its peer address (`ConnectInfo`), as with `axum::serve`, which
/// has no setting for the header read timeout.
async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    server
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    server.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the open connections.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), req.map(Body::new))
        });
        let connection = server
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
