//! The WordPress REST API dialect (`/wp-json/`, `/?rest_route=`), modelled on WordPress core
//! `wp/v2` and matched against `../shared/peers/wordpress/TRANSCRIPTS.md`: the index with its
//! `authentication` object, routing, the common headers, `_fields`, and the `require_auth` mode
//! (the key plugin's `MISSING_AUTHORIZATION_HEADER`, SPEC §5). Posts and comments live in
//! `wp_posts`, users in `wp_users`. SPEC §9.

use super::{gatehouse_api, wp_app_passwords, wp_posts, wp_users, Cx};
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::model::Site;
use gatehouse_core::policy::Area;
use serde_json::{json, Map, Value};

pub async fn dispatch(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    if let Some(site) = cx.site {
        if site.require_auth
            && cx.principal.method() == gatehouse_core::model::AuthMethod::Anonymous
        {
            return Err(ApiError {
                plugin: true,
                ..ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "MISSING_AUTHORIZATION_HEADER",
                    "Authorization header not received. Either authorization header was not sent or it was removed by your server due to security reasons.",
                )
            });
        }
    }
    let (method, segs) = cx.inc.routing();
    match (method, segs.as_slice()) {
        ("GET", [""]) => index(cx).await,
        ("GET", ["wp", "v2"]) => namespace_index(cx).await,
        ("GET", ["wp", "v2", "posts"]) => wp_posts::list(cx).await,
        ("POST", ["wp", "v2", "posts"]) => wp_posts::create(cx).await,
        ("GET", ["wp", "v2", "posts", id]) => wp_posts::get(cx, id).await,
        ("POST" | "PUT" | "PATCH", ["wp", "v2", "posts", id]) => wp_posts::update(cx, id).await,
        ("DELETE", ["wp", "v2", "posts", id]) => wp_posts::delete(cx, id).await,
        ("GET", ["wp", "v2", "comments"]) => wp_posts::comments_list(cx).await,
        ("POST", ["wp", "v2", "comments"]) => wp_posts::comments_create(cx).await,
        ("GET", ["wp", "v2", "users"]) => wp_users::list(cx).await,
        ("GET", ["wp", "v2", "users", who, "application-passwords"]) => {
            wp_app_passwords::list(cx, who).await
        }
        ("POST", ["wp", "v2", "users", who, "application-passwords"]) => {
            wp_app_passwords::create(cx, who).await
        }
        ("DELETE", ["wp", "v2", "users", who, "application-passwords"]) => {
            wp_app_passwords::delete_all(cx, who).await
        }
        ("GET", ["wp", "v2", "users", who, "application-passwords", "introspect"]) => {
            wp_app_passwords::introspect(cx, who).await
        }
        ("GET", ["wp", "v2", "users", who, "application-passwords", uuid]) => {
            wp_app_passwords::get(cx, who, uuid).await
        }
        ("POST" | "PUT" | "PATCH", ["wp", "v2", "users", who, "application-passwords", uuid]) => {
            wp_app_passwords::update(cx, who, uuid).await
        }
        ("DELETE", ["wp", "v2", "users", who, "application-passwords", uuid]) => {
            wp_app_passwords::delete(cx, who, uuid).await
        }
        ("GET", ["gatehouse", "v1", "me", "sessions"]) => gatehouse_api::sessions_list(cx).await,
        ("DELETE", ["gatehouse", "v1", "me", "sessions", id]) => {
            gatehouse_api::sessions_delete(cx, id).await
        }
        ("GET", ["gatehouse", "v1", "me", "grants"]) => gatehouse_api::grants_list(cx).await,
        ("GET", ["gatehouse", "v1", "clients"]) => gatehouse_api::clients_list(cx).await,
        ("POST", ["gatehouse", "v1", "clients"]) => gatehouse_api::clients_create(cx).await,
        ("POST", ["gatehouse", "v1", "clients", id, "rotate-secret"]) => {
            gatehouse_api::clients_rotate(cx, id).await
        }
        ("DELETE", ["gatehouse", "v1", "clients", id]) => {
            gatehouse_api::clients_delete(cx, id).await
        }
        ("DELETE", ["gatehouse", "v1", "me", "grants", id]) => {
            gatehouse_api::grants_delete(cx, id).await
        }
        ("GET", ["gatehouse", "v1", "audit"]) => gatehouse_api::audit_list(cx).await,
        ("GET", ["gatehouse", "v1", "api-keys"]) => gatehouse_api::list(cx).await,
        ("POST", ["gatehouse", "v1", "api-keys"]) => gatehouse_api::create(cx).await,
        ("DELETE", ["gatehouse", "v1", "api-keys", id]) => gatehouse_api::delete(cx, id).await,
        ("GET", ["wp", "v2", "users", "me"]) => wp_users::me(cx).await,
        ("GET", ["wp", "v2", "users", id]) => wp_users::get(cx, id).await,
        _ => Err(ApiError::not_found(
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )),
    }
}

