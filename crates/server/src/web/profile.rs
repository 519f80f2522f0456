//! The profile page: API keys, application passwords, sessions (issue: web pages).

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::AdminError;
use gatehouse_core::clock::rfc3339;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::model::*;
use gatehouse_core::secrets::group_app_password;
use gatehouse_core::sessions;
use minijinja::{context, Value};

use super::form_action;
use super::*;

// ---- profile ---------------------------------------------------------------------------

pub(super) fn date(t: i64) -> String {
    rfc3339(t)
        .replace('T', " ")
        .trim_end_matches("+00:00")
        .to_string()
}

pub(super) async fn profile_page(
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

/// Shows the profile after revoking something: a notice, or 404 when there was nothing to revoke.
async fn after_revoke(
    web: &Web,
    user: &User,
    done: bool,
    (event, detail): (&str, String),
    notice: &str,
    missing: &str,
) -> Response {
    if done {
        web.audit(event, Some(user), None, detail).await;
        return profile_page(web, StatusCode::OK, None, Some(notice), None).await;
    }
    profile_page(
        web,
        StatusCode::NOT_FOUND,
        None,
        None,
        Some(missing.to_string()),
    )
    .await
}

form_action!(profile_api_key_create, |web, s, f| {
    let expires_in = match credentials::expires_in_text(f.get("expires_in").map(String::as_str)) {
        Ok(e) => e,
        Err(e) => {
            return after_create(&web, &s.user, Err(e), "api_key.create", "Your new API key").await
        }
    };
    let spec = ApiKeySpec {
        kind: ApiKeyKind::User,
        user: Some(s.user.id),
        site: None,
        created_by: s.user.id,
        description: f.get("description").cloned().unwrap_or_default(),
        scopes: f.get("scopes").map(|v| vec![v.clone()]).unwrap_or_default(),
        methods: Vec::new(),
        expires_in,
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

form_action!(profile_api_key_revoke, |web, s, f, id: i64| {
    let mine = matches!(web.app.store.get_api_key(ApiKeyId(id)).await, Ok(k) if k.user_id == Some(s.user.id) || k.created_by == s.user.id);
    let done = mine
        && web
            .app
            .store
            .revoke_api_key(ApiKeyId(id), web.now())
            .await
            .unwrap_or(false);
    after_revoke(
        &web,
        &s.user,
        done,
        ("api_key.revoke", format!("id={id}")),
        "The API key was revoked.",
        "No such API key.",
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

form_action!(profile_app_password_revoke, |web, s, f, uuid: String| {
    let done = web
        .app
        .store
        .delete_app_password(s.user.id, &uuid)
        .await
        .unwrap_or(false);
    after_revoke(
        &web,
        &s.user,
        done,
        ("app_password.delete", format!("uuid={uuid}")),
        "The application password was revoked.",
        "No such application password.",
    )
    .await
});

form_action!(profile_session_revoke, |web, s, f, id: i64| {
    let done = id != s.session.id
        && web
            .app
            .store
            .revoke_session(s.user.id, id, web.now())
            .await
            .unwrap_or(false);
    after_revoke(
        &web,
        &s.user,
        done,
        ("session.revoke", format!("id={id}")),
        "The session was ended.",
        "No such session.",
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
