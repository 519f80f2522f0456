//! `wp/v2/posts` and `wp/v2/comments` with WordPress's capability rules (SPEC §9): list with
//! `page`, `per_page` ≤ 100, `status`, `search`, `author`, `order`, `context`; get; create; update
//! by POST/PUT/PATCH; delete to the trash or with `force=true`; comments list and create.
//! Every decision goes through `Cx::require` (→ `policy::allow`) with the capabilities
//! `core::posts` names; the codes and messages are WordPress's.

use super::wp::{allow_header, avatar_urls, rendered, rendered_inline, sanitize_title};
use super::{wp_pagination, Cx, Page};
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::{header, StatusCode};
use gatehouse_core::caps::Cap;
use gatehouse_core::clock::wp_date;
use gatehouse_core::model::*;
use gatehouse_core::policy::{Action, Area};
use gatehouse_core::posts::{delete_caps, edit_caps, read_caps, status_needs_publish};
use gatehouse_core::store::StoreError;
use serde_json::{json, Value};

const FORBIDDEN: &str = "Sorry, you are not allowed to do that.";

fn use_cap(cap: Cap, write: bool) -> Action {
    Action::Use {
        cap,
        area: Area::Posts,
        write,
    }
}

/// Requires every capability in `caps`.
fn require_caps(
    cx: &Cx<'_>,
    access: &SiteAccess,
    caps: &[Cap],
    write: bool,
    code: &'static str,
    message: &'static str,
) -> Result<(), ApiError> {
    for cap in caps {
        cx.require(Some(access), use_cap(*cap, write), code, message)?;
    }
    Ok(())
}

fn can(cx: &Cx<'_>, access: &SiteAccess, caps: &[Cap], write: bool) -> bool {
    caps.iter()
        .all(|c| cx.allow(Some(access), use_cap(*c, write)).is_ok())
}

pub fn parse_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::not_found(
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    })
}

