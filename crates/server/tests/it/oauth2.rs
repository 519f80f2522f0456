//! OAuth 2.0 (SPEC §3) as built so far: registered clients, the token endpoint with client
//! authentication and the `client_credentials` grant, access tokens on every dialect with the
//! scope rules, revocation through the store, and the metadata document — on both databases.

use crate::support::*;
use gatehouse_core::clock::Clock;
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
        app.settle().await;
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
        // The secret with its last character changed (to one it is not).
        let last = if secret.ends_with('x') { "y" } else { "x" };
        let wrong = basic(&id, &format!("{}{last}", &secret[..secret.len() - 1]));
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
        // An oversized body is 413.
        let big = "x".repeat(70 * 1024);
        let r = token(
            &app,
            "/oauth/token",
            Some(&good),
            &[cc, ("pad", big.as_str())],
        )
        .await;
        assert_eq!(r.status, 413, "{}", r.text);
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
            "unauthorized_client",
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
        let right = basic(&id, secret.as_deref().unwrap());
        let cc = [("grant_type", "client_credentials")];
        // Failures count while they are consecutive: a success in between starts again.
        for _ in 0..9 {
            let r = token(&app, "/oauth/token", Some(&wrong), &cc).await;
            assert_eq!(r.status, 401);
        }
        assert_eq!(
            token(&app, "/oauth/token", Some(&right), &cc).await.status,
            200
        );
        for _ in 0..9 {
            let r = token(&app, "/oauth/token", Some(&wrong), &cc).await;
            assert_eq!(r.status, 401, "counted from the success on");
        }
        assert_eq!(
            token(&app, "/oauth/token", Some(&right), &cc).await.status,
            200
        );
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
            json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "password",
                "implicit"
            ])
        );
        assert_eq!(m.body["response_types_supported"], json!(["code", "token"]));
        assert_eq!(
            m.body["authorization_endpoint"],
            format!("{}/oauth/authorize", app.site.url)
        );
    }
);

/// The query pairs of a `Location`.
fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let u = url::Url::parse(location).unwrap();
    u.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The hidden fields and CSRF token of the consent page, to post it as the browser would.
pub fn consent_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let start = html
        .find("<form method=\"post\" action=\"/oauth/authorize\">")
        .expect("the consent form");
    let form = &html[start..];
    let mut rest = &form[..form.find("</form>").unwrap()];
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + 27..];
        let name = &rest[..rest.find('"').unwrap()];
        let v = rest.find("value=\"").unwrap() + 7;
        let value = &rest[v..v + rest[v..].find('"').unwrap()];
        let value = value
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        out.push((name.to_string(), value));
    }
    out
}

