//! The hosting API dialect (`/v1/`), modelled on the WP Engine Customer API (seeds 000, 001):
//! `GET /v1/user`; `GET/POST /v1/sites` with `previous/next/count/results` paging; `GET/PATCH/
//! DELETE /v1/sites/{id}`. Every route needs a credential; ids are strings; errors are
//! `{"error","message"}`. Site creation follows the operator's `site_creation` policy (SPEC §9).

use super::{deny, Cx};
use crate::config::SiteCreation;
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::{header, StatusCode};
use gatehouse_core::admin::{self, AdminError};
use gatehouse_core::caps::Cap;
use gatehouse_core::model::*;
use gatehouse_core::policy::Action;
use serde_json::{json, Value};

pub async fn dispatch(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let (method, segs) = cx.inc.routing();
    match (method, segs.as_slice()) {
        ("GET", ["user"]) => user(cx).await,
        ("GET", ["sites"]) => sites_list(cx).await,
        ("POST", ["sites"]) => sites_create(cx).await,
        ("GET", ["sites", id]) => site_get(cx, id).await,
        ("PATCH", ["sites", id]) => site_patch(cx, id).await,
        ("DELETE", ["sites", id]) => site_delete(cx, id).await,
        (_, ["user"]) => Err(not_allowed("GET")),
        (_, ["sites"]) => Err(not_allowed("GET, POST")),
        (_, ["sites", _]) => Err(not_allowed("GET, PATCH, DELETE")),
        _ => Err(ApiError::not_found("rest_no_route", "No such endpoint.")),
    }
}

fn not_allowed(allow: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("Allowed methods: {allow}."),
    )
}

fn site_json(s: &Site) -> Value {
    json!({
        "id": s.id.0.to_string(),
        "name": s.name,
        "url": s.url,
        "account": { "id": s.owner_id.0.to_string() },
        "tags": [],
        "require_auth": s.require_auth,
        "created_at": gatehouse_core::clock::rfc3339(s.created_at),
    })
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::Invalid(m) => ApiError::bad_request("invalid_request", m),
        AdminError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        AdminError::NotFound(m) => ApiError::not_found("not_found", format!("{m} not found")),
        AdminError::Store(s) => ApiError::internal(s),
    }
}

async fn user(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    cx.require(
        None,
        Action::ReadSelf,
        "not_logged_in",
        "Authentication is required.",
    )?;
    let Some(u) = cx.principal.user.as_ref() else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not_logged_in",
            "Authentication is required.",
        ));
    };
    let (first, last) = match u.display_name.split_once(' ') {
        Some((f, l)) => (f.to_string(), l.to_string()),
        None => (u.display_name.clone(), String::new()),
    };
    Ok(Reply::ok(json!({
        "id": u.id.0.to_string(),
        "login": u.login,
        "first_name": first,
        "last_name": last,
        "display_name": u.display_name,
        "email": u.email,
        "phone_number": null,
        "network_admin": u.network_admin,
    })))
}

async fn sites_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    cx.require(
        None,
        Action::Sites { write: false },
        "not_logged_in",
        "Authentication is required.",
    )?;
    let p = cx.params();
    let limit = p.int("limit", 1, 100)?.unwrap_or(100);
    let offset = p.int("offset", 0, i64::MAX / 2)?.unwrap_or(0);
    let who = match &cx.principal.user {
        Some(u) if u.network_admin => None,
        Some(u) => Some(u.id),
        None => {
            return Err(deny(
                gatehouse_core::policy::Denial::NotLoggedIn,
                "not_logged_in",
                "Authentication is required.",
            ))
        }
    };
    let base = cx.base;
    let answer = |sites: &[Site], count: i64| {
        let link = |o: i64| format!("{base}/v1/sites?limit={limit}&offset={o}");
        let next = (offset + limit < count).then(|| link(offset + limit));
        let previous = (offset > 0).then(|| link((offset - limit).max(0)));
        json!({
            "previous": previous,
            "next": next,
            "count": count,
            "results": sites.iter().map(site_json).collect::<Vec<_>>(),
        })
    };
    // A credential limited to one site lists that site only (if its user may see it).
    if let Some(only) = cx.principal.constraints.site {
        let visible = match visible_site(cx, &only.0.to_string()).await {
            Ok((site, _)) => vec![site],
            Err(e) if e.status == StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e),
        };
        let count = visible.len() as i64;
        let shown: Vec<Site> = visible.into_iter().skip(offset as usize).collect();
        return Ok(Reply::ok(answer(&shown, count)));
    }
    // Made from sites and memberships only: kept until one of them changes.
    let key = format!("{:?}", (who, offset, limit, base));
    let kept = cx.app.cache.page(("v1/sites", key), false, cx.now, async {
        let (sites, count) = cx.app.store.list_sites(who, offset, limit).await?;
        Ok(crate::cache::Kept {
            body: answer(&sites, count).to_string().into(),
            total: count,
        })
    });
    Ok(Reply::ok_serialized(kept.await?.body))
}

