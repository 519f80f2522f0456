//! API keys and application passwords (SPEC §2, §4, §5, §6) over HTTP on both databases.

use crate::support::*;
use gatehouse_core::clock::Clock;
use gatehouse_core::model::ApiKeyKind;
use gatehouse_server::Settings;
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{basic, both, TestApp};
use serde_json::json;

fn apikey(k: &str) -> String {
    format!("ApiKey {k}")
}
fn bearer(k: &str) -> String {
    format!("Bearer {k}")
}

both!(
    user_and_site_keys_on_every_dialect,
    |app: TestApp| async move {
        let (_, editor_key) = app.api_key(app.user_key_spec("editor")).await;
        let mut site_spec = app.user_key_spec("siteadmin");
        site_spec.kind = ApiKeyKind::Site;
        site_spec.user = None;
        let (_, site_key) = app.api_key(site_spec).await;
        let sid = app.site.id.0;
        for auth in [
            apikey(&editor_key),
            bearer(&editor_key),
            format!("apikey {editor_key}"),
            format!("BEARER {editor_key}"),
        ] {
            let r = get(&app, "/wp-json/wp/v2/users/me", Some(&auth)).await;
            assert_eq!(
                (r.status.as_u16(), r.body["slug"].as_str()),
                (200, Some("editor")),
                "{auth}"
            );
            assert_eq!(
                get(&app, "/v1/user", Some(&auth)).await.body["login"],
                "editor"
            );
            assert_eq!(
                get(&app, "/rest/v1.1/me", Some(&auth)).await.body["username"],
                "editor"
            );
        }
        // The editor's key creates a post; a subscriber's key cannot.
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&apikey(&editor_key)),
            json!({"title":"By key","status":"publish"}),
        )
        .await;
        assert_eq!(r.status, 201);
        let (_, sub_key) = app.api_key(app.user_key_spec("subscriber")).await;
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&bearer(&sub_key)),
            json!({"title":"No"}),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "rest_cannot_create"));
        // The site key reads like a visitor, on every dialect, with both schemes, and never writes.
        for auth in [apikey(&site_key), bearer(&site_key)] {
            let r = get(&app, "/wp-json/wp/v2/posts", Some(&auth)).await;
            assert_eq!(
                (r.status.as_u16(), r.header("x-wp-total")),
                (200, Some("1"))
            );
            assert_eq!(
                get(&app, &format!("/rest/v1/sites/{sid}/posts/"), Some(&auth))
                    .await
                    .body["found"],
                1
            );
            assert_eq!(get(&app, "/v1/user", Some(&auth)).await.status, 403);
            let r = post(
                &app,
                "/wp-json/wp/v2/posts",
                Some(&auth),
                json!({"title":"No"}),
            )
            .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (403, "rest_credential_restricted")
            );
            let r = get(&app, "/wp-json/wp/v2/posts?status=draft", Some(&auth)).await;
            assert_eq!(r.status, 403);
        }
        // …also on a site that requires authentication, where anonymous visitors are refused.
        let patch = gatehouse_core::admin::site_patch(None, None, Some(true)).unwrap();
        gatehouse_core::admin::update_site(&*app.store, app.site.id, &patch)
            .await
            .unwrap();
        app.settle().await;
        let r = get(&app, "/wp-json/wp/v2/posts", None).await;
        assert_eq!(
            (r.status.as_u16(), r.body["error"].as_str()),
            (401, Some("MISSING_AUTHORIZATION_HEADER"))
        );
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts", Some(&bearer(&site_key)))
                .await
                .status,
            200
        );
    }
);

