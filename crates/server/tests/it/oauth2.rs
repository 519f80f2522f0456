//! OAuth 2.0 (SPEC §3) as built so far: registered clients, the token endpoint with client
//! authentication and the `client_credentials` grant, access tokens on every dialect with the
//! scope rules, revocation through the store, and the metadata document — on both databases.

use crate::support::*;
use gatehouse_core::oauth2::clients::ClientSpec;
use gatehouse_core::oauth2::registry;
use gatehouse_testkit::{basic, both, TestApp};
use serde_json::json;

/// Registers a client owned by `owner` with `grants`; returns (client_id, secret).
async fn client(
    app: &TestApp,
    owner: &str,
    grants: &[&str],
    public: bool,
) -> (String, Option<String>) {
    let spec = ClientSpec {
        name: "Test app".into(),
        description: "Does tests".into(),
        public,
        redirect_uris: vec!["https://app.example/cb".into()],
        grants: grants.iter().map(|g| g.to_string()).collect(),
        ..ClientSpec::default()
    };
    let (c, secret) = registry::register(
        &*app.store,
        &app.state.keys,
        &spec,
        app.user(owner).user.id,
        1,
    )
    .await
    .unwrap();
    (c.client_id(), secret.map(|s| s.expose_secret().to_string()))
}

/// `POST /oauth/token` (or `/oauth2/token`) with a form body and optional Basic credentials.
async fn token(app: &TestApp, path: &str, auth: Option<&str>, form: &[(&str, &str)]) -> Resp {
    let mut r = app.http().post(app.url(path)).form(form);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    finish(r).await
}

both!(
    client_credentials_issue_a_bearer_token_that_acts_as_the_owner,
    |app: TestApp| async move {
        let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
        let secret = secret.unwrap();
        assert!(secret.starts_with("gcs_"));
        let basic_auth = basic(&id, &secret);
        for path in ["/oauth/token", "/oauth2/token"] {
            let r = token(
                &app,
                path,
                Some(&basic_auth),
                &[("grant_type", "client_credentials")],
            )
            .await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert_eq!(r.header("cache-control"), Some("no-store"));
            assert_eq!(r.header("pragma"), Some("no-cache"));
            assert_eq!(r.header("access-control-allow-origin"), Some("*"));
            assert_eq!(r.body["token_type"], "Bearer");
            assert_eq!(r.body["expires_in"], 3600);
            assert_eq!(r.body["scope"], "");
            assert!(r.body.get("refresh_token").is_none(), "no refresh token");
            assert_eq!(
                r.body["blog_id"],
                app.site.id.0.to_string(),
                "no scope = one site"
            );
            assert_eq!(r.body["blog_url"], app.site.url);
        }
        // The secret in the body works too (client_secret_post).
        let r = token(
            &app,
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("scope", "posts:read"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["scope"], "posts:read");
        let read_only = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        assert!(read_only.starts_with("Bearer gat_"));
        // It acts as the owner, on every dialect.
        let me = get(&app, "/wp-json/wp/v2/users/me", Some(&read_only)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.body["slug"], "editor");
        let me = get(&app, "/rest/v1/me", Some(&read_only)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.body["token_site_id"], app.site.id.0);
        assert_eq!(me.body["token_scope"], json!(["posts:read"]));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/posts", Some(&read_only))
                .await
                .status,
            200
        );
        // Within its scope: writing needs `posts` (403 insufficient_scope with the challenge).
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&read_only),
            json!({"title": "t", "status": "draft"}),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(
            r.all("www-authenticate")
                .iter()
                .any(|c| c.contains("error=\"insufficient_scope\"")),
            "{:?}",
            r.all("www-authenticate")
        );
        // An access token never manages credentials (SPEC §6).
        let r = get(&app, "/wp-json/gatehouse/v1/api-keys", Some(&read_only)).await;
        assert_eq!(r.status, 403, "{}", r.text);
        // A site-less scope binds no site.
        let r = token(
            &app,
            "/oauth/token",
            Some(&basic_auth),
            &[("grant_type", "client_credentials"), ("scope", "global")],
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r.body.get("blog_id").is_none(), "{}", r.text);
        let global = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        let r = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&global),
            json!({"title": "by an app", "status": "publish"}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        // Revoking the client's grants ends its tokens on the next request.
        let cid = gatehouse_core::model::ClientId(id.parse().unwrap());
        app.store.revoke_client_grants(cid, 10).await.unwrap();
        for t in [&read_only, &global] {
            let r = get(&app, "/wp-json/wp/v2/users/me", Some(t)).await;
            assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"));
            assert!(r
                .all("www-authenticate")
                .iter()
                .any(|c| c.contains("error=\"invalid_token\"")));
        }
    }
);

