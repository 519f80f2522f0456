//! The profile page: API keys, application passwords, sessions (issue: web pages).
//! Every form answers with a 303 back to the page (post/redirect/get); a new secret is shown once
//! on that page through the session's one-time message, never in a URL. Revoking asks first, on
//! a page that names what is revoked.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::AdminError;
use gatehouse_core::clock::rfc3339;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::flash::Flash;
use gatehouse_core::model::*;
use gatehouse_core::secrets::group_app_password;
use gatehouse_core::sessions;
use minijinja::{context, Value};

use super::form_action;
use super::*;

// ---- profile ---------------------------------------------------------------------------

/// A time as people read it on the pages: minutes, and saying it is UTC.
pub(super) fn date(t: i64) -> String {
    let full = rfc3339(t);
    // `YYYY-MM-DDTHH:MM:SS+00:00` → `YYYY-MM-DD HH:MM UTC`
    match full.get(..16) {
        Some(head) => format!("{} UTC", head.replace('T', " ")),
        None => full,
    }
}

pub(super) async fn profile_page(web: &Web, flash: Flash) -> Response {
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
    let grants = match store.list_user_grants(s.user.id, web.now()).await {
        Ok(g) => g,
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let mut site_names = std::collections::HashMap::new();
    for (g, _) in &grants {
        if let Some(site) = g.site_id {
            if let std::collections::hash_map::Entry::Vacant(v) = site_names.entry(site) {
                v.insert(
                    store
                        .get_site(site)
                        .await
                        .map(|x| x.name)
                        .unwrap_or_default(),
                );
            }
        }
    }
    let oauth1 = match store.list_user_oauth1(s.user.id).await {
        Ok(a) => a,
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let grants: Vec<Value> = grants
        .iter()
        .map(|(g, name)| context! {
            kind => "grants", id => g.id.0, app => name,
            scope => if g.scope.is_empty() { "everything on one site".to_string() } else { g.scope.clone() },
            site => g.site_id.and_then(|x| site_names.get(&x).cloned()),
            created => date(g.created_at), last_used => g.last_used_at.map(date), last_ip => g.last_ip,
        })
        .chain(oauth1.iter().map(|a| context! {
            kind => "oauth1", id => a.token.id.0, app => a.consumer.name,
            scope => "everything you can do (OAuth 1.0a)",
            created => date(a.token.created_at), last_used => a.token.last_used_at.map(date), last_ip => a.token.last_ip,
        }))
        .collect();
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
    // The page itself is fine (200) even when it reports what the form before it refused.
    let status = StatusCode::OK;
    let resp = html(
        status,
        "profile.html",
        context! { ..web.base_ctx("Your profile"), ..context! {
            api_keys, app_passwords, sessions, grants,
            secrets => flash.secrets.iter().map(|x| context! { label => x.label, value => x.value }).collect::<Vec<_>>(),
            notice => flash.notice, error => flash.error, typed => flash.fields,
            scope_names => Scope::ALL.map(Scope::as_str),
        }},
    );
    resp
}

pub async fn profile_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    match Web::new(app, &ext, headers).await {
        Ok(web) => {
            let (flash, clear) = web.take_flash(true).await;
            let resp = profile_page(&web, flash).await;
            web.shown(resp, clear)
        }
        Err(r) => r,
    }
}

/// After creating a credential: back to the profile with the secret to show once, or with what
/// was wrong and the fields as typed.
async fn after_create(
    web: &Web,
    s: &SessionMatch,
    created: Result<(String, String), AdminError>,
    (event, label): (&str, &str),
    typed: &[(&str, &str)],
) -> Response {
    // Back to the top of the page, where the secret or the message is (an `#anchor` would
    // scroll a new secret out of sight).
    if let Ok((detail, _)) = &created {
        web.audit(event, Some(&s.user), None, detail.clone()).await;
    }
    // The first field typed is the new credential's name: the label says which it is.
    let label = match typed.first() {
        Some((_, name)) if !name.trim().is_empty() => format!("{label} “{}”", name.trim()),
        _ => label.to_string(),
    };
    let outcome = created.map(|(_, secret)| Flash::secret(label, secret));
    web.finish(s, "/profile", outcome, typed).await
}

/// A revocation the confirmation page led to: back to the profile saying what ended, or this
/// site's 404 page when there was nothing (or nothing of this user's) to end.
async fn after_revoke(
    web: &Web,
    s: &SessionMatch,
    done: bool,
    (event, detail): (&str, String),
    notice: String,
) -> Response {
    if !done {
        return message(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such item to revoke; it may have been revoked already.",
            web,
        );
    }
    web.audit(event, Some(&s.user), None, detail).await;
    web.done(s, "/profile", Flash::notice(notice)).await
}

/// A page's `GET` handler that needs a logged-in user (confirmation pages).
macro_rules! page_get {
    ($name:ident, |$web:ident, $s:ident, $p:ident : $pt:ty| $body:block) => {
        pub async fn $name(
            State(app): State<AppState>,
            ext: axum::http::Extensions,
            headers: HeaderMap,
            uri: axum::http::Uri,
            path: Result<Path<$pt>, axum::extract::rejection::PathRejection>,
        ) -> Response {
            let $web = match Web::new(app, &ext, headers).await {
                Ok(w) => w,
                Err(r) => return r,
            };
            // Logged out: log in, then come back to this very page.
            let Some($s) = $web.session.clone() else {
                return redirect(&format!(
                    "/login?{}",
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("redirect_to", uri.path())
                        .finish()
                ));
            };
            let $p: $pt = match path {
                Ok(Path(v)) => v,
                Err(_) => return not_found(&$web),
            };
            $body
        }
    };
}
pub(super) use page_get;

pub(super) fn not_found(web: &Web) -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such item; it may have been revoked already.",
        web,
    )
}

