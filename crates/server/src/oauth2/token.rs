//! `POST /oauth/token` (RFC 6749 §3.2, SPEC §3): client authentication, then the grant:
//! `authorization_code` (single use, PKCE), `refresh_token` (rotation; a replay revokes the
//! family), `client_credentials` (opt-in per client: the client acts as its owner within the
//! requested scopes, bound to a site when the scopes are per-site — the `blog` parameter, else
//! the owner's primary site — with no refresh token) and `password` (opt-in, confidential
//! clients, the owner only).

use super::{authenticate_client, form_params, no_store, OAuthError};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::{Scope, Site, SiteId, User};
use gatehouse_core::oauth2::{
    binds_to_site, issue, pkce, Client, Flow, GrantType, NewToken, Rotation, TokenKind,
    REFRESH_TTL_SECS,
};
use gatehouse_core::secrets::{self, Purpose};
use gatehouse_core::store::StoreError;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;

pub async fn token_post(State(app): State<AppState>, req: Request<Body>) -> Response {
    let peer = crate::routes::peer_of(req.extensions());
    match token(&app, peer, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token(
    app: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
) -> Result<Response, OAuthError> {
    let origin = crate::routes::client_origin(app, peer, req.headers());
    if !origin.may_send_credentials(app.settings.allow_insecure_http) {
        return Err(OAuthError::invalid_request(
            "Credentials are accepted only over https.",
        ));
    }
    let (parts, params) = form_params(req).await?;
    let checker = app.fresh_checker();
    let client = authenticate_client(app, checker, origin.addr, &parts.headers, &params).await?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("The grant_type parameter is missing."))?;
    let Some(grant) = GrantType::parse(grant_type).filter(|g| *g != GrantType::Implicit) else {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("The grant type {grant_type:?} is not supported."),
        ));
    };
    // A client whose owner is disabled issues nothing.
    let owner = app.store.get_user(client.owner_id).await?;
    if owner.disabled {
        return Err(OAuthError::new(
            "unauthorized_client",
            "This client's owner account is disabled.",
        ));
    }
    if !client.allows(grant) {
        return Err(OAuthError::new(
            "unauthorized_client",
            format!("This client may not use the {} grant.", grant.as_str()),
        ));
    }
    match grant {
        GrantType::ClientCredentials => client_credentials(app, &client, &owner, &params).await,
        GrantType::AuthorizationCode => authorization_code(app, &client, &params).await,
        GrantType::RefreshToken => refresh(app, &client, &params).await,
        GrantType::Password => password_grant(app, &client, &params, origin.addr).await,
        // Implicit tokens come from the authorization endpoint, never from here.
        GrantType::Implicit => Err(OAuthError::new(
            "unsupported_grant_type",
            "The implicit grant has no token request.",
        )),
    }
}

/// The requested scope (RFC 6749 §3.3), checked against SPEC §3's list.
pub fn requested_scope(params: &HashMap<String, String>) -> Result<Option<Vec<Scope>>, OAuthError> {
    let raw = params.get("scope").map(String::as_str).unwrap_or("");
    Scope::parse_list([raw]).map_err(|e| OAuthError::new("invalid_scope", e))
}

/// The site a per-site token binds to: `blog` (an id or a URL) if given, else the user's primary
/// site. The user must have a role there (or be a network admin).
async fn bind_site(app: &AppState, user: &User, blog: Option<&str>) -> Result<Site, OAuthError> {
    let store = app.store.as_ref();
    let site = match blog.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => {
            let found = match b.parse::<i64>() {
                Ok(id) => match store.get_site(SiteId(id)).await {
                    Ok(s) => Some(s),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                },
                Err(_) => match gatehouse_core::validate::site_url(b) {
                    Ok((_, host)) => store.find_site_by_host(&host).await?,
                    Err(_) => None,
                },
            };
            found.ok_or_else(|| {
                OAuthError::invalid_request("The blog parameter names no site here.")
            })?
        }
        None => {
            let (sites, _) = store.list_sites(Some(user.id), 0, 1).await?;
            sites.into_iter().next().ok_or_else(|| {
                OAuthError::invalid_request(
                    "This token needs a site, and the account has none; send blog or a site-less scope (global, sites:read).",
                )
            })?
        }
    };
    if !user.network_admin && store.find_role(site.id, user.id).await?.is_none() {
        return Err(OAuthError::invalid_request(format!(
            "{} has no role on that site.",
            user.login
        )));
    }
    Ok(site)
}

