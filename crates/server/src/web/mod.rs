//! The web pages people use (SPEC §7, §4): log in and out, the profile (API keys, application
//! passwords, sessions), WordPress's authorize-application flow, the admin pages, and
//! `admin-ajax.php?action=rest-nonce`. Server-rendered with minijinja templates compiled into the
//! binary; usable without JavaScript.
//! Invariants: every form carries a CSRF token bound to the session (or, on the login form, to a
//! pre-session cookie); a POST without it, or from another origin, is refused; log-in issues a
//! new session id; `redirect_to` is same-origin only; pages refuse framing and say `no-store`.

mod admin_pages;
mod authorize_application;
mod developer;
mod login;
mod oauth1_authorize;
mod oauth_consent;
mod profile;

pub use admin_pages::*;
pub use authorize_application::*;
pub use developer::*;
pub use login::*;
pub use oauth1_authorize::*;
pub use oauth_consent::*;
pub use profile::*;

use crate::app::AppState;
use crate::auth::session;
use crate::error::ApiError;
use crate::telemetry::{NoteSlot, RequestNote};
use axum::extract::Form;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::caps::Cap;
use gatehouse_core::flash::{self, Flash};
use gatehouse_core::model::*;
use gatehouse_core::net::ClientOrigin;
use gatehouse_core::sessions;
use gatehouse_core::store::{AuditEvent, SessionMatch};
use minijinja::{context, Environment, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Defines a POST handler for a page form: it runs `$body` with the page context (`$web`), the
/// logged-in session (`$s`) and the fields (`$f`), only after the CSRF and origin checks pass.
macro_rules! form_action {
    ($name:ident, |$web:ident, $s:ident, $f:ident $(, $p:ident : $pt:ty)?| $body:block) => {
        pub async fn $name(
            State(app): State<AppState>,
            ext: axum::http::Extensions,
            headers: HeaderMap,
            $(path: Result<Path<$pt>, axum::extract::rejection::PathRejection>,)?
            form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
        ) -> Response {
            let $f = fields(form);
            let $web = match Web::new(app, &ext, headers).await {
                Ok(w) => w,
                Err(r) => return r,
            };
            // An id that does not parse names nothing: this site's 404 page, not the
            // framework's plain-text echo of the input.
            $(let $p: $pt = match path {
                Ok(Path(v)) => v,
                Err(_) => return message(StatusCode::NOT_FOUND, "Not found", "There is no such item.", &$web),
            };)?
            let $s = match $web.form_user(&$f) {
                Ok(s) => s.clone(),
                Err(r) => return r,
            };
            $body
        }
    };
}
pub(crate) use form_action;

pub(super) type Fields = HashMap<String, String>;

/// The cookie that carries a sealed one-time message to the page a form redirects to.
pub const FLASH_COOKIE: &str = "gatehouse_flash";

pub(super) fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("message.html", include_str!("../../templates/message.html")),
            ("profile.html", include_str!("../../templates/profile.html")),
            (
                "authorize_application.html",
                include_str!("../../templates/authorize_application.html"),
            ),
            ("admin.html", include_str!("../../templates/admin.html")),
            ("confirm.html", include_str!("../../templates/confirm.html")),
            ("secrets.html", include_str!("../../templates/secrets.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            (
                "developer.html",
                include_str!("../../templates/developer.html"),
            ),
            ("home.html", include_str!("../../templates/home.html")),
            (
                "oauth1_authorize.html",
                include_str!("../../templates/oauth1_authorize.html"),
            ),
            (
                "oauth1_verifier.html",
                include_str!("../../templates/oauth1_verifier.html"),
            ),
        ] {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(error = %e, template = name, "template does not compile");
            }
        }
        env
    })
}

