//! Logs and metrics (SPEC §11): one structured line per request, Prometheus counters and a
//! latency histogram. Owns redaction: query parameters that may carry secrets (`code`, `token`,
//! `password`, `client_secret`, …) are replaced before logging, and no header is ever logged.
//! Time: `Instant` for latency only (a measurement, not a protocol decision).

use crate::config::LogFormat;
use crate::error::{InternalCause, Presented};
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// Query parameter names whose values never reach a log line.
const SECRET_PARAMS: &[&str] = &[
    "code",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "pwd",
    "client_secret",
    "code_verifier",
    "oauth_token",
    "oauth_verifier",
    "oauth_signature",
    "_wpnonce",
    "api_key",
    "apikey",
    "key",
    "secret",
];

/// The path and query with secret-bearing parameter values replaced by `REDACTED`.
pub fn redact_uri(path: &str, query: Option<&str>) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return path.to_string();
    };
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        let lower = k.to_ascii_lowercase();
        let secret = SECRET_PARAMS.iter().any(|s| {
            lower == *s
                || lower.contains("password")
                || lower.contains("secret")
                || lower.contains("token")
        });
        // A URL inside a parameter (`redirect_to=/oauth1/authorize?oauth_token=…`) has its own
        // query redacted by the same rules.
        let value = match v.split_once('?') {
            _ if secret => "REDACTED".to_string(),
            Some((p, q)) => redact_uri(p, Some(q)),
            None => v.into_owned(),
        };
        out.append_pair(&k, &value);
    }
    format!("{path}?{}", out.finish())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DialectLabel {
    dialect: &'static str,
}

/// A method as a label without allocating: the standard ones by name, anything else `other`
/// (so a client cannot grow the label set).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SchemeLabel {
    scheme: String,
}

/// The process's metrics, in a registry of its own (several apps may share a test process).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<DialectLabel, Histogram>,
    auth_failures: Family<SchemeLabel, Counter>,
    argon2_busy: Counter,
    /// Shared with the read cache (`crate::cache`).
    pub cache: CacheCounters,
}

