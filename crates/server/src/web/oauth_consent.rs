//! `GET/POST /oauth/authorize` and `/oauth2/authorize` (RFC 6749 §4.1, SPEC §3): the consent page.
//! The request is checked by `core::oauth2::authorize` (a bad client or redirect URI is an error
//! page, status 400, never a redirect); not logged in → the log-in page, then back; the page names
//! the app, its owner and description, each scope in words, and offers a site picker when the
//! token is per-site. Allow issues a single-use code (60 s) and answers 303 with `code`, `state`
//! and `iss`; Deny answers `error=access_denied`. Consent is remembered per (user, client, scope,
//! site) for confidential clients.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use gatehouse_core::model::*;
use gatehouse_core::oauth2::authorize::{self, Checked, Refused};
use gatehouse_core::oauth2::{binds_to_site, Client, NewCode};
use gatehouse_core::secrets::{self, Purpose};
use gatehouse_core::store::StoreError;
use minijinja::context;
use std::collections::HashMap;

use super::*;

fn error_page(web: &Web, text: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Cannot authorize this application",
        text,
        web,
    )
}

/// The registered client `client_id` names, or the error page.
#[allow(clippy::result_large_err)] // the error is the page to send
async fn find_client(web: &Web, p: &HashMap<String, String>) -> Result<Client, Response> {
    let id = p
        .get("client_id")
        .and_then(|v| gatehouse_core::oauth2::parse_client_id(v));
    let Some(id) = id else {
        return Err(error_page(
            web,
            "The request names no known application (client_id).",
        ));
    };
    match web.app.store.get_client(id).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound) => Err(error_page(
            web,
            "The request names no known application (client_id).",
        )),
        Err(e) => Err(super::error_page(&ApiError::internal(e))),
    }
}

/// An error page when the client's owner account is disabled: such an app is suspended.
async fn owner_disabled(web: &Web, client: &Client) -> Option<Response> {
    match web.app.store.get_user(client.owner_id).await {
        Ok(u) if !u.disabled => None,
        Ok(_) => Some(error_page(
            web,
            "This application is suspended: the account that registered it is disabled.",
        )),
        Err(e) => Some(super::error_page(&ApiError::internal(e))),
    }
}

/// Sends a refusal where it belongs: the error page, or back to the client.
fn refuse(web: &Web, r: Refused, state: Option<&str>, issuer: &str) -> Response {
    match r {
        Refused::Page(text) => error_page(web, &text),
        Refused::Redirect {
            to,
            error,
            description,
            fragment,
        } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            // A state too long to be accepted is not echoed either.
            if let Some(s) = state.filter(|s| s.len() <= authorize::MAX_STATE_LEN) {
                pairs.push(("state", s));
            }
            pairs.push(("iss", issuer));
            if fragment {
                redirect(&authorize::respond_in_fragment(&to, &pairs))
            } else {
                redirect(&authorize::respond(&to, &pairs))
            }
        }
    }
}

/// The sites a token for `user` may be bound to: those where they have a role (every site for
/// a network admin).
async fn choosable_sites(web: &Web, user: &User) -> Result<Vec<Site>, StoreError> {
    let (sites, _) = web
        .app
        .store
        .list_sites(
            if user.network_admin {
                None
            } else {
                Some(user.id)
            },
            0,
            500,
        )
        .await?;
    Ok(sites)
}

/// The site `blog` names (an id or a URL), if the user may bind a token to it.
fn chosen<'a>(sites: &'a [Site], blog: Option<&str>) -> Option<&'a Site> {
    let b = blog?.trim();
    sites.iter().find(|s| {
        b == s.id.0.to_string()
            || gatehouse_core::validate::site_url(b).is_ok_and(|(_, host)| host == s.host)
    })
}

