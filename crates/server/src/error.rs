//! `ApiError` and the only place errors become HTTP: one failure, one meaning, three spellings.
//! WordPress: `{"code","message","data":{"status",…}}` (or the key plugin's body); hosting and
//! WordPress.com: `{"error","message"}`. Owns the `WWW-Authenticate` rules of SPEC §0: every 401
//! carries `Bearer` and `ApiKey` challenges, `Basic`/`OAuth` only when that scheme was presented.
//! Invariant: internal errors get a generic body; their cause is logged once, never returned.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::borrow::Cow;

/// Which envelope an error is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/wp-json/`, `?rest_route=`.
    Wp,
    /// `/v1/`.
    Hosting,
    /// `/rest/v1/`, `/rest/v1.1/`.
    Wpcom,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Wp => "wp",
            Dialect::Hosting => "hosting",
            Dialect::Wpcom => "wpcom",
        }
    }
}

/// Which `Authorization` scheme a request presented, for the challenge rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presented {
    #[default]
    Nothing,
    Basic,
    Bearer,
    ApiKey,
    OAuth,
    Other,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// The WordPress code (`rest_cannot_create`); also the hosting/wpcom `error` unless `alt` is set.
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    /// The `error` value for the hosting and WordPress.com dialects, when it differs from the
    /// status's generic name.
    pub alt: Option<&'static str>,
    /// Extra members of WordPress's `data` object (e.g. `params`).
    pub data: Option<Box<Value>>,
    /// Render with the API-key plugin's body on `/wp-json/` (SPEC §5).
    pub plugin: bool,
    /// A presented token was refused: add `error="invalid_token"` to the Bearer challenge.
    pub invalid_token: bool,
    /// RFC 6750 §3.1: a 403 for a token that lacks a scope.
    pub insufficient_scope: bool,
    pub retry_after: Option<i64>,
    /// An OAuth 1.0a refusal: `code` is the problem's name, and the `OAuth` challenge names it
    /// (`oauth_problem=…`).
    pub oauth_problem: bool,
    /// The cause of an internal error, for the log line only.
    pub internal: Option<Box<str>>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            alt: None,
            data: None,
            plugin: false,
            invalid_token: false,
            insufficient_scope: false,
            retry_after: None,
            oauth_problem: false,
            internal: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// A server-side failure: generic body, cause kept for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The server could not complete the request.",
        );
        e.internal = Some(cause.to_string().into_boxed_str());
        e
    }
    /// WordPress's `rest_invalid_param` with the offending parameter named.
    pub fn invalid_param(param: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        let mut e = Self::bad_request(
            "rest_invalid_param",
            format!("Invalid parameter(s): {param}"),
        );
        e.alt = Some("invalid_input");
        e.data = Some(Box::new(json!({ "params": { param: why }, "details": {} })));
        e
    }
    pub fn alt(mut self, alt: &'static str) -> Self {
        self.alt = Some(alt);
        self
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    fn generic_error(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            409 => "conflict",
            410 => "gone",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            429 => "too_many_requests",
            503 => "service_unavailable",
            _ => "internal_error",
        }
    }

    /// The body in `dialect`'s envelope.
    pub fn body(&self, dialect: Dialect) -> Value {
        match dialect {
            Dialect::Wp if self.plugin => json!({
                "status": "error",
                "error": self.code,
                "code": self.status.as_u16().to_string(),
                "error_description": self.message,
            }),
            Dialect::Wp => {
                let mut data = json!({ "status": self.status.as_u16() });
                if let (Some(Value::Object(extra)), Value::Object(d)) =
                    (self.data.as_deref(), &mut data)
                {
                    for (k, v) in extra {
                        d.insert(k.clone(), v.clone());
                    }
                }
                json!({ "code": self.code, "message": self.message, "data": data })
            }
            Dialect::Hosting | Dialect::Wpcom => {
                let error = match self.alt {
                    Some(a) => a,
                    None => self.generic_error(),
                };
                json!({ "error": error, "message": self.message })
            }
        }
    }

    /// Status, challenge headers and body for `dialect`, given what the request presented.
    pub fn render(&self, dialect: Dialect, presented: Presented) -> Response {
        let body = self.body(dialect);
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            let bearer = if self.invalid_token {
                r#"Bearer realm="gatehouse", error="invalid_token""#
            } else {
                r#"Bearer realm="gatehouse""#
            };
            h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static(bearer));
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"ApiKey realm="gatehouse""#),
            );
            match presented {
                Presented::Basic => {
                    h.append(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Basic realm="gatehouse", charset="UTF-8""#),
                    );
                }
                Presented::OAuth => {
                    let challenge = match self.oauth_problem {
                        true => HeaderValue::from_str(&format!(
                            r#"OAuth realm="gatehouse", oauth_problem="{}""#,
                            self.code
                        ))
                        .unwrap_or(HeaderValue::from_static(r#"OAuth realm="gatehouse""#)),
                        false => HeaderValue::from_static(r#"OAuth realm="gatehouse""#),
                    };
                    h.append(header::WWW_AUTHENTICATE, challenge);
                }
                _ => {}
            }
        } else if self.insufficient_scope {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="gatehouse", error="insufficient_scope""#),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        if let Some(cause) = &self.internal {
            resp.extensions_mut()
                .insert(InternalCause(cause.to_string()));
        }
        resp
    }
}

/// Rides in response extensions so the access log can record an internal error's cause once.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl From<gatehouse_core::store::StoreError> for ApiError {
    fn from(e: gatehouse_core::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_three_spellings() {
        let e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "rest_not_logged_in",
            "You are not currently logged in.",
        );
        assert_eq!(
            e.body(Dialect::Wp),
            json!({"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}})
        );
        assert_eq!(
            e.body(Dialect::Hosting),
            json!({"error":"unauthorized","message":"You are not currently logged in."})
        );
        let p = ApiError {
            plugin: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_API_KEY", "bad")
        };
        assert_eq!(
            p.body(Dialect::Wp),
            json!({"status":"error","error":"INVALID_API_KEY","code":"401","error_description":"bad"})
        );
        let ip = ApiError::invalid_param(
            "per_page",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        );
        assert_eq!(
            ip.body(Dialect::Wp)["data"]["params"]["per_page"],
            "per_page must be between 1 (inclusive) and 100 (inclusive)"
        );
        assert_eq!(ip.body(Dialect::Wpcom)["error"], "invalid_input");
    }

    #[test]
    fn challenges_follow_the_presented_scheme() {
        let e = ApiError::new(StatusCode::UNAUTHORIZED, "x", "y");
        let r = e.render(Dialect::Wp, Presented::Nothing);
        let ch: Vec<_> = r
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            ch,
            vec![r#"Bearer realm="gatehouse""#, r#"ApiKey realm="gatehouse""#]
        );
        let r = e.render(Dialect::Wp, Presented::Basic);
        assert_eq!(
            r.headers().get_all(header::WWW_AUTHENTICATE).iter().count(),
            3
        );
        let internal = ApiError::internal("db exploded");
        let r = internal.render(Dialect::Hosting, Presented::Nothing);
        assert_eq!(r.status(), 500);
        assert!(r.extensions().get::<InternalCause>().is_some());
    }
}
