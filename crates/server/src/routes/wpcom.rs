//! The WordPress.com REST dialect (`/rest/v1/`, `/rest/v1.1/`), modelled on WordPress.com's public
//! API (seed 003): `me`, `sites/{site}` by id or domain, `sites/{site}/posts/` (list, get) and
//! `posts/new`. Integer ids; errors are `{"error","message"}` with WordPress.com's codes
//! (`unknown_blog`, `unknown_post`, `unauthorized`, `authorization_required`). SPEC §9.

use super::wp::{rendered, rendered_inline};
use super::wp_posts::parse_id;
use super::Cx;
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::StatusCode;
use gatehouse_core::caps::Cap;
use gatehouse_core::clock::rfc3339;
use gatehouse_core::model::*;
use gatehouse_core::policy::{Action, Area};
use gatehouse_core::posts::{read_caps, status_needs_publish};
use gatehouse_core::store::StoreError;
use serde_json::{json, Value};
use std::collections::HashMap;

pub async fn dispatch(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let (method, segs) = cx.inc.routing();
    match (method, segs.as_slice()) {
        ("GET", ["me"]) => me(cx).await,
        ("GET", ["sites", site]) => site_get(cx, site).await,
        ("GET", ["sites", site, "posts"]) => posts_list(cx, site).await,
        ("POST", ["sites", site, "posts", "new"]) => posts_new(cx, site).await,
        ("GET", ["sites", site, "posts", id]) => post_get(cx, site, id).await,
        _ => Err(
            ApiError::not_found("rest_no_route", "The requested endpoint does not exist.")
                .alt("unknown_endpoint"),
        ),
    }
}

fn unknown_blog() -> ApiError {
    ApiError::not_found("unknown_blog", "Unknown blog").alt("unknown_blog")
}

fn wpcom_use(cap: Cap, write: bool) -> Action {
    Action::Use {
        cap,
        area: Area::Posts,
        write,
    }
}

async fn me(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    const MSG: &str =
        "An active access token must be used to query information about the current user.";
    cx.require(None, Action::ReadSelf, "authorization_required", MSG)?;
    let Some(u) = cx.principal.user.as_ref() else {
        return Err(
            ApiError::new(StatusCode::UNAUTHORIZED, "authorization_required", MSG)
                .alt("authorization_required"),
        );
    };
    let (sites, count) = cx.app.store.list_sites(Some(u.id), 0, 1).await?;
    let primary = sites.first();
    let c = &cx.principal.constraints;
    let scope: Value = match &c.scopes {
        None => json!(["global"]),
        Some(s) => json!(s.iter().map(|x| x.as_str().to_string()).collect::<Vec<_>>()),
    };
    Ok(Reply::ok(json!({
        "ID": u.id.0,
        "display_name": u.display_name,
        "username": u.login,
        "email": u.email,
        "primary_blog": primary.map(|s| s.id.0),
        "primary_blog_url": primary.map(|s| s.url.clone()),
        "token_site_id": c.site.map(|s| Value::from(s.0)).unwrap_or(Value::Bool(false)),
        "token_scope": scope,
        "avatar_URL": super::wp::avatar_urls(&u.email)["96"],
        "profile_URL": "",
        "site_count": count,
        "verified": true,
        "email_verified": true,
        "date": rfc3339(u.created_at),
    })))
}

