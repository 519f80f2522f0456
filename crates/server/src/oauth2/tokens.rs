//! What a client can do with a token it holds: revoke it (`/oauth/revoke`, RFC 7009), ask about
//! it (`/oauth/introspect`, RFC 7662, client-authenticated), and WordPress.com's
//! `/oauth/token-info` (seed 003). A client sees and revokes only the tokens issued to it —
//! unless it is a resource server marked `introspect_any`, which may introspect any token.

use super::{authenticate_client, form_params, no_store, OAuthError};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::oauth2::TokenKind;
use gatehouse_core::secrets;
use gatehouse_core::store::TokenMatch;
use serde_json::json;
use std::collections::HashMap;

/// The access or refresh token `presented` names, by its keyed hash (every key version); an
/// access token may come from memory, a refresh token always comes from the database.
async fn find(app: &AppState, presented: &str) -> Result<Option<TokenMatch>, OAuthError> {
    use gatehouse_core::authn::Lookup;
    if !matches!(
        secrets::parse(presented),
        Ok(secrets::TokenKind::AccessToken | secrets::TokenKind::RefreshToken)
    ) {
        return Ok(None);
    }
    let found = gatehouse_core::authn::first_found(
        &app.keys,
        secrets::Purpose::OAuthToken,
        presented,
        |h| async move { app.access_token(&h).await },
    );
    Ok(found.await?.map(|(m, _)| m))
}

/// Authenticates the client of a revocation or introspection request; returns the client and
/// the `token` parameter. `checker`: where the client is looked up (see `authenticate_client`).
async fn client_and_token(
    app: &AppState,
    checker: gatehouse_core::authn::Checker<'_>,
    req: Request<Body>,
) -> Result<(gatehouse_core::oauth2::Client, String), OAuthError> {
    let peer = crate::routes::peer_of(req.extensions());
    let origin = crate::routes::client_origin(app, peer, req.headers());
    if !origin.may_send_credentials(app.settings.allow_insecure_http) {
        return Err(OAuthError::invalid_request(
            "Credentials are accepted only over https.",
        ));
    }
    let (parts, params) = form_params(req).await?;
    let client = authenticate_client(app, checker, origin.addr, &parts.headers, &params).await?;
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .cloned()
        .ok_or_else(|| OAuthError::invalid_request("The token parameter is missing."))?;
    Ok((client, token))
}

/// `POST /oauth/revoke`: a refresh token ends its whole authorization (every token issued under
/// it); an access token ends alone. Unknown tokens answer 200 (RFC 7009 §2.2); the
/// `token_type_hint` is only a hint (§2.1). Kinds that cannot be revoked here (API keys, client
/// secrets) are `unsupported_token_type`.
pub async fn revoke_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    match revoke(&app, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn revoke(app: &AppState, req: Request<Body>) -> Result<Response, OAuthError> {
    let (client, token) = client_and_token(app, app.fresh_checker(), req).await?;
    if matches!(
        secrets::parse(&token),
        Ok(secrets::TokenKind::UserApiKey
            | secrets::TokenKind::SiteApiKey
            | secrets::TokenKind::ClientSecret)
    ) {
        return Err(OAuthError::new(
            "unsupported_token_type",
            "Only OAuth 2.0 access and refresh tokens are revoked here.",
        ));
    }
    let now = app.clock.now();
    if let Some(m) = find(app, &token).await? {
        if m.grant.client_id != client.id {
            return Err(OAuthError::invalid_request(
                "The token was not issued to this client.",
            ));
        }
        match m.token.kind {
            TokenKind::Refresh => app.store.revoke_grant(m.grant.id, now).await?,
            TokenKind::Access => app.store.revoke_token(m.token.id, now).await?,
        };
    }
    Ok(no_store(StatusCode::OK.into_response()))
}

/// `POST /oauth/introspect`: `{"active": false}` for anything not live or not this client's
/// (unless it may introspect any); for a live token its scope, client, user, kind, times and
/// site.
pub async fn introspect_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    let mut resp = match introspect(&app, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    resp.extensions_mut().insert(crate::cache::Unchanged);
    resp
}

/// Only reads: the client and an access token may come from memory (within the second SPEC §11
/// allows), and nothing an instance keeps changes, whatever the answer.
async fn introspect(app: &AppState, req: Request<Body>) -> Result<Response, OAuthError> {
    let (client, token) = client_and_token(app, app.checker(), req).await?;
    let now = app.clock.now();
    let inactive = || no_store(axum::Json(json!({ "active": false })).into_response());
    let Some(m) = find(app, &token).await? else {
        return Ok(inactive());
    };
    let visible = m.grant.client_id == client.id || client.introspect_any;
    if !visible || !gatehouse_core::authn::token_is_live(&m, now) {
        return Ok(inactive());
    }
    let mut body = json!({
        "active": true,
        "scope": m.token.scope,
        "client_id": m.grant.client_id.0.to_string(),
        "username": m.user.login,
        "sub": m.user.id.0.to_string(),
        "token_type": match m.token.kind {
            TokenKind::Access => "Bearer",
            TokenKind::Refresh => "refresh_token",
        },
        "iat": m.token.created_at,
    });
    if let Some(exp) = m.token.expires_at {
        body["exp"] = json!(exp);
    }
    if let Some(site) = m.grant.site_id {
        body["blog_id"] = json!(site.0.to_string());
    }
    Ok(no_store(axum::Json(body).into_response()))
}

/// `GET /oauth/token-info?client_id=…&token=…` (seed 003): who an access token is for, if it
/// was issued to that client and is live; otherwise 400 `invalid_token`.
pub async fn token_info_get(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let invalid = || {
        OAuthError::new(
            "invalid_token",
            "The token is invalid, expired, revoked, or not this client's.",
        )
        .into_response()
    };
    let (Some(client_id), Some(token)) = (q.get("client_id"), q.get("token")) else {
        return OAuthError::invalid_request("Send client_id and token.").into_response();
    };
    let m = match find(&app, token).await {
        Ok(Some(m)) => m,
        Ok(None) => return invalid(),
        Err(e) => return e.into_response(),
    };
    let now = app.clock.now();
    if m.token.kind != TokenKind::Access
        || m.grant.client_id.0.to_string() != *client_id
        || !gatehouse_core::authn::token_is_live(&m, now)
    {
        return invalid();
    }
    no_store(
        axum::Json(json!({
            "client_id": client_id,
            "user_id": m.user.id.0.to_string(),
            "blog_id": m.grant.site_id.map(|s| s.0.to_string()).unwrap_or_else(|| "0".into()),
            "scope": m.token.scope,
        }))
        .into_response(),
    )
}
