//! HTTP Basic (RFC 7617): `login-or-email:application-password` (SPEC §4; spaces and other
//! separators ignored, as WordPress does), and the account password when
//! `basic_auth_with_account_password` is on. An application password costs one HMAC and one
//! indexed look-up (no Argon2, no write: use is recorded at most once a minute off the request).
//! Invariants: unknown user, wrong password and disabled account are one answer in the same time
//! (a dummy Argon2id check for unknown users); the throttle of SPEC §2 is consulted before any
//! hashing and counts every failure; Argon2id runs at most `argon2_permits` at a time (else 503).
//! Time from the app's clock; nothing here is logged except the outcome.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use gatehouse_core::credentials::{use_is_due, TOUCH_INTERVAL_SECS};
use gatehouse_core::model::{AuthMethod, Constraints, Principal};
use gatehouse_core::net::throttle_group;
use gatehouse_core::password;
use gatehouse_core::secrets::{self, hashes_equal, Purpose};
use gatehouse_core::store::AuditEvent;
use gatehouse_core::throttle::{self, Gate};

fn incorrect() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "incorrect_password",
        "The provided username or password is incorrect.",
    )
    .alt("invalid_credentials")
}

/// Decodes `user:password` from a Basic credential. Undecodable input is malformed (400).
pub fn decode(b64: &str) -> Result<(String, String), ApiError> {
    let malformed = || {
        ApiError::bad_request(
            "rest_invalid_authorization_header",
            "The Basic credentials are not valid base64 of UTF-8 text.",
        )
        .alt("invalid_request")
    };
    let raw = b64.trim();
    let bytes = STANDARD
        .decode(raw)
        .or_else(|_| STANDARD_NO_PAD.decode(raw))
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    match text.split_once(':') {
        // A name with a NUL matches no account (and must not reach the database): the one
        // failure answer, before any look-up.
        Some((user, pass)) if !user.is_empty() && !user.contains('\0') => {
            Ok((user.to_string(), pass.to_string()))
        }
        _ => Err(incorrect()),
    }
}

pub async fn authenticate(
    app: &AppState,
    inc: &Incoming,
    b64: &str,
) -> Result<Principal, ApiError> {
    let (login, pass) = decode(b64)?;
    // An application password: one HMAC and one indexed look-up, whoever the user is.
    if let Some(normalized) = secrets::normalize_app_password(&pass) {
        if let Some(p) = app_password(app, inc, &login, &normalized).await? {
            return Ok(p);
        }
    }
    if app.settings.basic_auth_with_account_password {
        let user = check_account_password(app, inc.origin.addr, login, pass).await?;
        return Ok(Principal {
            user: Some(user),
            method: AuthMethod::AccountPassword,
            constraints: Constraints::default(),
            credential_id: None,
        });
    }
    // Nothing matched: count the failure (no Argon2 was spent, none is needed).
    let now = app.clock.now();
    let group = throttle_group(inc.origin.addr);
    if let Gate::Blocked { retry_after } =
        throttle::gate(app.store.as_ref(), &login, &group, now).await?
    {
        return Err(throttled(retry_after));
    }
    Err(fail(app, inc.origin.addr, &login, None, &group, now).await?)
}

/// Checks an application password by its keyed hash; `None` when it is not one of this user's.
async fn app_password(
    app: &AppState,
    inc: &Incoming,
    login: &str,
    normalized: &str,
) -> Result<Option<Principal>, ApiError> {
    // Current key version first; older versions verify what was hashed before a rotation.
    let mut found = None;
    for hash in app.keys.hashes(Purpose::AppPassword, normalized) {
        if let Some(f) = app.store.find_app_password_by_hash(&hash).await? {
            found = Some((f, hash));
            break;
        }
    }
    let Some((found, hash)) = found else {
        return Ok(None);
    };
    let user = &found.user;
    let same_user =
        user.login.eq_ignore_ascii_case(login) || user.email.eq_ignore_ascii_case(login);
    if !hashes_equal(&found.hash, &hash) || !same_user || user.disabled {
        return Ok(None);
    }
    let now = app.clock.now();
    let pw = &found.password;
    if use_is_due(pw.last_used_at, now) {
        let store = app.store.clone();
        let (uuid, ip) = (pw.uuid.clone(), inc.origin.addr.to_string());
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_app_password(&uuid, now, &ip, TOUCH_INTERVAL_SECS)
                .await
            {
                tracing::warn!(error = %e, "could not record application password use");
            }
        });
    }
    Ok(Some(Principal {
        user: Some(found.user),
        method: AuthMethod::AppPassword,
        constraints: Constraints::default(),
        credential_id: Some(found.password.uuid),
    }))
}

