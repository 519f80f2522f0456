//! Tests that guard the security rules mutation testing found unguarded: each fails when its rule
//! is broken (forged CSRF tokens, disabled accounts for every credential kind, failed credentials
//! of every kind never anonymous, the dummy Argon2id check, admin-only forms), plus the rules
//! that only hold across instances (shared throttle counters, key rotation) and at rest.

use crate::sessions::{csrf_of, log_in, page_as, submit, Browser};
use crate::support::*;
use gatehouse_core::clock::Clock;
use gatehouse_core::secrets::{mint, TokenKind};
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{basic, both, TestApp};
use serde_json::json;

/// The `wp_rest` nonce for a browser's session, from `server`.
async fn rest_nonce(server: &TestApp, b: &Browser) -> Resp {
    finish(
        server
            .http()
            .get(server.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
            .header("cookie", &b.cookie),
    )
    .await
}

async fn profile_csrf(app: &TestApp, b: &Browser) -> String {
    let page = finish(
        app.http()
            .get(app.url("/profile"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    csrf_of(&page.text)
}

async fn create_key_by_form(app: &TestApp, b: &Browser, token: &str) -> Resp {
    submit(
        app,
        b,
        "/profile/api-keys",
        &[("_csrf", token), ("description", "by form")],
    )
    .await
}

// Mutant 1: the CSRF check replaced by "any non-empty token".
both!(
    page_forms_refuse_forged_and_foreign_tokens,
    |app: TestApp| async move {
        let (_, a) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let a = a.unwrap();
        let (_, e) = log_in(&app, "editor", &app.user("editor").password.clone(), "").await;
        let e = e.unwrap();
        let mine = profile_csrf(&app, &a).await;
        let theirs = profile_csrf(&app, &e).await;
        let author = app.user("author").user.id;
        let forged = "0".repeat(mine.len());
        let mut flipped = mine.clone().into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [theirs.as_str(), forged.as_str(), flipped.as_str(), "x", ""] {
            let r = create_key_by_form(&app, &a, bad).await;
            assert_eq!(r.status, 403, "token {bad:?}");
            assert!(r.text.contains("did not come from this site"), "{}", r.text);
        }
        assert!(app.store.list_api_keys(author).await.unwrap().is_empty());
        let r = create_key_by_form(&app, &a, &mine).await;
        assert_eq!(r.status, 200);
        assert_eq!(app.store.list_api_keys(author).await.unwrap().len(), 1);
    }
);

// Mutants 2, 4, 5: a disabled account's application password, session and API key.
both!(
    disabled_accounts_lose_every_credential,
    |app: TestApp| async move {
        let editor = app.user("editor").user.id;
        let app_pw = app.app_basic("editor").await;
        let (_, key) = app.api_key(app.user_key_spec("editor")).await;
        let (_, b) = log_in(&app, "editor", &app.user("editor").password.clone(), "").await;
        let b = b.unwrap();
        let nonce = rest_nonce(&app, &b).await.text;
        let me = "/wp-json/wp/v2/users/me";
        let cookie_me = |app: &TestApp| {
            app.http()
                .get(app.url(me))
                .header("cookie", &b.cookie)
                .header("x-wp-nonce", &nonce)
        };
        // All work while the account is enabled.
        assert_eq!(get(&app, me, Some(&app_pw)).await.status, 200);
        assert_eq!(
            get(&app, me, Some(&format!("ApiKey {key}"))).await.status,
            200
        );
        assert_eq!(finish(cookie_me(&app)).await.status, 200);
        assert_eq!(
            get(&app, me, Some(&as_user(&app, "editor"))).await.status,
            200
        );

        app.store.set_user_disabled(editor, true).await.unwrap();
        app.settle().await;
        let r = get(&app, me, Some(&app_pw)).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
        let r = get(&app, me, Some(&format!("ApiKey {key}"))).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["error"], "INVALID_API_KEY", "{}", r.text);
        let r = get(&app, me, Some(&format!("Bearer {key}"))).await;
        assert_eq!(r.status, 401);
        let r = finish(cookie_me(&app)).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_cookie_invalid_nonce")
        );
        let r = finish(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", &b.cookie),
        )
        .await;
        assert_eq!(r.status, 303, "the session no longer logs in");
        let r = get(&app, me, Some(&as_user(&app, "editor"))).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
    }
);

// Mutant 6: a presented credential of a kind that cannot succeed yet is never anonymous.
both!(
    unsupported_credentials_are_refused_not_anonymous,
    |app: TestApp| async move {
        let gat = mint(TokenKind::AccessToken);
        let oauth1 = r#"OAuth oauth_consumer_key="k", oauth_token="t", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1", oauth_nonce="n", oauth_version="1.0", oauth_signature="s""#;
        for (auth, challenge) in [
            (format!("Bearer {}", gat.expose_secret()), "Bearer"),
            (oauth1.to_string(), "OAuth"),
            ("Digest username=\"x\"".to_string(), "Bearer"),
        ] {
            for path in [
                "/wp-json/wp/v2/posts",
                "/v1/user",
                "/rest/v1/sites/1/posts/",
            ] {
                let r = get(&app, path, Some(&auth)).await;
                assert_eq!(r.status, 401, "{auth} {path}: {}", r.text);
                let challenges = r.all("www-authenticate").join(", ");
                assert!(
                    challenges.contains(challenge),
                    "{auth} {path}: {challenges}"
                );
            }
        }
        // Each dialect names the refusal in its own words.
        let digest = "Digest username=\"x\"";
        let r = get(&app, "/v1/user", Some(digest)).await;
        assert_eq!(r.body["error"], "invalid_request", "{}", r.text);
        let r = get(&app, "/wp-json/wp/v2/posts", Some(digest)).await;
        assert_eq!(
            r.body["error"], "INVALID_AUTHORIZATION_HEADER_TOKEN_TYPE",
            "{}",
            r.text
        );
        // The access token is refused with the RFC 6750 challenge.
        let r = get(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&format!("Bearer {}", gat.expose_secret())),
        )
        .await;
        assert!(r
            .all("www-authenticate")
            .iter()
            .any(|c| c.starts_with("Bearer") && c.contains("error=\"invalid_token\"")));
    }
);

// Mutant 7: the dummy Argon2id check for unknown users.
both!(
    unknown_users_cost_one_real_verification,
    |app: TestApp| async move {
        let me = "/wp-json/wp/v2/users/me";
        let before = app.argon2_verifications();
        let r = get(&app, me, Some(&basic("nobody-here", "whatever"))).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
        assert_eq!(app.argon2_verifications(), before + 1, "unknown user");
        let r = get(&app, me, Some(&basic("editor", "wrong"))).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
        assert_eq!(app.argon2_verifications(), before + 2, "wrong password");
        // An application password costs no Argon2id at all.
        let pw = app.app_basic("editor").await;
        assert_eq!(get(&app, me, Some(&pw)).await.status, 200);
        assert_eq!(app.argon2_verifications(), before + 2);
        // The log-in form: the same for an unknown user.
        let page = get(&app, "/login", None).await;
        let pre = crate::sessions::set_cookie(&page, "gatehouse_login").unwrap();
        let r = finish(
            app.http()
                .post(app.url("/login"))
                .header("cookie", format!("gatehouse_login={pre}"))
                .form(&[
                    ("log", "nobody-here"),
                    ("pwd", "whatever"),
                    ("_csrf", &csrf_of(&page.text)),
                ]),
        )
        .await;
        assert!(r.text.contains("The username or password is incorrect."));
        assert_eq!(app.argon2_verifications(), before + 3, "log-in form");
    }
);

// Mutant 8: only network admins add users through the admin page.
both!(
    only_network_admins_add_users_by_form,
    |app: TestApp| async move {
        let (b, page) = page_as(&app, "siteadmin", "/admin").await;
        assert_eq!(page.status, 200, "site administrators see the admin page");
        assert!(
            !page.text.contains("action=\"/admin/users\""),
            "but not the form"
        );
        let r = finish(
            app.http()
                .post(app.url("/admin/users"))
                .header("cookie", &b.cookie)
                .form(&[
                    ("_csrf", csrf_of(&page.text).as_str()),
                    ("login", "intruder"),
                    ("email", "intruder@example.com"),
                    ("password", "a-long-password"),
                ]),
        )
        .await;
        assert_eq!(r.status, 403);
        assert!(app
            .store
            .find_user_auth("intruder")
            .await
            .unwrap()
            .is_none());
        // Nor disable anyone.
        let victim = app.user("editor").user.id.0;
        let r = finish(
            app.http()
                .post(app.url(&format!("/admin/users/{victim}/disable")))
                .header("cookie", &b.cookie)
                .form(&[("_csrf", csrf_of(&page.text).as_str())]),
        )
        .await;
        assert_eq!(r.status, 403);
        assert!(
            !app.store
                .get_user(app.user("editor").user.id)
                .await
                .unwrap()
                .disabled
        );
    }
);

// Throttle counters live in the database: two servers on one database share them.
both!(
    two_instances_share_throttle_counters,
    |app: TestApp| async move {
        let other = app.sibling(false).await;
        let me = "/wp-json/wp/v2/users/me";
        for i in 0..10 {
            let server = if i % 2 == 0 { &app } else { &other };
            let r = get(server, me, Some(&basic("editor", "wrong"))).await;
            assert_eq!(r.status, 401, "attempt {i}");
        }
        for server in [&app, &other] {
            let r = get(server, me, Some(&basic("editor", "wrong"))).await;
            assert_eq!(r.status, 429, "blocked on both instances");
            assert!(r.header("retry-after").is_some());
        }
    }
);

// Key rotation ends outstanding nonces and form tokens; sessions survive it.
both!(
    key_rotation_ends_nonces_and_form_tokens,
    |app: TestApp| async move {
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        let nonce = rest_nonce(&app, &b).await.text;
        let token = profile_csrf(&app, &b).await;
        let rotated = app.sibling(true).await;
        let me = |server: &TestApp, n: &str| {
            server
                .http()
                .get(server.url("/wp-json/wp/v2/users/me"))
                .header("cookie", &b.cookie)
                .header("x-wp-nonce", n.to_string())
        };
        assert_eq!(finish(me(&app, &nonce)).await.status, 200);
        let r = finish(me(&rotated, &nonce)).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_cookie_invalid_nonce"),
            "the old nonce ends with the rotation"
        );
        let r = create_key_by_form(&rotated, &b, &token).await;
        assert_eq!(r.status, 403, "so does the old form token");
        // The session itself survives: a fresh nonce and a fresh form work.
        let fresh = rest_nonce(&rotated, &b).await;
        assert_eq!(fresh.status, 200);
        assert_eq!(finish(me(&rotated, &fresh.text)).await.status, 200);
        let token = profile_csrf(&rotated, &b).await;
        assert_eq!(create_key_by_form(&rotated, &b, &token).await.status, 200);
    }
);