/// The success answer (RFC 6749 §5.1, SPEC §3), with `blog_id` and `blog_url` when site-bound.
fn success(issued: &issue::Issued, site: Option<&Site>) -> Response {
    let mut body = json!({
        "access_token": issued.access_token.expose_secret(),
        "token_type": "Bearer",
        "scope": issued.scope,
    });
    if let Some(secs) = issued.expires_in {
        body["expires_in"] = json!(secs);
    }
    if let Some(r) = &issued.refresh_token {
        body["refresh_token"] = json!(r.expose_secret());
    }
    if let Some(s) = site {
        body["blog_id"] = json!(s.id.0.to_string());
        body["blog_url"] = json!(s.url);
    }
    let mut resp = no_store(axum::Json(body).into_response());
    // A success only made new credentials (and rotated a refresh token or used up a code,
    // neither ever kept): nothing an instance keeps changed.
    resp.extensions_mut().insert(crate::cache::Unchanged);
    resp
}

/// `client_credentials` (RFC 6749 §4.4): the client acts as its owner, within the scope asked for.
/// `owner` is the client's owner, read (and found enabled) by this request.
async fn client_credentials(
    app: &AppState,
    client: &Client,
    owner: &User,
    params: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let scopes = requested_scope(params)?;
    let site = if binds_to_site(scopes.as_deref()) {
        Some(bind_site(app, owner, params.get("blog").map(String::as_str)).await?)
    } else {
        None
    };
    let scope = scopes.as_deref().map(Scope::join).unwrap_or_default();
    let now = app.clock.now();
    let issued = issue_for(
        app,
        issue::Request {
            client,
            user: owner.id,
            site: site.as_ref().map(|s| s.id),
            scope,
            flow: Flow::ClientCredentials,
            refresh: false,
            access_ttl: None,
        },
        now,
    )
    .await?;
    Ok(success(&issued, site.as_ref()))
}

/// `issue::issue`, answering in the protocol's words when the grant cannot be written because
/// what it refers to was deleted meanwhile (the client by another request or instance:
/// `invalid_client`; its user or site: `invalid_grant`), never with a server error.
async fn issue_for(
    app: &AppState,
    req: issue::Request<'_>,
    now: gatehouse_core::clock::Timestamp,
) -> Result<issue::Issued, OAuthError> {
    let client = req.client.id;
    match issue::issue(app.store.as_ref(), &app.keys, req, now).await {
        Ok(issued) => Ok(issued),
        Err(StoreError::NotFound) => Err(match app.store.find_client_auth(client).await? {
            None => OAuthError::invalid_client(),
            Some(_) => invalid_grant("The account or site of this authorization no longer exists."),
        }),
        Err(e) => Err(e.into()),
    }
}

fn invalid_grant(d: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_grant", d)
}

/// The site a grant is bound to, for `blog_id`/`blog_url`.
async fn site_of(app: &AppState, site: Option<SiteId>) -> Result<Option<Site>, OAuthError> {
    match site {
        Some(id) => match app.store.get_site(id).await {
            Ok(s) => Ok(Some(s)),
            Err(StoreError::NotFound) => {
                Err(invalid_grant("The site of this grant no longer exists."))
            }
            Err(e) => Err(e.into()),
        },
        None => Ok(None),
    }
}