/// Issues a code for an allowed request and sends the browser back with it.
async fn issue_code(
    web: &Web,
    client: &Client,
    req: &Checked,
    user: &User,
    site: Option<SiteId>,
    issuer: &str,
) -> Response {
    if req.implicit {
        return issue_implicit(web, client, req, user, site, issuer).await;
    }
    let code = secrets::mint_session_id();
    let now = web.now();
    let new = NewCode {
        hash: web.app.keys.hash(Purpose::OAuthCode, code.expose_secret()),
        key_version: web.app.keys.version,
        client_id: client.id,
        user_id: user.id,
        site_id: site,
        scope: req.scope.clone(),
        redirect_uri: req.redirect_given.clone(),
        code_challenge: req.code_challenge.clone(),
        expires_at: now + web.app.settings.oauth_code_ttl_secs,
    };
    if let Err(e) = web.app.store.insert_code(&new, now).await {
        return super::error_page(&ApiError::internal(e));
    }
    let mut pairs = vec![("code", code.expose_secret())];
    if let Some(s) = &req.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("iss", issuer));
    redirect(&authorize::respond(&req.redirect, &pairs))
}

/// The implicit grant (RFC 6749 §4.2.2): the access token itself, in the fragment — 14 days, no
/// refresh token.
async fn issue_implicit(
    web: &Web,
    client: &Client,
    req: &Checked,
    user: &User,
    site: Option<SiteId>,
    issuer: &str,
) -> Response {
    use gatehouse_core::oauth2::{issue, Flow};
    let issued = match issue::issue(
        web.app.store.as_ref(),
        &web.app.keys,
        issue::Request {
            client,
            user: user.id,
            site,
            scope: req.scope.clone(),
            flow: Flow::Implicit,
            refresh: false,
            access_ttl: Some(issue::IMPLICIT_TTL_SECS),
        },
        web.now(),
    )
    .await
    {
        Ok(i) => i,
        Err(e) => return super::error_page(&ApiError::internal(e)),
    };
    let expires_in = issue::IMPLICIT_TTL_SECS.to_string();
    let site_id = site.map(|s| s.0.to_string()).unwrap_or_else(|| "0".into());
    let mut pairs = vec![
        ("access_token", issued.access_token.expose_secret()),
        ("token_type", "bearer"),
        ("expires_in", expires_in.as_str()),
        ("scope", issued.scope.as_str()),
        ("site_id", site_id.as_str()),
    ];
    if let Some(s) = &req.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("iss", issuer));
    redirect(&authorize::respond_in_fragment(&req.redirect, &pairs))
}

/// What the consent page shows.
struct Consent<'a> {
    client: &'a Client,
    req: &'a Checked,
    params: &'a HashMap<String, String>,
    sites: &'a [Site],
    chosen: Option<&'a Site>,
    error: Option<String>,
}

async fn consent_page(web: &Web, c: Consent<'_>) -> Response {
    let owner = web
        .app
        .store
        .get_user(c.client.owner_id)
        .await
        .map(|u| u.display_name)
        .unwrap_or_default();
    let per_site = binds_to_site(c.req.scopes.as_deref());
    let hidden: Vec<(String, String)> = [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|k| c.params.get(*k).map(|v| (k.to_string(), v.clone())))
    .collect();
    let resp = html(
        StatusCode::OK,
        "consent.html",
        context! { ..web.base_ctx("Authorize application"), ..context! {
            app_name => c.client.name, app_description => c.client.description, owner,
            confidential => c.client.confidential,
            destination => gatehouse_core::redirect::display_host(&c.req.redirect),
            scopes => authorize::describe(c.req.scopes.as_deref()),
            per_site, sites => c.sites.iter().map(|s| context! { id => s.id.0, name => s.name, url => s.url }).collect::<Vec<_>>(),
            chosen => c.chosen.map(|s| s.id.0),
            hidden, error => c.error,
        }},
    );
    // The form's answer is a redirect to the client: allow that origin as a form target.
    let origin = format!(" {}", c.req.redirect.origin().ascii_serialization());
    secure(resp, &origin)
}

