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