both!(
    the_code_flow_with_pkce_and_refresh_rotation,
    |app: TestApp| async move {
        use crate::sessions::{log_in, Browser};
        use gatehouse_core::oauth2::pkce;
        let (id, secret) = client(&app, "netadmin", &[], false).await;
        let client_auth = basic(&id, &secret.unwrap());
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b: Browser = b.unwrap();
        let verifier = "v".repeat(50);
        let challenge = pkce::s256(&verifier);
        let site = app.site.id.0.to_string();
        let authorize_url = |extra: &str| {
            format!(
                "/oauth/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=posts&state=xyz&code_challenge={challenge}&code_challenge_method=S256{extra}"
            )
        };
        let page = |path: String, cookie: Option<String>| {
            let app = &app;
            async move {
                let mut r = app.http().get(app.url(&path));
                if let Some(c) = cookie {
                    r = r.header("cookie", c);
                }
                finish(r).await
            }
        };
        // Not logged in: the log-in page, then back here.
        let r = page(authorize_url(""), None).await;
        assert_eq!(r.status, 303);
        assert!(r
            .header("location")
            .unwrap()
            .starts_with("/login?redirect_to=%2Foauth%2Fauthorize%3Fclient_id"));
        // The consent page: the app, its owner, each scope in words, the site picker.
        let consent = page(authorize_url(""), Some(b.cookie.clone())).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        for words in [
            "Test app",
            "Does tests",
            "Read and write posts on one site",
            "app.example",
            &app.site.name,
        ] {
            assert!(consent.text.contains(words), "{words}: {}", consent.text);
        }
        let csp = consent.header("content-security-policy").unwrap();
        assert!(
            csp.contains("form-action 'self' https://app.example"),
            "{csp}"
        );
        let allow = |fields: Vec<(String, String)>, decision: &'static str| {
            let (app, b, site) = (&app, &b, site.clone());
            async move {
                let mut form = fields;
                form.push(("decision".into(), decision.into()));
                form.push(("blog".into(), site));
                finish(
                    app.http()
                        .post(app.url("/oauth/authorize"))
                        .header("cookie", &b.cookie)
                        .form(&form),
                )
                .await
            }
        };
        let r = allow(consent_fields(&consent.text), "allow").await;
        assert_eq!(r.status, 303, "{}", r.text);
        let back = query_of(r.header("location").unwrap());
        assert!(r
            .header("location")
            .unwrap()
            .starts_with("https://app.example/cb?"));
        assert_eq!(back["state"], "xyz");
        assert_eq!(back["iss"], app.site.url);
        let code = back["code"].clone();
        // Without the consent form's CSRF token, nothing is issued.
        let mut forged = consent_fields(&consent.text);
        forged.retain(|(k, _)| k != "_csrf");
        assert_eq!(allow(forged, "allow").await.status, 403);

        let exchange = |code: String, verifier: String, redirect: Option<&'static str>| {
            let (app, client_auth) = (&app, client_auth.clone());
            async move {
                let mut form = vec![
                    ("grant_type", "authorization_code".to_string()),
                    ("code", code),
                    ("code_verifier", verifier),
                ];
                if let Some(r) = redirect {
                    form.push(("redirect_uri", r.to_string()));
                }
                finish(
                    app.http()
                        .post(app.url("/oauth/token"))
                        .header("authorization", client_auth)
                        .form(&form),
                )
                .await
            }
        };
        let cb = Some("https://app.example/cb");
        // The redirect URI sent at authorize is required again, and the verifier must match.
        let r = exchange(code.clone(), "w".repeat(50), cb).await;
        assert_eq!(
            (r.status.as_u16(), r.body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // That attempt used the code: it is gone now (single use), like a replay.
        let r = exchange(code.clone(), verifier.clone(), cb).await;
        assert_eq!(r.body["error"], "invalid_grant");

        // A fresh consent, and a correct exchange.
        let consent = page(authorize_url(""), Some(b.cookie.clone())).await;
        let r = allow(consent_fields(&consent.text), "allow").await;
        let code = query_of(r.header("location").unwrap())["code"].clone();
        let r = exchange(code.clone(), verifier.clone(), None).await;
        assert_eq!(
            r.body["error"], "invalid_grant",
            "redirect_uri missing: {}",
            r.text
        );
        let consent = page(authorize_url(""), Some(b.cookie.clone())).await;
        let r = allow(consent_fields(&consent.text), "allow").await;
        let code = query_of(r.header("location").unwrap())["code"].clone();
        let r = exchange(code.clone(), verifier.clone(), cb).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["scope"], "posts");
        assert_eq!(r.body["expires_in"], 3600);
        assert_eq!(r.body["blog_id"], site);
        let access = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
        assert!(refresh.starts_with("grt_"));
        let me = get(&app, "/wp-json/wp/v2/users/me", Some(&access)).await;
        assert_eq!(me.body["slug"], "author");
        // Consent is remembered for this confidential client, scope and site: straight back.
        let r = page(
            authorize_url(&format!("&blog={site}")),
            Some(b.cookie.clone()),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(query_of(r.header("location").unwrap()).contains_key("code"));
        // A HEAD request only looks: no code, even with remembered consent.
        let head = finish(
            app.http()
                .head(app.url(&authorize_url(&format!("&blog={site}"))))
                .header("cookie", &b.cookie),
        )
        .await;
        assert_eq!(head.status, 200);
        assert!(head.header("location").is_none());
        // A second use of a redeemed code fails and revokes what the first issued.
        let r = exchange(code, verifier.clone(), cb).await;
        assert_eq!(r.body["error"], "invalid_grant");
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&access))
                .await
                .status,
            401
        );
        let r = refresh_with(&app, &client_auth, &refresh, None).await;
        assert_eq!(r.body["error"], "invalid_grant", "the family is revoked");

        // Refresh rotation on a fresh grant.
        let consent = page(authorize_url(""), Some(b.cookie.clone())).await;
        let r = allow(consent_fields(&consent.text), "allow").await;
        let code = query_of(r.header("location").unwrap())["code"].clone();
        let r = exchange(code, verifier.clone(), cb).await;
        let first_refresh = r.body["refresh_token"].as_str().unwrap().to_string();
        let r = refresh_with(&app, &client_auth, &first_refresh, Some("posts:read")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["scope"], "posts:read",
            "a narrower scope narrows the access token"
        );
        let narrowed = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        let second_refresh = r.body["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(second_refresh, first_refresh);
        let w = post(
            &app,
            "/wp-json/wp/v2/posts",
            Some(&narrowed),
            json!({"title": "x"}),
        )
        .await;
        assert_eq!(w.status, 403, "read only now: {}", w.text);
        let r = refresh_with(&app, &client_auth, &second_refresh, Some("global")).await;
        assert_eq!(r.body["error"], "invalid_scope", "never wider: {}", r.text);
        let r = refresh_with(&app, &client_auth, &second_refresh, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["scope"], "posts",
            "the refresh token kept the grant's scope"
        );
        let live = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&live))
                .await
                .status,
            200
        );
        // Replaying a rotated refresh token revokes the whole family.
        let r = refresh_with(&app, &client_auth, &first_refresh, None).await;
        assert_eq!(r.body["error"], "invalid_grant");
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&live))
                .await
                .status,
            401
        );

        // Deny: back to the client with access_denied, state and iss.
        let consent = page(authorize_url(""), Some(b.cookie.clone())).await;
        let r = allow(consent_fields(&consent.text), "deny").await;
        let back = query_of(r.header("location").unwrap());
        assert_eq!(back["error"], "access_denied");
        assert_eq!(back["state"], "xyz");
        assert_eq!(back["iss"], app.site.url);
        // A redirect URI that is not registered: an error page, never a redirect.
        let r = page(
            format!("/oauth/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code"),
            Some(b.cookie.clone()),
        )
        .await;
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_none());
        let r = page(
            "/oauth/authorize?client_id=999&response_type=code".into(),
            Some(b.cookie.clone()),
        )
        .await;
        assert_eq!(r.status, 400);
        // Other errors go back to the client.
        let r = page(
            authorize_url("&code_challenge_method=plain")
                .replace("&code_challenge_method=S256", ""),
            Some(b.cookie.clone()),
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            query_of(r.header("location").unwrap())["error"],
            "invalid_request"
        );
    }
);