/// Routes this server answers, with their methods, for the index.
const ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET"]),
    ("/wp/v2", &["GET"]),
    ("/wp/v2/posts", &["GET", "POST"]),
    (
        "/wp/v2/posts/(?P<id>[\\d]+)",
        &["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
    ("/wp/v2/comments", &["GET", "POST"]),
    ("/wp/v2/users", &["GET"]),
    ("/wp/v2/users/me", &["GET"]),
    ("/wp/v2/users/(?P<id>[\\d]+)", &["GET"]),
    (
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords",
        &["GET", "POST", "DELETE"],
    ),
    (
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/introspect",
        &["GET"],
    ),
    (
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/(?P<uuid>[\\w\\-]+)",
        &["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
    ("/gatehouse/v1/api-keys", &["GET", "POST"]),
    ("/gatehouse/v1/me/sessions", &["GET"]),
    ("/gatehouse/v1/me/sessions/(?P<id>[\\d]+)", &["DELETE"]),
    ("/gatehouse/v1/me/grants", &["GET"]),
    ("/gatehouse/v1/clients", &["GET", "POST"]),
    ("/gatehouse/v1/clients/(?P<id>[\\d]+)", &["DELETE"]),
    (
        "/gatehouse/v1/clients/(?P<id>[\\d]+)/rotate-secret",
        &["POST"],
    ),
    (
        "/gatehouse/v1/me/grants/(?P<id>(?:oauth1-)?[\\d]+)",
        &["DELETE"],
    ),
    ("/gatehouse/v1/audit", &["GET"]),
    ("/gatehouse/v1/api-keys/(?P<id>[\\d]+)", &["DELETE"]),
];

fn routes_json(base: &str, prefix: &str) -> Value {
    let mut routes = Map::new();
    for (route, methods) in ROUTES.iter().filter(|(r, _)| r.starts_with(prefix)) {
        let namespace = match *route {
            "/" => "",
            r if r.starts_with("/gatehouse/v1") => "gatehouse/v1",
            _ => "wp/v2",
        };
        let mut entry = json!({
            "namespace": namespace,
            "methods": methods,
            "endpoints": methods.iter().map(|m| json!({ "methods": [m], "args": {} })).collect::<Vec<_>>(),
        });
        if !route.contains('(') {
            entry["_links"] = json!({ "self": [{ "href": format!("{base}/wp-json{route}") }] });
        }
        routes.insert(route.to_string(), entry);
    }
    Value::Object(routes)
}

/// The `authentication` object of the index: one member per enabled method.
fn authentication(cx: &Cx<'_>) -> Value {
    let mut auth = Map::new();
    auth.insert(
        "application-passwords".into(),
        json!({ "endpoints": { "authorization": format!("{}/wp-admin/authorize-application.php", cx.base) } }),
    );
    // As the WP-API OAuth1 plugin advertises its three legs (seed 002).
    auth.insert(
        "oauth1".into(),
        json!({
            "request": format!("{}/oauth1/request", cx.base),
            "authorize": format!("{}/oauth1/authorize", cx.base),
            "access": format!("{}/oauth1/access", cx.base),
            "version": "0.1",
        }),
    );
    auth.insert(
        "api-key".into(),
        json!({ "header": "Authorization", "schemes": ["ApiKey", "Bearer"], "endpoints": { "keys": format!("{}/wp-json/gatehouse/v1/api-keys", cx.base) } }),
    );
    if cx.app.settings.basic_auth_with_account_password {
        auth.insert("basic".into(), json!({ "account_password": true }));
    }
    Value::Object(auth)
}

async fn index(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    // A private site's index is for those who may read the site (policy, `Area::Site`).
    let (site, _) = cx
        .readable_site(
            Area::Site,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        )
        .await?;
    Ok(Reply::ok(json!({
        "name": site.name,
        "description": "",
        "url": site.url,
        "home": site.url,
        "gmt_offset": 0,
        "timezone_string": "UTC",
        "namespaces": ["wp/v2", "gatehouse/v1"],
        "authentication": authentication(cx),
        "routes": routes_json(&site.url, ""),
        "_links": { "help": [{ "href": "https://developer.wordpress.org/rest-api/" }] },
    })))
}

async fn namespace_index(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    // A private site's index is for those who may read the site (policy, `Area::Site`).
    let (site, _) = cx
        .readable_site(
            Area::Site,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        )
        .await?;
    Ok(Reply::ok(json!({
        "namespace": "wp/v2",
        "routes": routes_json(&site.url, "/wp/v2"),
        "_links": { "up": [{ "href": format!("{}/wp-json/", site.url) }] },
    })))
}

/// Headers WordPress sends on every REST response.
pub fn common_headers(resp: &mut Response, site: Option<&Site>, authenticated: bool) {
    let h = resp.headers_mut();
    if let Some(site) = site {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "<{}/wp-json/>; rel=\"https://api.w.org/\"",
            site.url
        )) {
            h.append(header::LINK, v);
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    if h.get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
    }
    if authenticated {
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Wed, 11 Jan 1984 05:00:00 GMT"),
        );
        // A response that carries a secret already says `no-store`; keep the stricter one.
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, must-revalidate, max-age=0"),
            );
        }
    }
}

