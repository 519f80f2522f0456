//! OAuth 1.0a signed resource requests (`Authorization: OAuth …`, RFC 5849 §3, SPEC §8): the
//! header's, query's and form body's parameters, the base-string URI from the site's configured
//! URL, then `core::oauth1::verify` — one token look-up joined with its consumer and user, one
//! decryption per secret, one HMAC, one nonce insert. The token acts as the user who approved it,
//! with their capabilities, and may not manage credentials (SPEC §6). Refusals are 401 (400 for
//! a malformed request) with the named problem as the error code and an `OAuth` challenge.

use crate::app::AppState;
use crate::error::ApiError;
use crate::rest::Incoming;
use axum::http::StatusCode;
use gatehouse_core::credentials::{use_is_due, TOUCH_INTERVAL_SECS};
use gatehouse_core::model::{Constraints, Credential, Principal};
use gatehouse_core::oauth1::signature::{self, Problem, RequestParams};
use gatehouse_core::oauth1::verify::{self, Leg, Refused, SignedRequest};

/// A refusal in the dialects' envelopes: the problem's name is the code in every dialect.
pub fn problem_error(p: &Problem) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST),
        p.name(),
        p.message(),
    )
    .alt(p.name());
    e.oauth_problem = true;
    e
}

pub async fn authenticate(
    app: &AppState,
    inc: &Incoming,
    rest: &str,
) -> Result<Principal, ApiError> {
    let header = signature::parse_header(rest).map_err(|p| problem_error(&p))?;
    let params = RequestParams {
        header,
        query: signature::form_pairs(inc.signed.query.as_deref().unwrap_or("")),
        body: inc.signed.form.clone(),
    };
    let uri = signature::base_uri(&inc.signed.base, &inc.signed.path)
        .ok_or_else(|| ApiError::internal("the site URL is not an http(s) URL"))?;
    let now = app.clock.now();
    let v = verify::verify_request(
        app.store.as_ref(),
        &app.keys,
        &SignedRequest {
            method: &inc.signed.method,
            base_uri: &uri,
            params: &params,
        },
        Leg::Resource,
        now,
    )
    .await
    .map_err(|r| match r {
        Refused::Problem(p) => problem_error(&p),
        Refused::Store(e) => e.into(),
    })?;
    let (Some(m), consumer) = (v.token, v.consumer) else {
        return Err(problem_error(&Problem::TokenRejected));
    };
    let Some(user) = m.user else {
        return Err(problem_error(&Problem::TokenRejected));
    };
    if use_is_due(m.token.last_used_at, now) {
        let store = app.store.clone();
        let ip = inc.origin.addr.to_string();
        let id = m.token.id;
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_oauth1_token(id, now, &ip, TOUCH_INTERVAL_SECS)
                .await
            {
                tracing::warn!(error = %e, "could not record OAuth 1.0a token use");
            }
        });
    }
    Ok(Principal {
        user: Some(user),
        credential: Credential::OAuth1 {
            token: m.token.id,
            consumer: consumer.id,
        },
        constraints: Constraints::default(),
    })
}