/// What the read cache did: answers from memory, look-ups that went to the database, and
/// drops because the change counter moved.
#[derive(Clone, Default, Debug)]
pub struct CacheCounters {
    pub hits: Counter,
    pub misses: Counter,
    pub drops: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<DialectLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        let auth_failures = Family::<SchemeLabel, Counter>::default();
        let argon2_busy = Counter::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        registry.register(
            "auth_failures",
            "Refused credentials, by scheme",
            auth_failures.clone(),
        );
        registry.register(
            "argon2_busy",
            "Requests refused because every Argon2id slot was busy",
            argon2_busy.clone(),
        );
        let cache = CacheCounters::default();
        registry.register(
            "cache_hits",
            "Credentials, OAuth clients, sites, roles, users/me bodies and list answers served from memory",
            cache.hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Look-ups the read cache had to send to the database (not counted while it is off or paused)",
            cache.misses.clone(),
        );
        registry.register(
            "cache_drops",
            "Times the read cache (or its posts lists) was emptied because something changed",
            cache.drops.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            auth_failures,
            argon2_busy,
            cache,
        }
    }

    pub fn auth_failure(&self, presented: Presented) {
        let scheme = format!("{presented:?}").to_ascii_lowercase();
        self.auth_failures
            .get_or_create(&SchemeLabel { scheme })
            .inc();
    }

    pub fn argon2_busy(&self) {
        self.argon2_busy.inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// What a dialect handler tells the access log about a request.
#[derive(Debug, Clone)]
pub struct RequestNote {
    pub dialect: &'static str,
    pub user_id: Option<i64>,
    pub auth: &'static str,
}

/// Where a handler that does not build its own `RequestNote` (the web pages) leaves one for the
/// access log: the middleware puts an empty slot in the request, the page fills it in.
#[derive(Debug, Clone, Default)]
pub struct NoteSlot(pub Arc<std::sync::OnceLock<RequestNote>>);

impl NoteSlot {
    /// Records `note` for this request's log line (the first note wins).
    pub fn note(ext: &axum::http::Extensions, note: RequestNote) {
        if let Some(slot) = ext.get::<NoteSlot>() {
            let _ = slot.0.set(note);
        }
    }
}

/// Middleware: one log line and the metrics for every request; and the change counter is read
/// before a request with an unsafe method is handled (so a write never uses a credential revoked
/// elsewhere) and before any request that may have changed something (an unsafe method, or a
/// response marked `cache::Changed`) is answered (so what it revoked is refused from the next
/// request on; other instances see it at their next poll, SPEC §11). One layer for both: each
/// layer costs every request a boxed future and a clone of the state.
pub async fn access_log(
    State(app): State<crate::app::AppState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let metrics = &app.metrics;
    let started = Instant::now();
    let method_name = method_label(req.method());
    // Cheap handles (no copy); the log line is formatted only when it will be written, so the
    // access log costs nothing when its level is off.
    let (method, request_uri) = (req.method().clone(), req.uri().clone());
    let slot = NoteSlot::default();
    let mut req = req;
    req.extensions_mut().insert(slot.clone());
    let unsafe_method = !req.method().is_safe();
    if unsafe_method && !crate::oauth2::reads_fresh_itself(req.uri().path()) {
        // A write is authenticated against what the database holds now, not against what was
        // kept up to a second ago: a credential revoked elsewhere cannot make one more change.
        app.cache.sync(app.store.as_ref()).await;
    }
    // GETs that may write too: the authorization endpoint with remembered consent, and
    // WordPress's log-out link.
    let may_write = unsafe_method
        || crate::oauth2::writes_on_get(req.uri().path())
        || req.uri().path() == "/wp-login.php";
    let resp = if may_write {
        // A request that may write runs to completion even if its client goes away: dropping it
        // half-way could cancel a transaction between its statements (on SQLite that left a
        // pooled connection inside a transaction, failing every later write on it).
        match tokio::spawn(next.run(req)).await {
            Ok(resp) => resp,
            Err(e) => {
                tracing::error!(error = %e, "request task failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    } else {
        next.run(req).await
    };
    let unchanged = resp.extensions().get::<crate::cache::Unchanged>().is_some();
    if (unsafe_method && !unchanged) || resp.extensions().get::<crate::cache::Changed>().is_some() {
        app.cache.sync(app.store.as_ref()).await;
    }
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    let note = resp
        .extensions()
        .get::<RequestNote>()
        .cloned()
        .or_else(|| slot.0.get().cloned());
    let dialect = note.as_ref().map(|n| n.dialect).unwrap_or("other");
    metrics
        .requests
        .get_or_create(&RequestLabels {
            dialect,
            method: method_name,
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&DialectLabel { dialect })
        .observe(elapsed.as_secs_f64());
    let cause = resp
        .extensions()
        .get::<InternalCause>()
        .map(|c| c.0.clone());
    if cause.is_none() && !tracing::enabled!(target: "gatehouse::access", tracing::Level::INFO) {
        return resp;
    }
    let uri = redact_uri(request_uri.path(), request_uri.query());
    let method = method.as_str();
    let ms = round_ms(elapsed);
    let user_id = note.as_ref().and_then(|n| n.user_id);
    let auth = note.as_ref().map(|n| n.auth).unwrap_or("-");
    if let Some(cause) = cause {
        tracing::error!(target: "gatehouse::access", %method, uri, status, ms, dialect, auth, user_id, error = %cause, "request failed");
    } else {
        tracing::info!(target: "gatehouse::access", %method, uri, status, ms, dialect, auth, user_id, "request");
    }
    resp
}

/// A duration in milliseconds to two decimals (`ms=0.05`, not `0.046218999999999996`).
pub fn round_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Installs the global subscriber (text or one JSON object per line).
pub fn init_logging(format: LogFormat, level: &str) {
    // The HTML sanitiser's parser warns about markup in user content (misplaced table tags):
    // that is the sanitiser doing its job, and users must not be able to fill the log with it.
    let quiet = |f: tracing_subscriber::EnvFilter| match "html5ever=error".parse() {
        Ok(d) => f.add_directive(d),
        Err(_) => f,
    };
    let filter = quiet(
        tracing_subscriber::EnvFilter::try_new(level)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
    );
    // Colour codes only for a person at a terminal, never in a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_log() {
        let s = redact_uri(
            "/oauth/token",
            Some("code=abc&state=xyz&client_secret=s3&my_password=p&per_page=5"),
        );
        assert!(
            !s.contains("abc") && !s.contains("s3") && !s.contains("=p&"),
            "{s}"
        );
        assert!(s.contains("state=xyz") && s.contains("per_page=5"), "{s}");
        assert_eq!(redact_uri("/x", None), "/x");
        // The log-in page's return address keeps its secrets too.
        assert_eq!(
            redact_uri(
                "/login",
                Some("redirect_to=%2Foauth1%2Fauthorize%3Foauth_token%3Dabc%26x%3D1")
            ),
            "/login?redirect_to=%2Foauth1%2Fauthorize%3Foauth_token%3DREDACTED%26x%3D1"
        );
    }

    #[test]
    fn durations_are_rounded_to_hundredths_of_a_millisecond() {
        use std::time::Duration;
        assert_eq!(round_ms(Duration::from_nanos(46_219)), 0.05);
        assert_eq!(round_ms(Duration::from_micros(1_234_567)), 1234.57);
        assert_eq!(round_ms(Duration::ZERO), 0.0);
    }
}
