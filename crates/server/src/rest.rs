//! The request as the resource dialects see it: method (with WordPress's override), route, and
//! one parameter map merged from the query string and a JSON, form or multipart body (SPEC §0:
//! lenient in what clients send). Also the `Reply` handlers return and the CORS rules of SPEC §9.
//! Invariant: bad bodies are a 400/413/415 in the dialect's envelope, never a 5xx or a panic.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use gatehouse_core::net::ClientOrigin;
use serde_json::{Map, Value};
use std::net::SocketAddr;

/// Parameters from the query string and the body; body values win (WordPress's order).
#[derive(Debug, Default, Clone)]
pub struct Params(pub Map<String, Value>);

fn insert_pair(map: &mut Map<String, Value>, key: &str, value: String) {
    // `status[]=a&status[]=b` and `status[0]=a` build arrays.
    if let Some(base) = key.strip_suffix("[]").or_else(|| {
        key.strip_suffix(']')
            .and_then(|k| k.rsplit_once('['))
            .filter(|(_, idx)| idx.chars().all(|c| c.is_ascii_digit()))
            .map(|(b, _)| b)
    }) {
        match map
            .entry(base.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(a) => a.push(Value::String(value)),
            other => *other = Value::Array(vec![Value::String(value)]),
        }
    } else {
        map.insert(key.to_string(), Value::String(value));
    }
}

impl Params {
    pub fn from_query(query: &str) -> Params {
        let mut map = Map::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            insert_pair(&mut map, &k, v.into_owned());
        }
        Params(map)
    }

    pub fn merge(&mut self, other: Params) {
        for (k, v) in other.0 {
            self.0.insert(k, v);
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The first parameter whose name or value (at any depth) holds a NUL character. Such text
    /// never reaches the database (PostgreSQL refuses it; SQLite would cut it): it is a 400.
    pub fn with_nul(&self) -> Option<&str> {
        fn has_nul(v: &Value) -> bool {
            match v {
                Value::String(s) => s.contains('\0'),
                Value::Array(a) => a.iter().any(has_nul),
                Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
                _ => false,
            }
        }
        self.0
            .iter()
            .find(|(k, v)| k.contains('\0') || has_nul(v))
            .map(|(k, _)| k.as_str())
    }

    /// A string value; numbers and booleans are given as text. `{"raw": …}` objects (WordPress's
    /// title/content form) yield their `raw`.
    pub fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Object(o) => o.get("raw").and_then(|r| r.as_str()).map(str::to_string),
            _ => None,
        }
    }

    /// WordPress's `rest_sanitize_boolean`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "" => Ok(Some(false)),
                _ => Err(ApiError::invalid_param(
                    name,
                    format!("{name} is not of type boolean."),
                )),
            },
            Some(_) => Err(ApiError::invalid_param(
                name,
                format!("{name} is not of type boolean."),
            )),
        }
    }

    /// An integer within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let v = match self.0.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match v {
            None => Err(ApiError::invalid_param(
                name,
                format!("{name} is not of type integer."),
            )),
            Some(n) if n < min || n > max => Err(ApiError::invalid_param(
                name,
                format!("{name} must be between {min} (inclusive) and {max} (inclusive)"),
            )),
            Some(n) => Ok(Some(n)),
        }
    }

    /// A text parameter that must be text when present (a number or boolean counts, as text);
    /// an array or object is a 400 — never silently "absent", which would drop a restriction.
    pub fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(_) | Value::Object(_)) => Err(ApiError::invalid_param(
                name,
                format!("{name} is not of type string."),
            )),
            Some(_) => Ok(self.str(name)),
        }
    }

    /// A list that must be a list of text when present: an array of strings or numbers, or a
    /// comma-separated string. Anything else (objects, nested arrays, booleans) is a 400.
    pub fn text_list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let bad = || ApiError::invalid_param(name, format!("{name} is not a list of strings."));
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a))
                if !a
                    .iter()
                    .all(|v| matches!(v, Value::String(_) | Value::Number(_))) =>
            {
                Err(bad())
            }
            Some(Value::Array(_) | Value::String(_) | Value::Number(_)) => Ok(self.list(name)),
            Some(_) => Err(bad()),
        }
    }

    /// A list given as an array or a comma-separated string.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        match self.0.get(name)? {
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            Value::String(s) => Some(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            Value::Number(n) => Some(vec![n.to_string()]),
            _ => None,
        }
    }
}