// Session ids are stored only as keyed hashes.
both!(
    session_ids_are_not_stored_in_clear,
    |app: TestApp| async move {
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        let dump = app.raw_database_dump().await;
        let contains = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(b.session.as_bytes()), "session id in clear");
        let hash = app
            .state
            .keys
            .hash(gatehouse_core::secrets::Purpose::Session, &b.session);
        assert!(
            contains(hash.as_bytes()),
            "the search is real: the hash is found"
        );
    }
);

// Security answers carry their documented code and challenge, not just a status.
both!(
    credential_refusals_name_their_code,
    |app: TestApp| async move {
        let (_, key) = app.api_key(app.user_key_spec("editor")).await;
        let auth = format!("ApiKey {key}");
        for (method, path) in [
            (Method::GET, "/wp-json/gatehouse/v1/api-keys"),
            (Method::POST, "/wp-json/gatehouse/v1/api-keys"),
            (Method::GET, "/wp-json/wp/v2/users/me/application-passwords"),
            (
                Method::POST,
                "/wp-json/wp/v2/users/me/application-passwords",
            ),
            (Method::GET, "/wp-json/gatehouse/v1/me/sessions"),
        ] {
            let r = send(
                &app,
                method.clone(),
                path,
                Some(&auth),
                Some(json!({"name": "x"})),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (403, "rest_forbidden_credential"),
                "{method} {path}"
            );
        }
        let r = get(&app, "/wp-json/gatehouse/v1/api-keys", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "rest_not_logged_in"));
        let challenges = r.all("www-authenticate");
        assert!(
            challenges.iter().any(|c| c == "Bearer realm=\"gatehouse\""),
            "{challenges:?}"
        );
        assert!(
            challenges.iter().any(|c| c == "ApiKey realm=\"gatehouse\""),
            "{challenges:?}"
        );
        assert!(
            !challenges.iter().any(|c| c.starts_with("Basic")),
            "no Basic dialog"
        );
    }
);

