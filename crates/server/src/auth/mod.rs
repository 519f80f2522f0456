//! The credential chain (SPEC §0): read the ONE credential a request carries and turn it into a
//! `Principal`, or refuse it in the dialect's envelope. No header → anonymous.
//! Owns: header parsing (schemes case-insensitive; two headers → 400; garbage → 400/401, never a
//! 5xx), the plain-http rule, refusing credentials in the query string, and the nonce-without-
//! session rule of WordPress. Each credential kind verifies in its own module (`basic`).
//! Invariants: a presented credential that fails is a 401, never silently anonymous.

pub mod access;
pub mod apikey;
pub mod basic;
pub mod oauth1;
pub mod session;

use crate::app::AppState;
use crate::error::{ApiError, Dialect, Presented};
use crate::rest::Incoming;
use axum::http::{header, StatusCode};
use gatehouse_core::model::Principal;

/// Longest `Authorization` value accepted; longer ones are malformed, not checked.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Query parameters that carry credentials and are refused there (RFC 6750 §2.3 is not offered).
const QUERY_CREDENTIALS: &[&str] = &["access_token", "api_key", "apikey"];

#[derive(Debug)]
pub struct Authenticated {
    pub principal: Principal,
    pub presented: Presented,
}

fn malformed(msg: &'static str) -> ApiError {
    ApiError::bad_request("rest_invalid_authorization_header", msg).alt("invalid_request")
}

/// Runs the chain for one request.
pub async fn authenticate(
    app: &AppState,
    inc: &Incoming,
    dialect: Dialect,
) -> Result<Authenticated, (ApiError, Presented)> {
    let mut values = inc.headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err((
            malformed("Send exactly one Authorization header."),
            Presented::Other,
        ));
    }
    if let Some(name) = QUERY_CREDENTIALS.iter().find(|n| inc.params.has(n)) {
        let mut e = ApiError::bad_request(
            "rest_credentials_in_query",
            "Credentials are not accepted in the query string; send an Authorization header.",
        )
        .alt("invalid_request");
        e.data = Some(Box::new(serde_json::json!({ "param": name })));
        return Err((e, Presented::Nothing));
    }
    let Some(value) = first else {
        // An OAuth 1.0a request signed in the query string or a form body (RFC 5849 §3.5.2,
        // §3.5.3; the WP-API plugin reads them there): verified like the header form, never
        // ignored as anonymous.
        if signed_without_header(inc) {
            if !inc
                .origin
                .may_send_credentials(app.settings.allow_insecure_http)
            {
                return Err((insecure_transport(), Presented::OAuth));
            }
            return match oauth1::authenticate(app, inc, "").await {
                Ok(principal) => Ok(Authenticated {
                    principal,
                    presented: Presented::OAuth,
                }),
                Err(e) => {
                    app.metrics.auth_failure(Presented::OAuth);
                    Err((e, Presented::OAuth))
                }
            };
        }
        return cookie_auth(app, inc, dialect).await;
    };
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err((
            malformed("The Authorization header is too long."),
            Presented::Other,
        ));
    }
    let Ok(value) = value.to_str() else {
        return Err((
            malformed("The Authorization header is not valid text."),
            Presented::Other,
        ));
    };
    let value = value.trim();
    let (scheme, rest) = match value.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r.trim()),
        None => (value, ""),
    };
    let presented = match scheme.to_ascii_lowercase().as_str() {
        "basic" => Presented::Basic,
        "bearer" => Presented::Bearer,
        "apikey" => Presented::ApiKey,
        "oauth" => Presented::OAuth,
        _ => Presented::Other,
    };
    if !inc
        .origin
        .may_send_credentials(app.settings.allow_insecure_http)
    {
        return Err((insecure_transport(), presented));
    }
    let result = match presented {
        Presented::Basic => basic::authenticate(app, inc, rest).await,
        // `gat_` is an OAuth 2.0 access token; anything else under Bearer is an API key (seed 004).
        Presented::Bearer if rest.starts_with("gat_") => access::authenticate(app, inc, rest).await,
        Presented::Bearer | Presented::ApiKey => apikey::authenticate(app, inc, rest).await,
        Presented::OAuth => oauth1::authenticate(app, inc, rest).await,
        Presented::Nothing | Presented::Other => Err(ApiError {
            plugin: true,
            alt: Some("invalid_request"),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_AUTHORIZATION_HEADER_TOKEN_TYPE",
                "Authorization header must be type of Bearer Token.",
            )
        }),
    };
    match result {
        Ok(principal) => Ok(Authenticated {
            principal,
            presented,
        }),
        Err(e) => {
            app.metrics.auth_failure(presented);
            Err((e, presented))
        }
    }
}

/// Whether the query string or a form body carries OAuth 1.0a protocol parameters.
fn signed_without_header(inc: &Incoming) -> bool {
    let protocol = |k: &str| k == "oauth_consumer_key" || k == "oauth_signature";
    let query = inc.signed.query.as_deref().unwrap_or("");
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| protocol(&k))
        || inc.signed.form.iter().any(|(k, _)| protocol(k))
}

/// 403 for a credential sent over plain http from a non-loopback client (SPEC §0).
fn insecure_transport() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "rest_insecure_transport",
        "Credentials are accepted only over https.",
    )
    .alt("https_required")
}

fn invalid_nonce() -> (ApiError, Presented) {
    (
        ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_cookie_invalid_nonce",
            "Cookie check failed",
        ),
        Presented::Nothing,
    )
}

/// No `Authorization` header: WordPress's cookie check (SPEC §7, TRANSCRIPTS section C).
/// A cookie without a nonce is anonymous; a wrong nonce, or a nonce without a (valid) session,
/// is 403 `rest_cookie_invalid_nonce`. `_wpnonce` wins over `X-WP-Nonce`.
async fn cookie_auth(
    app: &AppState,
    inc: &Incoming,
    dialect: Dialect,
) -> Result<Authenticated, (ApiError, Presented)> {
    let nonce = inc
        .params
        .str("_wpnonce")
        .or_else(|| inc.header("x-wp-nonce").map(str::to_string));
    let anonymous = Authenticated {
        principal: Principal::anonymous(),
        presented: Presented::Nothing,
    };
    let Some(nonce) = nonce else {
        return Ok(anonymous);
    };
    let session = session::load(app, &inc.headers, inc.origin.https)
        .await
        .map_err(|e| (e, Presented::Nothing))?;
    let Some(found) = session else {
        return if dialect == Dialect::Wp {
            Err(invalid_nonce())
        } else {
            Ok(anonymous)
        };
    };
    if !inc
        .origin
        .may_send_credentials(app.settings.allow_insecure_http)
    {
        return Err((insecure_transport(), Presented::Nothing));
    }
    let now = app.clock.now();
    let ok = gatehouse_core::sessions::verify_nonce(
        &app.keys,
        &nonce,
        "wp_rest",
        found.user.id.0,
        &found.hash,
        now,
    );
    if ok.is_none() {
        return Err(invalid_nonce());
    }
    Ok(Authenticated {
        principal: Principal {
            user: Some(found.user),
            credential: gatehouse_core::model::Credential::Session {
                id: found.session.id,
                hash: found.hash,
            },
            constraints: gatehouse_core::model::Constraints::default(),
        },
        presented: Presented::Nothing,
    })
}