/// A dialect request, parsed once.
#[derive(Debug)]
pub struct Incoming {
    /// Upper-case, after `_method` / `X-HTTP-Method-Override` on POST.
    pub method: String,
    /// The route inside the dialect, without trailing slash (`/wp/v2/posts`, `/sites/3`).
    pub route: String,
    pub params: Params,
    /// The query string without the dialect's routing parameters, for `Link` headers.
    pub query_pairs: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
    pub origin: ClientOrigin,
    /// What an OAuth 1.0a signature covers (RFC 5849 §3.4.1): the request path as sent, the
    /// whole query string (routing parameters included) and the pairs of a form body.
    pub signed: SignedParts,
}

/// The parts of a request an OAuth 1.0a signature covers, kept as sent.
#[derive(Debug, Default)]
pub struct SignedParts {
    /// The HTTP method as sent (before WordPress's `_method` override).
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The pairs of an `application/x-www-form-urlencoded` body, in order, duplicates kept.
    pub form: Vec<(String, String)>,
    /// The site's configured URL (the base-string URI's scheme and authority).
    pub base: String,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The method to route on (HEAD as GET) and the route's segments.
    pub fn routing(&self) -> (&str, Vec<&str>) {
        let method = match self.method.as_str() {
            "HEAD" => "GET",
            m => m,
        };
        (
            method,
            self.route.trim_start_matches('/').split('/').collect(),
        )
    }

    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// How long a client may take to send a request body (at most 256 KiB here). Without it, a
/// client trickling a body held the request, and its connection, for as long as it liked.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit: 413.
    TooLarge,
    /// Not all of it within `BODY_READ_TIMEOUT`: 408.
    TooSlow,
    /// Broken framing (a malformed chunk) or a body that ended early: 400.
    Malformed,
}

impl BodyError {
    /// The status and a sentence, for each dialect's own error envelope.
    pub fn status_and_message(self, limit: usize) -> (StatusCode, String) {
        match self {
            BodyError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than {limit} bytes."),
            ),
            BodyError::TooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "The request body was not received within {} seconds.",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            ),
            BodyError::Malformed => (
                StatusCode::BAD_REQUEST,
                "The request body is malformed (its framing is broken or it ended early).".into(),
            ),
        }
    }
}

/// The error a body gives once `BODY_READ_TIMEOUT` has passed since its request arrived.
#[derive(Debug)]
pub struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body was not received in time")
    }
}

impl std::error::Error for BodyTooSlow {}

/// Middleware: a request that has a body must deliver all of it within `BODY_READ_TIMEOUT` of
/// its arrival (one deadline for the whole body, not per piece, so trickling it does not help);
/// after that its body gives `BodyTooSlow`, which every reader answers with 408 or its own 400.
/// Requests without a body pass untouched.
pub async fn body_deadline(
    req: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::HttpBody as _;
    use futures_util::StreamExt;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let deadline = tokio::time::Instant::now() + BODY_READ_TIMEOUT;
    let (parts, body) = req.into_parts();
    let pieces =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |pieces| async move {
            let mut pieces = pieces?;
            match tokio::time::timeout_at(deadline, pieces.next()).await {
                Ok(Some(piece)) => Some((piece, Some(pieces))),
                Ok(None) => None,
                Err(_) => Some((Err(axum::Error::new(BodyTooSlow)), None)),
            }
        });
    next.run(Request::from_parts(parts, Body::from_stream(pieces)))
        .await
}

