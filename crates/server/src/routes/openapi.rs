//! `GET /openapi.json`: an OpenAPI 3.1 description of what this server answers (SPEC §9) — the
//! Gatehouse JSON API, the WordPress, hosting and WordPress.com routes, and the credentials each
//! accepts. Written by hand next to the routers it describes; tests compare it both ways with the
//! dialects' dispatch tables (read from their source) and request every parameter-free GET path.

use crate::app::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// (path, method, summary, tag, protected)
const OPERATIONS: &[(&str, &str, &str, &str, bool)] = &[
    ("/wp-json/", "get", "WordPress REST index (routes, authentication)", "wordpress", false),
    ("/wp-json/wp/v2", "get", "The wp/v2 namespace and its routes", "wordpress", false),
    ("/wp-json/wp/v2/posts", "get", "List posts (page, per_page ≤ 100, status, search, author, order, context)", "wordpress", false),
    ("/wp-json/wp/v2/posts", "post", "Create a post (JSON, form or multipart)", "wordpress", true),
    ("/wp-json/wp/v2/posts/{id}", "get", "Get a post", "wordpress", false),
    ("/wp-json/wp/v2/posts/{id}", "post", "Update a post (also PUT, PATCH)", "wordpress", true),
    ("/wp-json/wp/v2/posts/{id}", "delete", "Trash a post, or delete it with force=true", "wordpress", true),
    ("/wp-json/wp/v2/comments", "get", "List comments", "wordpress", false),
    ("/wp-json/wp/v2/comments", "post", "Create a comment", "wordpress", true),
    ("/wp-json/wp/v2/users", "get", "List users", "wordpress", false),
    ("/wp-json/wp/v2/users/me", "get", "The authenticated user", "wordpress", true),
    ("/wp-json/wp/v2/users/{id}", "get", "Get a user", "wordpress", false),
    ("/wp-json/wp/v2/users/{user}/application-passwords", "get", "List application passwords (user id or me)", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords", "post", "Create an application password (the only answer with the password)", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords", "delete", "Delete all application passwords", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords/introspect", "get", "The application password in use", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords/{uuid}", "get", "Get an application password", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords/{uuid}", "post", "Rename an application password (also PUT, PATCH)", "credentials", true),
    ("/wp-json/wp/v2/users/{user}/application-passwords/{uuid}", "delete", "Delete an application password", "credentials", true),
    ("/wp-json/gatehouse/v1/api-keys", "get", "List your API keys", "credentials", true),
    ("/wp-json/gatehouse/v1/api-keys", "post", "Create an API key {description, type, scopes, site, methods, expires_in}; the key is only in this answer", "credentials", true),
    ("/wp-json/gatehouse/v1/api-keys/{id}", "delete", "Revoke an API key", "credentials", true),
    ("/wp-json/gatehouse/v1/me/sessions", "get", "Your log-in sessions", "credentials", true),
    ("/wp-json/gatehouse/v1/me/sessions/{id}", "delete", "End a session", "credentials", true),
    ("/wp-json/gatehouse/v1/clients", "get", "Your OAuth 2.0 clients", "credentials", true),
    ("/wp-json/gatehouse/v1/clients", "post", "Register an OAuth 2.0 client {name, description, redirect_uris, public, grants, token_ttl}; the client_secret is only in this answer", "credentials", true),
    ("/wp-json/gatehouse/v1/clients/{id}/rotate-secret", "post", "A new client secret, only in this answer", "credentials", true),
    ("/wp-json/gatehouse/v1/clients/{id}", "delete", "Delete a client, its authorizations and its tokens", "credentials", true),
    ("/wp-json/gatehouse/v1/me/grants", "get", "The OAuth 2.0 and OAuth 1.0a applications you authorized [{id, protocol, client_id, client_name, scope, blog_id, created, last_used}]; OAuth 1.0a ids are `oauth1-N`", "credentials", true),
    ("/wp-json/gatehouse/v1/me/grants/{id}", "delete", "Revoke an authorization and every token issued under it", "credentials", true),
    ("/wp-json/gatehouse/v1/audit", "get", "The audit log (network admins: all; others: own events)", "credentials", true),
    ("/v1/user", "get", "The authenticated user", "hosting", true),
    ("/v1/sites", "get", "Sites you may see {previous, next, count, results}", "hosting", true),
    ("/v1/sites", "post", "Create a site {name, url} (site_creation policy)", "hosting", true),
    ("/v1/sites/{id}", "get", "Get a site", "hosting", true),
    ("/v1/sites/{id}", "patch", "Change a site {name, url, require_auth}", "hosting", true),
    ("/v1/sites/{id}", "delete", "Delete a site", "hosting", true),
    ("/rest/v1.1/me", "get", "The authenticated user", "wordpress.com", true),
    ("/rest/v1.1/sites/{site}", "get", "A site by id or domain", "wordpress.com", false),
    ("/rest/v1.1/sites/{site}/posts/", "get", "List posts {found, posts}", "wordpress.com", false),
    ("/rest/v1.1/sites/{site}/posts/{id}", "get", "Get a post", "wordpress.com", false),
    ("/rest/v1.1/sites/{site}/posts/new", "post", "Create a post (publishes by default)", "wordpress.com", true),
    ("/wp-admin/admin-ajax.php", "get", "action=rest-nonce: the wp_rest nonce for the logged-in session", "sessions", false),
    ("/healthz", "get", "The process answers", "operations", false),
    ("/readyz", "get", "The database answers", "operations", false),
    ("/metrics", "get", "Prometheus metrics", "operations", false),
];

pub fn document(server: &str) -> Value {
    let mut paths = Map::new();
    for (path, method, summary, tag, protected) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut op = json!({
            "summary": summary,
            "tags": [tag],
            "responses": {
                "200": { "description": "Success" },
                "400": { "description": "Bad request, in the dialect's error format" },
                "401": { "description": "No credential, or a credential that failed" },
                "403": { "description": "Not allowed" },
            },
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if *protected {
            op["security"] = json!([{ "applicationPassword": [] }, { "apiKey": [] }, { "bearer": [] }, { "oauth1": [] }, { "cookieNonce": [] }]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Authentication and authorization for WordPress-style REST APIs: the WordPress REST API (/wp-json), a hosting API (/v1) and the WordPress.com API (/rest/v1, /rest/v1.1).",
        },
        "servers": [{ "url": server }],
        "components": { "securitySchemes": {
            "applicationPassword": { "type": "http", "scheme": "basic", "description": "login-or-email : application password" },
            "apiKey": { "type": "apiKey", "in": "header", "name": "Authorization", "description": "ApiKey gak_… (user key) or gsk_… (read-only site key)" },
            "bearer": { "type": "http", "scheme": "bearer", "description": "An OAuth 2.0 access token (gat_…), or an API key as a bearer token" },
            "oauth1": { "type": "http", "scheme": "OAuth", "description": "An OAuth 1.0a signed request (RFC 5849, HMAC-SHA1 or HMAC-SHA256) with an access token from /oauth1/request → /oauth1/authorize → /oauth1/access" },
            "cookieNonce": { "type": "apiKey", "in": "header", "name": "X-WP-Nonce", "description": "With the session cookie from /login" },
        }},
        "paths": paths,
    })
}

/// The document, with the server URL of the site the request came to (`crate::sites`).
pub async fn openapi_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = super::client_origin(&app, super::peer_of(&ext), &headers);
    match crate::sites::resolve(&app, origin.host.as_deref()).await {
        Ok(r) => Json(document(&r.base)).into_response(),
        Err(e) => crate::error::ApiError::from(e).render(
            crate::error::Dialect::Hosting,
            crate::error::Presented::Nothing,
        ),
    }
}

/// Parameter-free GET paths, for the test that they are routed.
pub fn plain_get_paths() -> Vec<&'static str> {
    OPERATIONS
        .iter()
        .filter(|(p, m, ..)| *m == "get" && !p.contains('{'))
        .map(|(p, ..)| *p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::OPERATIONS;
    use std::collections::BTreeSet;

    /// `{user}`, `{id}` → `{}`, no trailing slash.
    fn norm(path: &str) -> String {
        path.trim_end_matches('/')
            .split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Every `("METHOD" | …, [segments]) =>` arm of a dialect's `dispatch`, as (method, path).
    /// Wildcard arms (`_`, the 405 answers) are not routes.
    fn dispatched(src: &str, prefix: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for line in src.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix('(') else {
                continue;
            };
            let (Some(open), Some(close)) = (rest.find(", ["), rest.find("]) =>")) else {
                continue;
            };
            let methods = &rest[..open];
            if !methods.starts_with('"') {
                continue;
            }
            let segs: Vec<String> = rest[open + 3..close]
                .split(", ")
                .map(
                    |seg| match seg.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                        Some(lit) => lit.to_string(),
                        None => "{}".to_string(),
                    },
                )
                .collect();
            let path = norm(&format!("{prefix}/{}", segs.join("/")));
            for m in methods.split('|') {
                out.insert((m.trim().trim_matches('"').to_lowercase(), path.clone()));
            }
        }
        out
    }

    #[test]
    fn the_document_and_the_dispatchers_agree_both_ways() {
        let mut routed = dispatched(include_str!("wp.rs"), "/wp-json");
        routed.extend(dispatched(include_str!("hosting.rs"), "/v1"));
        routed.extend(dispatched(include_str!("wpcom.rs"), "/rest/v1.1"));
        assert!(
            routed.len() > 30,
            "the dispatch tables were read: {routed:?}"
        );
        let documented: BTreeSet<(String, String)> = OPERATIONS
            .iter()
            .map(|(p, m, ..)| (m.to_string(), norm(p)))
            .collect();
        for (method, path) in &routed {
            // WordPress's update routes take POST, PUT and PATCH; the document lists POST.
            let covered = documented.contains(&(method.clone(), path.clone()))
                || (matches!(method.as_str(), "put" | "patch")
                    && documented.contains(&("post".to_string(), path.clone())));
            assert!(covered, "routed but not documented: {method} {path}");
        }
        for (method, path) in &documented {
            let outside_dialects = ["/wp-admin/", "/healthz", "/readyz", "/metrics"]
                .iter()
                .any(|p| path.starts_with(p));
            assert!(
                outside_dialects || routed.contains(&(method.clone(), path.clone())),
                "documented but not routed: {method} {path}"
            );
        }
    }
}
