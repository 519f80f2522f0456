//! The read cache (SPEC §11): requests are answered from memory once a credential, site or body
//! has been seen, and never with anything older than the last change this instance has seen.

use crate::support::*;
use gatehouse_core::clock::Clock;
use gatehouse_testkit::{both, TestApp};

/// `gatehouse_cache_hits_total` from `/metrics`.
async fn hits(app: &TestApp) -> f64 {
    let m = get(app, "/metrics", None).await;
    m.text
        .lines()
        .find_map(|l| l.strip_prefix("gatehouse_cache_hits_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

both!(
    answers_from_memory_and_follows_every_change,
    |app: TestApp| async move {
        let (id, key) = app.api_key(app.user_key_spec("editor")).await;
        // The set-up's own writes (users, roles, the site) are seen before counting.
        app.settle().await;
        let auth = format!("ApiKey {key}");
        let me = "/wp-json/wp/v2/users/me";
        let first = get(&app, me, Some(&auth)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let again = get(&app, me, Some(&auth)).await;
        assert_eq!(again.text, first.text, "the kept body is the body");
        // The site, the key and the body come from memory. (The cache answers only within a
        // second of its last read of the counter, which a loaded test machine can delay: the
        // check is made just after one, a few times.)
        let mut from_memory = false;
        for _ in 0..5 {
            app.settle().await;
            let before = hits(&app).await;
            assert_eq!(get(&app, me, Some(&auth)).await.text, first.text);
            if hits(&app).await >= before + 3.0 {
                from_memory = true;
                break;
            }
        }
        assert!(from_memory, "users/me is answered from memory");
        // `_fields` applies to a kept body too.
        let r = get(&app, &format!("{me}?_fields=id,name"), Some(&auth)).await;
        assert_eq!(r.body.as_object().unwrap().len(), 2, "{}", r.text);
        assert_eq!(r.body["id"], first.body["id"]);

        // A change to what the body is made from (the site's URL, committed by another writer)
        // is in the next body once this instance has seen the counter move.
        let patch =
            gatehouse_core::admin::site_patch(None, Some("https://moved.example"), None).unwrap();
        gatehouse_core::admin::update_site(&*app.store, app.site.id, &patch)
            .await
            .unwrap();
        app.settle().await;
        let moved = get(&app, me, Some(&auth)).await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        assert!(
            moved.body["link"]
                .as_str()
                .unwrap()
                .starts_with("https://moved.example/author/"),
            "{}",
            moved.text
        );

        // A revocation made through this instance is in force for the very next request.
        let r = send(
            &app,
            axum::http::Method::DELETE,
            &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
            Some(&as_user(&app, "editor")),
            None,
        )
        .await;
        assert!(r.status.is_success(), "{} {}", r.status, r.text);
        assert_eq!(get(&app, me, Some(&auth)).await.status, 401);
    }
);

both!(
    a_write_never_uses_a_credential_revoked_elsewhere,
    |app: TestApp| async move {
        let (id, key) = app.api_key(app.user_key_spec("editor")).await;
        app.settle().await;
        let auth = format!("ApiKey {key}");
        let me = "/wp-json/wp/v2/users/me";
        for _ in 0..3 {
            assert_eq!(get(&app, me, Some(&auth)).await.status, 200);
        }
        // Revoked by another writer (the CLI, another instance): a read may still be answered
        // from memory for up to a second, a write is not.
        app.store
            .revoke_api_key(gatehouse_core::model::ApiKeyId(id), app.clock.now())
            .await
            .unwrap();
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&auth),
            serde_json::json!({"title": "after the revocation", "status": "publish"}),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
);

both!(
    without_the_cache_every_request_reads_the_database,
    settings = |s: &mut gatehouse_server::config::Settings| s.cache = false,
    |app: TestApp| async move {
        let (_, key) = app.api_key(app.user_key_spec("editor")).await;
        let auth = format!("ApiKey {key}");
        for _ in 0..3 {
            assert_eq!(
                get(&app, "/wp-json/wp/v2/users/me", Some(&auth))
                    .await
                    .status,
                200
            );
        }
        assert_eq!(hits(&app).await, 0.0);
        // A change by another writer is seen at once: there is nothing to drop.
        app.store
            .set_user_disabled(app.user("editor").user.id, true)
            .await
            .unwrap();
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&auth))
                .await
                .status,
            401
        );
    }
);

/// Titles in a posts list answer.
fn titles(r: &Resp) -> Vec<String> {
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|p| p["title"]["rendered"].as_str().unwrap().to_string())
        .collect()
}