async fn refresh_with(
    app: &TestApp,
    client_auth: &str,
    refresh: &str,
    scope: Option<&str>,
) -> Resp {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    finish(
        app.http()
            .post(app.url("/oauth/token"))
            .header("authorization", client_auth)
            .form(&form),
    )
    .await
}

both!(
    revocation_introspection_and_token_info,
    |app: TestApp| async move {
        let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
        let (other, other_secret) = client(&app, "editor", &["client_credentials"], false).await;
        let mine = basic(&id, &secret.unwrap());
        let theirs = basic(&other, &other_secret.unwrap());
        let cc = [("grant_type", "client_credentials"), ("scope", "posts")];
        let r = token(&app, "/oauth/token", Some(&mine), &cc).await;
        let access = r.body["access_token"].as_str().unwrap().to_string();
        let call = |path: &'static str, auth: String, form: Vec<(&'static str, String)>| {
            let app = &app;
            async move {
                finish(
                    app.http()
                        .post(app.url(path))
                        .header("authorization", auth)
                        .form(&form),
                )
                .await
            }
        };
        // Introspection: the owner client sees it; another client sees nothing.
        let r = call(
            "/oauth/introspect",
            mine.clone(),
            vec![("token", access.clone())],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body["client_id"], id);
        assert_eq!(r.body["username"], "editor");
        assert_eq!(r.body["sub"], app.user("editor").user.id.0.to_string());
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["scope"], "posts");
        assert_eq!(r.body["blog_id"], app.site.id.0.to_string());
        assert!(r.body["exp"].as_i64().unwrap() > r.body["iat"].as_i64().unwrap());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let r = call(
            "/oauth2/introspect",
            theirs.clone(),
            vec![("token", access.clone())],
        )
        .await;
        assert_eq!(r.body, json!({"active": false}));
        let r = call(
            "/oauth/introspect",
            mine.clone(),
            vec![("token", "gat_nonsense".into())],
        )
        .await;
        assert_eq!(r.body, json!({"active": false}));
        let r = finish(
            app.http()
                .post(app.url("/oauth/introspect"))
                .form(&[("token", access.as_str())]),
        )
        .await;
        assert_eq!(r.status, 401, "client authentication is required");
        // token-info (seed 003): only for the client it was issued to.
        let info = get(
            &app,
            &format!("/oauth/token-info?client_id={id}&token={access}"),
            None,
        )
        .await;
        assert_eq!(info.status, 200, "{}", info.text);
        assert_eq!(info.body["client_id"], id);
        assert_eq!(
            info.body["user_id"],
            app.user("editor").user.id.0.to_string()
        );
        assert_eq!(info.body["blog_id"], app.site.id.0.to_string());
        assert_eq!(info.body["scope"], "posts");
        let wrong = get(
            &app,
            &format!("/oauth/token-info?client_id={other}&token={access}"),
            None,
        )
        .await;
        assert_eq!(
            (wrong.status.as_u16(), wrong.body["error"].as_str()),
            (400, Some("invalid_token"))
        );
        // Revocation: another client may not; unknown tokens are 200; API keys are unsupported.
        let r = call(
            "/oauth/revoke",
            theirs.clone(),
            vec![("token", access.clone())],
        )
        .await;
        assert_eq!(r.status, 400);
        let auth = format!("Bearer {access}");
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&auth))
                .await
                .status,
            200
        );
        let r = call(
            "/oauth/revoke",
            mine.clone(),
            vec![("token", "grt_unknown".into())],
        )
        .await;
        assert_eq!(r.status, 200);
        let (_, key) = app.api_key(app.user_key_spec("editor")).await;
        let r = call("/oauth/revoke", mine.clone(), vec![("token", key)]).await;
        assert_eq!(r.body["error"], "unsupported_token_type");
        let r = call(
            "/oauth/revoke",
            mine.clone(),
            vec![
                ("token", access.clone()),
                ("token_type_hint", "refresh_token".into()),
            ],
        )
        .await;
        assert_eq!(
            r.status, 200,
            "a wrong hint only widens the search: {}",
            r.text
        );
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&auth))
                .await
                .status,
            401
        );
        let r = call(
            "/oauth/introspect",
            mine.clone(),
            vec![("token", access.clone())],
        )
        .await;
        assert_eq!(r.body, json!({"active": false}));
        let gone = get(
            &app,
            &format!("/oauth/token-info?client_id={id}&token={access}"),
            None,
        )
        .await;
        assert_eq!(gone.status, 400);
    }
);