both!(bad_keys_are_one_answer, |app: TestApp| async move {
    let (id, key) = app.api_key(app.user_key_spec("editor")).await;
    let mut typo = key.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    let unknown = gatehouse_core::secrets::mint(gatehouse_core::secrets::TokenKind::UserApiKey);
    let mut expiring = app.user_key_spec("editor");
    expiring.expires_in = Some(60);
    let (_, short) = app.api_key(expiring).await;
    assert_eq!(
        get(&app, "/wp-json/wp/v2/users/me", Some(&apikey(&short)))
            .await
            .status,
        200
    );
    app.clock.advance(61);
    app.store
        .revoke_api_key(gatehouse_core::model::ApiKeyId(id), app.clock.now())
        .await
        .unwrap();
    for k in [
        key.as_str(),
        typo.as_str(),
        unknown.expose_secret(),
        short.as_str(),
        "gak_short",
        "nonsense",
    ] {
        let r = get(&app, "/wp-json/wp/v2/posts", Some(&apikey(k))).await;
        assert_eq!(r.status, 401, "{k}");
        assert_eq!(
            r.body,
            json!({"status":"error","error":"INVALID_API_KEY","code":"401","error_description":"Sorry, you are using invalid API Key."})
        );
        assert_eq!(
            r.all("www-authenticate")[0],
            r#"Bearer realm="gatehouse", error="invalid_token""#
        );
        let r = get(&app, "/v1/user", Some(&bearer(k))).await;
        assert_eq!(
            (r.status.as_u16(), r.body["error"].as_str()),
            (401, Some("invalid_token"))
        );
    }
    // An unsupported scheme gets the plugin's token-type error.
    let r = get(&app, "/wp-json/wp/v2/posts", Some(&format!("Token {key}"))).await;
    assert_eq!(r.body["error"], "INVALID_AUTHORIZATION_HEADER_TOKEN_TYPE");
});

both!(key_constraints_are_enforced, |app: TestApp| async move {
    let mut read_only = app.user_key_spec("editor");
    read_only.scopes = vec!["posts:read".into()];
    let (_, k) = app.api_key(read_only).await;
    assert_eq!(
        get(&app, "/wp-json/wp/v2/posts", Some(&apikey(&k)))
            .await
            .status,
        200
    );
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&apikey(&k)),
        json!({"title":"x"}),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "insufficient_scope"));
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer realm="gatehouse", error="insufficient_scope""#)
    );
    assert_eq!(get(&app, "/v1/sites", Some(&apikey(&k))).await.status, 403);
    let mut sites = app.user_key_spec("netadmin");
    sites.scopes = vec!["sites:read".into()];
    let (_, k) = app.api_key(sites).await;
    assert_eq!(get(&app, "/v1/sites", Some(&apikey(&k))).await.status, 200);
    let r = post(
        &app,
        "/v1/sites",
        Some(&apikey(&k)),
        json!({"name":"n","url":"https://n.example"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let mut get_only = app.user_key_spec("editor");
    get_only.methods = vec!["GET".into()];
    let (_, k) = app.api_key(get_only).await;
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&apikey(&k)),
        json!({"title":"x"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_credential_restricted")
    );
    // A key limited to another site does not reach this one.
    let other = gatehouse_core::admin::add_site(
        &*app.store,
        "Other",
        "https://other.example",
        app.user("netadmin").user.id,
        app.clock.now(),
    )
    .await
    .unwrap();
    gatehouse_core::admin::set_member(
        &*app.store,
        other.id,
        app.user("editor").user.id,
        gatehouse_core::caps::Role::Editor,
    )
    .await
    .unwrap();
    app.settle().await;
    let mut elsewhere = app.user_key_spec("editor");
    elsewhere.site = Some(other.id);
    let (_, k) = app.api_key(elsewhere).await;
    let r = post(
        &app,
        "/wp-json/wp/v2/posts",
        Some(&apikey(&k)),
        json!({"title":"x"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_credential_restricted")
    );
});

both!(api_key_management_api, |app: TestApp| async move {
    let auth = app.app_basic("author").await;
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&auth),
        json!({"description":"ci deploy","scopes":["posts"],"expires_in":3600}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let key = r.body["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("gak_"));
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        get(&app, "/wp-json/wp/v2/users/me", Some(&apikey(&key)))
            .await
            .status,
        200
    );
    // Listed without the secret, with its last use recorded off the request path.
    let mut last_used = serde_json::Value::Null;
    for _ in 0..200 {
        let list = get(&app, "/wp-json/gatehouse/v1/api-keys", Some(&auth)).await;
        assert!(!list.text.contains(&key));
        last_used = list.body[0]["last_used"].clone();
        if !last_used.is_null() {
            assert_eq!(list.body[0]["last_ip"], "127.0.0.1");
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(last_used.is_string(), "last_used recorded");
    // An API key may not manage credentials (SPEC §6).
    let r = get(&app, "/wp-json/gatehouse/v1/api-keys", Some(&apikey(&key))).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_forbidden_credential")
    );
    let r = post(
        &app,
        "/wp-json/wp/v2/users/me/application-passwords",
        Some(&apikey(&key)),
        json!({"name":"x"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_forbidden_credential")
    );
    let r = get(&app, "/wp-json/gatehouse/v1/api-keys", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "rest_not_logged_in"));
    assert!(r
        .all("www-authenticate")
        .contains(&r#"Bearer realm="gatehouse""#.to_string()));
    // Reach no further than the creator: no site keys without manage_options, no foreign sites.
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&auth),
        json!({"description":"s","type":"site","site": app.site.id.0}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "gatehouse_cannot_create_key")
    );
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&auth),
        json!({"description":"bad","scopes":"nope"}),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&auth),
        json!({"description":"bad","scopes":"auth posts"}),
    )
    .await;
    assert_eq!(r.status, 400);
    let admin = app.app_basic("siteadmin").await;
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&admin),
        json!({"description":"site","type":"site","site": app.base_url}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.body["key"].as_str().unwrap().starts_with("gsk_"));
    // Revocation takes effect on the next request; others' keys are not found.
    let r = send(
        &app,
        Method::DELETE,
        &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (404, "gatehouse_api_key_not_found")
    );
    let r = send(
        &app,
        Method::DELETE,
        &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["deleted"].as_bool()),
        (200, Some(true))
    );
    assert_eq!(
        get(&app, "/wp-json/wp/v2/users/me", Some(&apikey(&key)))
            .await
            .status,
        401
    );
    assert_eq!(
        send(
            &app,
            Method::DELETE,
            &format!("/wp-json/gatehouse/v1/api-keys/{id}"),
            Some(&auth),
            None
        )
        .await
        .status,
        404
    );
    let audit = app.store.list_audit(None, 50).await.unwrap();
    assert!(audit.iter().any(|e| e.event == "api_key.revoke"));
    assert!(audit.iter().any(|e| e.event == "api_key.create"));
});

