//! `GET/POST /oauth1/authorize` (RFC 5849 §2.2, SPEC §8): the page where a logged-in user approves
//! or denies an OAuth 1.0a application's request token. Not logged in → the log-in page, then
//! back. The page names the app and its owner and says what it may do (act as the user, as an
//! application password would, but never manage credentials). Approve sets the verifier (one
//! conditional statement, so a request token is answered once) and sends the browser to the
//! registered callback with `oauth_token` and `oauth_verifier`, or shows the verifier for `oob`.
//! Deny revokes the request token and tells the callback `oauth_problem=permission_denied`.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use gatehouse_core::oauth1::{self, verify::find_token, TokenKind, TokenMatch, OOB};
use gatehouse_core::secrets::{self, Purpose};
use minijinja::context;

use super::*;

fn error_page(web: &Web, text: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Cannot authorize this application",
        text,
        web,
    )
}

/// The waiting request token `oauth_token` names, or the error page.
async fn waiting(web: &Web, presented: Option<&str>) -> Result<TokenMatch, Response> {
    let gone = || {
        error_page(
            web,
            "This authorization request is unknown, has expired or was already answered. Start again from the application.",
        )
    };
    let Some(presented) = presented else {
        return Err(error_page(
            web,
            "The request names no authorization request (oauth_token).",
        ));
    };
    let m = match find_token(web.app.store.as_ref(), &web.app.keys, presented).await {
        Ok(Some(m)) => m,
        Ok(None) => return Err(gone()),
        Err(e) => return Err(super::error_page(&ApiError::internal(e))),
    };
    if m.token.kind != TokenKind::Request || !m.token.is_live(web.now()) || m.user.is_some() {
        return Err(gone());
    }
    if m.consumer_suspended {
        return Err(error_page(
            web,
            "This application is suspended: the account that registered it is disabled.",
        ));
    }
    Ok(m)
}

/// Where the answer goes: the registered callback the request token carries; `None` for `oob`.
fn destination(m: &TokenMatch) -> Option<url::Url> {
    match m.token.callback.as_deref() {
        None | Some(OOB) => None,
        Some(c) => url::Url::parse(c).ok(),
    }
}

/// The page: who asks, for what, and where the answer goes.
async fn approval_page(web: &Web, m: &TokenMatch, presented: &str) -> Response {
    let owner = web
        .app
        .store
        .get_user(m.consumer.owner_id)
        .await
        .map(|u| u.display_name)
        .unwrap_or_default();
    let destination = destination(m);
    let resp = html(
        StatusCode::OK,
        "oauth1_authorize.html",
        context! { ..web.base_ctx("Authorize application"), ..context! {
            app_name => m.consumer.name, app_description => m.consumer.description, owner,
            destination => destination.as_ref().map(gatehouse_core::redirect::display_host),
            oauth_token => presented,
        }},
    );
    match destination {
        Some(d) => secure(resp, &format!(" {}", d.origin().ascii_serialization())),
        None => resp,
    }
}

pub async fn oauth1_authorize_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let token: Option<String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "oauth_token")
        .map(|(_, v)| v.into_owned());
    let m = match waiting(&web, token.as_deref()).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if web.session.is_none() {
        let back = format!("{}?{}", uri.path(), uri.query().unwrap_or(""));
        return redirect(&format!(
            "/login?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("redirect_to", &back)
                .finish()
        ));
    }
    approval_page(&web, &m, token.as_deref().unwrap_or("")).await
}

pub async fn oauth1_authorize_post(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<Fields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let f = fields(form);
    let s = match web.form_user(&f) {
        Ok(s) => s.clone(),
        Err(r) => return r,
    };
    let presented = f.get("oauth_token").cloned();
    let m = match waiting(&web, presented.as_deref()).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let presented = presented.unwrap_or_default();
    let target = destination(&m);
    let now = web.now();
    if f.get("decision").map(String::as_str) != Some("allow") {
        if let Err(e) = web
            .app
            .store
            .revoke_oauth1_token(None, m.token.id, now)
            .await
        {
            return super::error_page(&ApiError::internal(e));
        }
        return match target {
            Some(t) => redirect(&gatehouse_core::oauth2::authorize::respond(
                &t,
                &[
                    ("oauth_token", presented.as_str()),
                    ("oauth_problem", "permission_denied"),
                ],
            )),
            None => message(
                StatusCode::OK,
                "Access denied",
                &format!("You denied {} access to your account.", m.consumer.name),
                &web,
            ),
        };
    }
    let verifier = secrets::mint_alnum(oauth1::VERIFIER_LEN);
    let hash = web
        .app
        .keys
        .hash(Purpose::OAuth1Token, verifier.expose_secret());
    match web
        .app
        .store
        .approve_request_token(m.token.id, s.user.id, &hash, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                &web,
                "This authorization request has expired or was already answered. Start again from the application.",
            )
        }
        Err(e) => return super::error_page(&ApiError::internal(e)),
    }
    web.audit(
        "oauth1_authorized",
        Some(&s.user),
        None,
        format!("authorized the OAuth 1.0a application {}", m.consumer.name),
    )
    .await;
    match target {
        Some(t) => redirect(&gatehouse_core::oauth2::authorize::respond(
            &t,
            &[
                ("oauth_token", presented.as_str()),
                ("oauth_verifier", verifier.expose_secret()),
            ],
        )),
        None => html(
            StatusCode::OK,
            "oauth1_verifier.html",
            context! { ..web.base_ctx("Authorization code"), ..context! {
                app_name => m.consumer.name, verifier => verifier.expose_secret(),
            }},
        ),
    }
}
