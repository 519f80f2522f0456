//! The WordPress.com dialect (`/rest/v1/`, `/rest/v1.1/`).

use crate::support::*;
use gatehouse_testkit::{both, TestApp};
use serde_json::json;

both!(me_sites_and_posts, |app: TestApp| async move {
    let r = get(&app, "/rest/v1/me/", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (401, Some("authorization_required"))
    );
    let r = get(&app, "/rest/v1.1/me", Some(&as_user(&app, "author"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ID"], app.user("author").user.id.0);
    assert_eq!(r.body["username"], "author");
    assert_eq!(r.body["primary_blog"], app.site.id.0);
    for k in ["display_name", "email", "token_site_id", "token_scope"] {
        assert!(r.body.get(k).is_some(), "{k}");
    }
    let sid = app.site.id.0;
    let host = app.base_url.trim_start_matches("http://").to_string();
    for site in [sid.to_string(), host.clone()] {
        let r = get(&app, &format!("/rest/v1/sites/{site}"), None).await;
        assert_eq!(
            (r.status.as_u16(), r.body["ID"].as_i64()),
            (200, Some(sid)),
            "{site}"
        );
    }
    let r = get(&app, "/rest/v1/sites/nosuch.example", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error":"unknown_blog","message":"Unknown blog"})
    );

    // posts/new: WordPress.com publishes by default; a contributor may only draft.
    let r = post(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/new"),
        Some(&as_user(&app, "contributor")),
        json!({"title":"Nope"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (403, Some("unauthorized"))
    );
    let r = post(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/new"),
        Some(&as_user(&app, "contributor")),
        json!({"title":"Draft","status":"draft"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["status"].as_str()),
        (200, Some("draft"))
    );
    let r = post(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/new/"),
        Some(&as_user(&app, "author")),
        json!({"title":"Hello","content":"Body"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "publish");
    assert_eq!(r.body["author"]["login"], "author");
    let pid = r.body["ID"].as_i64().unwrap();
    let r = post(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/new"),
        None,
        json!({"title":"anon"}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "authorization_required", "{}", r.text);
    assert!(!r.all("www-authenticate").is_empty());

    let r = get(&app, &format!("/rest/v1.1/sites/{sid}/posts/"), None).await;
    assert_eq!(r.body["found"], 1);
    assert_eq!(r.body["posts"][0]["ID"], pid);
    assert_eq!(r.body["posts"][0]["site_ID"], sid);
    let r = get(&app, &format!("/rest/v1.1/sites/{sid}/posts/{pid}"), None).await;
    assert_eq!(r.body["title"], "Hello");
    let r = get(&app, &format!("/rest/v1.1/sites/{sid}/posts/424242"), None).await;
    assert_eq!(
        r.body,
        json!({"error":"unknown_post","message":"Unknown post"})
    );
    let r = get(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/?status=draft"),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    let r = get(
        &app,
        &format!("/rest/v1.1/sites/{sid}/posts/?status=draft"),
        Some(&as_user(&app, "editor")),
    )
    .await;
    assert_eq!(r.body["found"], 1);
});