// The Authorization header's length limit, at its boundary (4096 bytes, then 400).
both!(
    authorization_headers_are_bounded_at_4096_bytes,
    |app: TestApp| async move {
        let me = "/wp-json/wp/v2/users/me";
        let at_limit = format!("Bearer {}", "a".repeat(4096 - "Bearer ".len()));
        assert_eq!(at_limit.len(), 4096);
        let r = get(&app, me, Some(&at_limit)).await;
        assert_eq!(r.status, 401, "checked, and refused as a key: {}", r.text);
        let over = format!("{at_limit}a");
        let r = get(&app, me, Some(&over)).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "rest_invalid_authorization_header")
        );
    }
);

// The Admin link shows for those who may use the admin page, and only for them.
both!(
    the_admin_link_follows_the_admin_rule,
    |app: TestApp| async move {
        for (login, shown) in [("netadmin", true), ("siteadmin", true), ("editor", false)] {
            let (_, b) = log_in(&app, login, &app.user(login).password.clone(), "").await;
            let page = finish(
                app.http()
                    .get(app.url("/profile"))
                    .header("cookie", &b.unwrap().cookie),
            )
            .await;
            assert_eq!(page.text.contains("href=\"/admin\""), shown, "{login}");
        }
        // A network admin keeps it on a server with no sites yet (where they add the first one).
        app.store.delete_site(app.site.id).await.unwrap();
        let (_, b) = log_in(&app, "netadmin", &app.user("netadmin").password.clone(), "").await;
        let page = finish(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", &b.unwrap().cookie),
        )
        .await;
        assert!(page.text.contains("href=\"/admin\""), "{}", page.text);
    }
);

