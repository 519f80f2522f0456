//! The shared path of every dialect request: parse (`rest`), resolve the site (SPEC §1), answer
//! CORS preflights (SPEC §9), authenticate (`auth`), dispatch to the dialect, render errors in its
//! envelope (`error`), and add the dialect's common headers.
//! Invariant: every handler decision goes through `Cx::allow` → `policy::allow`.

pub mod gatehouse_api;
pub mod hosting;
pub mod openapi;
pub mod ops;
pub mod wp;
pub mod wp_app_passwords;
pub mod wp_posts;
pub mod wp_users;
pub mod wpcom;

use crate::app::AppState;
use crate::auth::authenticate;
use crate::error::{ApiError, Dialect, Presented};
use crate::rest::{self, apply_cors, effective_method, read_body, Incoming, Params, Reply};
use crate::telemetry::RequestNote;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::clock::Timestamp;
use gatehouse_core::model::{Principal, Site, SiteAccess};
use gatehouse_core::net::{resolve_origin, ClientOrigin, ProxyHeaders};
use gatehouse_core::policy::{self, Action, Denial};
use serde_json::Value;
use std::net::SocketAddr;

/// What a handler works with.
pub struct Cx<'a> {
    pub app: &'a AppState,
    pub inc: &'a Incoming,
    pub principal: &'a Principal,
    /// The site the request is for (SPEC §1), if any site exists (`crate::sites`).
    pub site: Option<&'a Site>,
    /// The URL absolute links start from: the site's configured URL, else the public URL.
    pub base: &'a str,
    pub now: Timestamp,
}

impl Cx<'_> {
    pub fn params(&self) -> &Params {
        &self.inc.params
    }

    /// The request's site, or the dialect's "no site" error.
    pub fn site(&self) -> Result<&Site, ApiError> {
        self.site.ok_or_else(|| {
            ApiError::not_found("rest_no_site", "No site is configured on this server.")
                .alt("unknown_blog")
        })
    }

    /// The principal's standing on `site` (one indexed look-up for ordinary users).
    pub async fn access(&self, site: &Site) -> Result<SiteAccess, ApiError> {
        let role = match &self.principal.user {
            Some(u) if !u.network_admin => {
                let store = self.app.store.as_ref();
                self.app.cache.role(store, site.id, u.id, self.now).await?
            }
            _ => None,
        };
        Ok(SiteAccess::new(site, self.principal.user.as_ref(), role))
    }

    /// The request's site and the principal's standing on it, after the check that they may read
    /// what a visitor may read there (`code`/`message`: the route's refusal).
    pub async fn readable_site(
        &self,
        area: policy::Area,
        code: &'static str,
        message: &'static str,
    ) -> Result<(&Site, SiteAccess), ApiError> {
        let site = self.site()?;
        let access = self.access(site).await?;
        self.require(Some(&access), Action::ReadPublic(area), code, message)?;
        Ok((site, access))
    }

    pub fn allow(&self, access: Option<&SiteAccess>, action: Action) -> Result<(), Denial> {
        policy::allow(self.principal, &self.inc.method, access, action)
    }

    /// Asks the policy and turns a denial into this route's error (`code`, `message`).
    pub fn require(
        &self,
        access: Option<&SiteAccess>,
        action: Action,
        code: &'static str,
        message: &'static str,
    ) -> Result<(), ApiError> {
        self.allow(access, action)
            .map_err(|d| deny(d, code, message))
    }
}

/// SPEC §6: only a credential a person holds (account password, application password; later a
/// session) may create, list or revoke credentials. Returns the acting user.
pub fn require_manager<'a>(cx: &'a Cx<'_>) -> Result<&'a gatehouse_core::model::User, ApiError> {
    match &cx.principal.user {
        Some(u) if cx.principal.method().may_manage_credentials() => Ok(u),
        None if cx.principal.method() == gatehouse_core::model::AuthMethod::Anonymous => {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "rest_not_logged_in",
                "You are not currently logged in.",
            )
            .alt("authorization_required"))
        }
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_forbidden_credential",
            "This credential cannot manage credentials; use an application password or log in.",
        )
        .alt("forbidden")),
    }
}

/// Where a request comes from, after the proxy rule (SPEC §0): pages and dialects alike.
pub fn client_origin(
    app: &AppState,
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
) -> ClientOrigin {
    // Repeated lines of a list header are one list, in order (RFC 9110 §5.3): HAProxy appends
    // its own line after the client's. No line is dropped — a line with bytes that are not text
    // (which a client can put before the address nginx appends) is read lossily, so its bad
    // element fails to parse while the proxy's element still counts. `Forwarded` lines are kept
    // apart (`\n`) so an open quote on one cannot swallow the next.
    let joined = |name: &str, sep: &str| -> Option<String> {
        let lines: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        (!lines.is_empty()).then(|| lines.join(sep))
    };
    let (fwd, xff, proto, xhost) = (
        joined("forwarded", "\n"),
        joined("x-forwarded-for", ", "),
        joined("x-forwarded-proto", ", "),
        joined("x-forwarded-host", ", "),
    );
    resolve_origin(
        peer.ip(),
        &app.settings.trusted_proxies,
        app.settings.trusted_proxy_header,
        ProxyHeaders {
            forwarded: fwd.as_deref(),
            x_forwarded_for: xff.as_deref(),
            x_forwarded_proto: proto.as_deref(),
            x_forwarded_host: xhost.as_deref(),
            host: headers.get("host").and_then(|v| v.to_str().ok()),
        },
    )
}