/// The whole body, at most `limit` bytes (within `BODY_READ_TIMEOUT`: `body_deadline`).
pub async fn body_bytes(body: Body, limit: usize) -> Result<bytes::Bytes, BodyError> {
    let e = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => return Ok(bytes),
        Err(e) => e.into_inner(),
    };
    // The cause may be wrapped (the limit's error around the body's): look down the chain.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&*e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return Err(BodyError::TooLarge);
        }
        if c.is::<BodyTooSlow>() {
            return Err(BodyError::TooSlow);
        }
        cause = match c.downcast_ref::<axum::Error>() {
            Some(inner) => std::error::Error::source(inner),
            None => c.source(),
        };
    }
    Err(BodyError::Malformed)
}

/// Splits off the body and parses it by content type into parameters; a form body's pairs are
/// also returned as sent (OAuth 1.0a signs them).
pub async fn read_body(
    req: Request<Body>,
    limit: usize,
) -> Result<(axum::http::request::Parts, Params, Vec<(String, String)>), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = body_bytes(body, limit).await.map_err(|e| {
        let (status, message) = e.status_and_message(limit);
        let code = match e {
            BodyError::TooLarge => "rest_payload_too_large",
            BodyError::TooSlow => "rest_request_timeout",
            BodyError::Malformed => "rest_invalid_body",
        };
        ApiError::new(status, code, message)
    })?;
    if bytes.is_empty() {
        return Ok((parts, Params::default(), Vec::new()));
    }
    let mut form = Vec::new();
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
    let params = match mime.as_str() {
        "application/json" | "" if looks_like_json(&bytes) || mime == "application/json" => {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Params(map),
                Ok(_) => {
                    return Err(ApiError::bad_request(
                        "rest_invalid_json",
                        "The JSON body must be an object.",
                    )
                    .alt("invalid_input"))
                }
                Err(e) => {
                    return Err(ApiError::bad_request(
                        "rest_invalid_json",
                        "Invalid JSON body passed.",
                    )
                    .alt("invalid_input")
                    .with_data(serde_json::json!({ "json_error_message": e.to_string() })))
                }
            }
        }
        "application/x-www-form-urlencoded" => match std::str::from_utf8(&bytes) {
            Ok(s) => {
                form = gatehouse_core::oauth1::signature::form_pairs(s);
                Params::from_query(s)
            }
            Err(_) => {
                return Err(ApiError::bad_request(
                    "rest_invalid_body",
                    "The form body is not UTF-8.",
                )
                .alt("invalid_input"))
            }
        },
        "multipart/form-data" => parse_multipart(&ctype, bytes).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "rest_unsupported_media_type",
                "Send JSON, application/x-www-form-urlencoded or multipart/form-data.",
            ))
        }
    };
    Ok((parts, params, form))
}

fn looks_like_json(b: &[u8]) -> bool {
    b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
}

async fn parse_multipart(ctype: &str, bytes: bytes::Bytes) -> Result<Params, ApiError> {
    let bad = || {
        ApiError::bad_request("rest_invalid_body", "The multipart body could not be read.")
            .alt("invalid_input")
    };
    // Uploads are not part of these APIs: file fields are left out.
    let pairs = multipart_pairs(ctype, bytes, false).await.ok_or_else(bad)?;
    let mut map = Map::new();
    for (name, text) in pairs {
        insert_pair(&mut map, &name, text);
    }
    Ok(Params(map))
}

/// The named fields of a `multipart/form-data` body as text, in order (file fields too when
/// `with_files`); `None` if the body cannot be read. The one multipart reader of the dialects,
/// the OAuth 2.0 endpoints and the OAuth 1.0a legs.
pub async fn multipart_pairs(
    ctype: &str,
    bytes: bytes::Bytes,
    with_files: bool,
) -> Option<Vec<(String, String)>> {
    let boundary = multer::parse_boundary(ctype).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    while let Some(field) = mp.next_field().await.ok()? {
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if field.file_name().is_some() && !with_files {
            continue;
        }
        pairs.push((name, field.text().await.ok()?));
    }
    Some(pairs)
}