// Static assets: the right type, nosniff, cacheable; the page scripts are same-origin files.
both!(
    assets_are_served_with_their_types,
    |app: TestApp| async move {
        for (path, ctype, needle) in [
            ("/assets/app.css", "text/css; charset=utf-8", ":root"),
            (
                "/assets/app.js",
                "text/javascript; charset=utf-8",
                "data-copy",
            ),
        ] {
            let r = get(&app, path, None).await;
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.header("content-type"), Some(ctype), "{path}");
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
            assert!(r.text.contains(needle), "{path}");
        }
    }
);

// A stored key is honoured only as the kind its prefix names (a row written with the wrong kind —
// a bug or a tampered database — is refused, not read with the other kind's powers).
both!(
    a_key_is_only_what_its_prefix_says,
    |app: TestApp| async move {
        let secret = mint(TokenKind::UserApiKey);
        let siteadmin = app.user("siteadmin").user.id;
        app.store
            .insert_api_key(
                &gatehouse_core::model::NewApiKey {
                    kind: gatehouse_core::model::ApiKeyKind::Site,
                    user_id: None,
                    site_id: Some(app.site.id),
                    created_by: siteadmin,
                    description: "wrong kind".into(),
                    scopes: None,
                    methods: None,
                    expires_at: None,
                    hash: app.state.keys.hash(
                        gatehouse_core::secrets::Purpose::ApiKey,
                        secret.expose_secret(),
                    ),
                    key_version: app.state.keys.version,
                },
                app.clock.now(),
            )
            .await
            .unwrap();
        let r = get(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&format!("ApiKey {}", secret.expose_secret())),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
);
