//! Gatehouse's own JSON API under `/wp-json/gatehouse/v1/` (SPEC §9): API keys — `GET/POST
//! /api-keys` (`?site=` lists a site's keys for its administrators), `DELETE /api-keys/{id}`. Managing needs a credential a person holds (SPEC §6);
//! nothing created may reach further than its creator: a user key's site must be one the user has
//! a role on, and a site key needs `manage_options` there. The secret is only in the create answer.

use super::{audit, require_manager, Cx};
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::{header, StatusCode};
use gatehouse_core::admin::{self, AdminError};
use gatehouse_core::caps::Cap;
use gatehouse_core::clock::rfc3339;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::model::*;
use gatehouse_core::store::StoreError;
use serde_json::{json, Value};

pub fn key_json(k: &ApiKey) -> Value {
    json!({
        "id": k.id.0,
        "type": k.kind.as_str(),
        "description": k.description,
        "user_id": k.user_id.map(|u| u.0),
        "site_id": k.site_id.map(|s| s.0),
        "scopes": k.scopes.as_ref().map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>()),
        "methods": k.methods,
        "expires": k.expires_at.map(rfc3339),
        "created": rfc3339(k.created_at),
        "last_used": k.last_used_at.map(rfc3339),
        "last_ip": k.last_ip,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found("gatehouse_api_key_not_found", "API key not found.")
}

fn invalid(e: AdminError) -> ApiError {
    match e {
        AdminError::Invalid(m) => ApiError::bad_request("rest_invalid_param", m),
        AdminError::NotFound(m) => {
            ApiError::bad_request("rest_invalid_param", format!("{m} not found"))
        }
        AdminError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "gatehouse_conflict", m),
        AdminError::Store(s) => ApiError::internal(s),
    }
}

/// Whether `me` administers `site` (`manage_options` there, or network admin): such a user sees
/// and revokes every site key of that site, whoever created it.
async fn administers(cx: &Cx<'_>, site: SiteId) -> Result<bool, ApiError> {
    let site = match cx.app.store.get_site(site).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(cx.access(&site).await?.caps.has(Cap::ManageOptions))
}

/// `GET /api-keys`: the caller's own keys; `GET /api-keys?site=SITE`: that site's site keys, for
/// its administrators.
pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?;
    let keys = match cx.params().str("site") {
        None => cx.app.store.list_api_keys(me.id).await?,
        Some(s) => {
            let site = admin::find_site(cx.app.store.as_ref(), &s)
                .await
                .map_err(invalid)?;
            if !administers(cx, site.id).await? {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "gatehouse_cannot_list_keys",
                    "Sorry, only the site's administrators may see its keys.",
                ));
            }
            cx.app.store.list_site_api_keys(site.id).await?
        }
    };
    Ok(Reply::ok(Value::Array(keys.iter().map(key_json).collect())))
}

pub async fn create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let p = cx.params();
    // Every restriction is read strictly: a wrong JSON type is a 400, never a wider key.
    let kind = match p.text("type")?.as_deref() {
        None | Some("user") => ApiKeyKind::User,
        Some("site") => ApiKeyKind::Site,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "type",
                "type is not one of user and site.",
            ))
        }
    };
    let site = match p.text("site")? {
        Some(s) => Some(
            admin::find_site(cx.app.store.as_ref(), &s)
                .await
                .map_err(invalid)?,
        ),
        None => None,
    };
    if let Some(site) = &site {
        // Reach no further than the creator: a role on the site; a site key needs manage_options.
        let access = cx.access(site).await?;
        let allowed = match kind {
            ApiKeyKind::User => me.network_admin || access.role.is_some(),
            ApiKeyKind::Site => access.caps.has(Cap::ManageOptions),
        };
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "gatehouse_cannot_create_key",
                "Sorry, you may not create a key for that site.",
            ));
        }
    }
    let spec = ApiKeySpec {
        kind,
        user: (kind == ApiKeyKind::User).then_some(me.id),
        site: site.as_ref().map(|s| s.id),
        created_by: me.id,
        description: p.text("description")?.unwrap_or_default(),
        scopes: p.text_list("scopes")?.unwrap_or_default(),
        methods: p.text_list("methods")?.unwrap_or_default(),
        expires_in: p.int("expires_in", 1, credentials::MAX_EXPIRES_IN_SECS)?,
    };
    let (key, secret) =
        credentials::create_api_key(cx.app.store.as_ref(), &cx.app.keys, &spec, cx.now)
            .await
            .map_err(invalid)?;
    audit(
        cx,
        "api_key.create",
        &me,
        format!(
            "{} “{}” (#{}) created",
            key.kind.words(),
            key.description,
            key.id.0
        ),
    )
    .await?;
    let mut body = key_json(&key);
    body["key"] = json!(secret.expose_secret());
    Ok(Reply::created(body).header(header::CACHE_CONTROL, "no-store"))
}

