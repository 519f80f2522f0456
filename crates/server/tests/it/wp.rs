//! The WordPress dialect against the transcript shapes (sections A, B) and WordPress's
//! capability rules, per role, on both databases.

use crate::support::*;
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{both, TestApp};
use serde_json::json;

both!(
    anonymous_requests_match_section_b,
    |app: TestApp| async move {
        // 23: GET posts without auth → 200 with pagination headers.
        let r = get(
            &app,
            "/?rest_route=/wp/v2/posts&per_page=1&_fields=id,title",
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-wp-total"), Some("0"));
        assert_eq!(r.header("allow"), Some("GET"));
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        assert_eq!(r.header("vary"), Some("Origin"));
        assert_eq!(
            r.header("link"),
            Some(format!("<{}/wp-json/>; rel=\"https://api.w.org/\"", app.base_url).as_str())
        );
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("X-WP-Total, X-WP-TotalPages, Link")
        );
        assert!(
            r.header("cache-control").is_none(),
            "anonymous answers are cacheable, as WordPress's"
        );
        // 20: POST posts without auth.
        let r = post(
            &app,
            "/?rest_route=/wp/v2/posts",
            None,
            json!({"title":"x"}),
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.body,
            json!({"code":"rest_cannot_create","message":"Sorry, you are not allowed to create posts as this user.","data":{"status":401}})
        );
        assert_eq!(
            r.all("www-authenticate"),
            vec![r#"Bearer realm="gatehouse""#, r#"ApiKey realm="gatehouse""#]
        );
        // 21, 22: users/me without auth, both path forms.
        for path in [
            "/?rest_route=/wp/v2/users/me",
            "/wp-json/wp/v2/users/me",
            "/wp-json/wp/v2/users/me/",
        ] {
            let r = get(&app, path, None).await;
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(
                r.body,
                json!({"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}})
            );
        }
        // 24, 25: a nonce without a session → 403 even on a public route.
        let r = app
            .http()
            .get(app.url("/?rest_route=/wp/v2/posts&per_page=1"))
            .header("x-wp-nonce", "deadbeef00")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            b,
            json!({"code":"rest_cookie_invalid_nonce","message":"Cookie check failed","data":{"status":403}})
        );
        let r = get(&app, "/?rest_route=/wp/v2/posts&_wpnonce=deadbeef00", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_cookie_invalid_nonce")
        );
        // Unknown route.
        let r = get(&app, "/wp-json/wp/v2/nope", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "rest_no_route"));
    }
);

both!(
    basic_header_edge_cases_section_a,
    |app: TestApp| async move {
        let admin = app.user("siteadmin");
        // 2, 15: valid, scheme case-insensitive; 4: by email.
        for auth in [
            admin.basic(),
            admin.basic().replacen("Basic", "basic", 1),
            gatehouse_testkit::basic("siteadmin@example.com", &admin.password),
        ] {
            let r = get(&app, "/wp-json/wp/v2/users/me", Some(&auth)).await;
            assert_eq!(r.status, 200, "{auth}");
            assert_eq!(r.body["id"], admin.user.id.0);
            assert_eq!(
                r.header("cache-control"),
                Some("no-cache, must-revalidate, max-age=0")
            );
        }
        // 5-8 (deliberate difference): wrong password and unknown user are one 401.
        let wrong = get(
            &app,
            "/?rest_route=/wp/v2/posts",
            Some(&gatehouse_testkit::basic(
                "siteadmin",
                "abcd efgh ijkl mnop",
            )),
        )
        .await;
        let unknown = get(
            &app,
            "/?rest_route=/wp/v2/posts",
            Some(&gatehouse_testkit::basic(
                "nosuchuser",
                "abcd efgh ijkl mnop",
            )),
        )
        .await;
        let unknown_email = get(
            &app,
            "/?rest_route=/wp/v2/posts",
            Some(&gatehouse_testkit::basic("nobody@example.com", "x")),
        )
        .await;
        for r in [&wrong, &unknown, &unknown_email] {
            assert_eq!(r.status, 401);
            assert_eq!(r.code(), "incorrect_password");
            assert_eq!(r.body["message"], wrong.body["message"], "no enumeration");
            assert_eq!(
                r.all("www-authenticate"),
                vec![
                    r#"Bearer realm="gatehouse""#,
                    r#"ApiKey realm="gatehouse""#,
                    r#"Basic realm="gatehouse", charset="UTF-8""#
                ]
            );
        }
        // 9, 10: invalid base64 is malformed: 400, not anonymous.
        let r = get(
            &app,
            "/?rest_route=/wp/v2/posts",
            Some("Basic !!!not-base64!!!"),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "rest_invalid_authorization_header")
        );
        // 11-13, 16: no colon, empty, ":" and an extra colon are failed credentials.
        for cred in [
            "Basic YWRtaW4=",
            "Basic ",
            "Basic Og==",
            &gatehouse_testkit::basic("siteadmin", &format!("{}:x", admin.password)),
        ] {
            let r = get(&app, "/?rest_route=/wp/v2/users/me", Some(cred)).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (401, "incorrect_password"),
                "{cred}"
            );
        }
        // 14: a bearer token that is not ours.
        let r = get(
            &app,
            "/?rest_route=/wp/v2/users/me",
            Some("Bearer abc.def.ghi"),
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.all("www-authenticate")[0],
            r#"Bearer realm="gatehouse", error="invalid_token""#
        );
        // An unknown scheme: the key plugin's body.
        let r = get(&app, "/wp-json/wp/v2/posts", Some("Digest abc")).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["error"], "INVALID_AUTHORIZATION_HEADER_TOKEN_TYPE");
        assert_eq!(r.body["code"], "401");
        // Two Authorization headers → 400; a 10 KB value → 400; non-UTF-8 bytes → 400.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", admin.basic())
                .header("authorization", admin.basic()),
        )
        .await;
        assert_eq!(r.status, 400);
        let big = format!("Basic {}", "A".repeat(10 * 1024));
        let r = get(&app, "/wp-json/wp/v2/posts", Some(&big)).await;
        assert_eq!(r.status, 400);
        let raw =
            gatehouse_testkit::reqwest::header::HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap();
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", raw),
        )
        .await;
        assert_eq!(r.status, 400);
        // 17: a valid credential with a garbage nonce: the header wins, the nonce is ignored.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", admin.basic())
                .header("x-wp-nonce", "garbage"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("allow"), Some("GET, POST"));
        // Credentials in the query string are refused.
        let r = get(&app, "/wp-json/wp/v2/posts?access_token=abc", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "rest_credentials_in_query")
        );
    }
);