/// The socket address of the client connection (`0.0.0.0:0` when the server was not started
/// with connection info, as in unit tests).
pub fn peer_of(ext: &axum::http::Extensions) -> SocketAddr {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Writes an audit event about `subject`'s account. The actor is the request's user (who may be
/// a network admin acting on another account); when actor and subject differ, both are recorded
/// and the detail names the subject.
pub async fn audit(
    cx: &Cx<'_>,
    event: &str,
    subject: &gatehouse_core::model::User,
    detail: String,
) -> Result<(), ApiError> {
    let actor = cx.principal.user.as_ref().unwrap_or(subject);
    let (target_user_id, detail) = if actor.id == subject.id {
        (None, detail)
    } else {
        (
            Some(subject.id),
            format!("{detail} for user {} (#{})", subject.login, subject.id.0),
        )
    };
    cx.app
        .store
        .insert_audit(&gatehouse_core::store::AuditEvent {
            at: cx.now,
            event: event.into(),
            user_id: Some(actor.id),
            login: Some(actor.login.clone()),
            address: Some(cx.inc.origin.addr.to_string()),
            detail,
            target_user_id,
        })
        .await?;
    Ok(())
}

/// A policy denial as an error: 401 when no credential was presented (WordPress's
/// `rest_authorization_required_code`), 403 otherwise.
pub fn deny(d: Denial, code: &'static str, message: &'static str) -> ApiError {
    match d {
        Denial::NotLoggedIn => {
            ApiError::new(StatusCode::UNAUTHORIZED, code, message).alt("authorization_required")
        }
        Denial::Forbidden => {
            ApiError::new(StatusCode::FORBIDDEN, code, message).alt("unauthorized")
        }
        Denial::InsufficientScope => {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "The credential's scope does not allow this request.",
            )
            .alt("insufficient_scope");
            e.insufficient_scope = true;
            e
        }
        Denial::OutsideConstraints => ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_credential_restricted",
            "This credential is restricted and may not be used for this request.",
        )
        .alt("unauthorized"),
    }
}

/// Whether a CORS `Origin` is the URL of the site this request is for: only that origin gets
/// credentialed CORS (SPEC §9) — never another registered site's, and never `null`.
fn origin_is_site(site: Option<&Site>, origin: Option<&str>) -> bool {
    match (site, origin.and_then(rest::origin_site_key)) {
        (Some(site), Some((url, _))) => site.url == url,
        _ => false,
    }
}

fn finish(mut resp: Response, dialect: Dialect, note: Option<RequestNote>) -> Response {
    resp.extensions_mut().insert(note.unwrap_or(RequestNote {
        dialect: dialect.as_str(),
        user_id: None,
        auth: "-",
    }));
    resp
}