async fn find_site(cx: &Cx<'_>, site: &str) -> Result<Site, ApiError> {
    let decoded = percent_encoding::percent_decode_str(site)
        .decode_utf8_lossy()
        .to_string();
    let found = if let Ok(id) = decoded.parse::<i64>() {
        match cx.app.store.get_site(SiteId(id)).await {
            Ok(s) => Some(s),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        let host = decoded
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        cx.app.store.find_site_by_host(&host).await?
    };
    found.ok_or_else(unknown_blog)
}

/// A site the principal may read, with their standing on it.
async fn readable_site(cx: &Cx<'_>, site: &str) -> Result<(Site, SiteAccess), ApiError> {
    let site = find_site(cx, site).await?;
    let access = cx.access(&site).await?;
    cx.require(
        Some(&access),
        Action::ReadPublic(Area::Posts),
        "unauthorized",
        "User cannot access this private blog.",
    )?;
    Ok((site, access))
}

fn site_json(s: &Site) -> Value {
    json!({
        "ID": s.id.0,
        "name": s.name,
        "description": "",
        "URL": s.url,
        "jetpack": false,
        "visible": true,
        "is_private": s.require_auth,
        "lang": "en",
        "options": { "timezone": "UTC", "gmt_offset": 0 },
        "meta": { "links": {
            "self": format!("{}/rest/v1/sites/{}", s.url, s.id.0),
            "posts": format!("{}/rest/v1/sites/{}/posts/", s.url, s.id.0),
        }},
    })
}

async fn site_get(cx: &Cx<'_>, site: &str) -> Result<Reply, ApiError> {
    let (site, _) = readable_site(cx, site).await?;
    Ok(Reply::ok(site_json(&site)))
}

async fn author_json(
    cx: &Cx<'_>,
    cache: &mut HashMap<i64, Value>,
    id: UserId,
) -> Result<Value, ApiError> {
    if let Some(v) = cache.get(&id.0) {
        return Ok(v.clone());
    }
    let v = match cx.app.store.get_user(id).await {
        Ok(u) => json!({
            "ID": u.id.0,
            "login": u.login,
            "name": u.display_name,
            "email": false,
            "avatar_URL": super::wp::avatar_urls(&u.email)["96"],
            "profile_URL": "",
        }),
        Err(StoreError::NotFound) => json!({ "ID": id.0, "login": "", "name": "", "email": false }),
        Err(e) => return Err(e.into()),
    };
    cache.insert(id.0, v.clone());
    Ok(v)
}

fn post_json(site: &Site, p: &Post, author: Value) -> Value {
    let url = if p.status == PostStatus::Publish && !p.slug.is_empty() {
        format!("{}/{}/", site.url, p.slug)
    } else {
        format!("{}/?p={}", site.url, p.id.0)
    };
    json!({
        "ID": p.id.0,
        "site_ID": site.id.0,
        "author": author,
        "date": rfc3339(p.created_at),
        "modified": rfc3339(p.modified_at),
        "title": rendered_inline(&p.title, p.unfiltered),
        "URL": url,
        "short_URL": format!("{}/?p={}", site.url, p.id.0),
        "content": rendered(&p.content, p.unfiltered),
        "excerpt": rendered(&p.excerpt, p.unfiltered),
        "slug": p.slug,
        "guid": format!("{}/?p={}", site.url, p.id.0),
        "status": p.status.as_str(),
        "sticky": false,
        "password": "",
        "parent": false,
        "type": "post",
        "format": "standard",
        "discussion": {
            "comments_open": p.comments_open,
            "comment_status": if p.comments_open { "open" } else { "closed" },
        },
    })
}

async fn posts_list(cx: &Cx<'_>, site: &str) -> Result<Reply, ApiError> {
    let (site, access) = readable_site(cx, site).await?;
    let p = cx.params();
    let number = p.int("number", 1, 100)?.unwrap_or(20);
    let offset = match p.int("page", 1, i64::MAX / 1000)? {
        Some(page) => (page - 1) * number,
        None => p.int("offset", 0, i64::MAX / 2)?.unwrap_or(0),
    };
    let statuses: Vec<PostStatus> =
        match p.list("status") {
            None => vec![PostStatus::Publish],
            Some(list) => {
                let mut out = Vec::new();
                for s in list {
                    if s == "any" {
                        out.extend(PostStatus::ALL.iter().filter(|s| **s != PostStatus::Trash));
                    } else {
                        out.push(PostStatus::parse(&s).ok_or_else(|| {
                            ApiError::invalid_param("status", "unknown post status")
                        })?);
                    }
                }
                out
            }
        };
    let mut nonpublic_only_by = None;
    if statuses.iter().any(|s| *s != PostStatus::Publish) {
        cx.require(
            Some(&access),
            wpcom_use(Cap::EditPosts, false),
            "unauthorized",
            "User cannot view unpublished posts.",
        )?;
        if cx
            .allow(Some(&access), wpcom_use(Cap::EditOthersPosts, false))
            .is_err()
        {
            nonpublic_only_by = cx.principal.user_id();
        }
    }
    let order_asc = matches!(
        p.str("order")
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("ASC")
    );
    let filter = PostFilter {
        statuses,
        search: p.str("search").filter(|s| !s.trim().is_empty()),
        author: p.int("author", 1, i64::MAX)?.map(UserId),
        nonpublic_only_by,
        offset,
        limit: number,
        order_asc,
    };
    let (posts, found) = cx.app.store.list_posts(site.id, &filter).await?;
    let mut cache = HashMap::new();
    let mut out = Vec::with_capacity(posts.len());
    for post in &posts {
        let author = author_json(cx, &mut cache, post.author_id).await?;
        out.push(post_json(&site, post, author));
    }
    Ok(Reply::ok(json!({ "found": found, "posts": out })))
}

async fn post_get(cx: &Cx<'_>, site: &str, id: &str) -> Result<Reply, ApiError> {
    let (site, access) = readable_site(cx, site).await?;
    let unknown = || ApiError::not_found("unknown_post", "Unknown post").alt("unknown_post");
    let id = parse_id(id).map_err(|_| unknown())?;
    let post = match cx.app.store.get_post(site.id, PostId(id)).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(unknown()),
        Err(e) => return Err(e.into()),
    };
    if let Some(caps) = read_caps(post.author_id, post.status, cx.principal.user_id()) {
        for cap in caps {
            cx.require(
                Some(&access),
                wpcom_use(cap, false),
                "unauthorized",
                "User cannot view this post.",
            )?;
        }
    }
    let author = author_json(cx, &mut HashMap::new(), post.author_id).await?;
    Ok(Reply::ok(post_json(&site, &post, author)))
}