both!(
    users_see_and_revoke_what_they_authorized,
    |app: TestApp| async move {
        use crate::sessions::{page_as, submit};
        let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
        let auth = basic(&id, &secret.unwrap());
        let issue = || {
            let (app, auth) = (&app, auth.clone());
            async move {
                let r = token(
                    app,
                    "/oauth/token",
                    Some(&auth),
                    &[("grant_type", "client_credentials")],
                )
                .await;
                format!("Bearer {}", r.body["access_token"].as_str().unwrap())
            }
        };
        let first = issue().await;
        let second = issue().await;
        let editor = app.app_basic("editor").await;
        let list = get(&app, "/wp-json/gatehouse/v1/me/grants", Some(&editor)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let grants = list.body.as_array().unwrap();
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[0]["client_id"], id);
        assert_eq!(grants[0]["client_name"], "Test app");
        assert_eq!(grants[0]["blog_id"], app.site.id.0);
        // A token may not list or revoke authorizations (SPEC §6).
        assert_eq!(
            get(&app, "/wp-json/gatehouse/v1/me/grants", Some(&first))
                .await
                .status,
            403
        );
        // The API revokes one; the other user's list is empty; unknown ids are 404.
        let newest = grants[0]["id"].as_i64().unwrap();
        let r = send(
            &app,
            gatehouse_testkit::reqwest::Method::DELETE,
            &format!("/wp-json/gatehouse/v1/me/grants/{newest}"),
            Some(&app.app_basic("author").await),
            None,
        )
        .await;
        assert_eq!(r.status, 404, "not the author's");
        let r = send(
            &app,
            gatehouse_testkit::reqwest::Method::DELETE,
            &format!("/wp-json/gatehouse/v1/me/grants/{newest}"),
            Some(&editor),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&second))
                .await
                .status,
            401
        );
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&first))
                .await
                .status,
            200
        );
        // The profile lists the other, and revokes it after asking.
        let (b, page) = page_as(&app, "editor", "/profile").await;
        assert!(page.text.contains("<td>Test app</td>"), "{}", page.text);
        let other = grants[1]["id"].as_i64().unwrap();
        let ask = finish(
            app.http()
                .get(app.url(&format!("/profile/grants/{other}/revoke")))
                .header("cookie", &b.cookie),
        )
        .await;
        assert!(
            ask.text.contains("Revoke the access of “Test app”?"),
            "{}",
            ask.text
        );
        let done = submit(
            &app,
            &b,
            &format!("/profile/grants/{other}/revoke"),
            &[("_csrf", crate::sessions::csrf_of(&ask.text).as_str())],
        )
        .await;
        assert!(
            done.text.contains("The access of “Test app” was revoked."),
            "{}",
            done.text
        );
        assert!(done
            .text
            .contains("No OAuth applications can use your account."));
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&first))
                .await
                .status,
            401
        );
    }
);

both!(
    racing_redemptions_never_leave_two_winners,
    |app: TestApp| async move {
        use gatehouse_core::clock::Clock;
        use gatehouse_core::model::ClientId;
        use gatehouse_core::oauth2::{issue, Flow, NewCode, CODE_TTL_SECS};
        use gatehouse_core::secrets::Purpose;
        // A second server process on the same database (for PostgreSQL, the two-instance case;
        // for SQLite, another pool on the same file).
        let other = app.sibling(false).await;
        let (id, secret) = client(&app, "editor", &[], false).await;
        let auth = basic(&id, &secret.unwrap());
        let client_row = app
            .store
            .get_client(ClientId(id.parse().unwrap()))
            .await
            .unwrap();
        let user = app.user("editor").user.id;
        let keys = &app.state.keys;
        let post_to = |server: &TestApp, form: Vec<(&'static str, String)>| {
            let (http, url, auth) = (server.http(), server.url("/oauth/token"), auth.clone());
            async move {
                let r = http
                    .post(url)
                    .header("authorization", auth)
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                (status, body["access_token"].as_str().map(str::to_string))
            }
        };
        for trial in 0..200 {
            // One code, redeemed by both servers at once.
            let code = format!(
                "race-code-{trial}-{}",
                gatehouse_core::password::generate(20)
            );
            let now = app.clock.now();
            app.store
                .insert_code(
                    &NewCode {
                        hash: keys.hash(Purpose::OAuthCode, &code),
                        key_version: keys.version,
                        client_id: client_row.id,
                        user_id: user,
                        site_id: None,
                        scope: "global".into(),
                        redirect_uri: None,
                        code_challenge: None,
                        expires_at: now + CODE_TTL_SECS,
                    },
                    now,
                )
                .await
                .unwrap();
            let form = || {
                vec![
                    ("grant_type", "authorization_code".to_string()),
                    ("code", code.clone()),
                ]
            };
            let (a, b) = tokio::join!(post_to(&app, form()), post_to(&other, form()));
            let mut got = [a.0, b.0];
            got.sort();
            // One redemption consumed the code (the store decides, in one statement); the other
            // is a second use, which revokes what the first issued however the two raced — so
            // the first answers 400 too when it noticed before answering.
            assert!(
                got == [200, 400] || got == [400, 400],
                "code trial {trial}: {got:?}"
            );
            if let Some(winner) = a.1.or(b.1) {
                let r = get(
                    &app,
                    "/wp-json/wp/v2/users/me",
                    Some(&format!("Bearer {winner}")),
                )
                .await;
                assert_eq!(
                    r.status, 401,
                    "code trial {trial}: the first use's token is revoked"
                );
            }
            // One refresh token, rotated by both servers at once.
            let issued = issue::issue(
                &*app.store,
                keys,
                issue::Request {
                    client: &client_row,
                    user,
                    site: None,
                    scope: "global".into(),
                    flow: Flow::AuthorizationCode,
                    refresh: true,
                    access_ttl: None,
                },
                now,
            )
            .await
            .unwrap();
            let refresh = issued.refresh_token.unwrap().expose_secret().to_string();
            let form = || {
                vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.clone()),
                ]
            };
            let (a, b) = tokio::join!(post_to(&app, form()), post_to(&other, form()));
            let mut got = [a.0, b.0];
            got.sort();
            assert_eq!(got, [200, 400], "refresh trial {trial}");
        }
    }
);

