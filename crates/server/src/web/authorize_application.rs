//! WordPress's authorize-application flow (SPEC §4): an app asks for an application password
//! through `/wp-admin/authorize-application.php`. (OAuth 2.0 consent is not this; it has its own
//! module.)

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::AdminError;
use gatehouse_core::credentials::{self};
use gatehouse_core::flash::Flash;
use gatehouse_core::redirect;
use gatehouse_core::secrets::group_app_password;
use minijinja::context;
use std::collections::HashMap;

use super::form_action;
use super::*;

// ---- authorize application (WordPress's flow, SPEC §4) ----------------------------------

/// `success_url`/`reject_url`: empty, or a callback `core::redirect::callback` accepts (https, or
/// http on a loopback host). `Err` when one is present and refused.
fn callbacks(success: &str, reject: &str) -> Result<(Option<url::Url>, Option<url::Url>), ()> {
    let one = |u: &str| -> Result<Option<url::Url>, ()> {
        if u.is_empty() {
            return Ok(None);
        }
        redirect::callback(u).map(Some).ok_or(())
    };
    Ok((one(success)?, one(reject)?))
}

/// `base` with `pairs` appended to its query: the parser's serialization, never string surgery.
fn with_query(base: &url::Url, pairs: &[(&str, &str)]) -> String {
    let mut u = base.clone();
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
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (app_name, success_url, reject_url) =
        (get("app_name"), get("success_url"), get("reject_url"));
    let Ok((success, reject)) = callbacks(&success_url, &reject_url) else {
        return message(StatusCode::BAD_REQUEST, "Cannot authorize this application", "The request needs an app_name, and its success_url and reject_url must use https (or a loopback address).", &web);
    };
    if app_name.trim().is_empty() {
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
    let extra: String = [&success, &reject]
        .iter()
        .filter_map(|u| u.as_ref())
        .map(|u| format!(" {}", u.origin().ascii_serialization()))
        .collect();
    // Where the new password will be sent, shown prominently (WordPress: "You will be sent to …").
    let destination = success.as_ref().map(redirect::display_host);
    let destination_url = success.as_ref().map(|u| u.to_string());
    let resp = html(
        StatusCode::OK,
        "authorize_application.html",
        context! { ..web.base_ctx("Authorize application"), ..context! {
            app_name, app_id => get("app_id"), success_url, reject_url, site_url => web.base.clone(),
            destination, destination_url,
        }},
    );
    secure(resp, &extra)
}

form_action!(authorize_post, |web, s, f| {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let Ok((success, reject)) = callbacks(&get("success_url"), &get("reject_url")) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Cannot authorize this application",
            "Its callback URLs must use https.",
            &web,
        );
    };
    if get("decision") != "approve" {
        return match reject {
            None => redirect("/profile"),
            Some(u) => redirect(&with_query(&u, &[("success", "false")])),
        };
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
                format!(
                    "application password “{}” created by authorizing the application",
                    pw.name
                ),
            )
            .await;
            let password = group_app_password(secret.expose_secret());
            let Some(success) = success else {
                let label = format!("Your new application password for {}", pw.name);
                return web
                    .done(&s, "/profile", Flash::secret(label, password))
                    .await;
            };
            let to = with_query(
                &success,
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
});