/// The user's own live API key `id` (or a key they created), if there is one.
async fn own_api_key(web: &Web, user: &User, id: i64) -> Option<ApiKey> {
    match web.app.store.get_api_key(ApiKeyId(id)).await {
        Ok(k)
            if (k.user_id == Some(user.id) || k.created_by == user.id)
                && k.revoked_at.is_none() =>
        {
            Some(k)
        }
        _ => None,
    }
}

form_action!(profile_api_key_create, |web, s, f| {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let typed = [
        ("description", get("description")),
        ("scopes", get("scopes")),
        ("expires_in", get("expires_in")),
    ];
    let what = ("api_key.create", "Your new API key");
    let expires_in = match credentials::expires_in_text(f.get("expires_in").map(String::as_str)) {
        Ok(e) => e,
        Err(e) => return after_create(&web, &s, Err(e), what, &typed).await,
    };
    let spec = ApiKeySpec {
        kind: ApiKeyKind::User,
        user: Some(s.user.id),
        site: None,
        created_by: s.user.id,
        description: get("description").to_string(),
        scopes: f.get("scopes").map(|v| vec![v.clone()]).unwrap_or_default(),
        methods: Vec::new(),
        expires_in,
    };
    let created =
        credentials::create_api_key(web.app.store.as_ref(), &web.app.keys, &spec, web.now())
            .await
            .map(|(key, secret)| {
                (
                    format!("API key “{}” (#{}) created", key.description, key.id.0),
                    secret.expose_secret().to_string(),
                )
            });
    after_create(&web, &s, created, what, &typed).await
});

page_get!(profile_api_key_confirm, |web, s, id: i64| {
    let Some(key) = own_api_key(&web, &s.user, id).await else {
        return not_found(&web);
    };
    // A site key its creator made is listed here too: say which site it reads.
    let what = match (key.kind, key.site_id) {
        (ApiKeyKind::Site, Some(site)) => match web.app.store.get_site(site).await {
            Ok(site) => format!("the site key “{}” of “{}”", key.description, site.name),
            Err(_) => format!("the site key “{}”", key.description),
        },
        _ => format!("the API key “{}”", key.description),
    };
    confirm(
        &web,
        Ask {
            title: "Revoke API key",
            question: format!("Revoke {what}?"),
            consequence: "Every program using it stops working at once. This cannot be undone.",
            action: format!("/profile/api-keys/{id}/revoke"),
            button: "Revoke API key",
            back: "/profile#api-keys",
        },
    )
    .await
});

form_action!(profile_api_key_revoke, |web, s, f, id: i64| {
    let key = own_api_key(&web, &s.user, id).await;
    let done = match &key {
        Some(k) => web
            .app
            .store
            .revoke_api_key(k.id, web.now())
            .await
            .unwrap_or(false),
        None => false,
    };
    let name = key.map(|k| k.description).unwrap_or_default();
    after_revoke(
        &web,
        &s,
        done,
        (
            "api_key.revoke",
            format!("API key “{name}” (#{id}) revoked"),
        ),
        format!("The API key “{name}” was revoked."),
    )
    .await
});

form_action!(profile_app_password_create, |web, s, f| {
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
            format!("application password “{}” created", pw.name),
            group_app_password(secret.expose_secret()),
        )
    });
    after_create(
        &web,
        &s,
        created,
        ("app_password.create", "Your new application password"),
        &[("name", name.as_str())],
    )
    .await
});

page_get!(profile_app_password_confirm, |web, s, uuid: String| {
    let Ok(pw) = web.app.store.get_app_password(s.user.id, &uuid).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "Revoke application password",
            question: format!("Revoke the application password “{}”?", pw.name),
            consequence: "The application using it can no longer sign in. This cannot be undone.",
            action: format!("/profile/app-passwords/{uuid}/revoke"),
            button: "Revoke application password",
            back: "/profile#app-passwords",
        },
    )
    .await
});

form_action!(profile_app_password_revoke, |web, s, f, uuid: String| {
    let name = web
        .app
        .store
        .get_app_password(s.user.id, &uuid)
        .await
        .map(|p| p.name)
        .unwrap_or_default();
    let done = web
        .app
        .store
        .delete_app_password(s.user.id, &uuid)
        .await
        .unwrap_or(false);
    after_revoke(
        &web,
        &s,
        done,
        (
            "app_password.delete",
            format!("application password “{name}” revoked"),
        ),
        format!("The application password “{name}” was revoked."),
    )
    .await
});

