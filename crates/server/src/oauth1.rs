//! The OAuth 1.0a endpoints (SPEC §8, RFC 5849 §2): `POST /oauth1/request` (temporary
//! credentials), `GET/POST /oauth1/authorize` (the approval page, `web::oauth1_authorize`) and
//! `POST /oauth1/access` (token credentials); GET is accepted for the two legs, as by the plugin. Parameters come from the `Authorization: OAuth`
//! header, the query and a form body, all signed; the base-string URI is built from the site's
//! configured URL (SPEC §0), never from the `Host` header. Answers are
//! `application/x-www-form-urlencoded`; refusals are RFC 6749 §5.2-style JSON bodies naming the
//! problem (`signature_invalid`, `nonce_used`, …), 401s with `WWW-Authenticate: OAuth …`.

use crate::app::AppState;
use crate::oauth2::{no_store, OAuthError};
use crate::routes::{client_origin, peer_of};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use gatehouse_core::oauth1::signature::{self, Problem, RequestParams};
use gatehouse_core::oauth1::verify::{self, Leg, Refused, SignedRequest, Verified};
use gatehouse_core::oauth1::{self, TokenKind};
use gatehouse_core::secrets::Purpose;

/// Longest body read at the OAuth 1.0a endpoints.
const MAX_BODY: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        // POST, as RFC 5849 shows; GET too, as the WP-API plugin accepts it (the signature
        // covers the method).
        .route("/oauth1/request", post(request_post).get(request_post))
        .route(
            "/oauth1/authorize",
            axum::routing::get(crate::web::oauth1_authorize_get)
                .post(crate::web::oauth1_authorize_post),
        )
        .route("/oauth1/access", post(access_post).get(access_post))
}

/// A refusal in the endpoints' words: the problem's name as `error`, 400 or 401, and on a 401
/// the `OAuth` challenge naming the problem.
pub fn problem_error(p: &Problem) -> OAuthError {
    OAuthError {
        status: StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST),
        oauth1_problem: Some(p.name()),
        ..OAuthError::new(p.name(), p.message())
    }
}

fn refused(r: Refused) -> OAuthError {
    match r {
        Refused::Problem(p) => problem_error(&p),
        Refused::Store(e) => OAuthError::server_error(e),
    }
}

/// The parameters of a request to a leg, as RFC 5849 §3.4.1.3.1 collects them for signing: the
/// `Authorization: OAuth` header's (if any), the query's, and the body's — an
/// `application/x-www-form-urlencoded` body, or the fields of a `multipart/form-data` one (PHP's
/// curl sends arrays so; SPEC §0, and the WP-API plugin signs what PHP reads into `$_POST`).
async fn request_params(
    authorization: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> Result<RequestParams, Problem> {
    let header = match authorization {
        Some(rest) => signature::parse_header(rest)?,
        None => Vec::new(),
    };
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let body = match mime.as_str() {
        _ if body.is_empty() => Vec::new(),
        "application/x-www-form-urlencoded" => {
            let text = std::str::from_utf8(&body).map_err(|_| Problem::HeaderMalformed)?;
            signature::form_pairs(text)
        }
        "multipart/form-data" => crate::rest::multipart_pairs(ctype, body, false)
            .await
            .ok_or(Problem::HeaderMalformed)?,
        _ => Vec::new(),
    };
    Ok(RequestParams {
        header,
        query: signature::form_pairs(query.unwrap_or("")),
        body,
    })
}

/// Reads and verifies a request to one of the legs.
async fn signed_leg(app: &AppState, req: Request<Body>, leg: Leg) -> Result<Verified, OAuthError> {
    let (parts, body) = req.into_parts();
    let origin = client_origin(app, peer_of(&parts.extensions), &parts.headers);
    if !origin.may_send_credentials(app.settings.allow_insecure_http) {
        return Err(OAuthError {
            status: StatusCode::FORBIDDEN,
            ..OAuthError::invalid_request("Credentials are accepted only over https.")
        });
    }
    let bytes = crate::oauth2::body_bytes(body, MAX_BODY).await?;
    let mut auths = parts.headers.get_all(header::AUTHORIZATION).iter();
    let first = auths.next();
    if auths.next().is_some() {
        return Err(OAuthError::invalid_request(
            "Send one Authorization header.",
        ));
    }
    let authorization = match first {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .ok()
                .filter(|v| v.len() <= crate::auth::MAX_AUTHORIZATION_LEN)
                .ok_or_else(|| problem_error(&Problem::HeaderMalformed))?
                .trim();
            match v.split_once(char::is_whitespace) {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("oauth") => Some(rest),
                _ if v.eq_ignore_ascii_case("oauth") => Some(""),
                _ => {
                    return Err(OAuthError::invalid_request(
                        "Sign this request with OAuth 1.0a (Authorization: OAuth …).",
                    ))
                }
            }
        }
    };
    let params = request_params(authorization, parts.uri.query(), &parts.headers, bytes)
        .await
        .map_err(|p| problem_error(&p))?;
    let base = crate::sites::resolve(app, origin.host.as_deref())
        .await
        .map_err(OAuthError::from)?
        .base;
    let uri = signature::base_uri(&base, parts.uri.path())
        .ok_or_else(|| OAuthError::server_error("the site URL is not an http(s) URL"))?;
    verify::verify_request(
        app.store.as_ref(),
        &app.keys,
        &SignedRequest {
            method: parts.method.as_str(),
            base_uri: &uri,
            params: &params,
        },
        leg,
        app.clock.now(),
    )
    .await
    .map_err(refused)
}