pub async fn delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let id = ApiKeyId(id.parse::<i64>().map_err(|_| not_found())?);
    let key = match cx.app.store.get_api_key(id).await {
        Ok(k) => k,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let mine = key.user_id == Some(me.id) || key.created_by == me.id || me.network_admin;
    let site_admin = match (key.kind, key.site_id) {
        (ApiKeyKind::Site, Some(site)) if !mine => administers(cx, site).await?,
        _ => false,
    };
    if !(mine || site_admin) || key.revoked_at.is_some() {
        return Err(not_found());
    }
    if !cx.app.store.revoke_api_key(id, cx.now).await? {
        return Err(not_found());
    }
    let words = format!(
        "{} “{}” (#{}) revoked",
        key.kind.words(),
        key.description,
        id.0
    );
    audit(cx, "api_key.revoke", &me, words).await?;
    Ok(Reply::ok(
        json!({ "deleted": true, "previous": key_json(&key) }),
    ))
}

/// `GET /gatehouse/v1/me/sessions`: the user's live log-in sessions (SPEC §9).
pub async fn sessions_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?;
    let list = cx
        .app
        .store
        .list_sessions(me.id, cx.now, gatehouse_core::sessions::IDLE_SECS)
        .await?;
    let current = match &cx.principal.credential {
        Credential::Session { id, .. } => Some(*id),
        _ => None,
    };
    let body: Vec<Value> = list
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created": rfc3339(s.created_at),
                "last_seen": rfc3339(s.last_seen_at),
                "expires": rfc3339(s.expires_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "current": current == Some(s.id),
            })
        })
        .collect();
    Ok(Reply::ok(Value::Array(body)))
}

/// `DELETE /gatehouse/v1/me/sessions/{id}`: ends one session; the next request with it is anonymous.
pub async fn sessions_delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let not_found = || ApiError::not_found("gatehouse_session_not_found", "Session not found.");
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    if !cx.app.store.revoke_session(me.id, id, cx.now).await? {
        return Err(not_found());
    }
    audit(cx, "session.revoke", &me, format!("ended session #{id}")).await?;
    Ok(Reply::ok(json!({ "deleted": true, "id": id })))
}

/// `GET /gatehouse/v1/audit?limit=`: the audit log — everything for network admins; for anyone
/// else the events they did or that were done to their account (filtered in the query).
pub async fn audit_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?;
    let limit = cx.params().int("limit", 1, 1000)?.unwrap_or(100);
    let involving = (!me.network_admin).then_some(me.id);
    let events = cx.app.store.list_audit(involving, limit).await?;
    let body: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": rfc3339(e.at), "event": e.event, "user_id": e.user_id.map(|u| u.0),
                "login": e.login, "address": e.address, "detail": e.detail,
                "target_user_id": e.target_user_id.map(|u| u.0),
            })
        })
        .collect();
    Ok(Reply::ok(Value::Array(body)))
}

/// `GET /gatehouse/v1/me/grants` (SPEC §9): the OAuth applications the user authorized —
/// OAuth 2.0 grants (numeric ids), then OAuth 1.0a authorizations (ids `oauth1-N`, `client_id`
/// the consumer key, no scope or site), each with its `protocol`.
pub async fn grants_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?;
    let list = cx.app.store.list_user_grants(me.id, cx.now).await?;
    let oauth1 = cx.app.store.list_user_oauth1(me.id).await?;
    let body: Vec<Value> = list
        .iter()
        .map(|(g, name)| {
            json!({
                "id": g.id.0,
                "protocol": "oauth2",
                "client_id": g.client_id.0.to_string(),
                "client_name": name,
                "scope": g.scope,
                "blog_id": g.site_id.map(|s| s.0),
                "created": rfc3339(g.created_at),
                "last_used": g.last_used_at.map(rfc3339),
            })
        })
        .chain(oauth1.iter().map(|a| {
            json!({
                "id": format!("{OAUTH1_ID_PREFIX}{}", a.token.id.0),
                "protocol": "oauth1",
                "client_id": a.consumer.key,
                "client_name": a.consumer.name,
                "scope": "",
                "blog_id": null,
                "created": rfc3339(a.token.created_at),
                "last_used": a.token.last_used_at.map(rfc3339),
            })
        }))
        .collect();
    Ok(Reply::ok(Value::Array(body)))
}

/// How `me/grants` names an OAuth 1.0a authorization (its access token's id after it).
pub const OAUTH1_ID_PREFIX: &str = "oauth1-";

/// `DELETE /gatehouse/v1/me/grants/{id}`: revokes an authorization and every token under it.
pub async fn grants_delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let not_found = || ApiError::not_found("gatehouse_grant_not_found", "Authorization not found.");
    if let Some(n) = id.strip_prefix(OAUTH1_ID_PREFIX) {
        let n = n.parse::<i64>().map_err(|_| not_found())?;
        let token = gatehouse_core::oauth1::Oauth1TokenId(n);
        let live = cx.app.store.list_user_oauth1(me.id).await?;
        let Some(a) = live.iter().find(|a| a.token.id == token) else {
            return Err(not_found());
        };
        if !cx
            .app
            .store
            .revoke_oauth1_token(Some(me.id), token, cx.now)
            .await?
        {
            return Err(not_found());
        }
        audit(
            cx,
            "oauth1_token.revoke",
            &me,
            format!(
                "revoked the access of OAuth 1.0a application “{}”",
                a.consumer.name
            ),
        )
        .await?;
        return Ok(Reply::ok(json!({ "deleted": true, "id": id })));
    }
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    if !cx
        .app
        .store
        .revoke_user_grant(me.id, GrantId(id), cx.now)
        .await?
    {
        return Err(not_found());
    }
    audit(
        cx,
        "oauth2_grant.revoke",
        &me,
        format!("revoked OAuth authorization #{id}"),
    )
    .await?;
    Ok(Reply::ok(json!({ "deleted": true, "id": id })))
}