async fn posts_new(cx: &Cx<'_>, site: &str) -> Result<Reply, ApiError> {
    let (site, access) = readable_site(cx, site).await?;
    const MSG: &str = "User cannot publish posts";
    cx.require(
        Some(&access),
        wpcom_use(Cap::EditPosts, true),
        "unauthorized",
        MSG,
    )?;
    let Some(user) = cx.principal.user_id() else {
        return Err(super::deny(
            gatehouse_core::policy::Denial::NotLoggedIn,
            "unauthorized",
            MSG,
        ));
    };
    let p = cx.params();
    let status = match p.str("status") {
        None => PostStatus::Publish,
        Some(s) => match PostStatus::parse(&s) {
            Some(st) if st != PostStatus::Trash => st,
            _ => return Err(ApiError::invalid_param("status", "unknown post status")),
        },
    };
    if status_needs_publish(status) {
        cx.require(
            Some(&access),
            wpcom_use(Cap::PublishPosts, true),
            "unauthorized",
            MSG,
        )?;
    }
    let title = p.str("title").unwrap_or_default();
    let slug = match p.str("slug") {
        Some(s) => super::wp::sanitize_title(&s),
        None => super::wp::sanitize_title(&title),
    };
    let new = NewPost {
        site_id: site.id,
        author_id: user,
        title,
        content: p.str("content").unwrap_or_default(),
        excerpt: p.str("excerpt").unwrap_or_default(),
        slug,
        status,
        comments_open: p.bool("comments_open")?.unwrap_or(true),
        unfiltered: access.caps.has(Cap::UnfilteredHtml),
    };
    let post = cx.app.store.insert_post(&new, cx.now).await?;
    let author = author_json(cx, &mut HashMap::new(), post.author_id).await?;
    Ok(Reply::ok(post_json(&site, &post, author)))
}