both!(
    lists_are_kept_until_their_content_changes,
    |app: TestApp| async move {
        let posts = "/wp-json/wp/v2/posts?per_page=10";
        let editor = as_user(&app, "editor");
        let made = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&editor),
            serde_json::json!({"title": "First", "status": "publish"}),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.text);
        // A post made through this instance is in the very next list.
        let first = get(&app, posts, None).await;
        assert_eq!(titles(&first), ["First"]);
        assert_eq!(first.header("x-wp-total"), Some("1"));

        // Kept: the same answer, from memory (the site and the list).
        let mut from_memory = false;
        for _ in 0..5 {
            app.settle().await;
            let before = hits(&app).await;
            let again = get(&app, posts, None).await;
            assert_eq!(again.text, first.text);
            assert_eq!(again.header("x-wp-total"), Some("1"));
            if hits(&app).await >= before + 2.0 {
                from_memory = true;
                break;
            }
        }
        assert!(from_memory, "the posts list is answered from memory");

        // Who may see what is decided on every request, not kept with the answer.
        let draft = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&editor),
            serde_json::json!({"title": "Editor's draft", "status": "draft"}),
        )
        .await;
        assert_eq!(draft.status, 201, "{}", draft.text);
        let drafts = "/wp-json/wp/v2/posts?status=draft";
        let seen = get(&app, drafts, Some(&editor)).await;
        assert_eq!(titles(&seen), ["Editor's draft"]);
        assert_ne!(get(&app, drafts, None).await.status, 200);
        let contributor = get(&app, drafts, Some(&as_user(&app, "contributor"))).await;
        assert_eq!(contributor.status, 200, "{}", contributor.text);
        assert!(titles(&contributor).is_empty(), "{}", contributor.text);
        // `_fields` applies to a kept list too.
        let fields = get(&app, &format!("{posts}&_fields=id"), None).await;
        assert_eq!(
            fields.body[0].as_object().unwrap().len(),
            1,
            "{}",
            fields.text
        );

        // Warm a credential, then change content through another writer: the list follows
        // once this instance has seen the content counter move, and the credential stays kept.
        let (_, key) = app.api_key(app.user_key_spec("author")).await;
        let auth = format!("ApiKey {key}");
        app.settle().await;
        let me = "/wp-json/wp/v2/users/me";
        assert_eq!(get(&app, me, Some(&auth)).await.status, 200);
        let new = gatehouse_core::model::NewPost {
            site_id: app.site.id,
            author_id: app.user("author").user.id,
            title: "Elsewhere".into(),
            content: "written by another instance".into(),
            excerpt: String::new(),
            slug: "elsewhere".into(),
            status: gatehouse_core::model::PostStatus::Publish,
            comments_open: true,
            unfiltered: false,
        };
        app.store.insert_post(&new, app.clock.now()).await.unwrap();
        app.settle().await;
        let before = hits(&app).await;
        assert_eq!(get(&app, me, Some(&auth)).await.status, 200);
        assert!(
            hits(&app).await >= before + 3.0,
            "a post does not drop the credentials, sites and bodies kept"
        );
        let after = get(&app, posts, None).await;
        assert_eq!(titles(&after), ["Elsewhere", "First"]);
        assert_eq!(after.header("x-wp-total"), Some("2"));
    }
);

both!(
    the_sites_list_follows_memberships,
    |app: TestApp| async move {
        let editor = as_user(&app, "editor");
        let first = get(&app, "/v1/sites", Some(&editor)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert_eq!(first.body["count"], 1, "{}", first.text);
        assert_eq!(get(&app, "/v1/sites", Some(&editor)).await.text, first.text);
        // Another writer gives editor a second site: listed once the counter is seen.
        let now = app.clock.now();
        let owner = app.user("editor").user.id;
        gatehouse_core::admin::add_site(
            &*app.store,
            "Second",
            "https://second.example",
            owner,
            now,
        )
        .await
        .unwrap();
        app.settle().await;
        let after = get(&app, "/v1/sites", Some(&editor)).await;
        assert_eq!(after.body["count"], 2, "{}", after.text);
        // Another user's list is their own.
        let author = get(&app, "/v1/sites", Some(&as_user(&app, "author"))).await;
        assert_eq!(author.body["count"], 1, "{}", author.text);
    }
);

both!(large_list_answers_are_not_kept, |app: TestApp| async move {
    let editor = as_user(&app, "editor");
    // Five posts of 60 kB: a list of them is larger than a kept answer may be.
    for n in 0..5 {
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&editor),
            serde_json::json!({"title": format!("Big {n}"), "status": "publish",
                    "content": "x".repeat(60_000)}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let lists = |path: &'static str| {
        let app = &app;
        async move {
            let mut gained: f64 = 0.0;
            for _ in 0..5 {
                app.settle().await;
                assert_eq!(get(app, path, None).await.status, 200);
                let before = hits(app).await;
                assert_eq!(get(app, path, None).await.status, 200);
                gained = gained.max(hits(app).await - before);
            }
            gained
        }
    };
    // A small page is kept (the site and the list from memory), a large one is not (only
    // the site).
    assert_eq!(lists("/wp-json/wp/v2/posts?per_page=1").await, 2.0);
    assert_eq!(lists("/wp-json/wp/v2/posts?per_page=5").await, 1.0);
});
