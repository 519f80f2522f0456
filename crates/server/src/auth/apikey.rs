//! API keys (SPEC §5), accepted as `Authorization: ApiKey <key>` (seed 000) and
//! `Authorization: Bearer <key>` (seed 004). A user key (`gak_`) acts as its user within its
//! scopes, site, methods and expiry; a site key (`gsk_`) reads what a visitor may read on its site.
//! Cost: one checksum check, one HMAC and one indexed look-up (joined with the user); no Argon2 and
//! no write — `last_used`/`last_ip` are recorded at most once a minute, on a spawned task.
//! A site key needs its creator still enabled and still holding `manage_options` on its site.
//! Invariants: wrong, expired, revoked and malformed keys are one answer (401 `INVALID_API_KEY`
//! on `/wp-json/`, `invalid_token` elsewhere); hashes are compared in constant time.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use gatehouse_core::caps::Cap;
use gatehouse_core::credentials::{use_is_due, TOUCH_INTERVAL_SECS};
use gatehouse_core::model::{ApiKeyKind, AuthMethod, Constraints, Principal};
use gatehouse_core::secrets::{self, hashes_equal, Purpose, TokenKind};

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
    let kind = match secrets::parse(token) {
        Ok(k @ (TokenKind::UserApiKey | TokenKind::SiteApiKey)) => k,
        // Another kind of Gatehouse secret is refused in its own words, never as an API key.
        Ok(other) => return Err(not_an_api_key(other)),
        // A damaged one (its checksum fails) still gets its own kind's words.
        Err(_) => match TokenKind::of(token) {
            Some(
                other
                @ (TokenKind::AccessToken | TokenKind::RefreshToken | TokenKind::ClientSecret),
            ) => return Err(not_an_api_key(other)),
            _ => return Err(invalid_key()),
        },
    };
    // Current key version first; older versions verify what was hashed before a rotation.
    let mut found = None;
    for hash in app.keys.hashes(Purpose::ApiKey, token) {
        if let Some(f) = app.store.find_api_key_by_hash(&hash).await? {
            found = Some((f, hash));
            break;
        }
    }
    let Some((found, hash)) = found else {
        return Err(invalid_key());
    };
    let key = &found.key;
    let now = app.clock.now();
    let kind_matches = matches!(
        (kind, key.kind),
        (TokenKind::UserApiKey, ApiKeyKind::User) | (TokenKind::SiteApiKey, ApiKeyKind::Site)
    );
    if !hashes_equal(&found.hash, &hash)
        || !kind_matches
        || key.revoked_at.is_some()
        || key.expires_at.is_some_and(|t| t <= now)
    {
        return Err(invalid_key());
    }
    let principal = match key.kind {
        ApiKeyKind::User => {
            let Some(user) = found.user.clone().filter(|u| !u.disabled) else {
                return Err(invalid_key());
            };
            Principal {
                user: Some(user),
                method: AuthMethod::ApiKey,
                constraints: Constraints {
                    scopes: key.scopes.clone(),
                    site: key.site_id,
                    read_only: false,
                    methods: key.methods.clone(),
                },
                credential_id: Some(key.id.0.to_string()),
            }
        }
        ApiKeyKind::Site => {
            // A site key lives only as long as its creator is an enabled administrator of the
            // site (or a network admin): demoting or disabling them ends their keys.
            let creator_ok = found.user.as_ref().is_some_and(|u| {
                !u.disabled
                    && (u.network_admin
                        || found
                            .site_role
                            .is_some_and(|r| r.caps().has(Cap::ManageOptions)))
            });
            if !creator_ok {
                return Err(invalid_key());
            }
            Principal {
                user: None,
                method: AuthMethod::SiteKey,
                constraints: Constraints {
                    scopes: None,
                    site: key.site_id,
                    read_only: true,
                    methods: None,
                },
                credential_id: Some(key.id.0.to_string()),
            }
        }
    };
    if use_is_due(key.last_used_at, now) {
        let store = app.store.clone();
        let (id, ip) = (key.id, inc.origin.addr.to_string());
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(id, now, &ip, TOUCH_INTERVAL_SECS).await {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(principal)
}