/// Security headers for every page (SPEC §7, issue: CSP without inline script, no framing).
pub(super) fn secure(mut resp: Response, form_action_extra: &str) -> Response {
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

pub(super) fn html(status: StatusCode, template: &str, ctx: Value) -> Response {
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

pub(super) fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    secure(resp, "")
}

/// What every page handler works with.
pub(super) struct Web {
    pub(super) app: AppState,
    pub(super) origin: ClientOrigin,
    pub(super) headers: HeaderMap,
    pub(super) session: Option<SessionMatch>,
    /// The site whose URL the pages live at (for same-origin checks and links).
    pub(super) base: String,
    /// The logged-in user administers at least one site (or the network): every page's top bar
    /// shows the Admin link.
    pub(super) is_admin: bool,
}

impl Web {
    #[allow(clippy::result_large_err)]
    pub(super) async fn new(
        app: AppState,
        ext: &axum::http::Extensions,
        headers: HeaderMap,
    ) -> Result<Web, Response> {
        let origin = crate::routes::client_origin(&app, peer_of(ext), &headers);
        let session = session::load(&app, &headers, origin.https)
            .await
            .map_err(|e| error_page(&e))?;
        // The access log names the page's user, as it does for the REST dialects.
        NoteSlot::note(
            ext,
            RequestNote {
                dialect: "page",
                user_id: session.as_ref().map(|s| s.user.id.0),
                auth: if session.is_some() {
                    AuthMethod::Cookie.as_str()
                } else {
                    AuthMethod::Anonymous.as_str()
                },
            },
        );
        // The same answer as the REST dialects give (`crate::sites`).
        let base = crate::sites::resolve(&app, origin.host.as_deref())
            .await
            .map_err(|e| error_page(&ApiError::internal(e)))?
            .base;
        let mut web = Web {
            app,
            origin,
            headers,
            session,
            base,
            is_admin: false,
        };
        web.is_admin = match web.user() {
            Some(u) if u.network_admin => true,
            Some(u) => web
                .admin_sites(u)
                .await
                .map(|s| !s.is_empty())
                .unwrap_or(false),
            None => false,
        };
        Ok(web)
    }

    pub(super) fn now(&self) -> i64 {
        self.app.clock.now()
    }

    pub(super) fn csrf(&self) -> String {
        match &self.session {
            Some(s) => sessions::csrf_token(&self.app.keys, &s.hash),
            None => String::new(),
        }
    }

    pub(super) fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }

    pub(super) async fn admin_sites(&self, u: &User) -> Result<Vec<Site>, ApiError> {
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
    pub(super) fn same_origin(&self) -> bool {
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
    pub(super) fn form_user(&self, f: &Fields) -> Result<&SessionMatch, Response> {
        let Some(s) = &self.session else {
            return Err(redirect("/login"));
        };
        let token = f.get("_csrf").map(String::as_str).unwrap_or("");
        if !self.same_origin() || !sessions::csrf_ok(&self.app.keys, &s.hash, token) {
            return Err(message(StatusCode::FORBIDDEN, "Request refused", "This form has expired or did not come from this site. Go back, reload the page and try again.", self));
        }
        Ok(s)
    }

    /// Ends a form that was accepted (post/redirect/get): a 303 to `to`, with `flash` for the page
    /// there — sealed in a cookie bound to the session, its id recorded on the session so that
    /// it is shown once. A reload of that page shows nothing and submits nothing.
    pub(super) async fn done(&self, s: &SessionMatch, to: &str, flash: Flash) -> Response {
        // Secrets of an earlier form whose page has not been shown yet (a double click, two
        // tabs) travel on with this one: taking that message here is what makes it ours.
        let mut flash = match self.pending_flash(s).await {
            Ok(Some(earlier)) if earlier.has_secrets() => flash.keeping(earlier),
            Ok(_) => flash,
            Err(e) => return error_page(&ApiError::internal(e)),
        };
        let id = flash::new_id();
        if let Err(e) = self.app.store.set_session_flash(s.session.id, &id).await {
            return error_page(&ApiError::internal(e));
        }
        let mut sealed = flash::seal(&self.app.keys, &s.hash, &id, &flash, self.now());
        // Whatever is sent must fit in a cookie: typed fields go first, then (after many unshown
        // forms) the oldest secrets, with a warning.
        if sealed.len() > flash::MAX_SEALED_LEN {
            flash.fields.clear();
            sealed = flash::seal(&self.app.keys, &s.hash, &id, &flash, self.now());
        }
        while sealed.len() > flash::MAX_SEALED_LEN && flash.secrets.len() > 1 {
            flash.secrets.remove(0);
            flash.error = Some(
                "Some new secrets could not be shown. Revoke any key or password you did not see."
                    .into(),
            );
            sealed = flash::seal(&self.app.keys, &s.hash, &id, &flash, self.now());
        }
        let mut resp = redirect(to);
        let cookie = session::set_cookie(FLASH_COOKIE, &sealed, self.origin.https, flash::TTL_SECS);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }

    /// Ends a form with its outcome: 303 to `to` with what it did, or with why it was refused
    /// and the fields as typed (a storage failure is the error page instead).
    pub(super) async fn finish(
        &self,
        s: &SessionMatch,
        to: &str,
        outcome: Result<Flash, gatehouse_core::admin::AdminError>,
        typed: &[(&str, &str)],
    ) -> Response {
        use gatehouse_core::admin::AdminError;
        match outcome {
            Ok(f) => self.done(s, to, f).await,
            Err(AdminError::Store(e)) => error_page(&ApiError::internal(e)),
            Err(e) => {
                let refused = Flash::error(sentence(&e.to_string()));
                self.done(s, to, refused.with_fields(typed.iter().copied()))
                    .await
            }
        }
    }

    /// The message the request carries for this session, opened but not taken.
    fn sealed_flash(&self, s: &SessionMatch) -> Option<(String, Flash)> {
        let sealed = session::cookie(&self.headers, FLASH_COOKIE, self.origin.https)?;
        flash::open(&self.app.keys, &s.hash, &sealed, self.now())
    }

    /// Takes the request's message if it is still waiting (it was not shown).
    async fn pending_flash(
        &self,
        s: &SessionMatch,
    ) -> Result<Option<Flash>, gatehouse_core::store::StoreError> {
        let Some((id, f)) = self.sealed_flash(s) else {
            return Ok(None);
        };
        Ok(self
            .app
            .store
            .take_session_flash(s.session.id, &id)
            .await?
            .then_some(f))
    }

    /// The one-time message waiting for this page, if the request carries one sealed for this
    /// session and it has not been shown (taking it is one statement, so it shows once). A page
    /// that cannot show secrets (`shows_secrets` false) leaves a message holding any for the
    /// page that can. `clear` says whether the page should drop the message's cookie.
    pub(super) async fn take_flash(&self, shows_secrets: bool) -> (Flash, bool) {
        let Some(s) = &self.session else {
            return (Flash::default(), false);
        };
        let Some((_, peek)) = self.sealed_flash(s) else {
            let stale = session::cookie(&self.headers, FLASH_COOKIE, self.origin.https).is_some();
            return (Flash::default(), stale);
        };
        if peek.has_secrets() && !shows_secrets {
            return (Flash::default(), false);
        }
        match self.pending_flash(s).await {
            Ok(Some(f)) => (f, true),
            Ok(None) => (Flash::default(), true),
            Err(e) => {
                tracing::warn!(error = %e, "could not take a page message");
                (Flash::default(), false)
            }
        }
    }

    /// A page that showed (or found stale) the request's one-time message: its cookie goes.
    pub(super) fn shown(&self, mut resp: Response, clear: bool) -> Response {
        if clear {
            let gone = session::set_cookie(FLASH_COOKIE, "", self.origin.https, 0);
            if let Ok(v) = HeaderValue::from_str(&gone) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        resp
    }

    pub(super) async fn audit(
        &self,
        event: &str,
        user: Option<&User>,
        login: Option<&str>,
        detail: String,
    ) {
        self.audit_event(event, user, login, None, detail).await
    }

    /// An audit event about another account than the actor's: both are recorded, and the target
    /// sees it in their own audit list.
    pub(super) async fn audit_about(
        &self,
        event: &str,
        actor: &User,
        target: UserId,
        detail: String,
    ) {
        let target = (target != actor.id).then_some(target);
        self.audit_event(event, Some(actor), None, target, detail)
            .await
    }

    async fn audit_event(
        &self,
        event: &str,
        user: Option<&User>,
        login: Option<&str>,
        target_user_id: Option<UserId>,
        detail: String,
    ) {
        let e = AuditEvent {
            at: self.now(),
            event: event.into(),
            user_id: user.map(|u| u.id),
            login: login
                .map(AuditEvent::presented_name)
                .or_else(|| user.map(|u| u.login.clone())),
            address: Some(self.origin.addr.to_string()),
            detail,
            target_user_id,
        };
        if let Err(err) = self.app.store.insert_audit(&e).await {
            tracing::error!(error = %err, "audit log write failed");
        }
    }

    pub(super) fn base_ctx(&self, title: &str) -> Value {
        context! {
            title => title,
            user => self.user().map(|u| context! { login => u.login, email => u.email, display_name => u.display_name, network_admin => u.network_admin }),
            csrf => self.csrf(),
            is_admin => self.is_admin,
        }
    }
}

pub(super) fn message(status: StatusCode, title: &str, text: &str, web: &Web) -> Response {
    html(
        status,
        "message.html",
        context! { ..web.base_ctx(title), ..context! { message => text } },
    )
}

pub(super) fn error_page(e: &ApiError) -> Response {
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

/// Form fields; an unreadable body, or one holding a NUL character (which no database may
/// receive), is treated as empty (the CSRF check then refuses it).
pub(super) fn fields(
    form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
) -> Fields {
    form.map(|Form(f)| f)
        .unwrap_or_default()
        .into_iter()
        .try_fold(Fields::new(), |mut acc, (k, v)| {
            if k.contains('\0') || v.contains('\0') {
                return None;
            }
            acc.insert(k, v);
            Some(acc)
        })
        .unwrap_or_default()
}

pub(super) use crate::routes::peer_of;

/// `redirect_to` is honoured only when it stays on this site: resolved against the site URL by a
/// URL parser and compared by origin (`core::redirect`). Returns the absolute URL to send.
pub fn safe_redirect(target: &str, base: &str) -> Option<String> {
    gatehouse_core::redirect::same_origin(target, base)
}

// ---- static assets ----------------------------------------------------------------------

pub async fn asset_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

pub async fn asset_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
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

/// What a confirmation page asks before a form ends something (revoking a key, ending a session).
pub(super) struct Ask<'a> {
    pub title: &'a str,
    /// The question, naming exactly what is ended.
    pub question: String,
    /// What happens next, in a sentence.
    pub consequence: &'a str,
    /// Where the confirming form posts.
    pub action: String,
    pub button: &'a str,
    /// Where "No, go back" leads.
    pub back: &'a str,
}

/// The confirmation page for `ask`: one POST form with the CSRF token, and a way back.
pub(super) async fn confirm(web: &Web, ask: Ask<'_>) -> Response {
    if web.session.is_none() {
        return redirect(&format!(
            "/login?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("redirect_to", ask.back)
                .finish()
        ));
    }
    html(
        StatusCode::OK,
        "confirm.html",
        context! { ..web.base_ctx(ask.title), ..context! {
            question => ask.question, consequence => ask.consequence, action => ask.action,
            button => ask.button, back => ask.back,
        }},
    )
}

// ---- the front door ---------------------------------------------------------------------

/// `/`: what this server is, a way in, and where its APIs are described.
pub async fn home(app: AppState, ext: &axum::http::Extensions, headers: HeaderMap) -> Response {
    let web = match Web::new(app, ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    html(
        StatusCode::OK,
        "home.html",
        context! { ..web.base_ctx("Gatehouse"), ..context! {
            base => web.base.clone(),
        }},
    )
}

/// A refusal as a sentence on a page: capital first letter (unless it starts with a parameter's
/// name, such as `expires_in`), final full stop.
pub(super) fn sentence(text: &str) -> String {
    let text = text.trim();
    let first_word = text.split_whitespace().next().unwrap_or("");
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(c) if !first_word.contains('_') => c.to_uppercase().chain(chars).collect(),
        Some(_) => text.to_string(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}