/// Loads a site the principal may see (member or network admin); others get 404, not 403,
/// so ids of other people's sites are not confirmed.
async fn visible_site(cx: &Cx<'_>, id: &str) -> Result<(Site, SiteAccess), ApiError> {
    let not_found = || ApiError::not_found("not_found", "Site not found.");
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let store = cx.app.store.as_ref();
    let Some(site) = cx.app.cache.site_by_id(store, SiteId(id), cx.now).await? else {
        return Err(not_found());
    };
    let access = cx.access(&site).await?;
    let member =
        cx.principal.user.as_ref().is_some_and(|u| u.network_admin) || access.role.is_some();
    if !member {
        return Err(not_found());
    }
    Ok((site, access))
}

async fn site_get(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    cx.require(
        None,
        Action::Sites { write: false },
        "not_logged_in",
        "Authentication is required.",
    )?;
    let (site, access) = visible_site(cx, id).await?;
    cx.require(
        Some(&access),
        Action::Sites { write: false },
        "forbidden",
        "You may not see this site.",
    )?;
    Ok(Reply::ok(site_json(&site)))
}

async fn manageable_site(cx: &Cx<'_>, id: &str) -> Result<Site, ApiError> {
    cx.require(
        None,
        Action::Sites { write: true },
        "not_logged_in",
        "Authentication is required.",
    )?;
    let (site, access) = visible_site(cx, id).await?;
    cx.require(
        Some(&access),
        Action::Sites { write: true },
        "forbidden",
        "You may not change this site.",
    )?;
    if !access.caps.has(Cap::ManageOptions) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the site's administrators may change it.",
        ));
    }
    Ok(site)
}

async fn site_patch(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let site = manageable_site(cx, id).await?;
    let p = cx.params();
    let name = p.str("name");
    let url = p.str("url");
    let require_auth = p.bool("require_auth")?;
    if name.is_none() && url.is_none() && require_auth.is_none() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Send at least one of name, url, require_auth.",
        ));
    }
    // A site's URL decides which host name selects it and which origin gets credentialed CORS
    // (SPEC §1, §9): changing it is for network admins, not for the site's own administrators.
    let network_admin = cx.principal.user.as_ref().is_some_and(|u| u.network_admin);
    if url.is_some() && !network_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only network administrators may change a site's URL.",
        ));
    }
    let patch =
        admin::site_patch(name.as_deref(), url.as_deref(), require_auth).map_err(admin_error)?;
    let updated = admin::update_site(cx.app.store.as_ref(), site.id, &patch)
        .await
        .map_err(admin_error)?;
    Ok(Reply::ok(site_json(&updated)))
}

async fn site_delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let site = manageable_site(cx, id).await?;
    cx.app.store.delete_site(site.id).await?;
    Ok(Reply::ok(Value::Null).status(StatusCode::NO_CONTENT))
}

async fn sites_create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    cx.require(
        None,
        Action::Sites { write: true },
        "not_logged_in",
        "Authentication is required.",
    )?;
    let Some(user) = cx.principal.user.as_ref() else {
        return Err(deny(
            gatehouse_core::policy::Denial::NotLoggedIn,
            "not_logged_in",
            "Authentication is required.",
        ));
    };
    if cx.principal.constraints.site.is_some() {
        return Err(deny(
            gatehouse_core::policy::Denial::OutsideConstraints,
            "forbidden",
            "A credential limited to one site cannot create sites.",
        ));
    }
    if !user.network_admin && cx.app.settings.site_creation != SiteCreation::AnyUser {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only network administrators may create sites on this server.",
        ));
    }
    let p = cx.params();
    let (Some(name), Some(url)) = (p.str("name"), p.str("url")) else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Both name and url are required.",
        ));
    };
    let site = admin::add_site(cx.app.store.as_ref(), &name, &url, user.id, cx.now)
        .await
        .map_err(admin_error)?;
    let location = format!("{}/v1/sites/{}", cx.base, site.id.0);
    Ok(Reply::created(site_json(&site)).header(header::LOCATION, &location))
}