async fn load(cx: &Cx<'_>, site: &Site, id: &str) -> Result<Post, ApiError> {
    let id = parse_id(id)?;
    match cx.app.store.get_post(site.id, PostId(id)).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound) => {
            Err(ApiError::not_found("rest_post_invalid_id", "Invalid post ID.").alt("unknown_post"))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn page_params(cx: &Cx<'_>, default_per_page: i64) -> Result<Page, ApiError> {
    let p = cx.params();
    Ok(Page {
        page: p.int("page", 1, i64::MAX / 1000)?.unwrap_or(1),
        per_page: p.int("per_page", 1, 100)?.unwrap_or(default_per_page),
    })
}

/// WordPress's `context` parameter: true for `edit`, false for `view`/`embed`.
pub fn context(cx: &Cx<'_>) -> Result<bool, ApiError> {
    match cx.params().str("context").as_deref() {
        None | Some("view") | Some("embed") => Ok(false),
        Some("edit") => Ok(true),
        Some(_) => Err(ApiError::invalid_param(
            "context",
            "context is not one of view, embed, and edit.",
        )),
    }
}

fn excerpt_of(post: &Post) -> String {
    if !post.excerpt.is_empty() {
        return format!("<p>{}</p>\n", post.excerpt);
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in post.content.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return String::new();
    }
    let more = if words.len() > 55 { " [&hellip;]" } else { "" };
    format!("<p>{}{more}</p>\n", words[..words.len().min(55)].join(" "))
}

/// A post in WordPress's shape; `edit` adds the raw fields of `context=edit`.
pub fn post_json(site: &Site, p: &Post, edit: bool) -> Value {
    let base = &site.url;
    let link = if p.status == PostStatus::Publish && !p.slug.is_empty() {
        format!("{base}/{}/", p.slug)
    } else {
        format!("{base}/?p={}", p.id.0)
    };
    let guid = format!("{base}/?p={}", p.id.0);
    let mut v = json!({
        "id": p.id.0,
        "date": wp_date(p.created_at),
        "date_gmt": wp_date(p.created_at),
        "guid": { "rendered": guid },
        "modified": wp_date(p.modified_at),
        "modified_gmt": wp_date(p.modified_at),
        "slug": p.slug,
        "status": p.status.as_str(),
        "type": "post",
        "link": link,
        "title": { "rendered": rendered_inline(&p.title, p.unfiltered) },
        "content": { "rendered": rendered(&p.content, p.unfiltered), "protected": false },
        "excerpt": { "rendered": rendered(&excerpt_of(p), p.unfiltered), "protected": false },
        "author": p.author_id.0,
        "featured_media": 0,
        "comment_status": if p.comments_open { "open" } else { "closed" },
        "ping_status": "closed",
        "sticky": false,
        "template": "",
        "format": "standard",
        "meta": [],
        "categories": [],
        "tags": [],
        "_links": {
            "self": [{ "href": format!("{base}/wp-json/wp/v2/posts/{}", p.id.0) }],
            "collection": [{ "href": format!("{base}/wp-json/wp/v2/posts") }],
            "author": [{ "embeddable": true, "href": format!("{base}/wp-json/wp/v2/users/{}", p.author_id.0) }],
            "replies": [{ "embeddable": true, "href": format!("{base}/wp-json/wp/v2/comments?post={}", p.id.0) }],
        },
    });
    if edit {
        v["guid"]["raw"] = json!(guid);
        v["title"]["raw"] = json!(p.title);
        v["content"]["raw"] = json!(p.content);
        v["content"]["block_version"] = json!(0);
        v["excerpt"]["raw"] = json!(p.excerpt);
        v["password"] = json!("");
    }
    v
}

fn parse_statuses(cx: &Cx<'_>) -> Result<Vec<PostStatus>, ApiError> {
    let Some(list) = cx.params().list("status") else {
        return Ok(vec![PostStatus::Publish]);
    };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if s == "any" {
            out.extend(PostStatus::ALL.iter().filter(|s| **s != PostStatus::Trash));
            continue;
        }
        match PostStatus::parse(s) {
            Some(st) => out.push(st),
            None => {
                return Err(ApiError::invalid_param(
                    "status",
                    format!("status[{i}] is not one of publish, future, draft, pending, private, trash, and any."),
                ))
            }
        }
    }
    if out.is_empty() {
        out.push(PostStatus::Publish);
    }
    out.dedup();
    Ok(out)
}

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let (site, access) = cx
        .readable_site(Area::Posts, "rest_forbidden", FORBIDDEN)
        .await?;
    let page = page_params(cx, 10)?;
    let edit = context(cx)?;
    let statuses = parse_statuses(cx)?;
    let user = cx.principal.user_id();
    let mut nonpublic_only_by = None;
    if statuses.iter().any(|s| *s != PostStatus::Publish) {
        require_caps(
            cx,
            &access,
            &[Cap::EditPosts],
            false,
            "rest_forbidden_status",
            "Status is forbidden.",
        )?;
        if !can(cx, &access, &[Cap::EditOthersPosts], false) {
            nonpublic_only_by = user;
        }
    }
    if edit {
        require_caps(
            cx,
            &access,
            &[Cap::EditPosts],
            false,
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit posts in this post type.",
        )?;
    }
    let order_asc = match cx.params().str("order").as_deref() {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "order",
                "order is not one of asc and desc.",
            ))
        }
    };
    let author = cx.params().int("author", 1, i64::MAX)?.map(UserId);
    let search = cx.params().str("search").filter(|s| !s.trim().is_empty());
    let filter = PostFilter {
        statuses,
        search,
        author,
        nonpublic_only_by,
        offset: page.offset(),
        limit: page.per_page,
        order_asc,
    };
    // Who may see what was decided above, for this request; the answer for this site, filter
    // and context is kept until a post, a comment or the site changes.
    let key = format!("{:?}", (site.id, &site.url, &filter, edit));
    let kept = cx
        .app
        .cache
        .page(("wp/v2/posts", key), true, cx.now, async {
            let (posts, total) = cx.app.store.list_posts(site.id, &filter).await?;
            let body: Vec<Value> = posts.iter().map(|p| post_json(site, p, edit)).collect();
            let body = serde_json::to_vec(&body).unwrap_or_default();
            Ok(crate::cache::Kept {
                body: body.into(),
                total,
            })
        });
    let crate::cache::Kept { body, total } = kept.await?;
    page.check_within(total, "rest_post_invalid_page_number")?;
    let mut methods = vec!["GET"];
    if can(cx, &access, &[Cap::EditPosts], true) {
        methods.push("POST");
    }
    let reply = allow_header(Reply::ok_serialized(body), &methods);
    Ok(wp_pagination(
        reply,
        cx,
        &format!("{}/wp-json/wp/v2/posts", site.url),
        &page,
        total,
    ))
}