both!(
    application_password_routes_match_section_d,
    |app: TestApp| async move {
        let admin = app.user("siteadmin");
        let first = app.app_password("siteadmin", "oracle").await;
        let auth = basic("siteadmin", &first);
        // 3, 4: spaces removed, email instead of login.
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&basic("siteadmin", &first.replace(' ', "")))
            )
            .await
            .status,
            200
        );
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&basic("siteadmin@example.com", &first))
            )
            .await
            .status,
            200
        );
        // Another user's login with this password fails.
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&basic("editor", &first))
            )
            .await
            .code(),
            "incorrect_password"
        );
        // 43, 46, 57 without auth.
        for (m, path) in [(Method::GET, "/?rest_route=/wp/v2/users/me/application-passwords"), (Method::POST, "/?rest_route=/wp/v2/users/me/application-passwords"), (Method::DELETE, "/?rest_route=/wp/v2/users/me/application-passwords/7094539c-4a20-449d-b269-fbf65ce382fb")] {
        let r = send(&app, m, path, None, Some(json!({"name":"x"}))).await;
        assert_eq!(r.body, json!({"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}}));
    }
        // 40: list.
        let r = get(
            &app,
            "/?rest_route=/wp/v2/users/me/application-passwords",
            Some(&auth),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.header("allow")),
            (200, Some("GET, POST, DELETE"))
        );
        let item = &r.body[0];
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            vec![
                "uuid",
                "app_id",
                "name",
                "created",
                "last_used",
                "last_ip",
                "_links"
            ]
        );
        assert_eq!(item["name"], "oracle");
        let oracle = item["uuid"].as_str().unwrap().to_string();
        // 41: introspect the password in use.
        let r = get(
            &app,
            "/?rest_route=/wp/v2/users/me/application-passwords/introspect",
            Some(&auth),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["uuid"].as_str()),
            (200, Some(oracle.as_str()))
        );
        assert_eq!(r.header("allow"), Some("GET"));
        // Introspect without an application password: 404 (account password here; cookies later).
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me/application-passwords/introspect",
            Some(&admin.basic()),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, "rest_no_authenticated_app_password")
        );
        // 44: create; the password appears only here, in groups of 4.
        let r = post(
            &app,
            "/?rest_route=/wp/v2/users/me/application-passwords",
            Some(&auth),
            json!({"name":"transcript-demo"}),
        )
        .await;
        assert_eq!(r.status, 201);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let new_pw = r.body["password"].as_str().unwrap().to_string();
        assert_eq!(new_pw.len(), 29);
        assert_eq!(new_pw.split(' ').count(), 6);
        assert_eq!(r.body["last_used"], serde_json::Value::Null);
        let uuid = r.body["uuid"].as_str().unwrap().to_string();
        assert_eq!(
            r.header("location"),
            Some(
                format!(
                    "{}/wp-json/wp/v2/users/{}/application-passwords/{uuid}",
                    app.base_url, admin.user.id.0
                )
                .as_str()
            )
        );
        let keys: Vec<&str> = r
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            vec![
                "uuid",
                "app_id",
                "name",
                "created",
                "last_used",
                "last_ip",
                "password",
                "_links"
            ]
        );
        // 45: duplicate name.
        let r = post(
            &app,
            "/?rest_route=/wp/v2/users/me/application-passwords",
            Some(&auth),
            json!({"name":"transcript-demo"}),
        )
        .await;
        assert_eq!(
            r.body,
            json!({"code":"application_password_duplicate_name","message":"Each application name should be unique.","data":{"status":409}})
        );
        assert_eq!(r.status, 409);
        // 48, 49: the new password works and introspects as itself.
        let new_auth = basic("siteadmin", &new_pw);
        assert_eq!(
            get(
                &app,
                "/?rest_route=/wp/v2/users/me&_fields=id,name",
                Some(&new_auth)
            )
            .await
            .body,
            json!({"id": admin.user.id.0, "name": "Test siteadmin"})
        );
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me/application-passwords/introspect",
                Some(&new_auth)
            )
            .await
            .body["uuid"],
            uuid.as_str()
        );
        // 50, 51: get one, unknown uuid.
        let r = get(
            &app,
            &format!("/?rest_route=/wp/v2/users/me/application-passwords/{uuid}"),
            Some(&auth),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.header("allow")),
            (200, Some("GET, POST, PUT, PATCH, DELETE"))
        );
        let r = get(&app, "/?rest_route=/wp/v2/users/me/application-passwords/00000000-0000-4000-8000-000000000000", Some(&auth)).await;
        assert_eq!(
            r.body,
            json!({"code":"rest_application_password_not_found","message":"Application password not found.","data":{"status":404}})
        );
        // 52: rename.
        let r = post(
            &app,
            &format!("/?rest_route=/wp/v2/users/me/application-passwords/{uuid}"),
            Some(&auth),
            json!({"name":"transcript-demo-renamed"}),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["name"].as_str()),
            (200, Some("transcript-demo-renamed"))
        );
        // 53, 54, 55: delete, again, and the deleted password is refused (SPEC §0, not anonymous).
        let r = send(
            &app,
            Method::DELETE,
            &format!("/?rest_route=/wp/v2/users/me/application-passwords/{uuid}"),
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(r.body["deleted"], true);
        assert_eq!(r.body["previous"]["name"], "transcript-demo-renamed");
        assert!(r.body["previous"].get("_links").is_none());
        let r = send(
            &app,
            Method::DELETE,
            &format!("/?rest_route=/wp/v2/users/me/application-passwords/{uuid}"),
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, "rest_application_password_not_found")
        );
        let r = get(&app, "/?rest_route=/wp/v2/users/me", Some(&new_auth)).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
        // 58: by id, with _fields.
        let r = get(
            &app,
            &format!(
                "/?rest_route=/wp/v2/users/{}/application-passwords&_fields=uuid,name",
                admin.user.id.0
            ),
            Some(&auth),
        )
        .await;
        assert_eq!(r.body, json!([{"uuid": oracle, "name": "oracle"}]));
        // Another user's passwords: only a network admin.
        let editor_id = app.user("editor").user.id.0;
        let r = get(
            &app,
            &format!("/wp-json/wp/v2/users/{editor_id}/application-passwords"),
            Some(&auth),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_cannot_manage_application_passwords")
        );
        let r = get(
            &app,
            &format!("/wp-json/wp/v2/users/{editor_id}/application-passwords"),
            Some(&app.app_basic("netadmin").await),
        )
        .await;
        assert_eq!(r.status, 200);
        // Create needs a name; delete all.
        let r = post(
            &app,
            "/wp-json/wp/v2/users/me/application-passwords",
            Some(&auth),
            json!({}),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "rest_missing_callback_param")
        );
        let r = post(
            &app,
            "/wp-json/wp/v2/users/me/application-passwords",
            Some(&auth),
            json!({"name":"  "}),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "application_password_empty_name")
        );
        let r = send(
            &app,
            Method::DELETE,
            "/wp-json/wp/v2/users/me/application-passwords",
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(r.body, json!({"deleted": true, "count": 1}));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&auth))
                .await
                .status,
            401
        );
    }
);