/// `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): the code is consumed by one
/// conditional statement — a second use fails and revokes everything the first issued — and
/// must belong to this client, be unexpired, come with the same redirect URI as the request
/// that got it, and with the verifier of its PKCE challenge.
async fn authorization_code(
    app: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("The code parameter is missing."))?;
    let now = app.clock.now();
    let hash = app.keys.hash(Purpose::OAuthCode, code);
    let Some(c) = app.store.consume_code(&hash, now).await? else {
        // Used before: someone replayed it. End what the first redemption issued — now, or, if
        // that redemption has not recorded its grant yet, as soon as it does.
        return Err(match app.store.mark_code_replayed(&hash, now).await? {
            Some(Some(g)) => {
                app.store.revoke_grant(g, now).await?;
                invalid_grant("The code was already used; every token issued with it is revoked.")
            }
            Some(None) | None => invalid_grant("The code is invalid, expired or already used."),
        });
    };
    if c.client_id != client.id {
        return Err(invalid_grant("The code was issued to another client."));
    }
    if now >= c.expires_at {
        return Err(invalid_grant("The code is invalid or expired."));
    }
    match (&c.redirect_uri, params.get("redirect_uri")) {
        (Some(sent), given) => {
            let same = given.is_some_and(
                |r| matches!((url::Url::parse(r), url::Url::parse(sent)), (Ok(a), Ok(b)) if a == b),
            );
            if !same {
                return Err(invalid_grant(
                    "redirect_uri must be the one sent to the authorization endpoint.",
                ));
            }
        }
        // Not sent at authorize (the only registered one was used): if sent now, it must be
        // a registered one.
        (None, Some(given)) => {
            if gatehouse_core::oauth2::clients::matching_redirect(&client.redirect_uris, given)
                .is_none()
            {
                return Err(invalid_grant(
                    "redirect_uri is not registered for this client.",
                ));
            }
        }
        (None, None) => {}
    }
    match (&c.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(v)) if pkce::verify(v, challenge) => {}
        (Some(_), Some(v)) if !pkce::verifier_ok(v) => {
            return Err(invalid_grant(
                "The code_verifier is malformed: 43 to 128 characters of A-Z a-z 0-9 - . _ ~.",
            ))
        }
        (Some(_), Some(_)) => return Err(invalid_grant("The code_verifier does not match.")),
        (Some(_), None) => return Err(invalid_grant("The code_verifier is missing.")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "A code_verifier was sent for a code requested without PKCE.",
            ))
        }
        (None, None) => {}
    }
    let user = app.store.get_user(c.user_id).await?;
    if user.disabled {
        return Err(invalid_grant("The account is disabled."));
    }
    let site = site_of(app, c.site_id).await?;
    let issued = issue_for(
        app,
        issue::Request {
            client,
            user: user.id,
            site: c.site_id,
            scope: c.scope.clone(),
            flow: Flow::AuthorizationCode,
            refresh: client.allows(GrantType::RefreshToken),
            access_ttl: None,
        },
        now,
    )
    .await?;
    // Two redemptions raced: the other saw the code used before this grant was recorded.
    if app.store.set_code_grant(&hash, issued.grant.id).await? {
        app.store.revoke_grant(issued.grant.id, now).await?;
        return Err(invalid_grant(
            "The code was used twice; every token issued with it is revoked.",
        ));
    }
    Ok(success(&issued, site.as_ref()))
}

/// Whether `requested` is within `granted` (RFC 6749 §6): each scope granted, or implied by one
/// that was (`posts` → `posts:read`, `sites:write` → `sites:read`); no scope (one whole site)
/// covers the per-site scopes.
fn narrows(granted: Option<&[Scope]>, requested: &[Scope]) -> bool {
    requested.iter().all(|r| match granted {
        None => matches!(r, Scope::Posts | Scope::PostsRead | Scope::Comments),
        Some(g) => {
            g.contains(r)
                || (*r == Scope::PostsRead && g.contains(&Scope::Posts))
                || (*r == Scope::SitesRead && g.contains(&Scope::SitesWrite))
        }
    })
}