fn item_methods(cx: &Cx<'_>, access: &SiteAccess, post: &Post) -> Vec<&'static str> {
    let user = cx.principal.user_id();
    let mut methods = vec!["GET"];
    if can(
        cx,
        access,
        &edit_caps(post.author_id, post.status, user),
        true,
    ) {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if can(
        cx,
        access,
        &delete_caps(post.author_id, post.status, user),
        true,
    ) {
        methods.push("DELETE");
    }
    methods
}

pub async fn get(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    // May the caller read this site at all? Asked before the post is looked up, so a private
    // site does not tell strangers which post ids exist (the same in update and delete).
    let (site, access) = cx
        .readable_site(Area::Posts, "rest_forbidden", FORBIDDEN)
        .await?;
    let post = load(cx, site, id).await?;
    let user = cx.principal.user_id();
    if let Some(caps) = read_caps(post.author_id, post.status, user) {
        require_caps(cx, &access, &caps, false, "rest_forbidden", FORBIDDEN)?;
    }
    let edit = context(cx)?;
    if edit {
        require_caps(
            cx,
            &access,
            &edit_caps(post.author_id, post.status, user),
            false,
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this post.",
        )?;
    }
    let methods = item_methods(cx, &access, &post);
    Ok(allow_header(
        Reply::ok(post_json(site, &post, edit)),
        &methods,
    ))
}

fn text_param(cx: &Cx<'_>, name: &str) -> Option<String> {
    cx.params().str(name)
}

fn status_param(cx: &Cx<'_>) -> Result<Option<PostStatus>, ApiError> {
    match cx.params().str("status") {
        None => Ok(None),
        Some(s) => match PostStatus::parse(&s) {
            Some(st) if st != PostStatus::Trash => Ok(Some(st)),
            _ => Err(ApiError::invalid_param(
                "status",
                "status is not one of publish, future, draft, pending, and private.",
            )),
        },
    }
}

fn comment_status_param(cx: &Cx<'_>) -> Result<Option<bool>, ApiError> {
    match cx.params().str("comment_status").as_deref() {
        None => Ok(None),
        Some("open") => Ok(Some(true)),
        Some("closed") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_param(
            "comment_status",
            "comment_status is not one of open and closed.",
        )),
    }
}

/// Checks an `author` parameter: another user needs `edit_others_posts`, and must exist.
async fn author_param(
    cx: &Cx<'_>,
    access: &SiteAccess,
    current: UserId,
    message: &'static str,
) -> Result<Option<UserId>, ApiError> {
    let Some(author) = cx.params().int("author", 1, i64::MAX)?.map(UserId) else {
        return Ok(None);
    };
    if author != current {
        require_caps(
            cx,
            access,
            &[Cap::EditOthersPosts],
            true,
            "rest_cannot_edit_others",
            message,
        )?;
        // Only a member of this site may be a post's author there; an account elsewhere on the
        // server gets the same answer as no account at all (no enumeration of user ids).
        let site = cx.site()?;
        if cx.app.store.find_role(site.id, author).await?.is_none() {
            return Err(ApiError::bad_request(
                "rest_invalid_author",
                "Invalid author ID.",
            ));
        }
    }
    Ok(Some(author))
}

pub async fn create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let site = cx.site()?;
    if cx.params().has("id") {
        return Err(ApiError::bad_request(
            "rest_post_exists",
            "Cannot create existing post.",
        ));
    }
    let access = cx.access(site).await?;
    const NO_CREATE: &str = "Sorry, you are not allowed to create posts as this user.";
    require_caps(
        cx,
        &access,
        &[Cap::EditPosts],
        true,
        "rest_cannot_create",
        NO_CREATE,
    )?;
    let Some(user) = cx.principal.user_id() else {
        return Err(super::deny(
            gatehouse_core::policy::Denial::NotLoggedIn,
            "rest_cannot_create",
            NO_CREATE,
        ));
    };
    let status = status_param(cx)?.unwrap_or(PostStatus::Draft);
    if status_needs_publish(status) {
        require_caps(
            cx,
            &access,
            &[Cap::PublishPosts],
            true,
            "rest_cannot_publish",
            "Sorry, you are not allowed to publish posts in this post type.",
        )?;
    }
    let author = author_param(cx, &access, user, NO_CREATE)
        .await?
        .unwrap_or(user);
    let title = text_param(cx, "title").unwrap_or_default();
    let slug = match text_param(cx, "slug") {
        Some(s) => sanitize_title(&s),
        None if status == PostStatus::Publish => sanitize_title(&title),
        None => String::new(),
    };
    let new = NewPost {
        site_id: site.id,
        author_id: author,
        title,
        content: text_param(cx, "content").unwrap_or_default(),
        excerpt: text_param(cx, "excerpt").unwrap_or_default(),
        slug,
        status,
        comments_open: comment_status_param(cx)?.unwrap_or(true),
        unfiltered: access.caps.has(Cap::UnfilteredHtml),
    };
    let post = cx.app.store.insert_post(&new, cx.now).await?;
    let location = format!("{}/wp-json/wp/v2/posts/{}", site.url, post.id.0);
    Ok(allow_header(
        Reply::created(post_json(site, &post, true)),
        &["GET", "POST"],
    )
    .header(header::LOCATION, &location))
}