both!(
    token_endpoint_errors_follow_rfc_6749,
    |app: TestApp| async move {
        let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
        let secret = secret.unwrap();
        let good = basic(&id, &secret);
        let cc = ("grant_type", "client_credentials");
        let expect = |r: &Resp, status: u16, error: &str| {
            assert_eq!(
                (r.status.as_u16(), r.body["error"].as_str().unwrap_or("")),
                (status, error),
                "{}",
                r.text
            );
            assert!(r.body["error_description"].is_string());
            assert_eq!(r.header("cache-control"), Some("no-store"));
            assert_eq!(r.header("pragma"), Some("no-cache"));
        };
        let wrong = basic(&id, &format!("{}x", &secret[..secret.len() - 1]));
        let r = token(&app, "/oauth/token", Some(&wrong), &[cc]).await;
        expect(&r, 401, "invalid_client");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"gatehouse\"")
        );
        for bad_id in ["999", "abc", "01", ""] {
            let r = token(&app, "/oauth/token", Some(&basic(bad_id, &secret)), &[cc]).await;
            expect(&r, 401, "invalid_client");
        }
        expect(
            &token(&app, "/oauth/token", None, &[cc]).await,
            401,
            "invalid_client",
        );
        // One authentication method only; body parameters once each; the query is not read.
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[cc, ("client_secret", &secret)],
        )
        .await;
        expect(&r, 400, "invalid_request");
        let r = finish(
            app.http()
                .post(app.url("/oauth/token"))
                .header("authorization", &good)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&grant_type=client_credentials"),
        )
        .await;
        expect(&r, 400, "invalid_request");
        let r = finish(
            app.http()
                .post(app.url(&format!(
                    "/oauth/token?client_id={id}&client_secret={secret}&grant_type=client_credentials"
                )))
                .form(&[("x", "y")]),
        )
        .await;
        expect(&r, 401, "invalid_client");
        let r = finish(
            app.http()
                .post(app.url("/oauth/token"))
                .header("authorization", &good)
                .json(&json!({"grant_type": "client_credentials"})),
        )
        .await;
        expect(&r, 400, "invalid_request");
        // Multipart bodies are read (PHP's curl sends them).
        let r = finish(
            app.http()
                .post(app.url("/oauth/token"))
                .header("authorization", &good)
                .multipart(
                    gatehouse_testkit::reqwest::multipart::Form::new()
                        .text("grant_type", "client_credentials"),
                ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        expect(
            &token(&app, "/oauth/token", Some(&good), &[]).await,
            400,
            "invalid_request",
        );
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[("grant_type", "magic")],
        )
        .await;
        expect(&r, 400, "unsupported_grant_type");
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[
                ("grant_type", "password"),
                ("username", "editor"),
                ("password", "x"),
            ],
        )
        .await;
        expect(&r, 400, "unauthorized_client");
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[cc, ("scope", "posts:delete")],
        )
        .await;
        expect(&r, 400, "invalid_scope");
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[cc, ("scope", "global posts")],
        )
        .await;
        expect(&r, 400, "invalid_scope");
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[cc, ("blog", "https://nowhere.example")],
        )
        .await;
        expect(&r, 400, "invalid_request");
        // GET is not the token endpoint's method.
        let r = finish(app.http().get(app.url("/oauth/token"))).await;
        assert_eq!(r.status, 405);
        // A CORS preflight is answered for any origin, without credentials.
        let r = finish(
            app.http()
                .request(
                    gatehouse_testkit::reqwest::Method::OPTIONS,
                    app.url("/oauth/token"),
                )
                .header("origin", "https://spa.example")
                .header("access-control-request-method", "POST"),
        )
        .await;
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert!(r.header("access-control-allow-credentials").is_none());
        // A disabled owner's client gets nothing, and its tokens stop working.
        let ok = token(&app, "/oauth/token", Some(&good), &[cc]).await;
        let t = format!("Bearer {}", ok.body["access_token"].as_str().unwrap());
        app.store
            .set_user_disabled(app.user("editor").user.id, true)
            .await
            .unwrap();
        expect(
            &token(&app, "/oauth/token", Some(&good), &[cc]).await,
            400,
            "invalid_grant",
        );
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&t)).await.status,
            401
        );
    }
);

both!(
    client_secret_guesses_are_throttled,
    |app: TestApp| async move {
        let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
        let wrong = basic(&id, "gcs_wrong");
        for _ in 0..10 {
            let r = token(
                &app,
                "/oauth/token",
                Some(&wrong),
                &[("grant_type", "client_credentials")],
            )
            .await;
            assert_eq!(r.status, 401);
        }
        let r = token(
            &app,
            "/oauth/token",
            Some(&basic(&id, &secret.unwrap())),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(
            r.status, 429,
            "blocked, even with the right secret: {}",
            r.text
        );
        assert!(r.header("retry-after").is_some());
    }
);

both!(
    access_tokens_are_refused_in_their_own_words,
    |app: TestApp| async move {
        let me = "/wp-json/wp/v2/users/me";
        let fake = gatehouse_core::secrets::mint(gatehouse_core::secrets::TokenKind::AccessToken);
        let r = get(&app, me, Some(&format!("Bearer {}", fake.expose_secret()))).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"));
        assert!(r.text.contains("access token"), "{}", r.text);
        // The metadata document names this site's issuer and what is built.
        let m = get(&app, "/.well-known/oauth-authorization-server", None).await;
        assert_eq!(m.status, 200);
        assert_eq!(m.body["issuer"], app.site.url);
        assert_eq!(
            m.body["token_endpoint"],
            format!("{}/oauth/token", app.site.url)
        );
        assert_eq!(m.body["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            m.body["authorization_response_iss_parameter_supported"],
            true
        );
        assert_eq!(
            m.body["grant_types_supported"],
            json!(["client_credentials"])
        );
    }
);
