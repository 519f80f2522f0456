//! Bad input never gets a 5xx: a deterministic sweep of routes × methods × garbage parameters,
//! bodies and credentials, on both databases (SPEC §0; a regression guard for the hand-run fuzzing
//! done with 2,500 random requests against the release server).

use crate::support::*;
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{basic, both, TestApp};

const PATHS: &[&str] = &[
    "/wp-json/wp/v2/posts",
    "/wp-json/wp/v2/posts/1",
    "/wp-json/wp/v2/posts/99999999999999999999",
    "/wp-json/wp/v2/comments",
    "/wp-json/wp/v2/users",
    "/wp-json/wp/v2/users/me",
    "/wp-json/wp/v2/users/1",
    "/wp-json/wp/v2/users/me/application-passwords",
    "/wp-json/wp/v2/users/me/application-passwords/x",
    "/wp-json/gatehouse/v1/api-keys",
    "/wp-json/gatehouse/v1/api-keys/1",
    "/wp-json/gatehouse/v1/me/sessions",
    "/wp-json/gatehouse/v1/audit",
    "/v1/user",
    "/v1/sites",
    "/v1/sites/1",
    "/v1/sites/abc",
    "/rest/v1/me",
    "/rest/v1/sites/1",
    "/rest/v1/sites/1/posts/",
    "/rest/v1/sites/1/posts/new",
    "/rest/v1.1/sites/%ZZ/posts/1",
    "/rest/v1/sites/x%00y",
    "/rest/v1.1/sites/1%00/posts/",
    "/wp-json/wp/v2/posts/1%00",
    "/login",
    "/profile",
    "/admin",
    "/wp-admin/admin-ajax.php",
    "/wp-admin/authorize-application.php",
    "/?rest_route=/wp/v2/posts",
    "/openapi.json",
];
const PARAMS: &[&str] = &[
    "page",
    "per_page",
    "status",
    "search",
    "author",
    "order",
    "context",
    "force",
    "post",
    "limit",
    "offset",
    "number",
    "_fields",
    "type",
    "scopes",
    "site",
    "expires_in",
    "name",
    "url",
    "require_auth",
    "title",
    "comment_status",
    "methods",
    "success_url",
    "redirect_to",
    "action",
    "_method",
];
const VALUES: &[&str] = &[
    "",
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999999",
    "abc",
    "true",
    "[]",
    "%00",
    "é",
    "' OR 1=1 --",
    "null",
    "1e309",
    "draft,publish,any",
    "<script>",
    "\u{0}",
    "a\u{0}b",
    "\u{202e}\u{1f600}\u{0}\u{ffff}",
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

both!(garbage_never_gets_a_5xx, |app: TestApp| async move {
    let key = app.api_key(app.user_key_spec("editor")).await.1;
    let auths = [
        None,
        Some(format!("ApiKey {key}")),
        Some("Basic Og==".to_string()),
        Some("Bearer x".to_string()),
        Some(basic("ad\u{0}min", "pw")),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for i in 0..300 {
        let path = PATHS[next(PATHS.len())];
        let method = Method::from_bytes(METHODS[next(METHODS.len())].as_bytes()).unwrap();
        let query: Vec<(&str, &str)> = (0..next(3))
            .map(|_| (PARAMS[next(PARAMS.len())], VALUES[next(VALUES.len())]))
            .collect();
        let body: serde_json::Map<String, serde_json::Value> = (0..next(3))
            .map(|_| {
                (
                    PARAMS[next(PARAMS.len())].to_string(),
                    serde_json::json!(VALUES[next(VALUES.len())]),
                )
            })
            .collect();
        let sep = if path.contains('?') { '&' } else { '?' };
        let qs: String = query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.replace('%', "%25").replace(' ', "+").replace('&', "%26")
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let mut rb = app
            .http()
            .request(method.clone(), format!("{}{path}{sep}{qs}", app.base_url));
        if let Some(a) = &auths[next(auths.len())] {
            rb = rb.header("authorization", a);
        }
        rb = match next(3) {
            0 => rb.json(&body),
            1 => rb.form(
                &body
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect::<Vec<_>>(),
            ),
            _ => rb
                .header("content-type", "application/json")
                .body(vec![0xff, 0xfe, b'{']),
        };
        let r = finish(rb).await;
        assert!(
            r.status.as_u16() < 500,
            "#{i} {method} {path}?{qs} -> {} {}",
            r.status,
            r.text
        );
    }
});