/// A client as the JSON API shows it (never its secret).
fn client_json(c: &gatehouse_core::oauth2::Client) -> Value {
    json!({
        "client_id": c.client_id(),
        "name": c.name,
        "description": c.description,
        "type": if c.confidential { "confidential" } else { "public" },
        "redirect_uris": c.redirect_uris,
        "grants": c.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_ttl": c.access_ttl,
        "created": rfc3339(c.created_at),
    })
}

/// The caller's own client `id`, or 404.
async fn own_client(
    cx: &Cx<'_>,
    me: &User,
    id: &str,
) -> Result<gatehouse_core::oauth2::Client, ApiError> {
    let not_found = || ApiError::not_found("gatehouse_client_not_found", "Client not found.");
    let id = gatehouse_core::oauth2::parse_client_id(id).ok_or_else(not_found)?;
    match cx.app.store.get_client(id).await {
        Ok(c) if c.owner_id == me.id => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /gatehouse/v1/clients` (SPEC §9): the OAuth 2.0 clients the caller registered.
pub async fn clients_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?;
    let list = cx.app.store.list_clients(Some(me.id)).await?;
    Ok(Reply::ok(Value::Array(
        list.iter().map(client_json).collect(),
    )))
}

/// `POST /gatehouse/v1/clients`: registers a client owned by the caller; a confidential one's
/// `client_secret` is only in this answer.
pub async fn clients_create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let p = cx.params();
    // The implicit grant puts tokens in URLs (RFC 9700 §2.1.2): only an operator grants it
    // (`gatehouse client add --allow-implicit`).
    if p.text_list("grants")?.is_some_and(|g| {
        g.iter()
            .any(|x| x.split([',', ' ']).any(|y| y == "implicit"))
    }) {
        return Err(ApiError::bad_request(
            "rest_invalid_param",
            "The implicit grant is given by an operator (gatehouse client add --allow-implicit), not here.",
        ));
    }
    let spec = gatehouse_core::oauth2::clients::ClientSpec {
        name: p.text("name")?.unwrap_or_default(),
        description: p.text("description")?.unwrap_or_default(),
        public: p.bool("public")?.unwrap_or(false),
        redirect_uris: p.text_list("redirect_uris")?.unwrap_or_default(),
        grants: p.text_list("grants")?.unwrap_or_default(),
        allow_implicit: false,
        token_ttl: p.int("token_ttl", 0, credentials::MAX_EXPIRES_IN_SECS)?,
        // Only an operator marks resource servers (`gatehouse client add --introspect-any`).
        introspect_any: false,
    };
    let (client, secret) = gatehouse_core::oauth2::registry::register(
        cx.app.store.as_ref(),
        &cx.app.keys,
        &spec,
        me.id,
        cx.now,
    )
    .await
    .map_err(invalid)?;
    audit(
        cx,
        "oauth2_client.create",
        &me,
        format!(
            "OAuth application “{}” ({}) registered",
            client.name,
            client.client_id()
        ),
    )
    .await?;
    let mut body = client_json(&client);
    if let Some(s) = secret {
        body["client_secret"] = json!(s.expose_secret());
    }
    Ok(Reply::created(body).header(header::CACHE_CONTROL, "no-store"))
}

/// `POST /gatehouse/v1/clients/{id}/rotate-secret`: a new secret, only in this answer.
pub async fn clients_rotate(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let c = own_client(cx, &me, id).await?;
    let secret =
        gatehouse_core::oauth2::registry::rotate_secret(cx.app.store.as_ref(), &cx.app.keys, c.id)
            .await
            .map_err(invalid)?;
    audit(
        cx,
        "oauth2_client.rotate_secret",
        &me,
        format!("secret of OAuth application “{}” ({id}) rotated", c.name),
    )
    .await?;
    Ok(
        Reply::ok(json!({ "client_secret": secret.expose_secret() }))
            .header(header::CACHE_CONTROL, "no-store"),
    )
}

/// `DELETE /gatehouse/v1/clients/{id}`: the client, its authorizations and every token.
pub async fn clients_delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let me = require_manager(cx)?.clone();
    let c = own_client(cx, &me, id).await?;
    cx.app.store.delete_client(c.id).await?;
    audit(
        cx,
        "oauth2_client.delete",
        &me,
        format!("OAuth application “{}” ({id}) deleted", c.name),
    )
    .await?;
    Ok(Reply::ok(
        json!({ "deleted": true, "previous": client_json(&c) }),
    ))
}
