//! The OAuth 2.0 endpoints (SPEC §3), their own routes under `/oauth` and `/oauth2` (the same
//! handlers) and `/.well-known/oauth-authorization-server` — not the resource dialects: here
//! `Authorization: Basic` authenticates the *client*, parameters come from the form body only
//! (RFC 6749 §3.2), each at most once, and every error is an RFC 6749 §5.2 body with
//! `Cache-Control: no-store` and `Pragma: no-cache`.
//! Built so far: client authentication, the authorization endpoint and consent page
//! (`web::oauth_consent`), the token endpoint with the `authorization_code` (PKCE S256),
//! `refresh_token` (rotation), `client_credentials` and `password` grants, the implicit grant
//! (answered by the authorization endpoint), revocation (RFC 7009), introspection (RFC 7662),
//! WordPress.com's token-info, and the metadata document.

mod metadata;
mod token;
mod tokens;

use crate::app::AppState;
use crate::auth::basic;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_core::authn::Refusal;
use serde_json::json;
use std::collections::HashMap;

pub use metadata::metadata_get;

/// Longest token-endpoint body read.
const MAX_BODY: usize = 64 * 1024;

/// The two prefixes every OAuth endpoint is mounted under.
const PREFIXES: [&str; 2] = ["/oauth", "/oauth2"];

/// Whether a request with an unsafe method to `path` goes to an endpoint that authenticates
/// without the read cache — the token endpoint reads its client, code or refresh token from the
/// database itself — or writes nothing a credential could be used for (introspection), so the
/// change counter need not be read before it is handled.
pub fn reads_fresh_itself(path: &str) -> bool {
    PREFIXES
        .iter()
        .any(|p| matches!(path.strip_prefix(p), Some("/token" | "/introspect")))
}

/// Whether a GET to `path` may write: the authorization endpoint issues a code (or, for the
/// implicit grant, a token) when consent was remembered.
pub fn writes_on_get(path: &str) -> bool {
    PREFIXES
        .iter()
        .any(|p| path.strip_prefix(p) == Some("/authorize"))
}

/// The OAuth routes, mounted under both prefixes.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new().route(
        "/.well-known/oauth-authorization-server",
        get(metadata::metadata_get),
    );
    for prefix in PREFIXES {
        r = r.route(
            &format!("{prefix}/authorize"),
            get(crate::web::oauth_authorize_get).post(crate::web::oauth_authorize_post),
        );
        r = r.route(
            &format!("{prefix}/token"),
            post(token::token_post)
                .options(preflight)
                .get(method_not_allowed),
        );
        r = r.route(
            &format!("{prefix}/revoke"),
            post(tokens::revoke_post)
                .options(preflight)
                .get(method_not_allowed),
        );
        r = r.route(
            &format!("{prefix}/introspect"),
            post(tokens::introspect_post).get(method_not_allowed),
        );
        r = r.route(&format!("{prefix}/token-info"), get(tokens::token_info_get));
    }
    r
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// `invalid_client` answers carry a Basic challenge (RFC 6749 §5.2).
    pub challenge: bool,
    pub retry_after: Option<i64>,
    /// An OAuth 1.0a refusal: a 401 carries `WWW-Authenticate: OAuth realm=…, oauth_problem=…`.
    pub oauth1_problem: Option<&'static str>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            challenge: false,
            retry_after: None,
            oauth1_problem: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }
    pub fn invalid_client() -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            challenge: true,
            ..Self::new("invalid_client", "Client authentication failed.")
        }
    }
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OAuth endpoint failed");
        OAuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Self::new("server_error", "The server could not complete the request.")
        }
    }
}

