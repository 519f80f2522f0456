//! The web pages people use (SPEC §7, §4): log in and out, the profile (API keys, application
//! passwords, sessions), WordPress's authorize-application flow, the admin pages, and
//! `admin-ajax.php?action=rest-nonce`. Server-rendered with minijinja templates compiled into the
//! binary; usable without JavaScript.
//! Invariants: every form carries a CSRF token bound to the session (or, on the login form, to a
//! pre-session cookie); a POST without it, or from another origin, is refused; log-in issues a
//! new session id; `redirect_to` is same-origin only; pages refuse framing and say `no-store`.

use crate::app::AppState;
use crate::auth::basic::check_account_password;
use crate::auth::session::{self, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::{Cap, Role};
use gatehouse_core::clock::rfc3339;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::model::*;
use gatehouse_core::net::ClientOrigin;
use gatehouse_core::secrets::{self, group_app_password, Purpose};
use gatehouse_core::sessions::{self, ABSOLUTE_SECS};
use gatehouse_core::store::{AuditEvent, SessionMatch};
use minijinja::{context, Environment, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

type Fields = HashMap<String, String>;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("message.html", include_str!("../templates/message.html")),
            ("profile.html", include_str!("../templates/profile.html")),
            (
                "authorize.html",
                include_str!("../templates/authorize.html"),
            ),
            ("admin.html", include_str!("../templates/admin.html")),
        ] {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(error = %e, template = name, "template does not compile");
            }
        }
        env
    })
}

/// Security headers for every page (SPEC §7, issue: CSP without inline script, no framing).
fn secure(mut resp: Response, form_action_extra: &str) -> Response {
    let h = resp.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'{form_action_extra}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn html(status: StatusCode, template: &str, ctx: Value) -> Response {
    let body = env()
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "page rendering failed");
            "<!doctype html><title>Error</title><p>The page could not be shown.".to_string()
        });
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(resp, "")
}

fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    secure(resp, "")
}

/// What every page handler works with.
struct Web {
    app: AppState,
    origin: ClientOrigin,
    headers: HeaderMap,
    session: Option<SessionMatch>,
    /// The site whose URL the pages live at (for same-origin checks and links).
    base: String,
}

impl Web {
    #[allow(clippy::result_large_err)]
    async fn new(app: AppState, peer: SocketAddr, headers: HeaderMap) -> Result<Web, Response> {
        let origin = crate::routes::client_origin(&app, peer, &headers);
        let session = session::load(&app, &headers)
            .await
            .map_err(|e| error_page(&e))?;
        let base = match origin.host.as_deref() {
            Some(host) => match app.store.find_site_by_host(host).await {
                Ok(Some(s)) => s.url,
                _ => app.settings.effective_public_url(),
            },
            None => app.settings.effective_public_url(),
        };
        Ok(Web {
            app,
            origin,
            headers,
            session,
            base,
        })
    }

    fn now(&self) -> i64 {
        self.app.clock.now()
    }

    fn csrf(&self) -> String {
        match &self.session {
            Some(s) => sessions::csrf_token(&self.app.keys, &s.hash),
            None => String::new(),
        }
    }

    fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }

    async fn is_admin(&self) -> bool {
        match self.user() {
            Some(u) if u.network_admin => true,
            Some(u) => self
                .admin_sites(u)
                .await
                .map(|s| !s.is_empty())
                .unwrap_or(false),
            None => false,
        }
    }

    async fn admin_sites(&self, u: &User) -> Result<Vec<Site>, ApiError> {
        let (sites, _) = self
            .app
            .store
            .list_sites(if u.network_admin { None } else { Some(u.id) }, 0, 500)
            .await?;
        let mut out = Vec::new();
        for s in sites {
            let role = self.app.store.find_role(s.id, u.id).await?;
            if SiteAccess::new(&s, Some(u), role)
                .caps
                .has(Cap::ManageOptions)
            {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Refuses a POST whose `Origin` is another site's (SameSite=Lax is the second line).
    fn same_origin(&self) -> bool {
        match self
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        {
            // Browsers send `Origin: null` on form posts from pages with `Referrer-Policy:
            // no-referrer` (ours); the CSRF token is the check that matters there.
            None | Some("null") => true,
            Some(o) => o.trim_end_matches('/').eq_ignore_ascii_case(&self.base),
        }
    }

    /// The logged-in user for a state-changing form, after the CSRF and origin checks.
    #[allow(clippy::result_large_err)] // the error is the page to send; it is built once, rarely
    fn form_user(&self, f: &Fields) -> Result<&SessionMatch, Response> {
        let Some(s) = &self.session else {
            return Err(redirect("/login"));
        };
        let token = f.get("_csrf").map(String::as_str).unwrap_or("");
        if !self.same_origin() || !sessions::csrf_ok(&self.app.keys, &s.hash, token) {
            return Err(message(StatusCode::FORBIDDEN, "Request refused", "This form has expired or did not come from this site. Go back, reload the page and try again.", self));
        }
        Ok(s)
    }

    async fn audit(&self, event: &str, user: Option<&User>, login: Option<&str>, detail: String) {
        let e = AuditEvent {
            at: self.now(),
            event: event.into(),
            user_id: user.map(|u| u.id),
            login: login
                .map(str::to_string)
                .or_else(|| user.map(|u| u.login.clone())),
            address: Some(self.origin.addr.to_string()),
            detail,
        };
        if let Err(err) = self.app.store.insert_audit(&e).await {
            tracing::error!(error = %err, "audit log write failed");
        }
    }

    fn base_ctx(&self, title: &str) -> Value {
        context! {
            title => title,
            user => self.user().map(|u| context! { login => u.login, email => u.email, display_name => u.display_name, network_admin => u.network_admin }),
            csrf => self.csrf(),
        }
    }
}

fn message(status: StatusCode, title: &str, text: &str, web: &Web) -> Response {
    html(
        status,
        "message.html",
        context! { ..web.base_ctx(title), ..context! { message => text } },
    )
}

fn error_page(e: &ApiError) -> Response {
    if let Some(cause) = &e.internal {
        tracing::error!(error = %cause, "page failed");
    }
    let mut resp = html(
        e.status,
        "message.html",
        context! { title => "Something went wrong", message => e.message.to_string() },
    );
    if let Some(secs) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Form fields; an unreadable body is treated as empty (the CSRF check then refuses it).
fn fields(form: Result<Form<Fields>, axum::extract::rejection::FormRejection>) -> Fields {
    form.map(|Form(f)| f).unwrap_or_default()
}

fn peer_of(ext: &axum::http::Extensions) -> SocketAddr {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// `redirect_to` is honoured only when it stays on this site: a path (not `//…`) or an absolute
/// URL with this site's origin.
pub fn safe_redirect(target: &str, base: &str) -> Option<String> {
    let t = target.trim();
    if t.is_empty() {
        return None;
    }
    if t.starts_with('/')
        && !t.starts_with("//")
        && !t.starts_with("/\\")
        && !t.contains(['\r', '\n'])
    {
        return Some(t.to_string());
    }
    let u = url::Url::parse(t).ok()?;
    let origin = format!("{}://{}", u.scheme(), u.host_str()?)
        + &u.port().map(|p| format!(":{p}")).unwrap_or_default();
    origin.eq_ignore_ascii_case(base).then(|| t.to_string())
}

// ---- log in / log out -------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    action: Option<String>,
    redirect_to: Option<String>,
    _wpnonce: Option<String>,
    loggedout: Option<String>,
}

pub async fn login_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    if q.action.as_deref() == Some("logout") {
        return logout_get(&web, q._wpnonce.as_deref()).await;
    }
    if web.session.is_some() {
        let to = q
            .redirect_to
            .as_deref()
            .and_then(|t| safe_redirect(t, &web.base))
            .unwrap_or_else(|| "/profile".into());
        return redirect(&to);
    }
    login_form(
        &web,
        StatusCode::OK,
        q.redirect_to.as_deref().unwrap_or(""),
        None,
        q.loggedout.is_some().then_some("You are now logged out."),
    )
}

fn login_form(
    web: &Web,
    status: StatusCode,
    redirect_to: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    // The form's CSRF token is bound to a pre-session cookie (login CSRF protection).
    let pre = session::cookie(&web.headers, PRE_SESSION_COOKIE)
        .filter(|v| v.len() == secrets::BODY_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric()));
    let (pre, fresh) = match pre {
        Some(p) => (p, false),
        None => (secrets::mint_session_id().expose_secret().to_string(), true),
    };
    let token = sessions::csrf_token(&web.app.keys, &format!("pre|{pre}"));
    let mut resp = html(
        status,
        "login.html",
        context! { ..web.base_ctx("Log in"), ..context! { login_csrf => token, redirect_to => redirect_to, error => error, notice => notice } },
    );
    if fresh {
        let cookie = session::set_cookie(PRE_SESSION_COOKIE, &pre, web.origin.https, 3600);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

pub async fn login_post(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = fields(form);
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let redirect_to = f.get("redirect_to").cloned().unwrap_or_default();
    if !web.origin.https
        && !gatehouse_core::net::is_loopback(web.origin.addr)
        && !web.app.settings.allow_insecure_http
    {
        return message(
            StatusCode::FORBIDDEN,
            "Use https",
            "Passwords are accepted only over https.",
            &web,
        );
    }
    let pre = session::cookie(&web.headers, PRE_SESSION_COOKIE).unwrap_or_default();
    let token = f.get("_csrf").map(String::as_str).unwrap_or("");
    if pre.is_empty()
        || !web.same_origin()
        || !sessions::csrf_ok(&web.app.keys, &format!("pre|{pre}"), token)
    {
        return login_form(
            &web,
            StatusCode::FORBIDDEN,
            &redirect_to,
            Some("Your log-in form expired. Please try again."),
            None,
        );
    }
    let login = f
        .get("log")
        .or_else(|| f.get("username"))
        .cloned()
        .unwrap_or_default()
        .trim()
        .to_string();
    let pass = f
        .get("pwd")
        .or_else(|| f.get("password"))
        .cloned()
        .unwrap_or_default();
    if login.is_empty() || pass.is_empty() {
        return login_form(
            &web,
            StatusCode::OK,
            &redirect_to,
            Some("Enter your username or email and your password."),
            None,
        );
    }
    let user = match check_account_password(&web.app, web.origin.addr, login.clone(), pass).await {
        Ok(u) => u,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            web.audit(
                "login.failure",
                None,
                Some(&login),
                "wrong username or password".into(),
            )
            .await;
            return login_form(
                &web,
                StatusCode::OK,
                &redirect_to,
                Some("The username or password is incorrect."),
                None,
            );
        }
        Err(e) => return error_page(&e),
    };
    // A new session id on every log-in (no fixation): never reuse what the browser sent.
    let now = web.now();
    let id = secrets::mint_session_id();
    let hash = web.app.keys.hash(Purpose::Session, id.expose_secret());
    let ua: String = web
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    if let Err(e) = web
        .app
        .store
        .insert_session(
            &hash,
            user.id,
            now,
            now + ABSOLUTE_SECS,
            &web.origin.addr.to_string(),
            &ua,
        )
        .await
    {
        return error_page(&ApiError::internal(e));
    }
    web.audit("login.success", Some(&user), None, "session started".into())
        .await;
    let to = safe_redirect(&redirect_to, &web.base).unwrap_or_else(|| "/profile".into());
    let mut resp = redirect(&to);
    for c in [
        session::set_cookie(
            SESSION_COOKIE,
            id.expose_secret(),
            web.origin.https,
            ABSOLUTE_SECS,
        ),
        session::set_cookie(PRE_SESSION_COOKIE, "", web.origin.https, 0),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn end_session(web: &Web, s: &SessionMatch, everywhere: bool) -> Response {
    let now = web.now();
    let result = if everywhere {
        web.app
            .store
            .revoke_user_sessions(s.user.id, None, now)
            .await
            .map(|_| ())
    } else {
        web.app
            .store
            .revoke_session(s.user.id, s.session.id, now)
            .await
            .map(|_| ())
    };
    if let Err(e) = result {
        return error_page(&ApiError::internal(e));
    }
    web.audit(
        if everywhere {
            "logout.everywhere"
        } else {
            "logout"
        },
        Some(&s.user),
        None,
        String::new(),
    )
    .await;
    let mut resp = redirect("/login?loggedout=true");
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(
        SESSION_COOKIE,
        "",
        web.origin.https,
        0,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /wp-login.php?action=logout` logs out only with a valid `log-out` nonce; otherwise it
/// asks for confirmation (WordPress's behaviour, and no log-out CSRF).
async fn logout_get(web: &Web, nonce: Option<&str>) -> Response {
    let Some(s) = &web.session else {
        return redirect("/login");
    };
    let valid = nonce.is_some_and(|n| {
        sessions::verify_nonce(&web.app.keys, n, "log-out", s.user.id.0, &s.hash, web.now())
            .is_some()
    });
    if valid {
        return end_session(web, s, false).await;
    }
    html(
        StatusCode::OK,
        "message.html",
        context! { ..web.base_ctx("Log out?"), ..context! { message => "Do you really want to log out?", confirm_logout => true, link_href => "/profile", link_text => "No, go back" } },
    )
}

pub async fn logout_post(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = fields(form);
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let s = match web.form_user(&f) {
        Ok(s) => s.clone(),
        Err(r) => return r,
    };
    end_session(&web, &s, f.get("everywhere").is_some_and(|v| v == "1")).await
}

/// `admin-ajax.php?action=rest-nonce`: the bare `wp_rest` nonce for a logged-in session, else
/// 400 `0` (WordPress's answers).
pub async fn admin_ajax(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let text = |status: StatusCode, body: String| {
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=UTF-8"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    };
    match (&web.session, q.get("action").map(String::as_str)) {
        (Some(s), Some("rest-nonce")) => text(
            StatusCode::OK,
            sessions::create_nonce(&web.app.keys, "wp_rest", s.user.id.0, &s.hash, web.now()),
        ),
        _ => text(StatusCode::BAD_REQUEST, "0".into()),
    }
}

// ---- profile ---------------------------------------------------------------------------

fn date(t: i64) -> String {
    rfc3339(t)
        .replace('T', " ")
        .trim_end_matches("+00:00")
        .to_string()
}

async fn profile_page(
    web: &Web,
    status: StatusCode,
    new_secret: Option<(&str, String)>,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let Some(s) = &web.session else {
        return redirect("/login?redirect_to=/profile");
    };
    let store = &web.app.store;
    let (keys, pws, sess) = match (
        store.list_api_keys(s.user.id).await,
        store.list_app_passwords(s.user.id).await,
        store
            .list_sessions(s.user.id, web.now(), sessions::IDLE_SECS)
            .await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return error_page(&ApiError::internal(e))
        }
    };
    let api_keys: Vec<Value> = keys
        .iter()
        .map(|k| context! {
            id => k.id.0, description => k.description,
            scopes => k.scopes.as_ref().map(|s| Scope::join(s)).unwrap_or_else(|| if k.kind == ApiKeyKind::Site { "read-only site key".into() } else { String::new() }),
            created => date(k.created_at), last_used => k.last_used_at.map(date), expires => k.expires_at.map(date),
        })
        .collect();
    let app_passwords: Vec<Value> = pws
        .iter()
        .map(|p| context! { uuid => p.uuid, name => p.name, created => date(p.created_at), last_used => p.last_used_at.map(date), last_ip => p.last_ip })
        .collect();
    let sessions: Vec<Value> = sess
        .iter()
        .map(|x| context! { id => x.id, created => date(x.created_at), last_seen => date(x.last_seen_at), ip => x.ip, user_agent => x.user_agent, current => x.id == s.session.id })
        .collect();
    let (label, secret) = match new_secret {
        Some((l, v)) => (Some(l), Some(v)),
        None => (None, None),
    };
    html(
        status,
        "profile.html",
        context! { ..web.base_ctx("Your profile"), ..context! {
            is_admin => web.is_admin().await, api_keys, app_passwords, sessions,
            new_secret => secret, new_secret_label => label, notice, error,
        }},
    )
}

pub async fn profile_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    match Web::new(app, peer_of(&ext), headers).await {
        Ok(web) => profile_page(&web, StatusCode::OK, None, None, None).await,
        Err(r) => r,
    }
}

/// Runs a profile form action after the CSRF check, then shows the profile.
macro_rules! profile_action {
    ($name:ident, |$web:ident, $s:ident, $f:ident $(, $p:ident : $pt:ty)?| $body:block) => {
        pub async fn $name(
            State(app): State<AppState>,
            ext: axum::http::Extensions,
            headers: HeaderMap,
            $(Path($p): Path<$pt>,)?
            form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
        ) -> Response {
            let $f = fields(form);
            let $web = match Web::new(app, peer_of(&ext), headers).await {
                Ok(w) => w,
                Err(r) => return r,
            };
            let $s = match $web.form_user(&$f) {
                Ok(s) => s.clone(),
                Err(r) => return r,
            };
            $body
        }
    };
}

/// Shows the profile after creating a credential: the secret once, or what was wrong.
async fn after_create(
    web: &Web,
    user: &User,
    created: Result<(String, String), AdminError>,
    event: &str,
    label: &str,
) -> Response {
    match created {
        Ok((id, secret)) => {
            web.audit(event, Some(user), None, id).await;
            profile_page(web, StatusCode::OK, Some((label, secret)), None, None).await
        }
        Err(AdminError::Store(e)) => error_page(&ApiError::internal(e)),
        Err(e) => {
            profile_page(
                web,
                StatusCode::BAD_REQUEST,
                None,
                None,
                Some(e.to_string()),
            )
            .await
        }
    }
}

profile_action!(profile_api_key_create, |web, s, f| {
    let spec = ApiKeySpec {
        kind: ApiKeyKind::User,
        user: Some(s.user.id),
        site: None,
        created_by: s.user.id,
        description: f.get("description").cloned().unwrap_or_default(),
        scopes: f.get("scopes").map(|v| vec![v.clone()]).unwrap_or_default(),
        methods: Vec::new(),
        expires_in: f.get("expires_in").and_then(|v| v.parse().ok()),
    };
    let created =
        credentials::create_api_key(web.app.store.as_ref(), &web.app.keys, &spec, web.now())
            .await
            .map(|(key, secret)| {
                (
                    format!("id={}", key.id.0),
                    secret.expose_secret().to_string(),
                )
            });
    after_create(&web, &s.user, created, "api_key.create", "Your new API key").await
});

profile_action!(profile_api_key_revoke, |web, s, f, id: i64| {
    let mine = matches!(web.app.store.get_api_key(ApiKeyId(id)).await, Ok(k) if k.user_id == Some(s.user.id) || k.created_by == s.user.id);
    if mine
        && web
            .app
            .store
            .revoke_api_key(ApiKeyId(id), web.now())
            .await
            .unwrap_or(false)
    {
        web.audit("api_key.revoke", Some(&s.user), None, format!("id={id}"))
            .await;
        return profile_page(
            &web,
            StatusCode::OK,
            None,
            Some("The API key was revoked."),
            None,
        )
        .await;
    }
    profile_page(
        &web,
        StatusCode::NOT_FOUND,
        None,
        None,
        Some("No such API key.".into()),
    )
    .await
});

profile_action!(profile_app_password_create, |web, s, f| {
    let name = f.get("name").cloned().unwrap_or_default();
    let created = credentials::create_app_password(
        web.app.store.as_ref(),
        &web.app.keys,
        s.user.id,
        &name,
        "",
        web.now(),
    )
    .await
    .map(|(pw, secret)| {
        (
            format!("uuid={}", pw.uuid),
            group_app_password(secret.expose_secret()),
        )
    });
    after_create(
        &web,
        &s.user,
        created,
        "app_password.create",
        "Your new application password",
    )
    .await
});

profile_action!(profile_app_password_revoke, |web, s, f, uuid: String| {
    if web
        .app
        .store
        .delete_app_password(s.user.id, &uuid)
        .await
        .unwrap_or(false)
    {
        web.audit(
            "app_password.delete",
            Some(&s.user),
            None,
            format!("uuid={uuid}"),
        )
        .await;
        return profile_page(
            &web,
            StatusCode::OK,
            None,
            Some("The application password was revoked."),
            None,
        )
        .await;
    }
    profile_page(
        &web,
        StatusCode::NOT_FOUND,
        None,
        None,
        Some("No such application password.".into()),
    )
    .await
});

profile_action!(profile_session_revoke, |web, s, f, id: i64| {
    if id != s.session.id
        && web
            .app
            .store
            .revoke_session(s.user.id, id, web.now())
            .await
            .unwrap_or(false)
    {
        web.audit("session.revoke", Some(&s.user), None, format!("id={id}"))
            .await;
        return profile_page(
            &web,
            StatusCode::OK,
            None,
            Some("The session was ended."),
            None,
        )
        .await;
    }
    profile_page(
        &web,
        StatusCode::NOT_FOUND,
        None,
        None,
        Some("No such session.".into()),
    )
    .await
});

profile_action!(profile_sessions_revoke_others, |web, s, f| {
    match web
        .app
        .store
        .revoke_user_sessions(s.user.id, Some(s.session.id), web.now())
        .await
    {
        Ok(n) => {
            web.audit(
                "session.revoke_others",
                Some(&s.user),
                None,
                format!("count={n}"),
            )
            .await;
            profile_page(
                &web,
                StatusCode::OK,
                None,
                Some("Every other session was ended."),
                None,
            )
            .await
        }
        Err(e) => error_page(&ApiError::internal(e)),
    }
});

// ---- authorize application (WordPress's flow, SPEC §4) ----------------------------------

/// `success_url`/`reject_url` must be https, except on loopback hosts.
fn callback_ok(u: &str) -> bool {
    match url::Url::parse(u) {
        Ok(p) => match p.scheme() {
            "https" => true,
            "http" => matches!(p.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
            _ => false,
        },
        Err(_) => false,
    }
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = match url::Url::parse(base) {
        Ok(u) => u,
        Err(_) => return base.to_string(),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

pub async fn authorize_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (app_name, success_url, reject_url) =
        (get("app_name"), get("success_url"), get("reject_url"));
    let bad = [&success_url, &reject_url]
        .iter()
        .any(|u| !u.is_empty() && !callback_ok(u));
    if app_name.trim().is_empty() || bad {
        return message(StatusCode::BAD_REQUEST, "Cannot authorize this application", "The request needs an app_name, and its success_url and reject_url must use https (or a loopback address).", &web);
    }
    if web.session.is_none() {
        let back = format!(
            "/wp-admin/authorize-application.php?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(q.iter())
                .finish()
        );
        let to = format!(
            "/login?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("redirect_to", &back)
                .finish()
        );
        return redirect(&to);
    }
    let extra: String = [&success_url, &reject_url]
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| format!(" {}", u.origin().ascii_serialization()))
        .collect();
    let resp = html(
        StatusCode::OK,
        "authorize.html",
        context! { ..web.base_ctx("Authorize application"), ..context! {
            app_name, app_id => get("app_id"), success_url, reject_url, site_url => web.base.clone(),
        }},
    );
    secure(resp, &extra)
}

pub async fn authorize_post(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = fields(form);
    let web = match Web::new(app, peer_of(&ext), headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let s = match web.form_user(&f) {
        Ok(s) => s.clone(),
        Err(r) => return r,
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (success_url, reject_url) = (get("success_url"), get("reject_url"));
    if [&success_url, &reject_url]
        .iter()
        .any(|u| !u.is_empty() && !callback_ok(u))
    {
        return message(
            StatusCode::BAD_REQUEST,
            "Cannot authorize this application",
            "Its callback URLs must use https.",
            &web,
        );
    }
    if get("decision") != "approve" {
        if reject_url.is_empty() {
            return redirect("/profile");
        }
        return secure(
            redirect(&with_query(&reject_url, &[("success", "false")])),
            "",
        );
    }
    let app_id = get("app_id");
    let app_id = if app_id.len() == 36 {
        app_id
    } else {
        String::new()
    };
    match credentials::create_app_password(
        web.app.store.as_ref(),
        &web.app.keys,
        s.user.id,
        &get("app_name"),
        &app_id,
        web.now(),
    )
    .await
    {
        Ok((pw, secret)) => {
            web.audit(
                "app_password.create",
                Some(&s.user),
                None,
                format!("uuid={} via authorize-application", pw.uuid),
            )
            .await;
            let password = group_app_password(secret.expose_secret());
            if success_url.is_empty() {
                return profile_page(
                    &web,
                    StatusCode::OK,
                    Some(("Your new application password", password)),
                    None,
                    None,
                )
                .await;
            }
            let to = with_query(
                &success_url,
                &[
                    ("site_url", &web.base),
                    ("user_login", &s.user.login),
                    ("password", &password),
                ],
            );
            redirect(&to)
        }
        Err(AdminError::Conflict(m)) | Err(AdminError::Invalid(m)) => message(
            StatusCode::BAD_REQUEST,
            "Cannot authorize this application",
            &m,
            &web,
        ),
        Err(e) => error_page(&ApiError::internal(e)),
    }
}

// ---- admin ----------------------------------------------------------------------------

pub async fn admin_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    match Web::new(app, peer_of(&ext), headers).await {
        Ok(web) => admin_page(&web, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

async fn admin_page(
    web: &Web,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let Some(u) = web.user() else {
        return redirect("/login?redirect_to=/admin");
    };
    let sites = match web.admin_sites(u).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    if !u.network_admin && sites.is_empty() {
        return message(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Only administrators can see this page.",
            web,
        );
    }
    let store = &web.app.store;
    let users: Vec<Value> = if u.network_admin {
        match store.list_users(0, 500).await {
            Ok(list) => list.iter().map(|x| context! { id => x.id.0, login => x.login, email => x.email, disabled => x.disabled, network_admin => x.network_admin }).collect(),
            Err(e) => return error_page(&ApiError::internal(e)),
        }
    } else {
        Vec::new()
    };
    let audit: Vec<Value> = match store.list_audit(100).await {
        Ok(list) => list
            .iter()
            .filter(|e| u.network_admin || e.user_id == Some(u.id))
            .map(|e| context! { at => date(e.at), event => e.event, login => e.login, address => e.address, detail => e.detail })
            .collect(),
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let site_list: Vec<Value> = sites.iter().map(|s| context! { id => s.id.0, name => s.name, url => s.url, require_auth => s.require_auth }).collect();
    html(
        status,
        "admin.html",
        context! { ..web.base_ctx("Administration"), ..context! {
            is_admin => true, network_admin => u.network_admin, users, sites => site_list, audit,
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(), notice, error,
        }},
    )
}

/// Runs an admin form action after the CSRF check and reports back on the admin page.
async fn admin_result(web: &Web, r: Result<String, AdminError>) -> Response {
    match r {
        Ok(notice) => admin_page(web, StatusCode::OK, Some(&notice), None).await,
        Err(AdminError::Store(e)) => error_page(&ApiError::internal(e)),
        Err(e) => admin_page(web, StatusCode::BAD_REQUEST, None, Some(e.to_string())).await,
    }
}

fn forbidden(web: &Web) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Only administrators can do that.",
        web,
    )
}

profile_action!(admin_user_add, |web, s, f| {
    if !s.user.network_admin {
        return forbidden(&web);
    }
    let spec = UserSpec {
        login: f.get("login").cloned().unwrap_or_default(),
        email: f.get("email").cloned().unwrap_or_default(),
        display_name: None,
        password: f.get("password").cloned().unwrap_or_default(),
        network_admin: false,
    };
    let r = admin::add_user(web.app.store.as_ref(), &spec, web.now()).await;
    if let Ok(u) = &r {
        web.audit(
            "user.create",
            Some(&s.user),
            None,
            format!("login={}", u.login),
        )
        .await;
    }
    admin_result(&web, r.map(|u| format!("User {} was added.", u.login))).await
});

async fn set_disabled(web: &Web, s: &SessionMatch, id: i64, disabled: bool) -> Response {
    if !s.user.network_admin || id == s.user.id.0 {
        return forbidden(web);
    }
    let r = web.app.store.set_user_disabled(UserId(id), disabled).await;
    if r.is_ok() {
        web.audit(
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            Some(&s.user),
            None,
            format!("id={id}"),
        )
        .await;
        if disabled {
            let _ = web
                .app
                .store
                .revoke_user_sessions(UserId(id), None, web.now())
                .await;
        }
    }
    admin_result(
        web,
        r.map(|_| {
            format!(
                "User {id} was {}.",
                if disabled { "disabled" } else { "enabled" }
            )
        })
        .map_err(|e| AdminError::NotFound(e.to_string())),
    )
    .await
}

profile_action!(admin_user_disable, |web, s, f, id: i64| {
    set_disabled(&web, &s, id, true).await
});
profile_action!(admin_user_enable, |web, s, f, id: i64| {
    set_disabled(&web, &s, id, false).await
});

profile_action!(admin_site_add, |web, s, f| {
    if !s.user.network_admin {
        return forbidden(&web);
    }
    let r = admin::add_site(
        web.app.store.as_ref(),
        f.get("name").map(String::as_str).unwrap_or(""),
        f.get("url").map(String::as_str).unwrap_or(""),
        s.user.id,
        web.now(),
    )
    .await;
    if let Ok(site) = &r {
        web.audit(
            "site.create",
            Some(&s.user),
            None,
            format!("url={}", site.url),
        )
        .await;
    }
    admin_result(&web, r.map(|x| format!("Site {} was added.", x.url))).await
});

/// Site administrators manage their own sites; network admins every site.
async fn manages(web: &Web, user: &User, site: SiteId) -> bool {
    web.admin_sites(user)
        .await
        .map(|s| s.iter().any(|x| x.id == site))
        .unwrap_or(false)
}

profile_action!(admin_site_require_auth, |web, s, f, id: i64| {
    if !manages(&web, &s.user, SiteId(id)).await {
        return forbidden(&web);
    }
    let on = f.get("require_auth").is_some_and(|v| v == "true");
    let patch = SitePatch {
        require_auth: Some(on),
        ..Default::default()
    };
    let r = admin::update_site(web.app.store.as_ref(), SiteId(id), &patch).await;
    if r.is_ok() {
        web.audit(
            "site.require_auth",
            Some(&s.user),
            None,
            format!("id={id} require_auth={on}"),
        )
        .await;
    }
    admin_result(
        &web,
        r.map(|x| {
            format!(
                "{}: authentication is {}.",
                x.url,
                if on { "required" } else { "optional for reads" }
            )
        }),
    )
    .await
});

profile_action!(admin_member_set, |web, s, f| {
    let site = match f.get("site").and_then(|v| v.parse::<i64>().ok()) {
        Some(id) => SiteId(id),
        None => return admin_result(&web, Err(AdminError::Invalid("choose a site".into()))).await,
    };
    if !manages(&web, &s.user, site).await {
        return forbidden(&web);
    }
    let Some(role) = f.get("role").and_then(|r| Role::parse(r)) else {
        return admin_result(&web, Err(AdminError::Invalid("unknown role".into()))).await;
    };
    let store = web.app.store.as_ref();
    let r = async {
        let user =
            admin::find_user(store, f.get("login").map(String::as_str).unwrap_or("")).await?;
        admin::set_member(store, site, user.id, role).await?;
        Ok::<_, AdminError>(user)
    }
    .await;
    if let Ok(u) = &r {
        web.audit(
            "site.role",
            Some(&s.user),
            None,
            format!("site={} user={} role={}", site.0, u.login, role.as_str()),
        )
        .await;
    }
    admin_result(
        &web,
        r.map(|u| format!("{} is now {} on site {}.", u.login, role.as_str(), site.0)),
    )
    .await
});

// ---- static assets ----------------------------------------------------------------------

pub async fn asset_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../assets/app.css"))
}

pub async fn asset_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    )
}

fn asset(ctype: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        let base = "http://127.0.0.1:8080";
        assert_eq!(safe_redirect("/profile", base).as_deref(), Some("/profile"));
        assert_eq!(
            safe_redirect("http://127.0.0.1:8080/admin", base).as_deref(),
            Some("http://127.0.0.1:8080/admin")
        );
        for evil in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "http://127.0.0.1:8081/",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_redirect(evil, base), None, "{evil}");
        }
    }

    #[test]
    fn callbacks_need_https_or_loopback() {
        assert!(callback_ok("https://app.example/cb"));
        assert!(callback_ok("http://127.0.0.1:9000/cb"));
        assert!(callback_ok("http://localhost/cb"));
        assert!(!callback_ok("http://app.example/cb"));
        assert!(!callback_ok("javascript:alert(1)"));
    }
}
