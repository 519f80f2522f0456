//! `wp/v2/users`, `wp/v2/users/me` and `wp/v2/users/{id}` (SPEC §9). Anonymous visitors see only
//! users with published posts, in the `view` context; `list_users` (site administrators and
//! network admins) sees everyone and may ask for `context=edit`; anyone may see themselves whole.
//! Invariant: only members of the request's site are visible there (404 `rest_user_invalid_id`
//! otherwise, as WordPress multisite answers), except to themselves and network admins.

use super::wp::{allow_header, avatar_urls, sanitize_title};
use super::wp_posts::{context, page_params, parse_id};
use super::{wp_pagination, Cx};
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::StatusCode;
use gatehouse_core::caps::{Cap, Role};
use gatehouse_core::clock::rfc3339;
use gatehouse_core::model::*;
use gatehouse_core::policy::{Action, Area};
use gatehouse_core::store::StoreError;
use serde_json::{json, Map, Value};

fn list_users(cx: &Cx<'_>, access: &SiteAccess) -> bool {
    cx.allow(
        Some(access),
        Action::Use {
            cap: Cap::ListUsers,
            area: Area::Users,
            write: false,
        },
    )
    .is_ok()
}

/// A user in WordPress's shape; `edit` adds the private fields of `context=edit`.
pub fn user_json(site: &Site, u: &User, role: Option<Role>, edit: bool) -> Value {
    let slug = sanitize_title(&u.login);
    let mut v = json!({
        "id": u.id.0,
        "name": u.display_name,
        "url": "",
        "description": "",
        "link": format!("{}/author/{slug}/", site.url),
        "slug": slug,
        "avatar_urls": avatar_urls(&u.email),
        "meta": [],
        "_links": {
            "self": [{ "href": format!("{}/wp-json/wp/v2/users/{}", site.url, u.id.0) }],
            "collection": [{ "href": format!("{}/wp-json/wp/v2/users", site.url) }],
        },
    });
    if edit {
        let caps = match (u.network_admin, role) {
            (true, _) => gatehouse_core::caps::Caps::all(),
            (false, Some(r)) => r.caps(),
            (false, None) => gatehouse_core::caps::Caps::NONE,
        };
        let mut cap_map = Map::new();
        for name in caps.names() {
            cap_map.insert(name.into(), Value::Bool(true));
        }
        let mut extra = Map::new();
        if let Some(r) = role {
            cap_map.insert(r.as_str().into(), Value::Bool(true));
            extra.insert(r.as_str().into(), Value::Bool(true));
        }
        v["username"] = json!(u.login);
        v["email"] = json!(u.email);
        v["first_name"] = json!("");
        v["last_name"] = json!("");
        v["nickname"] = json!(u.login);
        v["locale"] = json!("en_US");
        v["registered_date"] = json!(rfc3339(u.created_at));
        v["roles"] = json!(role.map(|r| vec![r.as_str()]).unwrap_or_default());
        v["capabilities"] = Value::Object(cap_map);
        v["extra_capabilities"] = Value::Object(extra);
        v["is_super_admin"] = json!(u.network_admin);
    }
    v
}

pub async fn me(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let site = cx.site()?;
    cx.require(
        None,
        Action::ReadSelf,
        "rest_not_logged_in",
        "You are not currently logged in.",
    )?;
    let Some(user) = cx.principal.user.as_ref() else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "rest_not_logged_in",
            "You are not currently logged in.",
        ));
    };
    let edit = context(cx)?;
    // The role is shown only in the edit context; the view context needs no further query, and
    // its body — the same for every request of this user on this site — is serialised once and
    // kept by the read cache (dropped with it when the user or the site changes).
    if edit {
        let role = cx.access(site).await?.role;
        return Ok(allow_header(
            Reply::ok(user_json(site, user, role, true)),
            &["GET"],
        ));
    }
    // Everything the view-context body is made from.
    let made_from =
        crate::cache::fingerprint(&[&site.url, &user.login, &user.email, &user.display_name]);
    let key = ("wp/v2/users/me", site.id.0, user.id.0);
    let body = cx.app.cache.body(key, made_from, cx.now, || {
        bytes::Bytes::from(user_json(site, user, None, false).to_string())
    });
    let body = body.await?;
    Ok(allow_header(Reply::ok_serialized(body), &["GET"]))
}

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let (site, access) = cx
        .readable_site(
            Area::Users,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        )
        .await?;
    let page = page_params(cx, 10)?;
    let can_list = list_users(cx, &access);
    let edit = context(cx)?;
    if edit && !can_list {
        return Err(super::deny(
            cx.allow(
                Some(&access),
                Action::Use {
                    cap: Cap::ListUsers,
                    area: Area::Users,
                    write: false,
                },
            )
            .err()
            .unwrap_or(gatehouse_core::policy::Denial::Forbidden),
            "rest_forbidden_context",
            "Sorry, you are not allowed to list users.",
        ));
    }
    let (users, total) = cx
        .app
        .store
        .list_site_users(site.id, !can_list, page.offset(), page.per_page)
        .await?;
    page.check_within(total, "rest_user_invalid_page_number")?;
    let body: Vec<Value> = users
        .iter()
        .map(|(u, r)| user_json(site, u, Some(*r), edit))
        .collect();
    let reply = allow_header(Reply::ok(Value::Array(body)), &["GET"]);
    Ok(wp_pagination(
        reply,
        cx,
        &format!("{}/wp-json/wp/v2/users", site.url),
        &page,
        total,
    ))
}

pub async fn get(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let id = UserId(parse_id(id)?);
    let (site, access) = cx
        .readable_site(
            Area::Users,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        )
        .await?;
    let invalid = || ApiError::not_found("rest_user_invalid_id", "Invalid user ID.");
    let user = match cx.app.store.get_user(id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    let role = cx.app.store.find_role(site.id, id).await?;
    let is_self = cx.principal.user_id() == Some(id);
    let network_admin = cx.principal.user.as_ref().is_some_and(|u| u.network_admin);
    // WordPress multisite: a user who is not a member of this site does not exist here, except
    // to themselves and to network admins (never a site administrator of another site).
    if role.is_none() && !is_self && !network_admin {
        return Err(invalid());
    }
    let can_list = list_users(cx, &access);
    if !is_self && !can_list {
        // Visible only as the author of a published post here.
        let filter = PostFilter {
            statuses: vec![PostStatus::Publish],
            search: None,
            author: Some(id),
            nonpublic_only_by: None,
            offset: 0,
            limit: 1,
            order_asc: false,
        };
        let (_, published) = cx.app.store.list_posts(site.id, &filter).await?;
        if published == 0 {
            let code_status = if cx.principal.is_anonymous() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            return Err(ApiError::new(
                code_status,
                "rest_user_cannot_view",
                "Sorry, you are not allowed to list users.",
            ));
        }
    }
    let edit = context(cx)?;
    if edit && !is_self && !can_list {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_forbidden_context",
            "Sorry, you are not allowed to list users.",
        ));
    }
    Ok(allow_header(
        Reply::ok(user_json(site, &user, role, edit)),
        &["GET"],
    ))
}