pub async fn oauth_authorize_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    method: axum::http::Method,
    uri: Uri,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let p = match gatehouse_core::oauth2::unique_params(pairs) {
        Ok(p) => p,
        Err(m) => return error_page(&web, &m),
    };
    let client = match find_client(&web, &p).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let issuer = web.base.clone();
    let req = match authorize::check(&client, &p) {
        Ok(r) => r,
        Err(e) => return refuse(&web, e, p.get("state").map(String::as_str), &issuer),
    };
    if let Some(r) = owner_disabled(&web, &client).await {
        return r;
    }
    // Not logged in: log in, then come back to this very request.
    let Some(s) = web.session.clone() else {
        let back = format!("{}?{}", uri.path(), uri.query().unwrap_or(""));
        return redirect(&format!(
            "/login?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("redirect_to", &back)
                .finish()
        ));
    };
    // A HEAD request only looks: it never issues a code, even with remembered consent.
    if method == axum::http::Method::HEAD {
        return consent_page(
            &web,
            Consent {
                client: &client,
                req: &req,
                params: &p,
                sites: &[],
                chosen: None,
                error: None,
            },
        )
        .await;
    }
    decide(&web, &client, &req, &p, &s.user, None).await
}

/// After the checks: remembered consent issues at once; otherwise the consent page.
async fn decide(
    web: &Web,
    client: &Client,
    req: &Checked,
    p: &HashMap<String, String>,
    user: &User,
    error: Option<String>,
) -> Response {
    let sites = if binds_to_site(req.scopes.as_deref()) {
        match choosable_sites(web, user).await {
            Ok(s) => s,
            Err(e) => return super::error_page(&ApiError::internal(e)),
        }
    } else {
        Vec::new()
    };
    let blog = p.get("blog").map(String::as_str);
    let chosen_site = chosen(&sites, blog);
    let error = error.or_else(|| {
        (blog.is_some_and(|b| !b.trim().is_empty()) && chosen_site.is_none()).then(|| {
            "You have no role on the site this application asked for; choose one of yours."
                .to_string()
        })
    });
    let per_site = binds_to_site(req.scopes.as_deref());
    // Remembered consent: the same user, client, scope and site, for a confidential client.
    if client.confidential && error.is_none() && (!per_site || chosen_site.is_some()) {
        let site = chosen_site.map(|s| s.id);
        match web
            .app
            .store
            .find_live_grant(user.id, client.id, &req.scope, site, web.now())
            .await
        {
            Ok(Some(_)) => return issue_code(web, client, req, user, site, &web.base).await,
            Ok(None) => {}
            Err(e) => return super::error_page(&ApiError::internal(e)),
        }
    }
    consent_page(
        web,
        Consent {
            client,
            req,
            params: p,
            sites: &sites,
            chosen: chosen_site,
            error,
        },
    )
    .await
}

pub async fn oauth_authorize_post(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let pairs = form.map(|Form(f)| f).unwrap_or_default();
    let p = match gatehouse_core::oauth2::unique_params(pairs) {
        Ok(p) => p,
        Err(m) => return error_page(&web, &m),
    };
    let s = match web.form_user(&p) {
        Ok(s) => s.clone(),
        Err(r) => return r,
    };
    let client = match find_client(&web, &p).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let issuer = web.base.clone();
    let state = p.get("state").map(String::as_str);
    let req = match authorize::check(&client, &p) {
        Ok(r) => r,
        Err(e) => return refuse(&web, e, state, &issuer),
    };
    if let Some(r) = owner_disabled(&web, &client).await {
        return r;
    }
    if p.get("decision").map(String::as_str) != Some("allow") {
        return refuse(
            &web,
            Refused::Redirect {
                to: Box::new(req.redirect.clone()),
                error: "access_denied",
                description: "The user denied the request.".into(),
                fragment: req.implicit,
            },
            state,
            &issuer,
        );
    }
    let site = if binds_to_site(req.scopes.as_deref()) {
        let sites = match choosable_sites(&web, &s.user).await {
            Ok(v) => v,
            Err(e) => return super::error_page(&ApiError::internal(e)),
        };
        match chosen(&sites, p.get("blog").map(String::as_str)) {
            Some(site) => Some(site.id),
            None => {
                return decide(
                    &web,
                    &client,
                    &req,
                    &p,
                    &s.user,
                    Some("Choose a site for this application.".into()),
                )
                .await
            }
        }
    } else {
        None
    };
    issue_code(&web, &client, &req, &s.user, site, &issuer).await
}
