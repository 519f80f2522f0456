//! Regression tests for the fourteen defects of the hardening issue, each written as the attack
//! that found it and asserting that it now fails closed. Every test runs on both databases.

use crate::sessions::{csrf_of, log_in, page_as, set_cookie, submit};
use crate::support::*;
use gatehouse_core::admin::{self, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::credentials::ApiKeySpec;
use gatehouse_core::model::{ApiKeyKind, Scope, Site, User};
use gatehouse_server::Settings;
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{basic, both, TestApp};
use serde_json::json;

const PROXY: &str = "127.0.0.1/32";

fn behind_proxy(s: &mut Settings) {
    s.trusted_proxies = vec![PROXY.parse().unwrap()];
}

async fn add_user(app: &TestApp, login: &str) -> User {
    admin::add_user(
        &*app.store,
        &UserSpec {
            login: login.into(),
            email: format!("{login}@example.com"),
            display_name: None,
            password: format!("pw-{login}-secret"),
            network_admin: false,
        },
        app.clock_now(),
    )
    .await
    .unwrap()
}

/// A second site with its own administrator (`site2admin`) and a member (`site2user`).
async fn second_site(app: &TestApp) -> (Site, User, User) {
    let owner = add_user(app, "site2admin").await;
    let member = add_user(app, "site2user").await;
    let site = admin::add_site(
        &*app.store,
        "Second",
        "https://site2.example",
        owner.id,
        app.clock_now(),
    )
    .await
    .unwrap();
    admin::set_member(&*app.store, site.id, owner.id, Role::Administrator)
        .await
        .unwrap();
    admin::set_member(&*app.store, site.id, member.id, Role::Subscriber)
        .await
        .unwrap();
    app.settle().await;
    (site, owner, member)
}

trait Now {
    fn clock_now(&self) -> i64;
}
impl Now for TestApp {
    fn clock_now(&self) -> i64 {
        use gatehouse_core::clock::Clock;
        self.clock.now()
    }
}

// ---- 1. open redirect through a TAB ------------------------------------------------------

both!(
    redirects_with_control_characters_stay_home,
    |app: TestApp| async move {
        let pw = app.user("author").password.clone();
        for evil in [
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "\t//evil.example",
            "/\u{b}/evil.example",
            "/\\/evil.example",
            "http://127.0.0.1:1@evil.example/",
        ] {
            let (r, b) = log_in(&app, "author", &pw, evil).await;
            assert!(b.is_some(), "logged in");
            let loc = r.header("location").unwrap_or("");
            assert_eq!(loc, "/profile", "{evil:?} -> {loc:?}");
        }
        // Already logged in: the GET form follows redirect_to the same way.
        let (_, b) = log_in(&app, "author", &pw, "").await;
        let r = finish(
            app.http()
                .get(app.url("/login?redirect_to=/%09/evil.example/phish"))
                .header("cookie", &b.unwrap().cookie),
        )
        .await;
        assert_eq!(r.header("location"), Some("/profile"));
        // authorize-application refuses a callback with a control character in it.
        let (_, b) = log_in(&app, "author", &pw, "").await;
        let r = finish(
            app.http()
                .get(app.url(
                    "/wp-admin/authorize-application.php?app_name=x&success_url=https://app.example/%09cb",
                ))
                .header("cookie", &b.unwrap().cookie),
        )
        .await;
        assert_eq!(r.status, 400);
    }
);

// ---- 2. user enumeration through throttle keys ---------------------------------------------

both!(
    no_presented_name_reaches_an_accounts_throttle,
    |app: TestApp| async move {
        let editor = app.user("editor").clone();
        let id = editor.user.id.0;
        for name in [format!("#{id}"), format!("u:{id}"), format!("pair:u:{id}")] {
            for _ in 0..12 {
                let r = get(
                    &app,
                    "/wp-json/wp/v2/users/me",
                    Some(&basic(&name, "wrong")),
                )
                .await;
                assert!(r.status == 401 || r.status == 429, "{}", r.status);
            }
        }
        // The real account was never counted: its own password still works at once.
        let r = get(&app, "/wp-json/wp/v2/users/me", Some(&editor.basic())).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);

// ---- 3. client-address spoofing behind a trusted proxy ---------------------------------------

both!(
    a_proxy_that_sets_x_forwarded_for_passes_no_client_forwarded,
    settings = behind_proxy,
    |app: TestApp| async move {
        let auth = as_user(&app, "editor");
        // nginx appends the client's address to X-Forwarded-For and passes `Forwarded` through.
        let r = me_via_proxy(
            &app,
            &auth,
            &[
                ("forwarded", "for=127.0.0.1;proto=https"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
        assert_insecure(&r);
        // HAProxy adds a second X-Forwarded-For line after the client's own.
        let r = me_via_proxy(
            &app,
            &auth,
            &[
                ("x-forwarded-for", "127.0.0.1"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
        assert_insecure(&r);
        // A fresh `Forwarded: for=` per attempt does not escape the throttle.
        let mut statuses = Vec::new();
        for i in 0..15 {
            let fwd = format!("for=198.51.100.{i}");
            let r = me_via_proxy(
                &app,
                &basic("editor", "wrong"),
                &[
                    ("forwarded", &fwd),
                    ("x-forwarded-for", "203.0.113.9"),
                    ("x-forwarded-proto", "https"),
                ],
            )
            .await;
            statuses.push(r.status.as_u16());
        }
        assert_eq!(&statuses[..10], &[401; 10]);
        assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    }
);

/// `GET users/me` with `auth`, as a trusted proxy on 127.0.0.1 would forward it with `headers`.
async fn me_via_proxy(app: &TestApp, auth: &str, headers: &[(&str, &str)]) -> Resp {
    let mut rb = app
        .http()
        .get(app.url("/wp-json/wp/v2/users/me"))
        .header("authorization", auth);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    finish(rb).await
}

fn assert_insecure(r: &Resp) {
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_insecure_transport"),
        "{}",
        r.text
    );
}

both!(
    an_operator_trusting_forwarded_ignores_x_forwarded,
    settings = |s: &mut Settings| {
        behind_proxy(s);
        s.trusted_proxy_header = gatehouse_core::net::ProxyHeader::Forwarded;
    },
    |app: TestApp| async move {
        let auth = as_user(&app, "editor");
        let r = me_via_proxy(
            &app,
            &auth,
            &[
                ("x-forwarded-for", "127.0.0.1"),
                ("x-forwarded-proto", "https"),
                ("forwarded", "for=203.0.113.9"),
            ],
        )
        .await;
        assert_insecure(&r);
        let r = me_via_proxy(&app, &auth, &[("forwarded", "for=203.0.113.9;proto=https")]).await;
        assert_eq!(r.status, 200);
    }
);

// ---- 4. the __Host- prefix ------------------------------------------------------------------

both!(
    https_reads_only_host_prefixed_cookies,
    settings = behind_proxy,
    |app: TestApp| async move {
        let https = |rb: gatehouse_testkit::reqwest::RequestBuilder| {
            rb.header("x-forwarded-proto", "https")
        };
        let page = finish(https(app.http().get(app.url("/login")))).await;
        let pre = set_cookie(&page, "__Host-gatehouse_login").unwrap();
        let token = csrf_of(&page.text);
        let pw = app.user("editor").password.clone();
        let form = [
            ("log", "editor"),
            ("pwd", pw.as_str()),
            ("_csrf", token.as_str()),
        ];
        // A planted plain-named pre-session cookie is not read on https.
        let r = finish(https(
            app.http()
                .post(app.url("/login"))
                .header("cookie", format!("gatehouse_login={pre}"))
                .form(&form),
        ))
        .await;
        assert_eq!(r.status, 403);
        assert!(set_cookie(&r, "__Host-gatehouse_session").is_none());
        let r = finish(https(
            app.http()
                .post(app.url("/login"))
                .header("cookie", format!("__Host-gatehouse_login={pre}"))
                .form(&form),
        ))
        .await;
        assert_eq!(r.status, 303);
        let session = set_cookie(&r, "__Host-gatehouse_session").unwrap();
        // The session under the plain name (as a sibling subdomain could set it): not a session.
        let r = finish(https(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", format!("gatehouse_session={session}")),
        ))
        .await;
        assert_eq!(r.status, 303, "sent to log in");
        let r = finish(https(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", format!("__Host-gatehouse_session={session}")),
        ))
        .await;
        assert_eq!(r.status, 200);
    }
);

// ---- 5. users of other sites ----------------------------------------------------------------

both!(
    site_admins_see_only_their_sites_users,
    |app: TestApp| async move {
        let (_, _, member) = second_site(&app).await;
        let path = format!("/wp-json/wp/v2/users/{}", member.id.0);
        for q in ["", "?context=edit"] {
            let r = get(
                &app,
                &format!("{path}{q}"),
                Some(&as_user(&app, "siteadmin")),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (404, "rest_user_invalid_id"),
                "{q} {}",
                r.text
            );
            assert!(!r.text.contains("site2user@example.com"));
        }
        let r = get(
            &app,
            "/wp-json/wp/v2/users?per_page=100&context=edit",
            Some(&as_user(&app, "siteadmin")),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(!r.text.contains("site2user"), "{}", r.text);
        // Network admins and the user themselves still see them.
        let r = get(
            &app,
            &format!("{path}?context=edit"),
            Some(&as_user(&app, "netadmin")),
        )
        .await;
        assert_eq!(r.status, 200);
        let own = basic("site2user", "pw-site2user-secret");
        let r = get(&app, &format!("{path}?context=edit"), Some(&own)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["email"], "site2user@example.com");
    }
);

// ---- 6. site keys and their creator -----------------------------------------------------------

async fn make_site_key(app: &TestApp, creator: &str) -> (i64, String) {
    let r = post(
        app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&as_user(app, creator)),
        json!({"type": "site", "site": app.site.id.0.to_string(), "description": "reader"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.body["id"].as_i64().unwrap(),
        r.body["key"].as_str().unwrap().to_string(),
    )
}

both!(
    site_keys_live_with_their_creators_role,
    |app: TestApp| async move {
        admin::update_site(
            &*app.store,
            app.site.id,
            &gatehouse_core::model::SitePatch {
                require_auth: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        app.settle().await;
        let admin2 = add_user(&app, "admin2").await;
        admin::set_member(&*app.store, app.site.id, admin2.id, Role::Administrator)
            .await
            .unwrap();
        app.settle().await;
        let reads = |key: String| {
            let app = &app;
            async move {
                get(app, "/wp-json/wp/v2/posts", Some(&format!("ApiKey {key}")))
                    .await
                    .status
                    .as_u16()
            }
        };
        let (id, key) = make_site_key(&app, "siteadmin").await;
        assert_eq!(reads(key.clone()).await, 200);

        // Another administrator of the site lists and revokes it.
        let a2 = basic("admin2", "pw-admin2-secret");
        let r = get(
            &app,
            &format!("/wp-json/gatehouse/v1/api-keys?site={}", app.site.id.0),
            Some(&a2),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.body.as_array().unwrap().iter().any(|k| k["id"] == id));
        // Someone who is not an administrator there may not.
        let r = get(
            &app,
            &format!("/wp-json/gatehouse/v1/api-keys?site={}", app.site.id.0),
            Some(&as_user(&app, "editor")),
        )
        .await;
        assert_eq!(r.status, 403);
        let r = send(
            &app,
            Method::DELETE,
            &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
            Some(&as_user(&app, "editor")),
            None,
        )
        .await;
        assert_eq!(r.status, 404);
        let r = send(
            &app,
            Method::DELETE,
            &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
            Some(&a2),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(reads(key).await, 401);

        // Demoting the creator ends their site keys; restoring the role restores them.
        let (_, key) = make_site_key(&app, "siteadmin").await;
        let siteadmin = app.user("siteadmin").user.id;
        admin::set_member(&*app.store, app.site.id, siteadmin, Role::Subscriber)
            .await
            .unwrap();
        app.settle().await;
        assert_eq!(reads(key.clone()).await, 401);
        admin::set_member(&*app.store, app.site.id, siteadmin, Role::Administrator)
            .await
            .unwrap();
        app.settle().await;
        assert_eq!(reads(key.clone()).await, 200);
        // Disabling the creator ends them too.
        app.store.set_user_disabled(siteadmin, true).await.unwrap();
        app.settle().await;
        assert_eq!(reads(key).await, 401);
    }
);

// ---- 7. sites that require authentication are private ----------------------------------------

both!(
    private_sites_are_read_only_by_members,
    |app: TestApp| async move {
        admin::update_site(
            &*app.store,
            app.site.id,
            &gatehouse_core::model::SitePatch {
                require_auth: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        app.settle().await;
        for (login, wp, wpcom) in [
            ("outsider", 403, 403),
            ("subscriber", 200, 200),
            ("netadmin", 200, 200),
        ] {
            let auth = as_user(&app, login);
            let r = get(&app, "/wp-json/wp/v2/posts", Some(&auth)).await;
            assert_eq!(r.status, wp, "{login} {}", r.text);
            let r = get(
                &app,
                &format!("/rest/v1/sites/{}/posts/", app.site.id.0),
                Some(&auth),
            )
            .await;
            assert_eq!(r.status, wpcom, "{login} {}", r.text);
        }
        let r = get(&app, "/wp-json/wp/v2/posts", None).await;
        assert_eq!(r.status, 401);
    }
);

// ---- 8. site URLs and credentialed CORS ----------------------------------------------------------

both!(
    only_network_admins_move_sites_and_cors_credentials_stay_home,
    |app: TestApp| async move {
        let (site2, owner2, _) = second_site(&app).await;
        let _ = owner2;
        let path = format!("/v1/sites/{}", app.site.id.0);
        let r = send(
            &app,
            Method::PATCH,
            &path,
            Some(&as_user(&app, "siteadmin")),
            Some(json!({"url": "https://evil.example"})),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(
            app.store.get_site(app.site.id).await.unwrap().url,
            app.base_url
        );
        // Renaming stays theirs.
        let r = send(
            &app,
            Method::PATCH,
            &path,
            Some(&as_user(&app, "siteadmin")),
            Some(json!({"name": "Renamed"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = send(
            &app,
            Method::PATCH,
            &format!("/v1/sites/{}", site2.id.0),
            Some(&as_user(&app, "netadmin")),
            Some(json!({"url": "https://moved.example"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // Another registered site's origin gets CORS without credentials on this site.
        let cors = |origin: String| {
            let app = &app;
            async move {
                finish(
                    app.http()
                        .get(app.url("/wp-json/wp/v2/posts"))
                        .header("origin", origin),
                )
                .await
            }
        };
        let r = cors("https://moved.example".into()).await;
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://moved.example")
        );
        assert_eq!(r.header("access-control-allow-credentials"), None);
        let r = cors(app.base_url.clone()).await;
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    }
);

// ---- 9. site-limited API keys in the hosting API ------------------------------------------------

both!(
    site_limited_keys_stay_on_their_site,
    |app: TestApp| async move {
        second_site(&app).await;
        let netadmin = app.user("netadmin").user.id;
        let (_, key) = app
            .api_key(ApiKeySpec {
                kind: ApiKeyKind::User,
                user: Some(netadmin),
                site: Some(app.site.id),
                created_by: netadmin,
                description: "one site".into(),
                scopes: vec![Scope::SitesWrite.as_str().into()],
                methods: Vec::new(),
                expires_in: None,
            })
            .await;
        let auth = format!("Bearer {key}");
        let r = get(&app, "/v1/sites", Some(&auth)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["count"], 1);
        assert_eq!(r.body["results"][0]["id"], app.site.id.0.to_string());
        let r = post(
            &app,
            "/v1/sites",
            Some(&auth),
            json!({"name": "New", "url": "https://new.example"}),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(app
            .store
            .find_site_by_host("new.example")
            .await
            .unwrap()
            .is_none());
        let r = get(&app, "/v1/sites/2", Some(&auth)).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
);

// ---- 10. NUL bytes never reach the database ------------------------------------------------------

both!(nul_characters_are_a_400, |app: TestApp| async move {
    let r = get(
        &app,
        "/wp-json/wp/v2/posts?search=%E2%80%AE%F0%9F%98%80%00%EF%BF%BF",
        None,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "rest_invalid_param"));
    let r = get(&app, "/?rest_route=/wp/v2/posts%00", None).await;
    assert_eq!(r.status, 400);
    let r = get(
        &app,
        &format!("/rest/v1/sites/{}/posts/?search=a%00", app.site.id.0),
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"].is_string(), "{}", r.text);
    let r = get(&app, "/v1/sites?x=%00", Some(&as_user(&app, "netadmin"))).await;
    assert_eq!(r.status, 400);
    // A percent-encoded NUL in a path segment the dialect decodes (a site's domain).
    for path in ["/rest/v1/sites/x%00y", "/rest/v1.1/sites/1%00/posts/"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
    }
    // A NUL in a Basic user name is the one failure answer, before any look-up.
    for path in ["/wp-json/wp/v2/users/me", "/rest/v1/me", "/v1/sites"] {
        let r = get(&app, path, Some(&basic("ad\u{0}min", "wrong"))).await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
    }
    let (_, before) = app
        .store
        .list_posts(app.site.id, &all_posts())
        .await
        .unwrap();
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "editor")),
        json!({"title": "a\u{0}b", "content": {"raw": "x\u{0}"}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let (_, after) = app
        .store
        .list_posts(app.site.id, &all_posts())
        .await
        .unwrap();
    assert_eq!(before, after, "nothing written");
    // The log-in form with a NUL in the name: refused, not a 5xx.
    let page = get(&app, "/login", None).await;
    let pre = set_cookie(&page, "gatehouse_login").unwrap();
    let r = finish(
        app.http()
            .post(app.url("/login"))
            .header("cookie", format!("gatehouse_login={pre}"))
            .form(&[
                ("log", "edi\u{0}tor"),
                ("pwd", "x"),
                ("_csrf", &csrf_of(&page.text)),
            ]),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.status);
});

fn all_posts() -> gatehouse_core::model::PostFilter {
    gatehouse_core::model::PostFilter {
        statuses: gatehouse_core::model::PostStatus::ALL.to_vec(),
        search: None,
        author: None,
        nonpublic_only_by: None,
        offset: 0,
        limit: 100,
        order_asc: false,
    }
}

// ---- 11. HTML is sanitised for users without unfiltered_html ------------------------------------

both!(rendered_html_is_sanitised, |app: TestApp| async move {
    let dirty_title = "<script>alert(1)</script>Hello";
    let dirty_content =
        "<p>ok</p><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">l</a>";
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "contributor")),
        json!({"title": dirty_title, "content": dirty_content}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let clean = |v: &serde_json::Value| {
        let s = v.to_string();
        !s.contains("<script") && !s.contains("onerror") && !s.contains("javascript:")
    };
    assert!(clean(&r.body["title"]["rendered"]), "{}", r.body["title"]);
    assert!(
        clean(&r.body["content"]["rendered"]),
        "{}",
        r.body["content"]
    );
    assert!(r.body["content"]["rendered"]
        .as_str()
        .unwrap()
        .contains("<p>ok</p>"));
    assert_eq!(r.body["title"]["raw"], dirty_title, "raw kept as written");
    assert_eq!(r.body["content"]["raw"], dirty_content);

    // An editor publishes: sanitised in both dialects (only network admins hold unfiltered_html).
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "editor")),
        json!({"title": dirty_title, "content": dirty_content, "status": "publish"}),
    )
    .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_i64().unwrap();
    let r = get(&app, &format!("/wp-json/wp/v2/posts/{id}"), None).await;
    assert!(clean(&r.body["title"]) && clean(&r.body["content"]) && clean(&r.body["excerpt"]));
    let r = get(
        &app,
        &format!("/rest/v1/sites/{}/posts/{id}", app.site.id.0),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        clean(&r.body["title"]) && clean(&r.body["content"]),
        "{}",
        r.text
    );

    // A subscriber's comment.
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "subscriber")),
        json!({"post": id, "content": "<img src=x onerror=alert(4)>hi"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(clean(&r.body["content"]), "{}", r.body["content"]);

    // Titles and comments get WordPress's smaller set: no images (a tracking pixel shown to
    // moderators), headings or tables; post content keeps images.
    let pixel = "<img src=\"https://tracker.evil.example/p.gif\">";
    let r = post(
        &app,
        "/wp-json/wp/v2/comments",
        Some(&as_user(&app, "subscriber")),
        json!({"post": id, "content": format!("{pixel}<h1>big</h1><table><tr><td>t</td></tr></table><em>ok</em>")}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.body["content"]["rendered"].as_str().unwrap();
    assert!(
        !c.contains("<img") && !c.contains("<h1") && !c.contains("<table"),
        "{c}"
    );
    assert!(c.contains("<em>ok</em>"), "{c}");
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "editor")),
        json!({"title": format!("T{pixel}"), "content": format!("<p>{pixel}</p>"), "status": "publish"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(!r.body["title"]["rendered"]
        .as_str()
        .unwrap()
        .contains("<img"));
    assert!(r.body["content"]["rendered"]
        .as_str()
        .unwrap()
        .contains("<img src=\"https://tracker.evil.example/p.gif\">"));

    // A network admin's HTML is rendered as written.
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "netadmin")),
        json!({"title": "Embed", "content": "<script src=\"/x.js\"></script>", "status": "publish"}),
    )
    .await;
    assert_eq!(r.status, 201);
    let nid = r.body["id"].as_i64().unwrap();
    assert!(r.body["content"]["rendered"]
        .as_str()
        .unwrap()
        .contains("<script"));
    // ... until an editor changes the post: then it is sanitised.
    let r = post(
        &app,
        &format!("/wp-json/wp/v2/posts/{nid}"),
        Some(&as_user(&app, "editor")),
        json!({"title": "Embed (edited)"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        clean(&r.body["content"]["rendered"]),
        "{}",
        r.body["content"]
    );
});

// ---- 12. WordPress.com scope names --------------------------------------------------------------

both!(wpcom_spells_scopes_as_sent, |app: TestApp| async move {
    let mut spec = app.user_key_spec("editor");
    spec.scopes = vec!["sites:read".into(), "posts:read".into()];
    let (_, key) = app.api_key(spec).await;
    let r = get(&app, "/rest/v1/me", Some(&format!("Bearer {key}"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_scope"], json!(["sites:read", "posts:read"]));
});

// ---- 13. the authorize-application page names the destination --------------------------------

both!(
    authorize_application_shows_where_the_password_goes,
    |app: TestApp| async move {
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let r = finish(
        app.http()
            .get(app.url("/wp-admin/authorize-application.php?app_name=WordPress%20Mobile&success_url=https://collector.evil.example/grab"))
            .header("cookie", &b.unwrap().cookie),
    )
    .await;
        assert_eq!(r.status, 200);
        assert!(
            r.text
                .contains("You will be sent to <strong>collector.evil.example</strong>"),
            "{}",
            r.text
        );
    }
);

// ---- 14. small ones ---------------------------------------------------------------------------------

both!(
    profile_refuses_an_unbounded_expiry,
    |app: TestApp| async move {
        let (b, page) = page_as(&app, "author", "/profile").await;
        let token = csrf_of(&page.text);
        let author = app.user("author").user.id;
        for bad in ["9223372036854775807", "abc", "-5", "0"] {
            let r = submit(
                &app,
                &b,
                "/profile/api-keys",
                &[
                    ("_csrf", token.as_str()),
                    ("description", "forever"),
                    ("expires_in", bad),
                ],
            )
            .await;
            assert_eq!(r.status, 200, "{bad}");
            assert!(r.text.contains("role=\"alert\""), "{bad}");
            assert!(r.text.contains("expires_in must be between"), "{bad}");
            assert!(r.text.contains("value=\"forever\""), "what was typed stays");
        }
        assert!(app.store.list_api_keys(author).await.unwrap().is_empty());
        let r = post(
            &app,
            "/wp-json/gatehouse/v1/api-keys",
            Some(&as_user(&app, "author")),
            json!({"description": "x", "expires_in": 9223372036854775807i64}),
        )
        .await;
        assert_eq!(r.status, 400);
    }
);

both!(
    audit_pages_are_filtered_in_the_query,
    |app: TestApp| async move {
        let editor = app.user("editor").user.clone();
        // The network admin creates an application password for the editor.
        let r = post(
            &app,
            &format!("/wp-json/wp/v2/users/{}/application-passwords", editor.id.0),
            Some(&as_user(&app, "netadmin")),
            json!({"name": "made for editor"}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let events = app.store.list_audit(None, 10).await.unwrap();
        let e = events
            .iter()
            .find(|e| e.event == "app_password.create")
            .unwrap();
        assert_eq!(e.user_id, Some(app.user("netadmin").user.id), "the actor");
        assert_eq!(e.target_user_id, Some(editor.id), "and the target");
        assert!(e.detail.contains("editor"), "{}", e.detail);
        // Many newer events of others do not push the editor's out of a short page.
        for i in 0..8 {
            let r = post(
                &app,
                "/wp-json/gatehouse/v1/api-keys",
                Some(&as_user(&app, "netadmin")),
                json!({"description": format!("k{i}")}),
            )
            .await;
            assert_eq!(r.status, 201);
        }
        let r = get(
            &app,
            "/wp-json/gatehouse/v1/audit?limit=3",
            Some(&as_user(&app, "editor")),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let list = r.body.as_array().unwrap();
        assert!(!list.is_empty(), "not short: {}", r.text);
        assert!(list.iter().any(|e| e["event"] == "app_password.create"));
        assert!(list.iter().all(|e| e["event"] != "api_key.create"));
    }
);

both!(
    site_admins_revoke_site_keys_on_the_admin_page,
    |app: TestApp| async move {
        let admin2 = add_user(&app, "admin2").await;
        admin::set_member(&*app.store, app.site.id, admin2.id, Role::Administrator)
            .await
            .unwrap();
        app.settle().await;
        let (id, key) = make_site_key(&app, "siteadmin").await;
        // An editor of the site cannot revoke it from the page, nor learn that it exists.
        let (eb, page) = page_as(&app, "editor", "/profile").await;
        let revoke = |which: String| {
            let (app, eb, token) = (&app, &eb, csrf_of(&page.text));
            async move {
                // Neither the confirmation page nor the form tells a non-administrator anything.
                let ask = finish(
                    app.http()
                        .get(app.url(&format!("/admin/site-keys/{which}/revoke")))
                        .header("cookie", &eb.cookie),
                )
                .await;
                assert_eq!(ask.status, 404, "{which}");
                submit(
                    app,
                    eb,
                    &format!("/admin/site-keys/{which}/revoke"),
                    &[("_csrf", token.as_str())],
                )
                .await
            }
        };
        assert_eq!(
            revoke(id.to_string()).await.status,
            404,
            "no oracle for key ids"
        );
        assert_eq!(revoke("999999".into()).await.status, 404);
        // An id that does not parse: this site's 404 page, not the framework's echo.
        for bad in ["abc", "99999999999999999999"] {
            let r = revoke(bad.into()).await;
            assert_eq!(r.status, 404, "{bad}");
            assert!(r.header("content-security-policy").is_some(), "our page");
            assert!(!r.text.contains("Cannot parse"), "{}", r.text);
        }
        let auth = format!("ApiKey {key}");
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts", Some(&auth)).await.status,
            200
        );
        // Another administrator sees it, with its creator, and revokes it.
        let (_, b) = log_in(&app, "admin2", "pw-admin2-secret", "").await;
        let b = b.unwrap();
        let page = finish(
            app.http()
                .get(app.url("/admin"))
                .header("cookie", &b.cookie),
        )
        .await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("id=\"site-keys\""));
        assert!(page.text.contains(&format!("/admin/site-keys/{id}/revoke")));
        // Revoke asks first, naming the key and its site.
        let ask = finish(
            app.http()
                .get(app.url(&format!("/admin/site-keys/{id}/revoke")))
                .header("cookie", &b.cookie),
        )
        .await;
        assert_eq!(ask.status, 200);
        assert!(
            ask.text.contains(&format!("“{}”", app.site.name)),
            "{}",
            ask.text
        );
        assert!(ask.text.contains("No, go back"));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts", Some(&auth)).await.status,
            200,
            "asking revokes nothing"
        );
        let r = submit(
            &app,
            &b,
            &format!("/admin/site-keys/{id}/revoke"),
            &[("_csrf", csrf_of(&ask.text).as_str())],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("was revoked"));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts", Some(&auth)).await.status,
            401
        );
    }
);

// ---- found by the attacker review of the fixes above -------------------------------------------

both!(
    site_admins_cannot_pull_in_accounts_or_probe_names,
    |app: TestApp| async move {
        let (_, _, member2) = second_site(&app).await;
        let (b, page) = page_as(&app, "siteadmin", "/admin").await;
        let token = csrf_of(&page.text);
        let set = |login: String, role: &'static str| {
            let (app, b, token) = (&app, &b, token.clone());
            async move {
                submit(
                    app,
                    b,
                    "/admin/members",
                    &[
                        ("_csrf", token.as_str()),
                        ("site", &app.site.id.0.to_string()),
                        ("login", &login),
                        ("role", role),
                    ],
                )
                .await
            }
        };
        // Another site's user and an unknown name: the same refusal, nothing changed.
        let a = set("site2user@example.com".into(), "subscriber").await;
        let b2 = set("nosuchuser@example.com".into(), "subscriber").await;
        assert_eq!((a.status.as_u16(), b2.status.as_u16()), (200, 200));
        assert!(
            a.text
                .contains(&format!("is not a member of “{}”", app.site.name)),
            "{}",
            a.text
        );
        assert!(
            b2.text
                .contains(&format!("is not a member of “{}”", app.site.name)),
            "{}",
            b2.text
        );
        assert_eq!(
            app.store.find_role(app.site.id, member2.id).await.unwrap(),
            None
        );
        let r = get(
            &app,
            &format!("/wp-json/wp/v2/users/{}?context=edit", member2.id.0),
            Some(&as_user(&app, "siteadmin")),
        )
        .await;
        assert_eq!(r.status, 404);
        // Members' roles are theirs to change, and "none" takes a role away (audited with the target).
        let r = set("author".into(), "editor").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let author = app.user("author").user.id;
        let r = set("author".into(), "None").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("no longer has a role"), "{}", r.text);
        assert_eq!(
            app.store.find_role(app.site.id, author).await.unwrap(),
            None
        );
        let events = app.store.list_audit(Some(author), 10).await.unwrap();
        assert!(events
            .iter()
            .any(|e| e.event == "site.role" && e.target_user_id == Some(author)));
        // A network admin adds anyone.
        let (nb, page) = page_as(&app, "netadmin", "/admin").await;
        let r = submit(
            &app,
            &nb,
            "/admin/members",
            &[
                ("_csrf", csrf_of(&page.text).as_str()),
                ("site", &app.site.id.0.to_string()),
                ("login", "site2user"),
                ("role", "subscriber"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            app.store.find_role(app.site.id, member2.id).await.unwrap(),
            Some(Role::Subscriber)
        );
    }
);

both!(
    application_password_routes_do_not_confirm_other_accounts,
    |app: TestApp| async move {
        let (_, _, member2) = second_site(&app).await;
        let auth = as_user(&app, "siteadmin");
        for id in [member2.id.0, 999_999] {
            let r = get(
                &app,
                &format!("/wp-json/wp/v2/users/{id}/application-passwords"),
                Some(&auth),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (404, "rest_user_invalid_id"),
                "{id}"
            );
        }
        // A member of this site: WordPress's 403.
        let editor = app.user("editor").user.id.0;
        let r = get(
            &app,
            &format!("/wp-json/wp/v2/users/{editor}/application-passwords"),
            Some(&auth),
        )
        .await;
        assert_eq!(r.status, 403);
    }
);

both!(
    the_index_of_a_private_site_is_private,
    |app: TestApp| async move {
        admin::update_site(
            &*app.store,
            app.site.id,
            &gatehouse_core::model::SitePatch {
                require_auth: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        app.settle().await;
        let (_, site_key) = make_site_key(&app, "siteadmin").await;
        for path in ["/wp-json/", "/wp-json/wp/v2"] {
            let r = get(&app, path, Some(&as_user(&app, "outsider"))).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (403, "rest_forbidden"),
                "{path}"
            );
            assert!(!r.text.contains("Test Site"));
            for auth in [
                as_user(&app, "subscriber"),
                as_user(&app, "netadmin"),
                format!("ApiKey {site_key}"),
            ] {
                assert_eq!(get(&app, path, Some(&auth)).await.status, 200, "{path}");
            }
        }
    }
);

both!(
    unnamed_proxy_hops_are_unknown_clients_not_the_proxy,
    settings = behind_proxy,
    |app: TestApp| async move {
        for xff in ["203.0.113.9, unknown", "203.0.113.9, ", "unix:"] {
            let r = me_via_proxy(&app, &as_user(&app, "editor"), &[("x-forwarded-for", xff)]).await;
            assert_insecure(&r);
        }
    }
);

// ---- found by the second attacker review ------------------------------------------------------

both!(
    a_clients_forwarding_bytes_cannot_swallow_the_proxys_hop,
    settings = |s: &mut Settings| {
        behind_proxy(s);
        s.trusted_proxy_header = gatehouse_core::net::ProxyHeader::Forwarded;
    },
    |app: TestApp| async move {
        let auth = as_user(&app, "editor");
        let r = me_via_proxy(
            &app,
            &auth,
            &[("forwarded", r#"for=127.0.0.1;x=", for=203.0.113.9"#)],
        )
        .await;
        assert_insecure(&r);
        let r = me_via_proxy(
            &app,
            &auth,
            &[
                ("forwarded", "for=127.0.0.1;x=\""),
                ("forwarded", "for=203.0.113.9"),
            ],
        )
        .await;
        assert_insecure(&r);
    }
);

both!(
    undecodable_forwarding_lines_are_not_dropped,
    settings = behind_proxy,
    |app: TestApp| async move {
        use gatehouse_testkit::reqwest::header::HeaderValue;
        for raw in [&b"\xff, 203.0.113.9"[..], &b"\xc3\xa9, 203.0.113.9"[..]] {
            let r = finish(
                app.http()
                    .get(app.url("/wp-json/wp/v2/users/me"))
                    .header("authorization", as_user(&app, "editor"))
                    .header("x-forwarded-for", HeaderValue::from_bytes(raw).unwrap()),
            )
            .await;
            assert_insecure(&r);
        }
    }
);

both!(
    site_administrators_do_not_hold_unfiltered_html,
    |app: TestApp| async move {
        let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&as_user(&app, "siteadmin")),
        json!({"title": "T<img src=x onerror=alert(1)>", "content": "<script>alert(1)</script>ok", "status": "publish"}),
    )
    .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let rendered = format!(
            "{}{}",
            r.body["title"]["rendered"], r.body["content"]["rendered"]
        );
        assert!(
            !rendered.contains("<script") && !rendered.contains("onerror"),
            "{rendered}"
        );
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me?context=edit",
            Some(&as_user(&app, "siteadmin")),
        )
        .await;
        assert_eq!(
            r.body["capabilities"]["unfiltered_html"],
            serde_json::Value::Null
        );
        assert_eq!(r.body["capabilities"]["manage_options"], true);
    }
);

both!(
    authors_must_be_members_of_the_site,
    |app: TestApp| async move {
        let (_, _, member2) = second_site(&app).await;
        let outsider = app.user("outsider").user.id.0;
        let editor = as_user(&app, "editor");
        for author in [outsider, member2.id.0, 999_999] {
            let r = post(
                &app,
                "/wp-json/wp/v2/posts",
                Some(&editor),
                json!({"title": "probe", "author": author}),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (400, "rest_invalid_author"),
                "{author}"
            );
        }
        let author = app.user("author").user.id.0;
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&editor),
            json!({"title": "for a member", "author": author}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
);

both!(
    oversized_names_and_hosts_are_refused_not_a_5xx,
    |app: TestApp| async move {
        // An incompressible 3,000-character name: the throttle key must stay short.
        let name: String = (0..3000u32)
            .map(|i| {
                char::from(
                    b"abcdefghijklmnopqrstuvwxyz0123456789"[((i * 7919 + i / 3) % 36) as usize],
                )
            })
            .collect();
        for path in ["/wp-json/wp/v2/users/me", "/v1/user"] {
            let r = get(&app, path, Some(&basic(&name, "wrong"))).await;
            assert_eq!(r.status, 401, "{path}: {}", r.text);
        }
        let page = get(&app, "/login", None).await;
        let pre = set_cookie(&page, "gatehouse_login").unwrap();
        let r = finish(
            app.http()
                .post(app.url("/login"))
                .header("cookie", format!("gatehouse_login={pre}"))
                .form(&[
                    ("log", name.as_str()),
                    ("pwd", "x"),
                    ("_csrf", &csrf_of(&page.text)),
                ]),
        )
        .await;
        assert_eq!(r.status, 200, "the form again, with an error");
        let events = app.store.list_audit(None, 5).await.unwrap();
        assert!(events
            .iter()
            .all(|e| e.login.as_ref().is_none_or(|l| l.len() <= 200)));
        let host =
            vec!["abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"; 50].join(".");
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "netadmin")),
            json!({"name": "long", "url": format!("http://{host}.example")}),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
);

both!(
    private_sites_do_not_confirm_post_ids,
    |app: TestApp| async move {
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&as_user(&app, "editor")),
            json!({"title": "exists", "status": "publish"}),
        )
        .await;
        let id = r.body["id"].as_i64().unwrap();
        admin::update_site(
            &*app.store,
            app.site.id,
            &gatehouse_core::model::SitePatch {
                require_auth: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        app.settle().await;
        let outsider = as_user(&app, "outsider");
        for (method, body) in [
            (Method::GET, None),
            (Method::POST, Some(json!({"title": "x"}))),
            (Method::DELETE, None),
        ] {
            let real = send(
                &app,
                method.clone(),
                &format!("/wp-json/wp/v2/posts/{id}"),
                Some(&outsider),
                body.clone(),
            )
            .await;
            let none = send(
                &app,
                method.clone(),
                "/wp-json/wp/v2/posts/999999",
                Some(&outsider),
                body,
            )
            .await;
            assert_eq!(
                (real.status, real.code()),
                (none.status, none.code()),
                "{method}: {} / {}",
                real.text,
                none.text
            );
            assert_eq!(real.status, 403);
        }
    }
);

// Restrictions on a new key are read strictly: a wrong JSON type is a 400, never a wider key.
both!(
    key_restrictions_of_the_wrong_type_are_refused,
    |app: TestApp| async move {
        let author = app.user("author").user.id;
        for body in [
            json!({"description": "x", "site": [app.site.id.0.to_string()]}),
            json!({"description": "x", "site": {"id": "1"}}),
            json!({"description": "x", "scopes": {"posts:read": true}}),
            json!({"description": "x", "scopes": [["posts:read"]]}),
            json!({"description": "x", "methods": {"GET": 1}}),
            json!({"description": "x", "type": ["site"]}),
            json!({"description": ["x"]}),
        ] {
            let r = post(
                &app,
                "/wp-json/gatehouse/v1/api-keys",
                Some(&as_user(&app, "author")),
                body.clone(),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (400, "rest_invalid_param"),
                "{body}"
            );
        }
        assert!(app.store.list_api_keys(author).await.unwrap().is_empty());
        // The documented forms still work: a list, or a comma-separated string.
        let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&as_user(&app, "author")),
        json!({"description": "x", "scopes": ["posts:read"], "methods": "GET,HEAD", "site": app.site.id.0}),
    )
    .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["scopes"], json!(["posts:read"]));
        assert_eq!(r.body["site_id"], app.site.id.0);
    }
);

// Site URLs have one spelling: no trailing dot, no port 0.
both!(site_urls_have_one_spelling, |app: TestApp| async move {
    for url in ["http://a.example.", "http://a.example:0"] {
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "netadmin")),
            json!({"name": "x", "url": url}),
        )
        .await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
    }
});

// ---- issue 9: each refusal names the kind of credential that was presented ---------------------

both!(
    refusals_name_the_credential_kind_presented,
    |app: TestApp| async move {
        use gatehouse_core::secrets::{mint, TokenKind};
        let me = "/wp-json/wp/v2/users/me";
        let access = mint(TokenKind::AccessToken);
        let refresh = mint(TokenKind::RefreshToken);
        let client_secret = mint(TokenKind::ClientSecret);
        let damaged = format!("{}x", &access.expose_secret()[..40]);
        for (auth, words) in [
            (format!("Bearer {}", access.expose_secret()), "access token"),
            (format!("ApiKey {}", access.expose_secret()), "access token"),
            (format!("Bearer {damaged}"), "access token"),
            (
                format!("Bearer {}", refresh.expose_secret()),
                "refresh token is not an access token",
            ),
            (
                format!("Bearer {}", client_secret.expose_secret()),
                "client secret is not an access token",
            ),
        ] {
            for path in [me, "/v1/user", "/rest/v1/me"] {
                let r = get(&app, path, Some(&auth)).await;
                assert_eq!(r.status, 401, "{auth} {path}");
                assert!(!r.text.contains("API Key"), "{auth} {path}: {}", r.text);
                assert!(r.text.contains(words), "{auth} {path}: {}", r.text);
                assert!(
                    r.all("www-authenticate")
                        .iter()
                        .any(|c| c.contains("error=\"invalid_token\"")),
                    "{auth} {path}"
                );
            }
            let r = get(&app, me, Some(&auth)).await;
            assert_eq!(r.code(), "invalid_token", "{auth}");
        }
        // An API key that is wrong is still refused in the API-key plugin's words.
        let wrong_key = mint(TokenKind::UserApiKey);
        for scheme in ["ApiKey", "Bearer"] {
            let r = get(
                &app,
                me,
                Some(&format!("{scheme} {}", wrong_key.expose_secret())),
            )
            .await;
            assert_eq!(r.body["error"], "INVALID_API_KEY", "{}", r.text);
        }
        // An OAuth 1.0a header missing its timestamp and nonce is a malformed request (400, the
        // parameter named); a complete one with an unknown consumer key is a 401 that says so.
        let partial = r#"OAuth oauth_consumer_key="abc", oauth_signature_method="HMAC-SHA1", oauth_signature="x""#;
        let complete = r#"OAuth oauth_consumer_key="abcdefghijkl", oauth_signature_method="HMAC-SHA1", oauth_signature="x", oauth_timestamp="TS", oauth_nonce="n1", oauth_token="abcdefghijklmnopqrstuvwx""#
            .replace("TS", &gatehouse_core::clock::Clock::now(&app.clock).to_string());
        for path in [me, "/v1/user"] {
            let r = get(&app, path, Some(partial)).await;
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            assert!(r.text.contains("oauth_timestamp"), "{}", r.text);
            let r = get(&app, path, Some(&complete)).await;
            assert_eq!(r.status, 401, "{path}");
            assert!(r.text.contains("consumer_key_unknown"), "{}", r.text);
            assert!(
                r.all("www-authenticate").iter().any(
                    |c| c == r#"OAuth realm="gatehouse", oauth_problem="consumer_key_unknown""#
                ),
                "{path}: {:?}",
                r.all("www-authenticate")
            );
        }
        assert_eq!(
            get(&app, me, Some(partial)).await.code(),
            "parameter_absent"
        );
    }
);

// ---- issue 9 review: the one-time message never loses a secret ----------------------------------

both!(
    one_time_messages_never_lose_a_secret,
    |app: TestApp| async move {
        use crate::sessions::follow;
        let (b, page) = page_as(&app, "netadmin", "/profile").await;
        let token = csrf_of(&page.text);
        let create = |description: &'static str, cookie: String| {
            let (app, token) = (&app, token.clone());
            async move {
                finish(
                    app.http()
                        .post(app.url("/profile/api-keys"))
                        .header("cookie", cookie)
                        .form(&[("_csrf", token.as_str()), ("description", description)]),
                )
                .await
            }
        };
        // A double click: the second form is sent with the first one's message, before the
        // page that would show it loaded. Both secrets reach the page, in order.
        let first = create("first", b.cookie.clone()).await;
        assert_eq!(first.status, 303);
        let pending = set_cookie(&first, "gatehouse_flash").unwrap();
        let second = create("second", format!("{}; gatehouse_flash={pending}", b.cookie)).await;
        assert_eq!(second.status, 303);
        assert_eq!(
            second.header("location"),
            Some("/profile"),
            "the top of the page"
        );
        let shown = follow(&app, &b, &second).await;
        let first_at = shown
            .text
            .find("Your new API key “first”")
            .expect("first shown");
        let second_at = shown
            .text
            .find("Your new API key “second”")
            .expect("second shown");
        assert!(first_at < second_at);
        assert_eq!(
            shown.text.matches("value=\"gak_").count(),
            2,
            "{}",
            shown.text
        );
        // The first message itself was taken when it travelled on: it shows nothing now.
        let stale = finish(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", format!("{}; gatehouse_flash={pending}", b.cookie)),
        )
        .await;
        assert!(!stale.text.contains("value=\"gak_"));

        // The admin page shows no secrets, so it leaves a message holding one for the profile.
        let third = create("third", b.cookie.clone()).await;
        let flash = set_cookie(&third, "gatehouse_flash").unwrap();
        let admin = finish(
            app.http()
                .get(app.url("/admin"))
                .header("cookie", format!("{}; gatehouse_flash={flash}", b.cookie)),
        )
        .await;
        assert_eq!(admin.status, 200);
        assert!(!admin.text.contains("gak_"));
        assert!(
            !admin
                .all("set-cookie")
                .iter()
                .any(|c| c.starts_with("gatehouse_flash=")),
            "the admin page keeps the message's cookie"
        );
        let later = follow(&app, &b, &third).await;
        assert!(
            later.text.contains("Your new API key “third”"),
            "{}",
            later.text
        );

        // Long input: the refusal still arrives, cut, with the fields cut too.
        let long = "x".repeat(200_000);
        let r = finish(
            app.http()
                .post(app.url("/profile/api-keys"))
                .header("cookie", &b.cookie)
                .form(&[
                    ("_csrf", token.as_str()),
                    ("description", "ok"),
                    ("scopes", long.as_str()),
                ]),
        )
        .await;
        assert_eq!(r.status, 303);
        let cookie = set_cookie(&r, "gatehouse_flash").expect("a message");
        assert!(cookie.len() < 4000, "{}", cookie.len());
        let page = follow(&app, &b, &r).await;
        assert!(page.text.contains("Unknown scope"), "{}", page.text);
        assert!(page.text.contains("value=\"ok\""));
    }
);

// ---- one answer to "which site is this request for" (issue 10, making room) --------------------

both!(
    dialects_pages_and_the_api_document_agree_on_the_site,
    |app: TestApp| async move {
        let (site2, _, _) = second_site(&app).await;
        let with_host = |path: &'static str, host: &'static str| {
            let app = &app;
            async move { finish(app.http().get(app.url(path)).header("host", host)).await }
        };
        // The second site's host: its URL everywhere, never the raw Host.
        let doc = with_host("/openapi.json", "site2.example").await;
        assert_eq!(doc.body["servers"][0]["url"], site2.url);
        let index = with_host("/wp-json/", "site2.example").await;
        assert_eq!(index.body["url"], site2.url, "{}", index.text);
        assert_eq!(
            index.body["authentication"]["application-passwords"]["endpoints"]["authorization"],
            format!("{}/wp-admin/authorize-application.php", site2.url)
        );
        // An unknown host: the primary site's URL (the first created here), for all of them.
        let doc = with_host("/openapi.json", "evil.example").await;
        assert_eq!(doc.body["servers"][0]["url"], app.site.url);
        let index = with_host("/wp-json/", "evil.example").await;
        assert_eq!(index.body["url"], app.site.url);
        assert!(!index.text.contains("evil.example"));
    }
);