/// A session as its owner recognises it: the browser and address it was started from.
fn session_words(x: &Session) -> String {
    let browser = if x.user_agent.trim().is_empty() {
        "an unknown browser".to_string()
    } else {
        x.user_agent.chars().take(80).collect()
    };
    format!(
        "the session from {browser} at {}, started {}",
        x.ip,
        date(x.created_at)
    )
}

async fn other_session(web: &Web, s: &SessionMatch, id: i64) -> Option<Session> {
    if id == s.session.id {
        return None;
    }
    web.app
        .store
        .list_sessions(s.user.id, web.now(), sessions::IDLE_SECS)
        .await
        .ok()?
        .into_iter()
        .find(|x| x.id == id)
}

page_get!(profile_session_confirm, |web, s, id: i64| {
    let Some(x) = other_session(&web, &s, id).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "End session",
            question: format!("End {}?", session_words(&x)),
            consequence: "That browser is logged out at its next request.",
            action: format!("/profile/sessions/{id}/revoke"),
            button: "End session",
            back: "/profile#sessions",
        },
    )
    .await
});

form_action!(profile_session_revoke, |web, s, f, id: i64| {
    let x = other_session(&web, &s, id).await;
    let done = x.is_some()
        && web
            .app
            .store
            .revoke_session(s.user.id, id, web.now())
            .await
            .unwrap_or(false);
    let words = x.as_ref().map(session_words).unwrap_or_default();
    after_revoke(
        &web,
        &s,
        done,
        ("session.revoke", format!("ended {words}")),
        format!("Ended {words}."),
    )
    .await
});

form_action!(profile_sessions_revoke_others, |web, s, f| {
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
                format!("ended {}", plural(n, "other session", "other sessions")),
            )
            .await;
            let notice = match n {
                0 => "There were no other sessions to end.".to_string(),
                n => format!("Ended {}.", plural(n, "other session", "other sessions")),
            };
            web.done(&s, "/profile", Flash::notice(notice)).await
        }
        Err(e) => error_page(&ApiError::internal(e)),
    }
});

/// `1 thing`, `2 things`.
pub(super) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One of the user's live authorizations, with its app's name.
async fn own_grant(
    web: &Web,
    user: &User,
    id: i64,
) -> Option<(gatehouse_core::oauth2::Grant, String)> {
    web.app
        .store
        .list_user_grants(user.id, web.now())
        .await
        .ok()?
        .into_iter()
        .find(|(g, _)| g.id.0 == id)
}

page_get!(profile_grant_confirm, |web, s, id: i64| {
    let Some((_, app)) = own_grant(&web, &s.user, id).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "Revoke access",
            question: format!("Revoke the access of “{app}”?"),
            consequence: "Every token it holds stops working at once; to use your account again it must ask you again.",
            action: format!("/profile/grants/{id}/revoke"),
            button: "Revoke access",
            back: "/profile#authorized-apps",
        },
    )
    .await
});

/// One of the user's live OAuth 1.0a authorizations (access tokens), with its app's name.
async fn own_oauth1(web: &Web, user: &User, id: i64) -> Option<String> {
    web.app
        .store
        .list_user_oauth1(user.id)
        .await
        .ok()?
        .into_iter()
        .find(|a| a.token.id.0 == id)
        .map(|a| a.consumer.name)
}

page_get!(profile_oauth1_confirm, |web, s, id: i64| {
    let Some(app) = own_oauth1(&web, &s.user, id).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "Revoke access",
            question: format!("Revoke the access of “{app}”?"),
            consequence: "Its OAuth 1.0a token stops working at once; to use your account again it must ask you again.",
            action: format!("/profile/oauth1/{id}/revoke"),
            button: "Revoke access",
            back: "/profile#authorized-apps",
        },
    )
    .await
});

form_action!(profile_oauth1_revoke, |web, s, f, id: i64| {
    let app = own_oauth1(&web, &s.user, id).await;
    let done = app.is_some()
        && web
            .app
            .store
            .revoke_oauth1_token(
                Some(s.user.id),
                gatehouse_core::oauth1::Oauth1TokenId(id),
                web.now(),
            )
            .await
            .unwrap_or(false);
    let app = app.unwrap_or_default();
    after_revoke(
        &web,
        &s,
        done,
        (
            "oauth1_token.revoke",
            format!("access of OAuth 1.0a application “{app}” revoked"),
        ),
        format!("The access of “{app}” was revoked."),
    )
    .await
});

form_action!(profile_grant_revoke, |web, s, f, id: i64| {
    let app = own_grant(&web, &s.user, id).await.map(|(_, a)| a);
    let done = app.is_some()
        && web
            .app
            .store
            .revoke_user_grant(s.user.id, GrantId(id), web.now())
            .await
            .unwrap_or(false);
    let app = app.unwrap_or_default();
    after_revoke(
        &web,
        &s,
        done,
        (
            "oauth2_grant.revoke",
            format!("access of OAuth application “{app}” revoked"),
        ),
        format!("The access of “{app}” was revoked."),
    )
    .await
});
