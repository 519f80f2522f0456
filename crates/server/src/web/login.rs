//! Log in, log out and `admin-ajax.php?action=rest-nonce` (SPEC §7).

use crate::app::AppState;
use crate::auth::basic::refused;
use crate::auth::session::{self, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authn::Refusal;
use gatehouse_core::secrets::{self, Purpose};
use gatehouse_core::sessions::{self, ABSOLUTE_SECS};
use gatehouse_core::store::SessionMatch;
use minijinja::context;
use std::collections::HashMap;

use super::form_action;
use super::*;

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
    let web = match Web::new(app, &ext, headers).await {
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
        (q.redirect_to.as_deref().unwrap_or(""), ""),
        None,
        q.loggedout.is_some().then_some("You are now logged out."),
    )
}

/// The log-in form; `username` is what was typed before (kept after a wrong password).
fn login_form(
    web: &Web,
    status: StatusCode,
    (redirect_to, username): (&str, &str),
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let username: String = username.chars().take(200).collect();
    // The form's CSRF token is bound to a pre-session cookie (login CSRF protection).
    let pre = session::cookie(&web.headers, PRE_SESSION_COOKIE, web.origin.https)
        .filter(|v| secrets::is_session_id_shape(v));
    let (pre, fresh) = match pre {
        Some(p) => (p, false),
        None => (secrets::mint_session_id().expose_secret().to_string(), true),
    };
    let token = sessions::csrf_token(&web.app.keys, &format!("pre|{pre}"));
    let mut resp = html(
        status,
        "login.html",
        context! { ..web.base_ctx("Log in"), ..context! { login_csrf => token, redirect_to => redirect_to, username, error => error, notice => notice } },
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
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let redirect_to = f.get("redirect_to").cloned().unwrap_or_default();
    if !web
        .origin
        .may_send_credentials(web.app.settings.allow_insecure_http)
    {
        return message(
            StatusCode::FORBIDDEN,
            "Use https",
            "Passwords are accepted only over https.",
            &web,
        );
    }
    let pre =
        session::cookie(&web.headers, PRE_SESSION_COOKIE, web.origin.https).unwrap_or_default();
    let token = f.get("_csrf").map(String::as_str).unwrap_or("");
    if pre.is_empty()
        || !web.same_origin()
        || !sessions::csrf_ok(&web.app.keys, &format!("pre|{pre}"), token)
    {
        return login_form(
            &web,
            StatusCode::FORBIDDEN,
            (&redirect_to, f.get("log").map(String::as_str).unwrap_or("")),
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
            (&redirect_to, &login),
            Some("Enter your username or email and your password."),
            None,
        );
    }
    let user = match web
        .app
        .account_password(web.origin.addr, &login, pass, None)
        .await
    {
        Ok(u) => u,
        Err(Refusal::Incorrect) => {
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
                (&redirect_to, &login),
                Some("The username or password is incorrect."),
                None,
            );
        }
        Err(other) => return error_page(&refused(other)),
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
        let mut resp = end_session(web, s, false).await;
        resp.extensions_mut().insert(crate::cache::Changed);
        return resp;
    }
    html(
        StatusCode::OK,
        "message.html",
        context! { ..web.base_ctx("Log out?"), ..context! { message => "Do you really want to log out?", confirm_logout => true, link_href => "/profile", link_text => "No, go back" } },
    )
}

form_action!(logout_post, |web, s, f| {
    end_session(&web, &s, f.get("everywhere").is_some_and(|v| v == "1")).await
});

/// `admin-ajax.php?action=rest-nonce`: the bare `wp_rest` nonce for a logged-in session, else
/// 400 `0` (WordPress's answers).
pub async fn admin_ajax(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
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