both!(
    posts_follow_wordpress_capabilities,
    |app: TestApp| async move {
        let create = |login: &'static str, status: &'static str| {
            let auth = as_user(&app, login);
            let app = &app;
            async move {
                post(app, "/wp-json/wp/v2/posts", Some(&auth), json!({"title": format!("{login} {status}"), "status": status, "content": "<p>Body</p>"})).await
            }
        };
        // Subscriber: cannot create. Contributor: drafts only. Author and editor: publish.
        let r = create("subscriber", "draft").await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_create"));
        let r = create("contributor", "publish").await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_publish"));
        let draft = create("contributor", "draft").await;
        assert_eq!(draft.status, 201);
        assert_eq!(draft.body["status"], "draft");
        assert_eq!(draft.body["title"]["raw"], "contributor draft");
        let draft_id = draft.body["id"].as_i64().unwrap();
        assert_eq!(
            draft.header("location"),
            Some(format!("{}/wp-json/wp/v2/posts/{draft_id}", app.base_url).as_str())
        );
        let by_author = create("author", "publish").await;
        assert_eq!(by_author.status, 201);
        assert_eq!(by_author.body["slug"], "author-publish");
        let author_post = by_author.body["id"].as_i64().unwrap();
        let outsider = create("outsider", "draft").await;
        assert_eq!(
            (outsider.status.as_u16(), outsider.code()),
            (403, "rest_cannot_create")
        );

        // Reading: the draft is hidden from anonymous and other contributors, visible to editors.
        let path = format!("/wp-json/wp/v2/posts/{draft_id}");
        assert_eq!(get(&app, &path, None).await.status, 401);
        assert_eq!(
            get(&app, &path, Some(&as_user(&app, "author")))
                .await
                .status,
            403
        );
        let r = get(&app, &path, Some(&as_user(&app, "editor"))).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("allow"), Some("GET, POST, PUT, PATCH, DELETE"));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts/999999", None).await.code(),
            "rest_post_invalid_id"
        );

        // Editing: an author may not edit another's post; an editor may.
        let ppath = format!("/wp-json/wp/v2/posts/{author_post}");
        let r = send(
            &app,
            Method::PUT,
            &path,
            Some(&as_user(&app, "author")),
            Some(json!({"title":"mine now"})),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_edit"));
        let r = send(
            &app,
            Method::PATCH,
            &ppath,
            Some(&as_user(&app, "editor")),
            Some(json!({"title":"Edited"})),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["title"]["raw"], "Edited");
        // The author can edit their own published post and sees the Allow header say so.
        let r = post(
            &app,
            &ppath,
            Some(&as_user(&app, "author")),
            json!({"content":"new body"}),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["content"]["raw"], "new body");
        // A contributor may not publish their draft by editing it.
        let r = post(
            &app,
            &path,
            Some(&as_user(&app, "contributor")),
            json!({"status":"publish"}),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_publish"));
        // Creating as another author needs edit_others_posts.
        let editor_id = app.user("editor").user.id.0;
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&as_user(&app, "author")),
            json!({"title":"x","author": editor_id}),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_cannot_edit_others")
        );

        // Deleting: trash, then 410, then force (19).
        let r = send(
            &app,
            Method::DELETE,
            &ppath,
            Some(&as_user(&app, "contributor")),
            None,
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_delete"));
        let r = send(
            &app,
            Method::DELETE,
            &ppath,
            Some(&as_user(&app, "author")),
            None,
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["status"].as_str()),
            (200, Some("trash"))
        );
        let r = send(
            &app,
            Method::DELETE,
            &ppath,
            Some(&as_user(&app, "author")),
            None,
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (410, "rest_already_trashed"));
        let r = send(
            &app,
            Method::DELETE,
            &format!("/?rest_route=/wp/v2/posts/{author_post}&force=true&_fields=deleted"),
            Some(&as_user(&app, "siteadmin")),
            None,
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), &r.body),
            (200, &json!({"deleted": true}))
        );
        assert_eq!(
            get(&app, &ppath, Some(&as_user(&app, "siteadmin")))
                .await
                .status,
            404
        );
    }
);

