//! OAuth 1.0a (SPEC §8, RFC 5849) over real HTTP on both databases: the three legs, the approval
//! page, signed requests on every dialect, and every refusal — replay, stale timestamps, bad
//! signatures, revoked tokens, a request token used as an access token, malformed parameters.
//! Requests are signed here with the RFC's rules (`core::oauth1::signature`, itself checked
//! against the RFC's worked examples); `clients.rs` drives the same flow with third-party clients.

use crate::sessions::{csrf_of, page_as, Browser};
use crate::support::*;
use gatehouse_core::clock::Clock;
use gatehouse_core::oauth1::signature::{self, RequestParams, SignatureMethod};
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{both, TestApp};
use serde_json::json;

/// What a client holds: consumer key and secret, and a token and its secret once it has one.
#[derive(Clone)]
pub struct Signer {
    pub key: String,
    pub secret: String,
    pub token: Option<(String, String)>,
    pub method: SignatureMethod,
}

/// One signed request's inputs.
pub struct Sign<'a> {
    pub method: &'a str,
    /// Path and query, signed against `url_base` (the site's URL unless a test says otherwise).
    pub path: &'a str,
    pub url_base: &'a str,
    pub form: &'a [(&'a str, &'a str)],
    /// Extra protocol parameters (`oauth_callback`, `oauth_verifier`).
    pub extra: &'a [(&'a str, &'a str)],
    pub timestamp: i64,
    pub nonce: &'a str,
}