pub async fn update(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let (site, access) = cx
        .readable_site(Area::Posts, "rest_forbidden", FORBIDDEN)
        .await?;
    let post = load(cx, site, id).await?;
    let user = cx.principal.user_id();
    require_caps(
        cx,
        &access,
        &edit_caps(post.author_id, post.status, user),
        true,
        "rest_cannot_edit",
        "Sorry, you are not allowed to edit this post.",
    )?;
    let status = status_param(cx)?;
    if let Some(st) = status {
        if st != post.status && status_needs_publish(st) {
            require_caps(
                cx,
                &access,
                &[Cap::PublishPosts],
                true,
                "rest_cannot_publish",
                "Sorry, you are not allowed to publish posts in this post type.",
            )?;
        }
    }
    let author = author_param(
        cx,
        &access,
        post.author_id,
        "Sorry, you are not allowed to update posts as this user.",
    )
    .await?;
    let patch = PostPatch {
        title: text_param(cx, "title"),
        content: text_param(cx, "content"),
        excerpt: text_param(cx, "excerpt"),
        slug: text_param(cx, "slug").map(|s| sanitize_title(&s)),
        status,
        author_id: author,
        comments_open: comment_status_param(cx)?,
        writer_unfiltered: access.caps.has(Cap::UnfilteredHtml),
    };
    let updated = cx
        .app
        .store
        .update_post(site.id, post.id, &patch, cx.now)
        .await?;
    let methods = item_methods(cx, &access, &updated);
    Ok(allow_header(
        Reply::ok(post_json(site, &updated, true)),
        &methods,
    ))
}

pub async fn delete(cx: &Cx<'_>, id: &str) -> Result<Reply, ApiError> {
    let (site, access) = cx
        .readable_site(Area::Posts, "rest_forbidden", FORBIDDEN)
        .await?;
    let post = load(cx, site, id).await?;
    require_caps(
        cx,
        &access,
        &delete_caps(post.author_id, post.status, cx.principal.user_id()),
        true,
        "rest_cannot_delete",
        "Sorry, you are not allowed to delete this post.",
    )?;
    if cx.params().bool("force")?.unwrap_or(false) {
        cx.app.store.delete_post(site.id, post.id).await?;
        return Ok(Reply::ok(
            json!({ "deleted": true, "previous": post_json(site, &post, true) }),
        ));
    }
    if post.status == PostStatus::Trash {
        return Err(ApiError::new(
            StatusCode::GONE,
            "rest_already_trashed",
            "The post has already been deleted.",
        ));
    }
    let patch = PostPatch {
        status: Some(PostStatus::Trash),
        writer_unfiltered: access.caps.has(Cap::UnfilteredHtml),
        ..Default::default()
    };
    let trashed = cx
        .app
        .store
        .update_post(site.id, post.id, &patch, cx.now)
        .await?;
    Ok(Reply::ok(post_json(site, &trashed, true)))
}

fn comment_json(site: &Site, c: &Comment, email: Option<&str>) -> Value {
    let base = &site.url;
    json!({
        "id": c.id.0,
        "post": c.post_id.0,
        "parent": c.parent,
        "author": c.author_id.map(|a| a.0).unwrap_or(0),
        "author_name": c.author_name,
        "author_url": "",
        "date": wp_date(c.created_at),
        "date_gmt": wp_date(c.created_at),
        "content": { "rendered": format!("<p>{}</p>\n", rendered_inline(&c.content, c.unfiltered)) },
        "link": format!("{base}/?p={}#comment-{}", c.post_id.0, c.id.0),
        "status": c.status.as_str(),
        "type": "comment",
        "author_avatar_urls": avatar_urls(email.unwrap_or("")),
        "meta": [],
        "_links": {
            "self": [{ "href": format!("{base}/wp-json/wp/v2/comments/{}", c.id.0) }],
            "collection": [{ "href": format!("{base}/wp-json/wp/v2/comments") }],
            "up": [{ "embeddable": true, "post_type": "post", "href": format!("{base}/wp-json/wp/v2/posts/{}", c.post_id.0) }],
        },
    })
}

fn comment_action(cap: Cap, write: bool) -> Action {
    Action::Use {
        cap,
        area: Area::Comments,
        write,
    }
}

