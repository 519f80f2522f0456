//! OAuth 2.0 access tokens (`Authorization: Bearer gat_…`, RFC 6750, SPEC §3): one checksum
//! check, one HMAC and one indexed look-up joined with the grant and its user. The token acts as
//! its user within the grant's site and its scope; its use is recorded on the grant at most once
//! a minute, off the request path. Every refusal is 401 `invalid_token` with
//! `WWW-Authenticate: Bearer …, error="invalid_token"`.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use gatehouse_core::authn::Refusal;
use gatehouse_core::credentials::TOUCH_INTERVAL_SECS;
use gatehouse_core::model::{Credential, Principal};

fn invalid_token() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "The access token is invalid, expired or revoked.",
    )
    .alt("invalid_token");
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
        .access_token(token, now)
        .await
        .map_err(|r| match r {
            Refusal::Store(e) => e.into(),
            _ => invalid_token(),
        })?;
    if ok.touch_due {
        if let Credential::AccessToken { grant, .. } = ok.principal.credential {
            let store = app.store.clone();
            let ip = inc.origin.addr.to_string();
            tokio::spawn(async move {
                if let Err(e) = store
                    .touch_grant(grant, now, &ip, TOUCH_INTERVAL_SECS)
                    .await
                {
                    tracing::warn!(error = %e, "could not record access token use");
                }
            });
        }
    }
    Ok(ok.principal)
}
