//! API keys (SPEC §5), accepted as `Authorization: ApiKey <key>` (seed 000) and
//! `Authorization: Bearer <key>` (seed 004). A user key (`gak_`) acts as its user within its
//! scopes, site, methods and expiry; a site key (`gsk_`) reads what a visitor may read on its site.
//! Cost: one checksum check, one HMAC and one indexed look-up (joined with the user); no Argon2 and
//! no write — `last_used`/`last_ip` are recorded at most once a minute, on a spawned task.
//! A site key needs its creator still enabled and still holding `manage_options` on its site.
//! The check is `core::authn::Checker::api_key`; this module words its refusals.
//! Invariants: wrong, expired, revoked and malformed keys are one answer (401 `INVALID_API_KEY`
//! on `/wp-json/`, `invalid_token` elsewhere); hashes are compared in constant time.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use gatehouse_core::authn::{api_key_id, Refusal};
use gatehouse_core::credentials::TOUCH_INTERVAL_SECS;
use gatehouse_core::model::Principal;
use gatehouse_core::secrets::TokenKind;

/// The one failure answer for a key or bearer token.
pub fn invalid_key() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_API_KEY",
        "Sorry, you are using invalid API Key.",
    )
    .alt("invalid_token");
    e.plugin = true;
    e.invalid_token = true;
    e
}

/// A bearer credential of another kind than an API key, refused in that kind's own words: an
/// OAuth 2.0 access token (not accepted on this server yet), or a secret that is never a bearer
/// credential (a refresh token or a client secret).
fn not_an_api_key(kind: TokenKind) -> ApiError {
    let (code, message) = match kind {
        TokenKind::AccessToken => (
            "invalid_token",
            "The OAuth 2.0 access token is invalid, expired or revoked.",
        ),
        TokenKind::RefreshToken => (
            "invalid_token",
            "A refresh token is not an access token: exchange it at the token endpoint for one.",
        ),
        TokenKind::ClientSecret => (
            "invalid_token",
            "A client secret is not an access token: it authenticates a client at the token endpoint.",
        ),
        TokenKind::UserApiKey | TokenKind::SiteApiKey => return invalid_key(),
    };
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, code, message).alt("invalid_token");
    e.invalid_token = true;
    e
}

pub async fn authenticate(
    app: &AppState,
    inc: &Incoming,
    token: &str,
) -> Result<Principal, ApiError> {
    let now = app.clock.now();
    let ok = app
        .checker()
        .api_key(token, now)
        .await
        .map_err(|r| match r {
            Refusal::WrongKind(kind) => not_an_api_key(kind),
            Refusal::Store(e) => e.into(),
            Refusal::Incorrect | Refusal::Throttled { .. } | Refusal::Busy => invalid_key(),
        })?;
    if ok.touch_due {
        if let Some(id) = api_key_id(&ok.principal) {
            let store = app.store.clone();
            let ip = inc.origin.addr.to_string();
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_key(id, now, &ip, TOUCH_INTERVAL_SECS).await {
                    tracing::warn!(error = %e, "could not record API key use");
                }
            });
        }
    }
    Ok(ok.principal)
}