pub async fn comments_list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let (site, access) = cx
        .readable_site(Area::Comments, "rest_forbidden", FORBIDDEN)
        .await?;
    let page = page_params(cx, 10)?;
    let status = match cx.params().str("status") {
        None => CommentStatus::Approved,
        Some(s) => CommentStatus::parse(&s).ok_or_else(|| {
            ApiError::invalid_param(
                "status",
                "status is not one of approve, hold, spam, and trash.",
            )
        })?,
    };
    if status != CommentStatus::Approved {
        cx.require(
            Some(&access),
            comment_action(Cap::ModerateComments, false),
            "rest_forbidden_param",
            "Query parameter not permitted: status",
        )?;
    }
    if context(cx)? {
        cx.require(
            Some(&access),
            comment_action(Cap::ModerateComments, false),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit comments.",
        )?;
    }
    let post = match cx.params().int("post", 1, i64::MAX)? {
        Some(id) => {
            let post = load(cx, site, &id.to_string()).await?;
            if let Some(caps) = read_caps(post.author_id, post.status, cx.principal.user_id()) {
                require_caps(
                    cx,
                    &access,
                    &caps,
                    false,
                    "rest_cannot_read_post",
                    "Sorry, you are not allowed to read the post for this comment.",
                )?;
            }
            Some(post.id)
        }
        None => None,
    };
    // Without a `post`, visitors see comments on published posts only; moderators see all.
    let moderator = cx
        .allow(Some(&access), comment_action(Cap::ModerateComments, false))
        .is_ok();
    let filter = CommentFilter {
        post,
        public_posts_only: post.is_none() && !moderator,
        status,
        offset: page.offset(),
        limit: page.per_page,
    };
    let (comments, total) = cx.app.store.list_comments(site.id, &filter).await?;
    page.check_within(total, "rest_comment_invalid_page_number")?;
    let body: Vec<Value> = comments
        .iter()
        .map(|c| comment_json(site, c, None))
        .collect();
    let mut methods = vec!["GET"];
    if cx
        .allow(Some(&access), comment_action(Cap::Read, true))
        .is_ok()
    {
        methods.push("POST");
    }
    let reply = allow_header(Reply::ok(Value::Array(body)), &methods);
    Ok(wp_pagination(
        reply,
        cx,
        &format!("{}/wp-json/wp/v2/comments", site.url),
        &page,
        total,
    ))
}

pub async fn comments_create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let site = cx.site()?;
    let Some(user) = cx.principal.user.as_ref() else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "rest_comment_login_required",
            "Sorry, you must be logged in to comment.",
        )
        .alt("authorization_required"));
    };
    let access = cx.access(site).await?;
    cx.require(
        Some(&access),
        comment_action(Cap::Read, true),
        "rest_cannot_create_comment",
        "Sorry, you are not allowed to create this comment.",
    )?;
    let Some(post_id) = cx.params().int("post", 1, i64::MAX)? else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_invalid_post_id",
            "Sorry, you are not allowed to create this comment without a post.",
        ));
    };
    let post = match cx.app.store.get_post(site.id, PostId(post_id)).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "rest_comment_invalid_post_id",
                "Sorry, you are not allowed to create this comment without a post.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if post.status != PostStatus::Publish {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_draft_post",
            "Sorry, you are not allowed to create a comment on this post.",
        ));
    }
    if !post.comments_open {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_closed",
            "Sorry, comments are closed for this item.",
        ));
    }
    let content = cx
        .params()
        .str("content")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    if content.is_empty() {
        return Err(ApiError::bad_request(
            "rest_comment_content_invalid",
            "Invalid comment content.",
        ));
    }
    let moderator = cx
        .allow(Some(&access), comment_action(Cap::ModerateComments, true))
        .is_ok();
    let status = match cx.params().str("status") {
        None => {
            if moderator {
                CommentStatus::Approved
            } else {
                CommentStatus::Hold
            }
        }
        Some(s) => {
            if !moderator {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "rest_comment_invalid_status",
                    "Sorry, you are not allowed to edit 'status' for comments.",
                ));
            }
            CommentStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid_param("status", "status is not a comment status.")
            })?
        }
    };
    let new = NewComment {
        site_id: site.id,
        post_id: post.id,
        parent: cx.params().int("parent", 0, i64::MAX)?.unwrap_or(0),
        author_id: Some(user.id),
        author_name: user.display_name.clone(),
        content,
        status,
        unfiltered: access.caps.has(Cap::UnfilteredHtml),
    };
    let c = cx.app.store.insert_comment(&new, cx.now).await?;
    let location = format!("{}/wp-json/wp/v2/comments/{}", site.url, c.id.0);
    Ok(Reply::created(comment_json(site, &c, Some(&user.email)))
        .header(header::LOCATION, &location))
}