both!(
    listing_pages_filters_and_statuses,
    |app: TestApp| async move {
        let editor = as_user(&app, "editor");
        for i in 1..=5 {
            let r = post(
                &app,
                "/wp-json/wp/v2/posts",
                Some(&editor),
                json!({"title": format!("Post {i}"), "status":"publish"}),
            )
            .await;
            assert_eq!(r.status, 201);
            app.clock.advance(60);
        }
        post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&as_user(&app, "contributor")),
            json!({"title":"Hidden draft"}),
        )
        .await;
        let r = get(&app, "/wp-json/wp/v2/posts?per_page=2&page=2", None).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            (r.header("x-wp-total"), r.header("x-wp-totalpages")),
            (Some("5"), Some("3"))
        );
        let titles: Vec<_> = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"]["rendered"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(titles, vec!["Post 3", "Post 2"], "newest first");
        let link = r.header("link").unwrap().to_string();
        assert!(
            link.contains(&format!(
                "<{}/wp-json/wp/v2/posts?per_page=2&page=1>; rel=\"prev\"",
                app.base_url
            )),
            "{link}"
        );
        assert!(link.contains("page=3>; rel=\"next\""), "{link}");
        let r = get(&app, "/wp-json/wp/v2/posts?per_page=2&page=9", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "rest_post_invalid_page_number")
        );
        let r = get(&app, "/wp-json/wp/v2/posts?per_page=101", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "rest_invalid_param"));
        assert!(r.body["data"]["params"]["per_page"].is_string());
        let r = get(&app, "/wp-json/wp/v2/posts?search=post%204", None).await;
        assert_eq!(r.header("x-wp-total"), Some("1"));
        // Drafts: forbidden to anonymous, own-only for contributors, all for editors.
        let r = get(&app, "/wp-json/wp/v2/posts?status=draft", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "rest_forbidden_status")
        );
        let r = get(
            &app,
            "/wp-json/wp/v2/posts?status=draft",
            Some(&as_user(&app, "subscriber")),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_forbidden_status")
        );
        let r = get(
            &app,
            "/wp-json/wp/v2/posts?status=draft",
            Some(&as_user(&app, "author")),
        )
        .await;
        assert_eq!(r.header("x-wp-total"), Some("0"));
        let r = get(
            &app,
            "/wp-json/wp/v2/posts?status=draft&context=edit",
            Some(&editor),
        )
        .await;
        assert_eq!(r.header("x-wp-total"), Some("1"));
        assert_eq!(r.body[0]["title"]["raw"], "Hidden draft");
        let r = get(&app, "/wp-json/wp/v2/posts?context=edit", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "rest_forbidden_context")
        );
    }
);

