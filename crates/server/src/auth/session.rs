//! Cookie sessions (SPEC §7): reading the session cookie, loading the server-side session (one
//! indexed look-up of its keyed hash, live only within its idle and absolute lifetimes), and
//! writing the cookies (`__Host-` prefixed and `Secure` on https; always HttpOnly, SameSite=Lax).
//! `last_seen` is written at most once a minute, off the request path.

use crate::app::AppState;
use crate::error::ApiError;
use axum::http::HeaderMap;
use gatehouse_core::credentials::use_is_due;
use gatehouse_core::secrets::Purpose;
use gatehouse_core::sessions::{self, TOUCH_SECS};
use gatehouse_core::store::SessionMatch;

pub const SESSION_COOKIE: &str = "gatehouse_session";
pub const PRE_SESSION_COOKIE: &str = "gatehouse_login";

/// The cookie's name for this scheme: `__Host-` on https (SPEC §7).
pub fn cookie_name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// A cookie's value from the request's `Cookie` headers, under this scheme's name only: on https
/// only the `__Host-` name, which a browser accepts only from this host over https with no
/// `Domain` — so a sibling subdomain or an http man-in-the-middle cannot plant it (RFC 6265bis
/// §4.1.3.2). On plain http (loopback or `allow_insecure_http`) only the plain name.
pub fn cookie(headers: &HeaderMap, base: &str, https: bool) -> Option<String> {
    let name = cookie_name(base, https);
    for value in headers.get_all(axum::http::header::COOKIE) {
        let Ok(v) = value.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                if k == name {
                    return Some(val.trim().to_string());
                }
            }
        }
    }
    None
}

/// `Set-Cookie` for a cookie (`max_age` 0 deletes it).
pub fn set_cookie(base: &str, value: &str, https: bool, max_age: i64) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(base, https)
    )
}

/// The live session the request's cookie names, if any. Disabled users have none.
pub async fn load(
    app: &AppState,
    headers: &HeaderMap,
    https: bool,
) -> Result<Option<SessionMatch>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE, https) else {
        return Ok(None);
    };
    if !gatehouse_core::secrets::is_session_id_shape(&token) {
        return Ok(None);
    }
    let now = app.clock.now();
    let found =
        gatehouse_core::authn::first_found(&app.keys, Purpose::Session, &token, |h| async move {
            app.cache.session(app.store.as_ref(), &h, now).await
        });
    let Some((found, hash)) = found.await? else {
        return Ok(None);
    };
    if !gatehouse_core::secrets::hashes_equal(&found.hash, &hash)
        || !sessions::is_live(&found.session, now)
        || found.user.disabled
    {
        return Ok(None);
    }
    if use_is_due(Some(found.session.last_seen_at), now) {
        let store = app.store.clone();
        let id = found.session.id;
        tokio::spawn(async move {
            if let Err(e) = store.touch_session(id, now, TOUCH_SECS).await {
                tracing::warn!(error = %e, "could not record session activity");
            }
        });
    }
    Ok(Some(found))
}
