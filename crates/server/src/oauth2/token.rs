//! `POST /oauth/token` (RFC 6749 §3.2, SPEC §3): client authentication, then the grant. Built so
//! far: `client_credentials` (opt-in per client) — the client acts as its owner within the
//! requested scopes, bound to a site when the scopes are per-site (the `blog` parameter, else the
//! owner's primary site), with no refresh token. The other grants are refused as unsupported
//! until they land.

use super::{authenticate_client, form_params, no_store, OAuthError};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::{Scope, Site, SiteId, User};
use gatehouse_core::oauth2::{binds_to_site, issue, Client, Flow, GrantType};
use gatehouse_core::store::StoreError;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;

pub async fn token_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    match token(&app, peer, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token(
    app: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
) -> Result<Response, OAuthError> {
    let origin = crate::routes::client_origin(app, peer, req.headers());
    if !origin.may_send_credentials(app.settings.allow_insecure_http) {
        return Err(OAuthError::invalid_request(
            "Credentials are accepted only over https.",
        ));
    }
    let (parts, params) = form_params(req).await?;
    let client = authenticate_client(app, origin.addr, &parts.headers, &params).await?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("The grant_type parameter is missing."))?;
    let Some(grant) = GrantType::parse(grant_type).filter(|g| *g != GrantType::Implicit) else {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("The grant type {grant_type:?} is not supported."),
        ));
    };
    if !client.allows(grant) {
        return Err(OAuthError::new(
            "unauthorized_client",
            format!("This client may not use the {} grant.", grant.as_str()),
        ));
    }
    match grant {
        GrantType::ClientCredentials => client_credentials(app, &client, &params).await,
        other => Err(OAuthError::new(
            "unsupported_grant_type",
            format!(
                "The {} grant is not available on this server yet.",
                other.as_str()
            ),
        )),
    }
}

/// The requested scope (RFC 6749 §3.3), checked against SPEC §3's list.
pub fn requested_scope(params: &HashMap<String, String>) -> Result<Option<Vec<Scope>>, OAuthError> {
    let raw = params.get("scope").map(String::as_str).unwrap_or("");
    Scope::parse_list([raw]).map_err(|e| OAuthError::new("invalid_scope", e))
}

/// The site a per-site token binds to: `blog` (an id or a URL) if given, else the user's primary
/// site. The user must have a role there (or be a network admin).
async fn bind_site(app: &AppState, user: &User, blog: Option<&str>) -> Result<Site, OAuthError> {
    let store = app.store.as_ref();
    let site = match blog.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => {
            let found = match b.parse::<i64>() {
                Ok(id) => match store.get_site(SiteId(id)).await {
                    Ok(s) => Some(s),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                },
                Err(_) => match gatehouse_core::validate::site_url(b) {
                    Ok((_, host)) => store.find_site_by_host(&host).await?,
                    Err(_) => None,
                },
            };
            found.ok_or_else(|| {
                OAuthError::invalid_request("The blog parameter names no site here.")
            })?
        }
        None => {
            let (sites, _) = store.list_sites(Some(user.id), 0, 1).await?;
            sites.into_iter().next().ok_or_else(|| {
                OAuthError::invalid_request(
                    "This token needs a site, and the account has none; send blog or a site-less scope (global, sites:read).",
                )
            })?
        }
    };
    if !user.network_admin && store.find_role(site.id, user.id).await?.is_none() {
        return Err(OAuthError::invalid_request(format!(
            "{} has no role on that site.",
            user.login
        )));
    }
    Ok(site)
}

/// The success answer (RFC 6749 §5.1, SPEC §3), with `blog_id` and `blog_url` when site-bound.
fn success(issued: &issue::Issued, site: Option<&Site>) -> Response {
    let mut body = json!({
        "access_token": issued.access_token.expose_secret(),
        "token_type": "Bearer",
        "scope": issued.scope,
    });
    if let Some(secs) = issued.expires_in {
        body["expires_in"] = json!(secs);
    }
    if let Some(r) = &issued.refresh_token {
        body["refresh_token"] = json!(r.expose_secret());
    }
    if let Some(s) = site {
        body["blog_id"] = json!(s.id.0.to_string());
        body["blog_url"] = json!(s.url);
    }
    no_store(axum::Json(body).into_response())
}

/// `client_credentials` (RFC 6749 §4.4): the client acts as its owner, within the scope asked for.
async fn client_credentials(
    app: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let owner = app.store.get_user(client.owner_id).await?;
    if owner.disabled {
        return Err(OAuthError::new(
            "invalid_grant",
            "The client's owner account is disabled.",
        ));
    }
    let scopes = requested_scope(params)?;
    let site = if binds_to_site(scopes.as_deref()) {
        Some(bind_site(app, &owner, params.get("blog").map(String::as_str)).await?)
    } else {
        None
    };
    let scope = scopes.as_deref().map(Scope::join).unwrap_or_default();
    let now = app.clock.now();
    let issued = issue::issue(
        app.store.as_ref(),
        &app.keys,
        issue::Request {
            client,
            user: owner.id,
            site: site.as_ref().map(|s| s.id),
            scope,
            flow: Flow::ClientCredentials,
            refresh: false,
        },
        now,
    )
    .await?;
    Ok(success(&issued, site.as_ref()))
}