both!(
    bodies_json_form_multipart_and_bad,
    |app: TestApp| async move {
        let auth = as_user(&app, "editor");
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts/"))
                .header("authorization", &auth)
                .form(&[("title", "From a form"), ("status", "publish")]),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["title"]["raw"].as_str()),
            (201, Some("From a form"))
        );
        let form = gatehouse_testkit::reqwest::multipart::Form::new()
            .text("title", "From multipart")
            .text("status", "draft");
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", &auth)
                .multipart(form),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["title"]["raw"].as_str()),
            (201, Some("From multipart"))
        );
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "rest_invalid_json"));
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body("[1,2]"),
        )
        .await;
        assert_eq!(r.status, 400);
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", &auth)
                .header("content-type", "text/csv")
                .body("a,b"),
        )
        .await;
        assert_eq!(r.status, 415);
        let big = "x".repeat(2 << 20);
        let r = finish(
            app.http()
                .post(app.url("/wp-json/wp/v2/posts"))
                .header("authorization", &auth)
                .json(&json!({"title": big})),
        )
        .await;
        assert_eq!(r.status, 413);
        // WordPress's method override.
        let id = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&auth),
            json!({"title":"to delete"}),
        )
        .await
        .body["id"]
            .as_i64()
            .unwrap();
        let r = finish(
            app.http()
                .post(app.url(&format!("/wp-json/wp/v2/posts/{id}?force=true")))
                .header("authorization", &auth)
                .header("x-http-method-override", "DELETE"),
        )
        .await;
        assert_eq!(r.body["deleted"], true);
    }
);

both!(users_and_index, |app: TestApp| async move {
    // Anonymous see only authors of published posts.
    let r = get(&app, "/wp-json/wp/v2/users", None).await;
    assert_eq!(
        (r.status.as_u16(), r.header("x-wp-total")),
        (200, Some("0"))
    );
    post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "author")),
        json!({"title":"p","status":"publish"}),
    )
    .await;
    let r = get(&app, "/wp-json/wp/v2/users", None).await;
    assert_eq!(r.header("x-wp-total"), Some("1"));
    assert_eq!(r.body[0]["slug"], "author");
    assert!(r.body[0].get("email").is_none());
    let r = get(
        &app,
        "/wp-json/wp/v2/users?context=edit",
        Some(&as_user(&app, "editor")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_forbidden_context")
    );
    let r = get(
        &app,
        "/wp-json/wp/v2/users?context=edit&per_page=100",
        Some(&as_user(&app, "siteadmin")),
    )
    .await;
    assert_eq!(r.header("x-wp-total"), Some("6"));
    let editor = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "editor")
        .unwrap()
        .clone();
    assert_eq!(editor["roles"], json!(["editor"]));
    assert_eq!(editor["capabilities"]["edit_others_posts"], true);
    // users/me in edit context shows the user's own role.
    let r = get(
        &app,
        "/wp-json/wp/v2/users/me?context=edit",
        Some(&as_user(&app, "contributor")),
    )
    .await;
    assert_eq!(r.body["roles"], json!(["contributor"]));
    assert_eq!(r.body["capabilities"].get("publish_posts"), None);
    // A user with no published post is not visible to anonymous visitors.
    let sub = app.user("subscriber").user.id.0;
    assert_eq!(
        get(&app, &format!("/wp-json/wp/v2/users/{sub}"), None)
            .await
            .code(),
        "rest_user_cannot_view"
    );
    assert_eq!(
        get(
            &app,
            &format!("/wp-json/wp/v2/users/{sub}"),
            Some(&as_user(&app, "subscriber"))
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(
            &app,
            "/wp-json/wp/v2/users/424242",
            Some(&as_user(&app, "siteadmin"))
        )
        .await
        .code(),
        "rest_user_invalid_id"
    );
    // The index names the site and lists the enabled authentication.
    let r = get(&app, "/wp-json/", None).await;
    assert_eq!(r.body["name"], "Test Site");
    assert_eq!(r.body["url"], app.base_url);
    assert_eq!(
        r.body["authentication"]["basic"],
        json!({"account_password": true})
    );
    assert_eq!(
        r.body["authentication"]["api-key"]["schemes"],
        json!(["ApiKey", "Bearer"])
    );
    assert!(r.body["authentication"]["application-passwords"].is_object());
    assert!(r.body["routes"]["/wp/v2/posts"]["methods"].is_array());
    assert_eq!(
        get(&app, "/?rest_route=/", None).await.body["name"],
        "Test Site"
    );
});