both!(
    redirect_uris_and_suspended_clients,
    |app: TestApp| async move {
        use crate::sessions::log_in;
        let (id, secret) = client(&app, "netadmin", &[], false).await;
        let client_auth = basic(&id, &secret.unwrap());
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        // No redirect_uri at authorize: the only registered one is used, and the token endpoint
        // accepts no other.
        let url =
            format!("/oauth/authorize?client_id={id}&response_type=code&scope=global&state=s");
        let consent = finish(app.http().get(app.url(&url)).header("cookie", &b.cookie)).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        let mut form = consent_fields(&consent.text);
        form.push(("decision".into(), "allow".into()));
        let r = finish(
            app.http()
                .post(app.url("/oauth/authorize"))
                .header("cookie", &b.cookie)
                .form(&form),
        )
        .await;
        let back = r.header("location").unwrap().to_string();
        assert!(back.starts_with("https://app.example/cb?"), "{back}");
        let code = query_of(&back)["code"].clone();
        let r = token(
            &app,
            "/oauth/token",
            Some(&client_auth),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://evil.example/cb"),
            ],
        )
        .await;
        assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
        // A client whose owner is disabled is suspended: no consent page, no tokens, and the
        // tokens it holds stop working until the owner is enabled again.
        let consent = finish(app.http().get(app.url(&url)).header("cookie", &b.cookie)).await;
        let mut form = consent_fields(&consent.text);
        form.push(("decision".into(), "allow".into()));
        let r = finish(
            app.http()
                .post(app.url("/oauth/authorize"))
                .header("cookie", &b.cookie)
                .form(&form),
        )
        .await;
        let code = query_of(r.header("location").unwrap())["code"].clone();
        let r = token(
            &app,
            "/oauth/token",
            Some(&client_auth),
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
        let held = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
        let me = "/wp-json/wp/v2/users/me";
        assert_eq!(get(&app, me, Some(&held)).await.status, 200);
        let owner = app.user("netadmin").user.id;
        app.store.set_user_disabled(owner, true).await.unwrap();
        app.settle().await;
        assert_eq!(
            get(&app, me, Some(&held)).await.status,
            401,
            "suspended with its client"
        );
        let r = finish(app.http().get(app.url(&url)).header("cookie", &b.cookie)).await;
        assert_eq!(r.status, 400);
        assert!(r.text.contains("suspended"), "{}", r.text);
        let r = token(
            &app,
            "/oauth/token",
            Some(&client_auth),
            &[("grant_type", "refresh_token"), ("refresh_token", "grt_x")],
        )
        .await;
        assert_eq!(r.body["error"], "unauthorized_client", "{}", r.text);
        app.store.set_user_disabled(owner, false).await.unwrap();
        app.settle().await;
        assert_eq!(
            get(&app, me, Some(&held)).await.status,
            200,
            "back with its owner"
        );
    }
);