/// `refresh_token` (RFC 6749 §6, SPEC §3): rotates. The token must be this client's and live;
/// presenting a rotated one revokes the whole family. A narrower `scope` narrows only the new
/// access token; the new refresh token keeps the grant's scope.
async fn refresh(
    app: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let presented = params
        .get("refresh_token")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("The refresh_token parameter is missing."))?;
    if secrets::parse(presented) != Ok(secrets::TokenKind::RefreshToken) {
        return Err(invalid_grant("The refresh token is invalid."));
    }
    let now = app.clock.now();
    let found =
        gatehouse_core::authn::find_oauth_token(app.store.as_ref(), &app.keys, presented).await?;
    let Some((m, hash)) = found else {
        return Err(invalid_grant("The refresh token is invalid."));
    };
    if m.token.kind != TokenKind::Refresh || m.grant.client_id != client.id {
        return Err(invalid_grant("The refresh token is invalid."));
    }
    if m.token.rotated_at.is_some() {
        app.store.revoke_grant(m.grant.id, now).await?;
        return Err(invalid_grant(
            "The refresh token was already used; every token of this authorization is revoked.",
        ));
    }
    if !gatehouse_core::authn::token_is_live(&m, now) {
        return Err(invalid_grant(
            "The refresh token is invalid, expired or revoked.",
        ));
    }
    let granted = Scope::parse_list([m.grant.scope.as_str()])
        .map_err(|_| invalid_grant("The grant's scope is no longer valid."))?;
    let scope = match params
        .get("scope")
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        None => m.grant.scope.clone(),
        Some(s) => {
            let asked = Scope::parse_list([s]).map_err(|e| OAuthError::new("invalid_scope", e))?;
            let asked = asked.unwrap_or_default();
            if !narrows(granted.as_deref(), &asked) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    "The requested scope is wider than the one granted.",
                ));
            }
            Scope::join(&asked)
        }
    };
    let ttl = client.access_ttl;
    let access = secrets::mint(secrets::TokenKind::AccessToken);
    let next = secrets::mint(secrets::TokenKind::RefreshToken);
    let tokens = [
        NewToken {
            hash: app.keys.hash(Purpose::OAuthToken, access.expose_secret()),
            key_version: app.keys.version,
            kind: TokenKind::Access,
            grant_id: m.grant.id,
            scope: scope.clone(),
            expires_at: (ttl > 0).then_some(now + ttl),
        },
        NewToken {
            hash: app.keys.hash(Purpose::OAuthToken, next.expose_secret()),
            key_version: app.keys.version,
            kind: TokenKind::Refresh,
            grant_id: m.grant.id,
            scope: m.grant.scope.clone(),
            expires_at: Some((now + REFRESH_TTL_SECS).min(m.grant.expires_at)),
        },
    ];
    match app.store.rotate_refresh_token(&hash, &tokens, now).await? {
        Rotation::Rotated { grant, .. } => {
            let site = site_of(app, grant.site_id).await?;
            let issued = issue::Issued {
                access_token: access,
                refresh_token: Some(next),
                expires_in: (ttl > 0).then_some(ttl),
                scope,
                grant,
            };
            Ok(success(&issued, site.as_ref()))
        }
        // Another request rotated it first: a replay, and the family ends.
        Rotation::Replayed { grant } => {
            app.store.revoke_grant(grant, now).await?;
            Err(invalid_grant(
                "The refresh token was already used; every token of this authorization is revoked.",
            ))
        }
        Rotation::Unknown => Err(invalid_grant("The refresh token is invalid.")),
    }
}

/// `password` (RFC 6749 §4.3; opt-in, confidential clients only, SPEC §3): only the client's owner,
/// with their account password or one of their application passwords, counted by the throttle
/// like any password. RFC 9700 §2.4 says not to use it; it exists for a client's owner scripting
/// their own account (WordPress.com's "password grant for the client owner").
async fn password_grant(
    app: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
    addr: std::net::IpAddr,
) -> Result<Response, OAuthError> {
    use gatehouse_core::authn::Refusal;
    let (Some(username), Some(password)) = (
        params.get("username").filter(|u| !u.is_empty()),
        params.get("password").filter(|p| !p.is_empty()),
    ) else {
        return Err(OAuthError::invalid_request(
            "The password grant needs username and password.",
        ));
    };
    let now = app.clock.now();
    let checker = app.checker();
    let wrong = || {
        invalid_grant(
            "The username or password is incorrect, or the account is not this client's owner.",
        )
    };
    let refused = |r: Refusal| match r {
        Refusal::Throttled { retry_after } => OAuthError {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after),
            ..invalid_grant("Too many failed attempts; try again later.")
        },
        Refusal::Busy => OAuthError {
            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(1),
            ..OAuthError::new(
                "temporarily_unavailable",
                "The server is busy checking passwords; try again shortly.",
            )
        },
        Refusal::Store(e) => OAuthError::server_error(e),
        Refusal::Incorrect | Refusal::WrongKind(_) => wrong(),
    };
    // An application password first (one keyed hash), then the account password (Argon2id,
    // under the throttle and the concurrency cap).
    let user = match checker
        .app_password(username, password, now)
        .await
        .map_err(refused)?
    {
        Some(ok) => match ok.principal.user {
            Some(u) => u,
            None => return Err(wrong()),
        },
        // Only the client's owner: another account's right password fails like a wrong one.
        None => app
            .account_password(addr, username, password.clone(), Some(client.owner_id))
            .await
            .map_err(refused)?,
    };
    if user.id != client.owner_id || user.disabled {
        return Err(wrong());
    }
    let scopes = requested_scope(params)?;
    let site = if binds_to_site(scopes.as_deref()) {
        Some(bind_site(app, &user, params.get("blog").map(String::as_str)).await?)
    } else {
        None
    };
    let issued = issue_for(
        app,
        issue::Request {
            client,
            user: user.id,
            site: site.as_ref().map(|s| s.id),
            scope: scopes.as_deref().map(Scope::join).unwrap_or_default(),
            flow: Flow::Password,
            refresh: client.allows(GrantType::RefreshToken),
            access_ttl: None,
        },
        now,
    )
    .await?;
    Ok(success(&issued, site.as_ref()))
}