both!(comments_list_and_create, |app: TestApp| async move {
    let pid = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "author")),
        json!({"title":"c","status":"publish"}),
    )
    .await
    .body["id"]
        .as_i64()
        .unwrap();
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        None,
        json!({"post": pid, "content": "hi"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "rest_comment_login_required")
    );
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "subscriber")),
        json!({"post": pid, "content": "held"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["status"].as_str()),
        (201, Some("hold"))
    );
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "editor")),
        json!({"post": pid, "content": "approved"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["status"].as_str()),
        (201, Some("approved"))
    );
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "subscriber")),
        json!({"post": pid, "content": ""}),
    )
    .await;
    assert_eq!(r.code(), "rest_comment_content_invalid");
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "subscriber")),
        json!({"post": pid, "content": "x", "status": "approved"}),
    )
    .await;
    assert_eq!(r.code(), "rest_comment_invalid_status");
    let r = get(&app, &format!("/wp-json/wp/v2/comments?post={pid}"), None).await;
    assert_eq!(r.header("x-wp-total"), Some("1"));
    assert_eq!(r.body[0]["content"]["rendered"], "<p>approved</p>\n");
    let r = get(
        &app,
        "/wp-json/wp/v2/comments?status=hold",
        Some(&as_user(&app, "subscriber")),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "rest_forbidden_param"));
    let r = get(
        &app,
        "/wp-json/wp/v2/comments?status=hold",
        Some(&as_user(&app, "editor")),
    )
    .await;
    assert_eq!(r.header("x-wp-total"), Some("1")); // Once the post is unpublished, visitors no longer see its comments; moderators still do.
    let editor = as_user(&app, "editor");
    let r = send(
        &app,
        Method::POST,
        &format!("/wp-json/wp/v2/posts/{pid}"),
        Some(&editor),
        Some(json!({"status":"draft"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&app, "/wp-json/wp/v2/comments", None)
            .await
            .header("x-wp-total"),
        Some("0")
    );
    assert_eq!(
        get(&app, "/wp-json/wp/v2/comments", Some(&editor))
            .await
            .header("x-wp-total"),
        Some("1")
    );
    assert_eq!(
        get(&app, &format!("/wp-json/wp/v2/comments?post={pid}"), None)
            .await
            .status,
        401
    );
});

both!(require_auth_sites_and_cors, |app: TestApp| async move {
    // CORS: another origin is echoed without credentials; the site's own origin gets them.
    let r = finish(
        app.http()
            .get(app.url("/wp-json/wp/v2/posts"))
            .header("origin", "https://app.example"),
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let r = finish(
        app.http()
            .get(app.url("/wp-json/wp/v2/posts"))
            .header("origin", app.base_url.as_str()),
    )
    .await;
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = finish(
        app.http()
            .get(app.url("/wp-json/wp/v2/posts"))
            .header("origin", "null"),
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = finish(
        app.http()
            .request(Method::OPTIONS, app.url("/wp-json/wp/v2/posts"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization"),
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(r.header("vary"), Some("Origin"));
    // Pages are not CORS-enabled.
    let r = finish(
        app.http()
            .get(app.url("/healthz"))
            .header("origin", "https://app.example"),
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);

    // A site that requires authentication refuses anonymous requests with the plugin's body.
    let patch = gatehouse_core::admin::site_patch(None, None, Some(true)).unwrap();
    gatehouse_core::admin::update_site(&*app.store, app.site.id, &patch)
        .await
        .unwrap();
    app.settle().await;
    let r = get(&app, "/wp-json/wp/v2/posts", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "MISSING_AUTHORIZATION_HEADER");
    assert_eq!(r.body["status"], "error");
    assert_eq!(
        get(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&as_user(&app, "subscriber"))
        )
        .await
        .status,
        200
    );
});