impl Signer {
    /// The protocol parameters of a signed request, `oauth_signature` last.
    pub fn params(&self, s: &Sign<'_>) -> Vec<(String, String)> {
        let mut oauth: Vec<(String, String)> = vec![
            ("oauth_consumer_key".into(), self.key.clone()),
            ("oauth_signature_method".into(), self.method.as_str().into()),
            ("oauth_timestamp".into(), s.timestamp.to_string()),
            ("oauth_nonce".into(), s.nonce.into()),
            ("oauth_version".into(), "1.0".into()),
        ];
        if let Some((t, _)) = &self.token {
            oauth.push(("oauth_token".into(), t.clone()));
        }
        for (k, v) in s.extra {
            oauth.push((k.to_string(), v.to_string()));
        }
        let (path, query) = s.path.split_once('?').unwrap_or((s.path, ""));
        let params = RequestParams {
            header: oauth.clone(),
            query: signature::form_pairs(query),
            body: s
                .form
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let uri = signature::base_uri(s.url_base, path).unwrap();
        let base = signature::base_string(s.method, &uri, &params);
        let token_secret = self.token.as_ref().map(|t| t.1.as_str()).unwrap_or("");
        let sig = signature::sign(self.method, &self.secret, token_secret, &base);
        oauth.push(("oauth_signature".into(), sig));
        oauth
    }

    pub fn header(&self, s: &Sign<'_>) -> String {
        let oauth = self.params(s);
        let parts: Vec<String> = std::iter::once("realm=\"Example\"".to_string())
            .chain(
                oauth
                    .iter()
                    .map(|(k, v)| format!("{}=\"{}\"", signature::encode(k), signature::encode(v))),
            )
            .collect();
        format!("OAuth {}", parts.join(", "))
    }
}

fn nonce() -> String {
    gatehouse_core::secrets::mint_alnum(20)
        .expose_secret()
        .to_string()
}

fn now(app: &TestApp) -> i64 {
    app.clock.now()
}

/// Sends a signed request with the site's URL as the base-string URI.
pub async fn signed(
    app: &TestApp,
    who: &Signer,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Resp {
    let n = nonce();
    let h = who.header(&Sign {
        method,
        path,
        url_base: &app.site.url,
        form,
        extra,
        timestamp: now(app),
        nonce: &n,
    });
    send_signed(app, method, path, &h, form).await
}

async fn send_signed(
    app: &TestApp,
    method: &str,
    path: &str,
    header: &str,
    form: &[(&str, &str)],
) -> Resp {
    let mut rb = app
        .http()
        .request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(path),
        )
        .header("authorization", header);
    if !form.is_empty() {
        rb = rb.form(form);
    }
    finish(rb).await
}

fn form_of(text: &str) -> std::collections::HashMap<String, String> {
    signature::form_pairs(text).into_iter().collect()
}

/// Registers an application owned by `netadmin`; returns its signer (no token yet).
pub async fn register(app: &TestApp, callback: Option<&str>) -> Signer {
    let (c, secret) = gatehouse_core::oauth1::register(
        &*app.store,
        &app.state.keys,
        &gatehouse_core::oauth1::ConsumerSpec {
            name: "Desk Client".into(),
            description: "A desktop publishing client".into(),
            callback: callback.map(str::to_string),
        },
        app.user("netadmin").user.id,
        now(app),
    )
    .await
    .unwrap();
    Signer {
        key: c.key,
        secret: secret.expose_secret().to_string(),
        token: None,
        method: SignatureMethod::HmacSha1,
    }
}

/// Leg one: temporary credentials.
async fn request_token(app: &TestApp, app_signer: &Signer, callback: &str) -> Signer {
    let r = signed(
        app,
        app_signer,
        "POST",
        "/oauth1/request",
        &[],
        &[("oauth_callback", callback)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = form_of(&r.text);
    assert_eq!(f["oauth_callback_confirmed"], "true");
    Signer {
        token: Some((f["oauth_token"].clone(), f["oauth_token_secret"].clone())),
        ..app_signer.clone()
    }
}

/// The approval page's answer for `login` (`allow` or `deny`).
async fn answer(app: &TestApp, b: &Browser, token: &str, decision: &str) -> Resp {
    let page = finish(
        app.http()
            .get(app.url(&format!("/oauth1/authorize?oauth_token={token}")))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text);
    finish(
        app.http()
            .post(app.url("/oauth1/authorize"))
            .header("cookie", &b.cookie)
            .form(&[
                ("_csrf", csrf_of(&page.text).as_str()),
                ("oauth_token", token),
                ("decision", decision),
            ]),
    )
    .await
}

/// The whole flow with a callback: an access-token signer for `login`.
pub async fn authorized(app: &TestApp, login: &str) -> Signer {
    let client = register(app, Some("https://app.example/cb")).await;
    let req = request_token(app, &client, "https://app.example/cb").await;
    let (b, _) = page_as(app, login, "/profile").await;
    let r = answer(app, &b, &req.token.as_ref().unwrap().0, "allow").await;
    let loc = r.header("location").unwrap().to_string();
    let q = form_of(loc.split_once('?').unwrap().1);
    let r = signed(
        app,
        &req,
        "POST",
        "/oauth1/access",
        &[],
        &[("oauth_verifier", &q["oauth_verifier"])],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = form_of(&r.text);
    Signer {
        token: Some((f["oauth_token"].clone(), f["oauth_token_secret"].clone())),
        ..client
    }
}

both!(three_legs_with_a_callback, |app: TestApp| async move {
    let client = register(&app, Some("https://app.example/cb")).await;
    // Leg one answers a form body, never cached.
    let r = signed(
        &app,
        &client,
        "POST",
        "/oauth1/request",
        &[],
        &[("oauth_callback", "https://app.example/cb")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let f = form_of(&r.text);
    assert!(gatehouse_core::oauth1::is_token_key(&f["oauth_token"]));
    assert_eq!(f["oauth_token_secret"].len(), 48);
    // Another callback, or none, is refused.
    for (extra, problem) in [
        (
            &[("oauth_callback", "https://evil.example/cb")][..],
            "callback_rejected",
        ),
        (&[][..], "parameter_absent"),
    ] {
        let r = signed(&app, &client, "POST", "/oauth1/request", &[], extra).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["error"], problem, "{}", r.text);
    }
    // Unsigned: the parameter that is missing is named.
    let r = get(&app, "/oauth1/request", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (400, Some("parameter_absent"))
    );

    let req = Signer {
        token: Some((f["oauth_token"].clone(), f["oauth_token_secret"].clone())),
        ..client.clone()
    };
    let token = f["oauth_token"].clone();
    // Not logged in: the log-in page, then back here.
    let r = get(
        &app,
        &format!("/oauth1/authorize?oauth_token={token}"),
        None,
    )
    .await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap();
    assert!(
        loc.starts_with("/login?redirect_to=%2Foauth1%2Fauthorize"),
        "{loc}"
    );
    // The page names the app, its owner and where the answer goes.
    let (b, _) = page_as(&app, "author", "/profile").await;
    let page = finish(
        app.http()
            .get(app.url(&format!("/oauth1/authorize?oauth_token={token}")))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Desk Client"), "{}", page.text);
    assert!(page.text.contains(&app.user("netadmin").user.display_name));
    assert!(page.text.contains("app.example"));
    // A request token is not an access token, before or after approval.
    let me = "/wp-json/wp/v2/users/me";
    let r = signed(&app, &req, "GET", me, &[], &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "token_rejected"),
        "{}",
        r.text
    );
    // Exchange before approval: refused.
    let r = signed(
        &app,
        &req,
        "POST",
        "/oauth1/access",
        &[],
        &[("oauth_verifier", "aaaaaaaaaaaaaaaaaaaaaaaa")],
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (401, Some("token_rejected"))
    );

    let r = answer(&app, &b, &token, "allow").await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with("https://app.example/cb?oauth_token="),
        "{loc}"
    );
    let q = form_of(loc.split_once('?').unwrap().1);
    assert_eq!(q["oauth_token"], token);
    let verifier = q["oauth_verifier"].clone();
    // Answered once: the page and a second answer refuse.
    let again = finish(
        app.http()
            .get(app.url(&format!("/oauth1/authorize?oauth_token={token}")))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(again.status, 400);
    let r = signed(&app, &req, "GET", me, &[], &[]).await;
    assert_eq!(r.code(), "token_rejected");
    // A wrong verifier does not exchange (and does not use the token up).
    let r = signed(
        &app,
        &req,
        "POST",
        "/oauth1/access",
        &[],
        &[("oauth_verifier", "bbbbbbbbbbbbbbbbbbbbbbbb")],
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (401, Some("verifier_invalid"))
    );
    let r = signed(&app, &req, "POST", "/oauth1/access", &[], &[]).await;
    assert_eq!(r.body["error"], "parameter_absent", "{}", r.text);
    let r = signed(
        &app,
        &req,
        "POST",
        "/oauth1/access",
        &[],
        &[("oauth_verifier", &verifier)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = form_of(&r.text);
    let access = Signer {
        token: Some((f["oauth_token"].clone(), f["oauth_token_secret"].clone())),
        ..client.clone()
    };
    // The request token is used up.
    let r = signed(
        &app,
        &req,
        "POST",
        "/oauth1/access",
        &[],
        &[("oauth_verifier", &verifier)],
    )
    .await;
    assert_eq!(r.body["error"], "token_rejected", "{}", r.text);

    // The access token acts as the author on every dialect.
    let r = signed(&app, &access, "GET", me, &[], &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["slug"], "author");
    let r = signed(&app, &access, "GET", "/v1/user", &[], &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = signed(&app, &access, "GET", "/rest/v1.1/me", &[], &[]).await;
    assert_eq!(r.body["username"], "author", "{}", r.text);
    // WordPress's ?rest_route= form: the routing parameter is signed like any other.
    let r = signed(
        &app,
        &access,
        "GET",
        "/?rest_route=/wp/v2/users/me",
        &[],
        &[],
    )
    .await;
    assert_eq!(r.body["slug"], "author", "{}", r.text);
    // A form body is signed: the post is created; a body changed after signing is refused.
    let form = [("title", "Signed form"), ("status", "publish")];
    let r = signed(&app, &access, "POST", "/wp-json/wp/v2/posts", &form, &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let n = nonce();
    let h = access.header(&Sign {
        method: "POST",
        path: "/wp-json/wp/v2/posts",
        url_base: &app.site.url,
        form: &form,
        extra: &[],
        timestamp: now(&app),
        nonce: &n,
    });
    let r = send_signed(
        &app,
        "POST",
        "/wp-json/wp/v2/posts",
        &h,
        &[("title", "Tampered"), ("status", "publish")],
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "signature_invalid"));
    // A JSON body is not part of the signature (RFC 5849 §3.4.1.3.1): the post is created.
    let n = nonce();
    let h = access.header(&Sign {
        method: "POST",
        path: "/wp-json/wp/v2/posts",
        url_base: &app.site.url,
        form: &[],
        extra: &[],
        timestamp: now(&app),
        nonce: &n,
    });
    let r = finish(
        app.http()
            .post(app.url("/wp-json/wp/v2/posts"))
            .header("authorization", &h)
            .json(&json!({ "title": "Signed JSON", "status": "draft" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // It may not manage credentials (SPEC §6).
    for path in [
        "/wp-json/wp/v2/users/me/application-passwords",
        "/wp-json/gatehouse/v1/api-keys",
        "/wp-json/gatehouse/v1/me/grants",
    ] {
        let r = signed(&app, &access, "GET", path, &[], &[]).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    // Nothing secret is stored in clear: not the consumer secret, token keys, token secrets or
    // the verifier.
    let dump = app.raw_database_dump().await;
    let (tk, ts) = access.token.clone().unwrap();
    for s in [&client.secret, &tk, &ts, &token, &verifier] {
        assert!(
            !dump.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret is stored in clear"
        );
    }
});

both!(
    oob_shows_the_verifier_and_deny_says_no,
    |app: TestApp| async move {
        let client = register(&app, None).await;
        // Without a registered callback only oob is allowed.
        let r = signed(
            &app,
            &client,
            "POST",
            "/oauth1/request",
            &[],
            &[("oauth_callback", "https://app.example/cb")],
        )
        .await;
        assert_eq!(r.body["error"], "callback_rejected");
        let req = request_token(&app, &client, "oob").await;
        let (b, _) = page_as(&app, "editor", "/profile").await;
        let r = answer(&app, &b, &req.token.as_ref().unwrap().0, "allow").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let i = r.text.find("id=\"verifier\" readonly value=\"").unwrap() + 30;
        let verifier = r.text[i..i + 24].to_string();
        assert!(gatehouse_core::oauth1::is_verifier(&verifier), "{verifier}");
        let r = signed(
            &app,
            &req,
            "POST",
            "/oauth1/access",
            &[],
            &[("oauth_verifier", &verifier)],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Deny: the request token is gone; oob shows a page, a callback gets permission_denied.
        let req = request_token(&app, &client, "oob").await;
        let r = answer(&app, &b, &req.token.as_ref().unwrap().0, "deny").await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("You denied"), "{}", r.text);
        let with_cb = register(&app, Some("http://127.0.0.1:9/cb")).await;
        let req = request_token(&app, &with_cb, "http://127.0.0.1:9/cb").await;
        let token = req.token.as_ref().unwrap().0.clone();
        let r = answer(&app, &b, &token, "deny").await;
        assert_eq!(r.status, 303);
        assert_eq!(
            r.header("location").unwrap(),
            format!("http://127.0.0.1:9/cb?oauth_token={token}&oauth_problem=permission_denied")
        );
        let page = finish(
            app.http()
                .get(app.url(&format!("/oauth1/authorize?oauth_token={token}")))
                .header("cookie", &b.cookie),
        )
        .await;
        assert_eq!(page.status, 400);
        // A forged answer without the page's CSRF token changes nothing.
        let req = request_token(&app, &with_cb, "http://127.0.0.1:9/cb").await;
        let r = finish(
            app.http()
                .post(app.url("/oauth1/authorize"))
                .header("cookie", &b.cookie)
                .form(&[
                    ("oauth_token", req.token.as_ref().unwrap().0.as_str()),
                    ("decision", "allow"),
                ]),
        )
        .await;
        assert_eq!(r.status, 403);
    }
);

both!(
    signed_requests_are_refused_by_name,
    |app: TestApp| async move {
        let access = authorized(&app, "author").await;
        let me = "/wp-json/wp/v2/users/me";
        let t = now(&app);
        let at = |timestamp: i64, nonce: &str, who: &Signer, base: &str| {
            who.header(&Sign {
                method: "GET",
                path: me,
                url_base: base,
                form: &[],
                extra: &[],
                timestamp,
                nonce,
            })
        };
        let site = app.site.url.clone();
        // Replay: the same nonce, client, token and timestamp is accepted once.
        let h = at(t, "replay-me", &access, &site);
        assert_eq!(send_signed(&app, "GET", me, &h, &[]).await.status, 200);
        let r = send_signed(&app, "GET", me, &h, &[]).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "nonce_used"));
        assert!(
            r.all("www-authenticate")
                .contains(&r#"OAuth realm="gatehouse", oauth_problem="nonce_used""#.to_string()),
            "{:?}",
            r.all("www-authenticate")
        );
        // The same nonce with another timestamp is another request.
        let h = at(t - 1, "replay-me", &access, &site);
        assert_eq!(send_signed(&app, "GET", me, &h, &[]).await.status, 200);
        // A refused signature does not use up its nonce: the signature is checked first, so
        // nobody without the secrets can burn a client's nonces.
        let forged = Signer {
            secret: "f".repeat(48),
            ..access.clone()
        };
        let r = send_signed(&app, "GET", me, &at(t, "first-try", &forged, &site), &[]).await;
        assert_eq!(r.code(), "signature_invalid");
        let h = at(t, "first-try", &access, &site);
        assert_eq!(send_signed(&app, "GET", me, &h, &[]).await.status, 200);
        // Timestamps: ±600 s accepted, beyond refused.
        for (ts, ok) in [
            (t - 600, true),
            (t + 600, true),
            (t - 601, false),
            (t + 601, false),
        ] {
            let h = at(ts, &nonce(), &access, &site);
            let r = send_signed(&app, "GET", me, &h, &[]).await;
            if ok {
                assert_eq!(r.status, 200, "{ts}: {}", r.text);
            } else {
                assert_eq!(
                    (r.status.as_u16(), r.code()),
                    (401, "timestamp_refused"),
                    "{ts}"
                );
            }
        }
        // A wrong secret, or a signature over another host, is a bad signature: the base-string URI
        // is the site's URL whatever Host the request names.
        let wrong = Signer {
            secret: "x".repeat(48),
            ..access.clone()
        };
        let r = send_signed(&app, "GET", me, &at(t, &nonce(), &wrong, &site), &[]).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "signature_invalid"));
        let r = send_signed(
            &app,
            "GET",
            me,
            &at(t, &nonce(), &access, "http://evil.example"),
            &[],
        )
        .await;
        assert_eq!(r.code(), "signature_invalid");
        let r = finish(
            app.http()
                .get(app.url(me))
                .header("host", "evil.example")
                .header("authorization", at(t, &nonce(), &access, &site)),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The signature covers the method and the query.
        let h = at(t, &nonce(), &access, &site);
        let r = send_signed(&app, "GET", &format!("{me}?context=edit"), &h, &[]).await;
        assert_eq!(r.code(), "signature_invalid");
        // HMAC-SHA256 works as well.
        let sha256 = Signer {
            method: SignatureMethod::HmacSha256,
            ..access.clone()
        };
        assert_eq!(signed(&app, &sha256, "GET", me, &[], &[]).await.status, 200);
        // Unknown consumer key; a token of another consumer.
        let stranger = Signer {
            key: "abcdefghijkl".into(),
            ..access.clone()
        };
        let r = signed(&app, &stranger, "GET", me, &[], &[]).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "consumer_key_unknown"));
        let other = register(&app, None).await;
        let borrowed = Signer {
            token: access.token.clone(),
            ..other
        };
        let r = signed(&app, &borrowed, "GET", me, &[], &[]).await;
        assert_eq!(r.code(), "token_rejected");
        // Malformed requests are 400 with the parameter named.
        let good = at(t, &nonce(), &access, &site);
        let cases = [
            (
                good.replace("oauth_nonce=", "oauth_x="),
                "parameter_absent",
                "oauth_nonce",
            ),
            (
                format!("{good}, oauth_nonce=\"again\""),
                "parameter_duplicated",
                "oauth_nonce",
            ),
            (
                good.replace("HMAC-SHA1", "PLAINTEXT"),
                "signature_method_rejected",
                "",
            ),
            (
                good.replace("oauth_version=\"1.0\"", "oauth_version=\"2.0\""),
                "version_rejected",
                "",
            ),
            (
                good.replace(&format!("\"{t}\""), "\"soon\""),
                "parameter_rejected",
                "oauth_timestamp",
            ),
            (
                "OAuth oauth_consumer_key=unquoted".to_string(),
                "parameter_rejected",
                "",
            ),
        ];
        for (h, code, names) in cases {
            let r = send_signed(&app, "GET", me, &h, &[]).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (400, code),
                "{h}: {}",
                r.text
            );
            assert!(r.text.contains(names), "{}", r.text);
        }
        // A protocol parameter in the query as well as the header is a duplicate.
        let h = at(t, &nonce(), &access, &site);
        let r = send_signed(&app, "GET", &format!("{me}?oauth_nonce=x"), &h, &[]).await;
        assert_eq!(r.code(), "parameter_duplicated");
        // In the hosting dialect's envelope too.
        let r = signed(&app, &stranger, "GET", "/v1/user", &[], &[]).await;
        assert_eq!(r.body["error"], "consumer_key_unknown", "{}", r.text);
    }
);

both!(
    revoked_and_suspended_tokens_stop_at_once,
    |app: TestApp| async move {
        let me = "/wp-json/wp/v2/users/me";
        let access = authorized(&app, "author").await;
        assert_eq!(signed(&app, &access, "GET", me, &[], &[]).await.status, 200);
        // The author sees it in me/grants and revokes it there.
        let basic = app.app_basic("author").await;
        let list = get(&app, "/wp-json/gatehouse/v1/me/grants", Some(&basic)).await;
        let entry = list
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["protocol"] == "oauth1")
            .unwrap()
            .clone();
        assert_eq!(entry["client_name"], "Desk Client");
        assert_eq!(entry["client_id"], access.key);
        assert!(entry["last_used"].is_string(), "{entry}");
        let id = entry["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("oauth1-"));
        // Another user cannot revoke it.
        let other = app.app_basic("editor").await;
        let r = send(
            &app,
            Method::DELETE,
            &format!("/wp-json/gatehouse/v1/me/grants/{id}"),
            Some(&other),
            None,
        )
        .await;
        assert_eq!(r.status, 404);
        let r = send(
            &app,
            Method::DELETE,
            &format!("/wp-json/gatehouse/v1/me/grants/{id}"),
            Some(&basic),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = signed(&app, &access, "GET", me, &[], &[]).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "token_rejected"));

        // On the profile page: listed with Revoke, a confirmation, then gone.
        let access = authorized(&app, "author").await;
        let (b, page) = page_as(&app, "author", "/profile").await;
        assert!(page.text.contains("Desk Client"));
        let i = page.text.find("/profile/oauth1/").unwrap();
        let link = &page.text[i..i + page.text[i..].find('"').unwrap()];
        let confirm = finish(app.http().get(app.url(link)).header("cookie", &b.cookie)).await;
        assert_eq!(confirm.status, 200);
        assert_eq!(signed(&app, &access, "GET", me, &[], &[]).await.status, 200);
        let r = finish(
            app.http()
                .post(app.url(link))
                .header("cookie", &b.cookie)
                .form(&[("_csrf", csrf_of(&confirm.text))]),
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            signed(&app, &access, "GET", me, &[], &[]).await.code(),
            "token_rejected"
        );

        // A disabled user's tokens, and a disabled owner's application, stop working.
        let access = authorized(&app, "author").await;
        let author = app.user("author").user.id;
        app.store.set_user_disabled(author, true).await.unwrap();
        assert_eq!(
            signed(&app, &access, "GET", me, &[], &[]).await.code(),
            "token_rejected"
        );
        app.store.set_user_disabled(author, false).await.unwrap();
        assert_eq!(signed(&app, &access, "GET", me, &[], &[]).await.status, 200);
        let owner = app.user("netadmin").user.id;
        app.store.set_user_disabled(owner, true).await.unwrap();
        assert_eq!(
            signed(&app, &access, "GET", me, &[], &[]).await.code(),
            "consumer_key_unknown"
        );
        app.store.set_user_disabled(owner, false).await.unwrap();
        // Deleting the application ends its tokens.
        let consumer = app
            .store
            .find_consumer_by_key(&access.key)
            .await
            .unwrap()
            .unwrap()
            .0;
        app.store.delete_consumer(consumer.id).await.unwrap();
        assert_eq!(
            signed(&app, &access, "GET", me, &[], &[]).await.code(),
            "consumer_key_unknown"
        );
    }
);

both!(
    key_rotation_keeps_sealed_secrets_working,
    |app: TestApp| async move {
        let access = authorized(&app, "author").await;
        let rotated = app.sibling(true).await;
        let r = signed(
            &rotated,
            &access,
            "GET",
            "/wp-json/wp/v2/users/me",
            &[],
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // A new application and token under the new key version work on it too.
        let fresh = authorized(&rotated, "editor").await;
        let r = signed(&rotated, &fresh, "GET", "/wp-json/wp/v2/users/me", &[], &[]).await;
        assert_eq!(r.body["slug"], "editor", "{}", r.text);
    }
);

both!(index_advertises_the_three_legs, |app: TestApp| async move {
    let r = get(&app, "/wp-json/", None).await;
    let o = &r.body["authentication"]["oauth1"];
    let base = &app.site.url;
    assert_eq!(o["request"], format!("{base}/oauth1/request"));
    assert_eq!(o["authorize"], format!("{base}/oauth1/authorize"));
    assert_eq!(o["access"], format!("{base}/oauth1/access"));
    assert_eq!(o["version"], "0.1");
});

both!(signed_in_the_query_or_the_body, |app: TestApp| async move {
    let access = authorized(&app, "author").await;
    let site = app.site.url.clone();
    let sign = |path: &str, method: &'static str, form: Vec<(String, String)>| {
        let form_refs: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        access.params(&Sign {
            method,
            path,
            url_base: &site,
            form: &form_refs,
            extra: &[],
            timestamp: now(&app),
            nonce: &nonce(),
        })
    };
    let encode = |pairs: &[(String, String)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    // In the query string (RFC 5849 §3.5.3).
    let me = "/wp-json/wp/v2/users/me?context=view";
    let q = encode(&sign(me, "GET", Vec::new()));
    let r = get(&app, &format!("{me}&{q}"), None).await;
    assert_eq!(r.body["slug"], "author", "{}", r.text);
    // A bad signature there is refused — never read as an anonymous request, even where an
    // anonymous one would be answered.
    let posts = "/wp-json/wp/v2/posts";
    let mut bad = sign(posts, "GET", Vec::new());
    bad.last_mut().unwrap().1 = "Zm9yZ2Vk".into();
    let r = get(&app, &format!("{posts}?{}", encode(&bad)), None).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "signature_invalid"),
        "{}",
        r.text
    );
    // In a form body (RFC 5849 §3.5.2): the fields and the protocol parameters are signed together.
    let fields = vec![
        ("title".to_string(), "Body-signed".to_string()),
        ("status".to_string(), "draft".to_string()),
    ];
    let oauth = sign(posts, "POST", fields.clone());
    let all: Vec<(String, String)> = fields.into_iter().chain(oauth).collect();
    let r = finish(app.http().post(app.url(posts)).form(&all)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The legs take a GET, and a multipart body (PHP's curl sends one).
    let client = register(&app, None).await;
    let n = nonce();
    let h = client.header(&Sign {
        method: "GET",
        path: "/oauth1/request?oauth_callback=oob",
        url_base: &site,
        form: &[],
        extra: &[],
        timestamp: now(&app),
        nonce: &n,
    });
    let r = finish(
        app.http()
            .get(app.url("/oauth1/request?oauth_callback=oob"))
            .header("authorization", h),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let n = nonce();
    let h = client.header(&Sign {
        method: "POST",
        path: "/oauth1/request",
        url_base: &site,
        form: &[("oauth_callback", "oob")],
        extra: &[],
        timestamp: now(&app),
        nonce: &n,
    });
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"oauth_callback\"\r\n\r\noob\r\n--XyZ--\r\n";
    let r = finish(
        app.http()
            .post(app.url("/oauth1/request"))
            .header("authorization", h)
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("oauth_callback_confirmed=true"));
});