both!(
    app_password_failures_are_throttled_and_release,
    settings = |s: &mut Settings| {
        s.basic_auth_with_account_password = false;
        s.throttle.pair_failures = 3;
    },
    |app: TestApp| async move {
        let good = app.app_basic("editor").await;
        let wrong = basic("editor", "abcd efgh ijkl mnop qrst uvwx");
        // The account password is not accepted when the setting is off.
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&as_user(&app, "editor"))
            )
            .await
            .code(),
            "incorrect_password"
        );
        for _ in 0..2 {
            assert_eq!(
                get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))
                    .await
                    .status,
                401
            );
        }
        let r = get(&app, "/wp-json/wp/v2/users/me", Some(&wrong)).await;
        assert_eq!(r.status, 429);
        assert!(r.header("retry-after").is_some());
        // A real application password still works: 142 random bits cannot be guessed.
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&good))
                .await
                .status,
            200
        );
        app.clock.advance(31);
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))
                .await
                .status,
            401
        );
    }
);

both!(no_secret_is_stored_in_clear, |app: TestApp| async move {
    let auth = app.app_basic("siteadmin").await;
    let r = post(
        &app,
        "/wp-json/gatehouse/v1/api-keys",
        Some(&auth),
        json!({"description":"raw"}),
    )
    .await;
    let key = r.body["key"].as_str().unwrap().to_string();
    let r = post(
        &app,
        "/wp-json/wp/v2/users/me/application-passwords",
        Some(&auth),
        json!({"name":"raw"}),
    )
    .await;
    let grouped = r.body["password"].as_str().unwrap().to_string();
    let plain = grouped.replace(' ', "");
    let site_key = app
        .api_key({
            let mut s = app.user_key_spec("siteadmin");
            s.kind = ApiKeyKind::Site;
            s.user = None;
            s
        })
        .await
        .1;
    let body = key[4..].to_string();
    let dump = app.raw_database_dump().await;
    for secret in [
        key.as_str(),
        body.as_str(),
        plain.as_str(),
        grouped.as_str(),
        site_key.as_str(),
        &site_key[4..],
        app.user("editor").password.as_str(),
    ] {
        assert!(
            !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a secret is stored in clear"
        );
    }
    // The search looked at the right bytes: the keyed hash of the key is there.
    let hash = app
        .state
        .keys
        .hash(gatehouse_core::secrets::Purpose::ApiKey, &key);
    assert!(
        dump.windows(hash.len()).any(|w| w == hash.as_bytes()),
        "the dump holds the stored hashes"
    );
});
