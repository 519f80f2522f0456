//! HTTP Basic (RFC 7617): `login-or-email:application-password` (SPEC §4; spaces and other
//! separators ignored, as WordPress does), and the account password when
//! `basic_auth_with_account_password` is on. The checks themselves are `core::authn`'s; this
//! module decodes the header, records use off the request path and words the refusals.
//! Invariants: unknown user, wrong password and disabled account are one answer (401
//! `incorrect_password`); a name that matched nothing is counted by the throttle.
//! Time from the app's clock; nothing here is logged except the outcome.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use gatehouse_core::authn::Refusal;
use gatehouse_core::credentials::TOUCH_INTERVAL_SECS;
use gatehouse_core::model::{Constraints, Credential, Principal};

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
    let checker = app.checker();
    let now = app.clock.now();
    let addr = inc.origin.addr;
    // An application password: one HMAC and one indexed look-up, whoever the user is.
    if let Some(ok) = checker
        .app_password(&login, &pass, now)
        .await
        .map_err(refused)?
    {
        if ok.touch_due {
            if let Credential::AppPassword { uuid } = &ok.principal.credential {
                touch_app_password(app, uuid.clone(), addr, now);
            }
        }
        return Ok(ok.principal);
    }
    if app.settings.basic_auth_with_account_password {
        let user = app
            .account_password(addr, &login, pass, None)
            .await
            .map_err(refused)?;
        return Ok(Principal {
            user: Some(user),
            credential: Credential::AccountPassword,
            constraints: Constraints::default(),
        });
    }
    // Nothing matched: count the failure (no Argon2 was spent, none is needed).
    checker.gate(addr, &login, now).await.map_err(refused)?;
    Err(refused(checker.fail(addr, &login, None, now).await))
}

/// Records an application password's use off the request path.
fn touch_app_password(app: &AppState, uuid: String, addr: std::net::IpAddr, now: i64) {
    let store = app.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store
            .touch_app_password(&uuid, now, &addr.to_string(), TOUCH_INTERVAL_SECS)
            .await
        {
            tracing::warn!(error = %e, "could not record application password use");
        }
    });
}

/// A refused password or application password in HTTP's words (SPEC §0, §2): every wrong one is
/// 401 `incorrect_password`; a blocked name or address 429 with `Retry-After`; all Argon2id
/// permits busy 503 with `Retry-After: 1`.
pub fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::Incorrect | Refusal::WrongKind(_) => incorrect(),
        Refusal::Throttled { retry_after } => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many failed attempts; try again later.",
            );
            e.retry_after = Some(retry_after);
            e
        }
        Refusal::Busy => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_busy",
                "The server is busy checking passwords; try again shortly.",
            );
            e.retry_after = Some(1);
            e
        }
        Refusal::Store(e) => e.into(),
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