pub async fn dialect_entry(
    app: AppState,
    dialect: Dialect,
    route: String,
    req: Request<Body>,
) -> Response {
    let origin_hdr = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let peer = peer_of(req.extensions());
    let origin = client_origin(&app, peer, req.headers());
    let for_request = crate::sites::resolve(&app, origin.host.as_deref())
        .await
        .map_err(ApiError::from);
    let credentialed = origin_is_site(
        for_request.as_ref().ok().and_then(|r| r.site.as_ref()),
        origin_hdr.as_deref(),
    );
    let with_cors = |mut resp: Response| {
        apply_cors(resp.headers_mut(), origin_hdr.as_deref(), credentialed);
        resp
    };

    // CORS preflight: answered without authentication.
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(rest::CORS_ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return finish(with_cors(resp), dialect, None);
    }

    let (parts, body_params, form) = match read_body(req, app.settings.max_body_bytes).await {
        Ok(x) => x,
        Err(e) => {
            return finish(
                with_cors(e.render(dialect, Presented::Nothing)),
                dialect,
                None,
            )
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let mut params = Params::from_query(query);
    params.0.remove("rest_route");
    let query_pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "rest_route")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.merge(body_params);
    // Text with a NUL character is refused before anything reaches the database (SPEC §0: bad
    // input is a 4xx in the dialect's format on every backend).
    // The route is still percent-encoded here; a dialect may decode a segment (a site's domain).
    let nul = if route.contains('\0') || route.to_ascii_lowercase().contains("%00") {
        Some("rest_route")
    } else {
        params.with_nul()
    };
    if let Some(name) = nul {
        let name: String = name.chars().filter(|c| *c != '\0').take(64).collect();
        let e = ApiError::invalid_param(&name, "Text may not contain NUL characters.");
        return finish(
            with_cors(e.render(dialect, Presented::Nothing)),
            dialect,
            None,
        );
    }
    let method = effective_method(&parts.method, &parts.headers, &params);
    let (site, base) = match for_request {
        Ok(r) => (r.site, r.base),
        Err(e) => {
            return finish(
                with_cors(e.render(dialect, Presented::Nothing)),
                dialect,
                None,
            )
        }
    };
    let inc = Incoming {
        method,
        route,
        params,
        query_pairs,
        headers: parts.headers,
        peer,
        origin,
        signed: rest::SignedParts {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            form,
            base: base.clone(),
        },
    };
    let auth = match authenticate(&app, &inc, dialect).await {
        Ok(a) => a,
        Err((e, presented)) => {
            let mut resp = e.render(dialect, presented);
            if dialect == Dialect::Wp {
                wp::common_headers(&mut resp, site.as_ref(), false);
            }
            return finish(with_cors(resp), dialect, None);
        }
    };
    let note = RequestNote {
        dialect: dialect.as_str(),
        user_id: auth.principal.user_id().map(|u| u.0),
        auth: auth.principal.method().as_str(),
    };
    let cx = Cx {
        app: &app,
        inc: &inc,
        principal: &auth.principal,
        site: site.as_ref(),
        base: &base,
        now: app.clock.now(),
    };
    let result = match dialect {
        Dialect::Wp => wp::dispatch(&cx).await,
        Dialect::Hosting => hosting::dispatch(&cx).await,
        Dialect::Wpcom => wpcom::dispatch(&cx).await,
    };
    let mut resp = match result {
        Ok(reply) => {
            let fields = (dialect == Dialect::Wp)
                .then(|| inc.params.list("_fields"))
                .flatten();
            let mut resp = match (reply.serialized, fields) {
                (Some(json), None) => (
                    reply.status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    json,
                )
                    .into_response(),
                (serialized, fields) => {
                    let mut body = match serialized {
                        Some(json) => serde_json::from_slice(&json).unwrap_or(Value::Null),
                        None => reply.body,
                    };
                    if let Some(fields) = fields {
                        wp::filter_fields(&mut body, &fields);
                    }
                    (reply.status, axum::Json(body)).into_response()
                }
            };
            if reply.status == StatusCode::NO_CONTENT {
                resp = StatusCode::NO_CONTENT.into_response();
            }
            for (k, v) in reply.headers {
                resp.headers_mut().append(k, v);
            }
            resp
        }
        Err(e) => e.render(dialect, auth.presented),
    };
    if let (gatehouse_core::model::Credential::Session { hash, .. }, Some(user)) =
        (&auth.principal.credential, auth.principal.user_id())
    {
        // A cookie-authenticated answer carries a fresh nonce (SPEC §7).
        let nonce = gatehouse_core::sessions::create_nonce(
            &app.keys,
            "wp_rest",
            user.0,
            hash,
            app.clock.now(),
        );
        if let Ok(v) = HeaderValue::from_str(&nonce) {
            resp.headers_mut().insert("x-wp-nonce", v);
        }
    }
    if dialect == Dialect::Wp {
        wp::common_headers(&mut resp, site.as_ref(), !auth.principal.is_anonymous());
    } else if !auth.principal.is_anonymous() {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    finish(with_cors(resp), dialect, Some(note))
}

/// `page`/`per_page`-style pagination parameters, validated.
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
    /// WordPress refuses a page past the last one (`code` names the collection).
    pub fn check_within(&self, total: i64, code: &'static str) -> Result<(), ApiError> {
        if total > 0 && self.page > self.total_pages(total) {
            return Err(ApiError::bad_request(
                code,
                "The page number requested is larger than the number of pages available.",
            ));
        }
        Ok(())
    }

    pub fn total_pages(&self, total: i64) -> i64 {
        if total == 0 {
            0
        } else {
            (total + self.per_page - 1) / self.per_page
        }
    }
}

/// Builds `Reply` headers common to paginated WordPress collections (`X-WP-Total`,
/// `X-WP-TotalPages`, `Link` prev/next with the request's own query).
pub fn wp_pagination(reply: Reply, cx: &Cx<'_>, base: &str, page: &Page, total: i64) -> Reply {
    let pages = page.total_pages(total);
    let mut reply = reply
        .header(
            header::HeaderName::from_static("x-wp-total"),
            &total.to_string(),
        )
        .header(
            header::HeaderName::from_static("x-wp-totalpages"),
            &pages.to_string(),
        );
    let link_for = |p: i64| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &cx.inc.query_pairs {
            if k != "page" {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("page", &p.to_string());
        format!("{base}?{}", ser.finish())
    };
    let mut links = Vec::new();
    if page.page > 1 && page.page <= pages + 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_for(page.page - 1)));
    }
    if page.page < pages {
        links.push(format!("<{}>; rel=\"next\"", link_for(page.page + 1)));
    }
    if !links.is_empty() {
        reply = reply.header(header::LINK, &links.join(", "));
    }
    reply
}