both!(
    the_implicit_and_password_grants,
    |app: TestApp| async move {
        use crate::sessions::log_in;
        // Implicit: only for clients granted it, state required, the token in the fragment.
        let (id, _) = client(&app, "netadmin", &["implicit"], true).await;
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        let open = |q: String| {
            let (app, b, id) = (&app, &b, id.clone());
            async move {
                finish(
                    app.http()
                        .get(app.url(&format!("/oauth/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&{q}")))
                        .header("cookie", &b.cookie),
                )
                .await
            }
        };
        let r = open("response_type=token&scope=posts".into()).await;
        assert_eq!(r.status, 303);
        let to = r.header("location").unwrap();
        assert!(
            to.starts_with("https://app.example/cb#error=invalid_request"),
            "state is required, in the fragment: {to}"
        );
        let consent = open("response_type=token&scope=posts&state=st".into()).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        let mut form = consent_fields(&consent.text);
        form.push(("decision".into(), "allow".into()));
        form.push(("blog".into(), app.site.id.0.to_string()));
        let r = finish(
            app.http()
                .post(app.url("/oauth/authorize"))
                .header("cookie", &b.cookie)
                .form(&form),
        )
        .await;
        let to = r.header("location").unwrap().to_string();
        let (before, fragment) = to.split_once('#').unwrap();
        assert_eq!(before, "https://app.example/cb", "nothing in the query");
        let f: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(fragment.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(f["token_type"], "bearer");
        assert_eq!(f["expires_in"], (14 * 86_400).to_string());
        assert_eq!(f["scope"], "posts");
        assert_eq!(f["site_id"], app.site.id.0.to_string());
        assert_eq!(f["state"], "st");
        assert_eq!(f["iss"], app.site.url);
        assert!(!f.contains_key("refresh_token"));
        let auth = format!("Bearer {}", f["access_token"]);
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&auth)).await.body["slug"],
            "author"
        );
        // A public client never skips the consent page.
        let again = open(format!(
            "response_type=token&scope=posts&state=st&blog={}",
            app.site.id.0
        ))
        .await;
        assert_eq!(again.status, 200);
        // A client not granted implicit is refused.
        let (code_only, _) = client(&app, "netadmin", &[], true).await;
        let r = finish(
            app.http()
                .get(app.url(&format!("/oauth/authorize?client_id={code_only}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=token&state=s")))
                .header("cookie", &b.cookie),
        )
        .await;
        assert!(r
            .header("location")
            .unwrap()
            .contains("#error=unauthorized_client"));

        // Password: opt-in, confidential, the owner only, account or application password.
        let (pid, psecret) = client(&app, "editor", &["password", "refresh_token"], false).await;
        let pauth = basic(&pid, &psecret.unwrap());
        let editor_pw = app.user("editor").password.clone();
        let grant = |user: &str, pw: String| {
            let (app, pauth, user) = (&app, pauth.clone(), user.to_string());
            async move {
                token(
                    app,
                    "/oauth/token",
                    Some(&pauth),
                    &[
                        ("grant_type", "password"),
                        ("username", &user),
                        ("password", &pw),
                        ("scope", "posts"),
                    ],
                )
                .await
            }
        };
        let r = grant("editor", editor_pw.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.body["refresh_token"].is_string());
        assert_eq!(r.body["blog_id"], app.site.id.0.to_string());
        let app_pw = app.app_password("editor", "password grant").await;
        assert_eq!(
            grant("editor", app_pw).await.status,
            200,
            "an application password works too"
        );
        let r = grant("editor", "wrong".into()).await;
        assert_eq!(r.body["error"], "invalid_grant");
        let r = grant("author", app.user("author").password.clone()).await;
        assert_eq!(
            r.body["error"], "invalid_grant",
            "not the client's owner: {}",
            r.text
        );
        // ... and counted like a wrong password: a success would reset the pair's failures,
        // telling the client's owner that another account's password was right.
        let pair = gatehouse_core::throttle::pair_key("author", "127.0.0.1");
        let rows = app.store.throttle_get(&[pair]).await.unwrap();
        assert_eq!(rows.first().map(|r| r.failures), Some(1));
        // Not opted in: unauthorized_client.
        let (cid, csecret) = client(&app, "editor", &["client_credentials"], false).await;
        let r = token(
            &app,
            "/oauth/token",
            Some(&basic(&cid, &csecret.unwrap())),
            &[
                ("grant_type", "password"),
                ("username", "editor"),
                ("password", &editor_pw),
            ],
        )
        .await;
        assert_eq!(r.body["error"], "unauthorized_client");
    }
);