/// Applies WordPress's method override (`_method`, `X-HTTP-Method-Override`) to a POST.
pub fn effective_method(method: &Method, headers: &HeaderMap, params: &Params) -> String {
    if method == Method::POST {
        let o = params.str("_method").or_else(|| {
            headers
                .get("x-http-method-override")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        if let Some(o) = o {
            let o = o.to_ascii_uppercase();
            if matches!(o.as_str(), "PUT" | "PATCH" | "DELETE" | "GET") {
                return o;
            }
        }
    }
    method.as_str().to_ascii_uppercase()
}

/// A successful dialect response before the dialect's common headers are added.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// The body already serialised (`body` is then `null`): sent as it is, or parsed again only
    /// when the request asks for `_fields`.
    pub serialized: Option<bytes::Bytes>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            serialized: None,
            headers: Vec::new(),
        }
    }
    /// 200 with a JSON body serialised earlier (and kept, e.g. by the read cache).
    pub fn ok_serialized(json: bytes::Bytes) -> Reply {
        Reply {
            serialized: Some(json),
            ..Reply::ok(Value::Null)
        }
    }
    pub fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body,
            serialized: None,
            headers: Vec::new(),
        }
    }
    pub fn status(mut self, status: StatusCode) -> Reply {
        self.status = status;
        self
    }
    pub fn header(mut self, name: HeaderName, value: &str) -> Reply {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

pub const CORS_ALLOW_HEADERS: &str =
    "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type";
pub const CORS_EXPOSE_HEADERS: &str = "X-WP-Total, X-WP-TotalPages, Link";
pub const CORS_ALLOW_METHODS: &str = "OPTIONS, GET, POST, PUT, PATCH, DELETE";

/// Adds SPEC §9's CORS headers: echo a (non-`null`) `Origin` without credentials, unless the
/// origin is a registered site's URL (`credentialed`).
pub fn apply_cors(headers: &mut HeaderMap, origin: Option<&str>, credentialed: bool) {
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSE_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CORS_ALLOW_HEADERS),
    );
    if let Some(o) = origin.filter(|o| *o != "null") {
        if let Ok(v) = HeaderValue::from_str(o) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            if credentialed {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
        }
    }
}

/// `scheme://host[:port]` of an `Origin` header, lower-cased, or `None` if it is not one.
pub fn origin_site_key(origin: &str) -> Option<(String, String)> {
    gatehouse_core::validate::site_url(origin).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_arrays_and_typed_getters() {
        let p = Params::from_query("status[]=draft&status[]=publish&per_page=5&force=true&x=a%20b");
        assert_eq!(p.list("status").unwrap(), vec!["draft", "publish"]);
        assert_eq!(p.int("per_page", 1, 100).unwrap(), Some(5));
        assert_eq!(p.bool("force").unwrap(), Some(true));
        assert_eq!(p.str("x").as_deref(), Some("a b"));
        assert!(p.int("x", 1, 2).is_err());
        let big = Params::from_query("per_page=101");
        assert_eq!(big.int("per_page", 1, 100).unwrap_err().status, 400);
    }

    #[test]
    fn cors_never_echoes_null() {
        let mut h = HeaderMap::new();
        apply_cors(&mut h, Some("null"), true);
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        let mut h = HeaderMap::new();
        apply_cors(&mut h, Some("https://app.example"), false);
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any query string parses, and typed getters answer or refuse with a 400.
        #[test]
        fn query_parsing_never_panics(q in "\\PC{0,120}") {
            let p = Params::from_query(&q);
            for name in ["page", "per_page", "status", "x"] {
                if let Err(e) = p.int(name, 1, 100) {
                    prop_assert_eq!(e.status, 400);
                }
                let _ = p.list(name);
                let _ = p.str(name);
                let _ = p.bool(name);
            }
        }
    }
}