fn form_answer(pairs: &[(&str, &str)]) -> Response {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    no_store(resp)
}

/// `POST /oauth1/request`: temporary credentials for a consumer whose `oauth_callback` is its
/// registered callback or `oob` (RFC 5849 §2.1).
pub async fn request_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    let v = match signed_leg(&app, req, Leg::Request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(callback) = v.signed.callback.clone() else {
        return problem_error(&Problem::ParameterAbsent("oauth_callback")).into_response();
    };
    if !oauth1::callback_allowed(&v.consumer, &callback) {
        return problem_error(&Problem::CallbackRejected).into_response();
    }
    let now = app.clock.now();
    let (new, key, secret) = oauth1::new_token(
        &app.keys,
        TokenKind::Request,
        v.consumer.id,
        None,
        Some(callback),
        Some(now + oauth1::REQUEST_TOKEN_TTL_SECS),
    );
    if let Err(e) = app.store.insert_oauth1_token(&new, now).await {
        return OAuthError::server_error(e).into_response();
    }
    form_answer(&[
        ("oauth_token", key.expose_secret()),
        ("oauth_token_secret", secret.expose_secret()),
        ("oauth_callback_confirmed", "true"),
    ])
}

/// `POST /oauth1/access`: an approved request token and its verifier become token credentials,
/// once (RFC 5849 §2.3).
pub async fn access_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    let v = match signed_leg(&app, req, Leg::Access).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(request) = v.token else {
        return problem_error(&Problem::TokenRejected).into_response();
    };
    let Some(verifier) = v.signed.verifier.as_deref() else {
        return problem_error(&Problem::ParameterAbsent("oauth_verifier")).into_response();
    };
    let Some(user) = request.user.as_ref() else {
        // Not approved yet: the user has not answered on the authorize page.
        return problem_error(&Problem::TokenRejected).into_response();
    };
    if !oauth1::is_verifier(verifier) {
        return problem_error(&Problem::VerifierInvalid).into_response();
    }
    let now = app.clock.now();
    let (new, key, secret) = oauth1::new_token(
        &app.keys,
        TokenKind::Access,
        v.consumer.id,
        Some(user.id),
        None,
        None,
    );
    // The verifier was hashed when the user approved: under the key version current then.
    for hash in app.keys.hashes(Purpose::OAuth1Token, verifier) {
        match app
            .store
            .exchange_request_token(request.token.id, &hash, &new, now)
            .await
        {
            Ok(Some(_)) => {
                return form_answer(&[
                    ("oauth_token", key.expose_secret()),
                    ("oauth_token_secret", secret.expose_secret()),
                ])
            }
            Ok(None) => {}
            Err(e) => return OAuthError::server_error(e).into_response(),
        }
    }
    problem_error(&Problem::VerifierInvalid).into_response()
}