both!(
    developers_register_and_manage_their_applications,
    |app: TestApp| async move {
        use crate::sessions::{csrf_of, page_as, submit};
        // The page: register, see the secret once, use it.
        let (b, page) = page_as(&app, "author", "/developer").await;
        assert_eq!(page.status, 200);
        assert!(page
            .text
            .contains("You have not registered an OAuth 2.0 application yet."));
        let token = csrf_of(&page.text);
        let r = submit(
            &app,
            &b,
            "/developer",
            &[
                ("_csrf", token.as_str()),
                ("name", "My app"),
                ("description", "Publishes things"),
                (
                    "redirect_uris",
                    "https://app.example/cb\nhttp://127.0.0.1/cb",
                ),
                ("type", "confidential"),
            ],
        )
        .await;
        assert_eq!(r.status, 200);
        let i = r.text.find("value=\"gcs_").expect("the secret is shown") + 7;
        let secret = r.text[i..i + r.text[i..].find('"').unwrap()].to_string();
        let clients = app
            .store
            .list_clients(Some(app.user("author").user.id))
            .await
            .unwrap();
        assert_eq!(clients.len(), 1);
        let id = clients[0].client_id();
        assert_eq!(
            clients[0].redirect_uris,
            vec!["https://app.example/cb", "http://127.0.0.1/cb"]
        );
        let again = finish(
            app.http()
                .get(app.url("/developer"))
                .header("cookie", &b.cookie),
        )
        .await;
        assert!(!again.text.contains(&secret), "shown once");
        assert!(again.text.contains(&format!("client_id <code>{id}</code>")));
        // A bad registration comes back with what was typed.
        let r = submit(
            &app,
            &b,
            "/developer",
            &[
                ("_csrf", token.as_str()),
                ("name", "Bad"),
                ("redirect_uris", "http://app.example/cb"),
            ],
        )
        .await;
        assert!(r.text.contains("must use https"), "{}", r.text);
        assert!(
            r.text
                .contains(">http:&#x2f;&#x2f;app.example&#x2f;cb</textarea>"),
            "{}",
            r.text
        );
        // Edit the redirect URIs; another user cannot.
        let path = format!("/developer/{id}/redirect-uris");
        let r = submit(
            &app,
            &b,
            &path,
            &[
                ("_csrf", token.as_str()),
                ("redirect_uris", "https://new.example/cb"),
            ],
        )
        .await;
        assert!(r.text.contains("were saved"), "{}", r.text);
        let (eb, epage) = page_as(&app, "editor", "/developer").await;
        let r = submit(
            &app,
            &eb,
            &path,
            &[
                ("_csrf", csrf_of(&epage.text).as_str()),
                ("redirect_uris", "https://evil.example/cb"),
            ],
        )
        .await;
        assert_eq!(r.status, 404);
        let c = app.store.get_client(clients[0].id).await.unwrap();
        assert_eq!(c.redirect_uris, vec!["https://new.example/cb"]);
        // Rotate the secret (after asking): the old one stops.
        let ask = finish(
            app.http()
                .get(app.url(&format!("/developer/{id}/rotate-secret")))
                .header("cookie", &b.cookie),
        )
        .await;
        assert!(ask.text.contains("Replace the client secret of “My app”?"));
        let r = submit(
            &app,
            &b,
            &format!("/developer/{id}/rotate-secret"),
            &[("_csrf", token.as_str())],
        )
        .await;
        let i = r.text.find("value=\"gcs_").expect("the new secret") + 7;
        let new_secret = r.text[i..i + r.text[i..].find('"').unwrap()].to_string();
        assert_ne!(new_secret, secret);
        // The JSON API: list, create, rotate, delete — a person's credentials only.
        let author = app.app_basic("author").await;
        let list = get(&app, "/wp-json/gatehouse/v1/clients", Some(&author)).await;
        assert_eq!(list.body[0]["client_id"], id);
        assert!(list.body[0].get("client_secret").is_none());
        let created = post(
            &app,
            "/wp-json/gatehouse/v1/clients",
            Some(&author),
            json!({"name": "SPA", "public": true, "redirect_uris": ["http://localhost:3000/cb"]}),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.body["type"], "public");
        assert!(created.body.get("client_secret").is_none());
        let spa = created.body["client_id"].as_str().unwrap().to_string();
        let r = post(
            &app,
            "/wp-json/gatehouse/v1/clients",
            Some(&author),
            json!({"name": "Imp", "public": true, "grants": ["implicit"], "redirect_uris": ["https://a.example/cb"]}),
        )
        .await;
        assert_eq!(
            r.status, 400,
            "only an operator grants implicit: {}",
            r.text
        );
        let rotated = post(
            &app,
            &format!("/wp-json/gatehouse/v1/clients/{id}/rotate-secret"),
            Some(&author),
            json!({}),
        )
        .await;
        assert!(rotated.body["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("gcs_"));
        let r = post(
            &app,
            &format!("/wp-json/gatehouse/v1/clients/{id}/rotate-secret"),
            Some(&app.app_basic("editor").await),
            json!({}),
        )
        .await;
        assert_eq!(r.status, 404, "not the editor's");
        let r = send(
            &app,
            gatehouse_testkit::reqwest::Method::DELETE,
            &format!("/wp-json/gatehouse/v1/clients/{spa}"),
            Some(&author),
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        // Delete on the page (after asking): gone with its tokens.
        let r = submit(
            &app,
            &b,
            &format!("/developer/{id}/delete"),
            &[("_csrf", token.as_str())],
        )
        .await;
        assert!(
            r.text.contains("The application “My app” was deleted."),
            "{}",
            r.text
        );
        assert!(app
            .store
            .list_clients(Some(app.user("author").user.id))
            .await
            .unwrap()
            .is_empty());
    }
);

both!(
    codes_expire_after_the_configured_lifetime_and_resource_servers_introspect_any,
    settings = |s: &mut gatehouse_server::Settings| s.oauth_code_ttl_secs = 5,
    |app: TestApp| async move {
        use crate::sessions::log_in;
        let (id, secret) = client(&app, "netadmin", &[], false).await;
        let client_auth = basic(&id, &secret.unwrap());
        let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        let code = || {
            let (app, b, id) = (&app, &b, id.clone());
            async move {
                let url = format!(
                    "/oauth/authorize?client_id={id}&response_type=code&scope=global&state=s"
                );
                let consent =
                    finish(app.http().get(app.url(&url)).header("cookie", &b.cookie)).await;
                let mut form = consent_fields(&consent.text);
                form.push(("decision".into(), "allow".into()));
                let r = finish(
                    app.http()
                        .post(app.url("/oauth/authorize"))
                        .header("cookie", &b.cookie)
                        .form(&form),
                )
                .await;
                query_of(r.header("location").unwrap())["code"].clone()
            }
        };
        let exchange = |code: String| {
            let (app, client_auth) = (&app, client_auth.clone());
            async move {
                token(
                    app,
                    "/oauth/token",
                    Some(&client_auth),
                    &[("grant_type", "authorization_code"), ("code", &code)],
                )
                .await
            }
        };
        let c = code().await;
        app.clock.advance(5);
        assert_eq!(
            exchange(c).await.body["error"],
            "invalid_grant",
            "expired after 5 s"
        );
        let c = code().await;
        app.clock.advance(4);
        let r = exchange(c).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let access = r.body["access_token"].as_str().unwrap().to_string();
        // A resource server marked introspect_any sees any client's tokens; others only theirs.
        let spec = ClientSpec {
            name: "API gateway".into(),
            grants: vec!["client_credentials".into()],
            introspect_any: true,
            ..ClientSpec::default()
        };
        let (rs, rs_secret) = registry::register(
            &*app.store,
            &app.state.keys,
            &spec,
            app.user("netadmin").user.id,
            1,
        )
        .await
        .unwrap();
        let rs_auth = basic(&rs.client_id(), rs_secret.unwrap().expose_secret());
        let r = finish(
            app.http()
                .post(app.url("/oauth/introspect"))
                .header("authorization", rs_auth)
                .form(&[("token", access.as_str())]),
        )
        .await;
        assert_eq!(r.body["active"], true, "{}", r.text);
        assert_eq!(r.body["client_id"], id);
        let (other, other_secret) = client(&app, "netadmin", &["client_credentials"], false).await;
        let r = finish(
            app.http()
                .post(app.url("/oauth/introspect"))
                .header("authorization", basic(&other, &other_secret.unwrap()))
                .form(&[("token", access.as_str())]),
        )
        .await;
        assert_eq!(r.body["active"], false);
    }
);

both!(
    introspection_may_answer_from_memory_the_token_endpoint_never_does,
    |app: TestApp| async move {
        let (id, secret) = client(
            &app,
            "editor",
            &["client_credentials", "refresh_token", "password"],
            false,
        )
        .await;
        let auth = basic(&id, &secret.unwrap());
        let cc = [("grant_type", "client_credentials"), ("scope", "posts")];
        let access = token(&app, "/oauth/token", Some(&auth), &cc).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let introspect = |token: String| {
            let app = &app;
            let auth = auth.clone();
            async move {
                finish(
                    app.http()
                        .post(app.url("/oauth/introspect"))
                        .header("authorization", auth)
                        .form(&[("token", token)]),
                )
                .await
            }
        };
        app.settle().await;
        // The client and the token are now kept by this instance.
        for _ in 0..2 {
            assert_eq!(introspect(access.clone()).await.body["active"], true);
        }
        // Revoked by another writer: inactive once this instance has seen the counter move.
        let found = gatehouse_core::authn::find_oauth_token(&*app.store, &app.state.keys, &access)
            .await
            .unwrap()
            .unwrap()
            .0;
        app.store
            .revoke_token(found.token.id, app.clock.now())
            .await
            .unwrap();
        app.settle().await;
        assert_eq!(introspect(access.clone()).await.body["active"], false);

        // The token endpoint reads its client from the database on every request: a client
        // deleted by another writer mints nothing more, even while this instance still keeps it.
        let client_id = gatehouse_core::oauth2::parse_client_id(&id).unwrap();
        assert_eq!(
            introspect(access.clone()).await.status,
            200,
            "the client is kept"
        );
        assert!(app.store.delete_client(client_id).await.unwrap());
        let r = token(&app, "/oauth/token", Some(&auth), &cc).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["error"], "invalid_client");
    }
);

both!(
    a_replayed_refresh_token_ends_the_family_for_the_next_request,
    |app: TestApp| async move {
        let (id, secret) = client(&app, "editor", &["refresh_token", "password"], false).await;
        let auth = basic(&id, &secret.unwrap());
        let pw = app.user("editor").password.clone();
        let form = [
            ("grant_type", "password"),
            ("username", "editor"),
            ("password", pw.as_str()),
            ("scope", "global"),
        ];
        let first = token(&app, "/oauth/token", Some(&auth), &form).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let refresh = first.body["refresh_token"].as_str().unwrap().to_string();
        let next = refresh_with(&app, &auth, &refresh, None).await;
        assert_eq!(next.status, 200, "{}", next.text);
        let access = next.body["access_token"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {access}");
        app.settle().await;
        for _ in 0..2 {
            let me = get(&app, "/wp-json/wp/v2/users/me", Some(&bearer)).await;
            assert_eq!(me.status, 200, "{}", me.text);
        }
        // The replay revokes every token of the family, and this instance's kept copy of the
        // access token goes with it before the next request.
        let replay = refresh_with(&app, &auth, &refresh, None).await;
        assert_eq!(replay.status, 400, "{}", replay.text);
        let me = get(&app, "/wp-json/wp/v2/users/me", Some(&bearer)).await;
        assert_eq!(me.status, 401, "{}", me.text);
    }
);

both!(
    a_client_deleted_while_it_requests_tokens_gets_invalid_client,
    |app: TestApp| async move {
        for round in 0..3 {
            let (id, secret) = client(&app, "editor", &["client_credentials"], false).await;
            let auth = basic(&id, &secret.unwrap());
            let client_id = gatehouse_core::oauth2::parse_client_id(&id).unwrap();
            let cc = [("grant_type", "client_credentials"), ("scope", "posts")];
            let requests = (0..24).map(|_| token(&app, "/oauth/token", Some(&auth), &cc));
            let delete = async {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                assert!(app.store.delete_client(client_id).await.unwrap());
            };
            let (answers, ()) = tokio::join!(futures_util::future::join_all(requests), delete);
            // Refused in the protocol's words: 401, or 429 once the refusals trip the throttle.
            let refused = |r: &Resp| {
                [401, 429].contains(&r.status.as_u16()) && r.body["error"] == "invalid_client"
            };
            for r in answers {
                assert!(
                    r.status == 200 || refused(&r),
                    "round {round}: {} {}",
                    r.status,
                    r.text
                );
            }
            let r = token(&app, "/oauth/token", Some(&auth), &cc).await;
            assert!(refused(&r), "{} {}", r.status, r.text);
        }
    }
);