impl From<gatehouse_core::store::StoreError> for OAuthError {
    fn from(e: gatehouse_core::store::StoreError) -> Self {
        OAuthError::server_error(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        if self.challenge {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="gatehouse""#),
            );
        }
        if let (Some(problem), StatusCode::UNAUTHORIZED) = (self.oauth1_problem, self.status) {
            if let Ok(v) = HeaderValue::from_str(&format!(
                r#"OAuth realm="gatehouse", oauth_problem="{problem}""#
            )) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        no_store(resp)
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), and CORS for any origin
/// without credentials (SPEC §9: a single-page app calls the token endpoint).
pub fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

async fn preflight() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

async fn method_not_allowed() -> Response {
    let mut e = OAuthError::invalid_request("Use POST with a form body.");
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    let mut resp = e.into_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    resp
}

/// A request body of at most `limit` bytes, or why not in the OAuth envelope (413, 408 or 400).
pub async fn body_bytes(body: Body, limit: usize) -> Result<bytes::Bytes, OAuthError> {
    crate::rest::body_bytes(body, limit).await.map_err(|e| {
        let (status, message) = e.status_and_message(limit);
        OAuthError {
            status,
            ..OAuthError::invalid_request(message)
        }
    })
}

/// The form parameters of a request body (`application/x-www-form-urlencoded` or
/// `multipart/form-data`, which PHP's curl sends for arrays), each at most once (RFC 6749 §3.2).
/// The query string is never read.
pub async fn form_params(
    req: Request<Body>,
) -> Result<(axum::http::request::Parts, HashMap<String, String>), OAuthError> {
    let (parts, body) = req.into_parts();
    let bytes = body_bytes(body, MAX_BODY).await?;
    let ctype = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut pairs: Vec<(String, String)> = Vec::new();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| OAuthError::invalid_request("The form body is not UTF-8."))?;
            pairs.extend(
                form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        "multipart/form-data" => {
            pairs = crate::rest::multipart_pairs(&ctype, bytes, true)
                .await
                .ok_or_else(|| OAuthError::invalid_request("The multipart body could not be read."))?;
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "Send the parameters as an application/x-www-form-urlencoded (or multipart/form-data) body.",
            ))
        }
    }
    let out = gatehouse_core::oauth2::unique_params(pairs).map_err(OAuthError::invalid_request)?;
    Ok((parts, out))
}

/// Authenticates the client of a token-endpoint request (RFC 6749 §2.3.1): HTTP Basic with the
/// form-encoded id and secret, or `client_id` (+ `client_secret`) in the body — one method only.
/// A public client sends its `client_id` alone. `checker`: `AppState::fresh_checker` where the
/// request acts on the client at once, `AppState::checker` (the client may come from memory)
/// where it only reads.
pub async fn authenticate_client(
    app: &AppState,
    checker: gatehouse_core::authn::Checker<'_>,
    addr: std::net::IpAddr,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<gatehouse_core::oauth2::Client, OAuthError> {
    let mut auths = headers.get_all(header::AUTHORIZATION).iter();
    let first = auths.next();
    if auths.next().is_some() {
        return Err(OAuthError::invalid_request(
            "Send one Authorization header.",
        ));
    }
    let basic = match first {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| OAuthError::invalid_request("The Authorization header is not text."))?
                .trim();
            let Some((scheme, rest)) = v.split_once(' ') else {
                return Err(OAuthError::invalid_client());
            };
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::invalid_request(
                    "Authenticate the client with HTTP Basic or client_id and client_secret in the body.",
                ));
            }
            let (id, secret) =
                basic::decode(rest.trim()).map_err(|_| OAuthError::invalid_client())?;
            // RFC 6749 §2.3.1: both are form-encoded before base64.
            let decode = |s: &str| -> String {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            Some((decode(&id), decode(&secret)))
        }
    };
    let (client_id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Use one client authentication method: HTTP Basic or the body, not both.",
            ))
        }
        (Some((id, _)), Some(body_id), None) if *body_id != id => {
            return Err(OAuthError::invalid_request(
                "The client_id in the body is not the authenticated client's.",
            ))
        }
        (Some((id, secret)), _, None) => (id, Some(secret)),
        (None, Some(id), secret) => (id.clone(), secret.cloned()),
        (None, None, _) => {
            return Err(OAuthError {
                status: StatusCode::UNAUTHORIZED,
                challenge: true,
                ..OAuthError::new("invalid_client", "The client did not authenticate.")
            })
        }
    };
    let now = app.clock.now();
    checker
        .client(addr, &client_id, secret.as_deref(), now)
        .await
        .map_err(|r| match r {
            Refusal::Throttled { retry_after } => OAuthError {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(retry_after),
                ..OAuthError::new(
                    "invalid_client",
                    "Too many failed client authentications; try again later.",
                )
            },
            Refusal::Store(e) => OAuthError::server_error(e),
            _ => OAuthError::invalid_client(),
        })
}