/// A `rendered` field: as written when its writer held `unfiltered_html` (network admins), else
/// through an allowlist HTML sanitiser (ammonia; WordPress uses kses): no scripts, event
/// handlers, `javascript:` URLs, frames or styles, whatever a contributor or commenter sends.
/// The `raw` fields of `context=edit` are always as written.
pub fn rendered(html: &str, unfiltered: bool) -> String {
    if unfiltered {
        html.to_string()
    } else {
        ammonia::clean(html)
    }
}

/// A title or a comment: like `rendered`, but with WordPress's smaller `$allowedtags` set (what
/// kses allows in comments and titles): inline formatting and links — no images (a tracking
/// pixel shown to moderators), headings, tables or forms.
pub fn rendered_inline(html: &str, unfiltered: bool) -> String {
    static INLINE: std::sync::OnceLock<ammonia::Builder<'static>> = std::sync::OnceLock::new();
    if unfiltered {
        return html.to_string();
    }
    INLINE
        .get_or_init(|| {
            let mut b = ammonia::Builder::empty();
            b.add_tags([
                "a",
                "abbr",
                "acronym",
                "b",
                "blockquote",
                "cite",
                "code",
                "del",
                "em",
                "i",
                "q",
                "s",
                "strike",
                "strong",
            ])
            .add_tag_attributes("a", ["href", "title"])
            .add_tag_attributes("abbr", ["title"])
            .add_tag_attributes("acronym", ["title"])
            .add_tag_attributes("blockquote", ["cite"])
            .add_tag_attributes("q", ["cite"])
            .add_tag_attributes("del", ["datetime"])
            .add_url_schemes(["http", "https", "mailto"])
            .link_rel(Some("nofollow ugc noopener noreferrer"));
            b
        })
        .clean(html)
        .to_string()
}

/// `_fields=id,title.rendered`: keeps only the named top-level members.
pub fn filter_fields(body: &mut Value, fields: &[String]) {
    let keep: Vec<&str> = fields
        .iter()
        .map(|f| f.split('.').next().unwrap_or(""))
        .collect();
    match body {
        Value::Object(map) => map.retain(|k, _| keep.contains(&k.as_str())),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(map) = item {
                    map.retain(|k, _| keep.contains(&k.as_str()));
                }
            }
        }
        _ => {}
    }
}

/// `Allow` lists the methods the current credential may use on a route.
pub fn allow_header(reply: Reply, methods: &[&str]) -> Reply {
    reply.header(header::ALLOW, &methods.join(", "))
}

/// Gravatar URLs (SHA-256 of the trimmed, lower-cased email) at WordPress's three sizes.
pub fn avatar_urls(email: &str) -> Value {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
    json!({
        "24": format!("https://secure.gravatar.com/avatar/{hash}?s=24&d=mm&r=g"),
        "48": format!("https://secure.gravatar.com/avatar/{hash}?s=48&d=mm&r=g"),
        "96": format!("https://secure.gravatar.com/avatar/{hash}?s=96&d=mm&r=g"),
    })
}

/// WordPress's `sanitize_title`: lower case, runs of other characters become one `-`.
pub fn sanitize_title(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_filter_top_level_members() {
        let mut v = json!([{"id":1,"title":{"rendered":"x"},"content":"y"}]);
        filter_fields(&mut v, &["id".into(), "title.rendered".into()]);
        assert_eq!(v, json!([{"id":1,"title":{"rendered":"x"}}]));
    }

    #[test]
    fn titles_become_slugs() {
        assert_eq!(sanitize_title("Hello, World!  Again"), "hello-world-again");
        assert_eq!(sanitize_title("  "), "");
    }
}
