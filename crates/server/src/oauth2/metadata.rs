//! `GET /.well-known/oauth-authorization-server` (RFC 8414): what this server offers, under the
//! issuer of the site the request came to (`crate::sites`). Lists only what is built.

use crate::app::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::Scope;
use serde_json::json;

pub async fn metadata_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    let origin = crate::routes::client_origin(&app, crate::routes::peer_of(&ext), &headers);
    let site = match crate::sites::resolve(&app, origin.host.as_deref()).await {
        Ok(s) => s,
        Err(e) => return super::OAuthError::from(e).into_response(),
    };
    let issuer = site.issuer();
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password", "implicit"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    });
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}