fn throttled(retry_after: i64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too many failed attempts; try again later.",
    );
    e.retry_after = Some(retry_after);
    e
}

/// Records a failed check (and audits a burst); returns the one failure answer. `user_id` is the
/// account the name resolved to when the caller looked it up; otherwise it is looked up only
/// for a burst's audit entry, never on every failure.
async fn fail(
    app: &AppState,
    addr: std::net::IpAddr,
    login: &str,
    user_id: Option<gatehouse_core::model::UserId>,
    group: &str,
    now: i64,
) -> Result<ApiError, ApiError> {
    let store = app.store.as_ref();
    let burst = throttle::record_failure(store, &app.settings.throttle, login, group, now).await?;
    if burst {
        let user_id = match user_id {
            Some(id) => Some(id),
            None => store.find_user_auth(login).await?.map(|f| f.user.id),
        };
        store
            .insert_audit(&AuditEvent {
                at: now,
                event: "auth.failure_burst".into(),
                user_id,
                login: Some(AuditEvent::presented_name(login)),
                address: Some(addr.to_string()),
                detail: format!(
                    "{} consecutive failed Basic attempts; pair blocked",
                    app.settings.throttle.pair_failures
                ),
                target_user_id: None,
            })
            .await?;
        tracing::warn!(address = %addr, "burst of failed password attempts against one account");
    }
    Ok(incorrect())
}

/// The account password, Argon2id-checked under the throttle and the concurrency cap (SPEC §2).
/// Shared by HTTP Basic and the login form. Unknown users cost a dummy check.
pub async fn check_account_password(
    app: &AppState,
    addr: std::net::IpAddr,
    login: String,
    pass: String,
) -> Result<gatehouse_core::model::User, ApiError> {
    let store = app.store.as_ref();
    let now = app.clock.now();
    let group = throttle_group(addr);
    // The throttle counts per name as presented (login or email), known or not, so its answers
    // reveal nothing about which names exist or belong together (`throttle::pair_key`).
    if let Gate::Blocked { retry_after } = throttle::gate(store, &login, &group, now).await? {
        return Err(throttled(retry_after));
    }
    let Ok(permit) = app.argon2.clone().try_acquire_owned() else {
        app.metrics.argon2_busy();
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_busy",
            "The server is busy checking passwords; try again shortly.",
        );
        e.retry_after = Some(1);
        return Err(e);
    };
    let found = store.find_user_auth(&login).await?;
    let stored_hash = found.as_ref().map(|f| f.password_hash.clone());
    let verifier = app.verifier.clone();
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match stored_hash {
            Some(h) => verifier.verify(&h, &pass),
            None => password::verify_dummy(verifier.as_ref(), &pass),
        }
    })
    .await
    .map_err(ApiError::internal)?;
    match found {
        Some(f) if ok && !f.user.disabled => {
            throttle::record_success(store, &login, &group).await?;
            Ok(f.user)
        }
        found => Err(fail(app, addr, &login, found.map(|f| f.user.id), &group, now).await?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_separates_malformed_from_wrong() {
        assert_eq!(
            decode("YWRtaW46cHc=").unwrap(),
            ("admin".into(), "pw".into())
        );
        assert_eq!(
            decode("YWRtaW46cHc").unwrap(),
            ("admin".into(), "pw".into()),
            "padding optional"
        );
        assert_eq!(
            decode("YTpiOmM=").unwrap(),
            ("a".into(), "b:c".into()),
            "first colon splits"
        );
        assert_eq!(decode("!!!not-base64!!!").unwrap_err().status, 400);
        assert_eq!(decode("/w==").unwrap_err().status, 400, "not UTF-8");
        assert_eq!(decode("YWRtaW4=").unwrap_err().status, 401, "no colon");
        assert_eq!(decode("Og==").unwrap_err().status, 401, "empty user");
        assert_eq!(decode("").unwrap_err().status, 401, "empty credentials");
        assert_eq!(
            decode(&STANDARD.encode("ad\0min:pw")).unwrap_err().status,
            401,
            "NUL in the name"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Garbage Basic credentials are a 400 or a 401, never a panic.
        #[test]
        fn decode_never_panics(s in "\\PC{0,200}") {
            if let Err(e) = decode(&s) {
                prop_assert!(e.status == 400 || e.status == 401);
            }
        }
    }
}
