//! Log-in, cookie sessions with `wp_rest` nonces (TRANSCRIPTS section C), the web pages'
//! CSRF and redirect rules, session expiry and revocation, on both databases.

use crate::support::*;
use gatehouse_core::clock::Clock;
use gatehouse_server::Settings;
use gatehouse_testkit::reqwest::{Method, StatusCode};
use gatehouse_testkit::{basic, both, TestApp};
use serde_json::json;

/// The value of `name` in the response's `Set-Cookie` headers.
pub fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.all("set-cookie").into_iter().find_map(|c| {
        let first = c.split(';').next()?.to_string();
        let (k, v) = first.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// The value of the hidden `_csrf` field in a page.
pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"_csrf\" value=\"").expect("a CSRF field");
    let rest = &html[i + 20..];
    rest[..rest.find('"').unwrap()].to_string()
}

pub struct Browser {
    pub cookie: String,
    pub session: String,
}

/// Logs in through the form like a browser; returns the cookie header to send afterwards.
pub async fn log_in(
    app: &TestApp,
    login: &str,
    password: &str,
    redirect_to: &str,
) -> (Resp, Option<Browser>) {
    let page = get(app, "/wp-login.php", None).await;
    assert_eq!(page.status, 200);
    let pre = set_cookie(&page, "gatehouse_login").expect("pre-session cookie");
    let token = csrf_of(&page.text);
    let r = finish(
        app.http()
            .post(app.url("/wp-login.php"))
            .header("cookie", format!("gatehouse_login={pre}"))
            .form(&[
                ("log", login),
                ("pwd", password),
                ("_csrf", &token),
                ("redirect_to", redirect_to),
            ]),
    )
    .await;
    let session = set_cookie(&r, "gatehouse_session").filter(|v| !v.is_empty());
    let b = session.map(|s| Browser {
        cookie: format!("gatehouse_session={s}"),
        session: s,
    });
    (r, b)
}

/// Submits a page form as a browser does. A form that was taken answers 303 (post/redirect/get):
/// the page it leads to is fetched with the session and the one-time message cookie, and that
/// page is returned. Anything else (a refusal page) is returned as it came.
pub async fn submit(app: &TestApp, b: &Browser, path: &str, form: &[(&str, &str)]) -> Resp {
    let r = finish(
        app.http()
            .post(app.url(path))
            .header("cookie", &b.cookie)
            .form(form),
    )
    .await;
    if r.status != StatusCode::SEE_OTHER {
        return r;
    }
    follow(app, b, &r).await
}

/// The page a 303 leads to, fetched with the session and the flash cookie it set.
pub async fn follow(app: &TestApp, b: &Browser, r: &Resp) -> Resp {
    let to = r.header("location").expect("a Location").to_string();
    assert!(to.starts_with('/'), "pages redirect on this site: {to}");
    let cookie = match set_cookie(r, "gatehouse_flash") {
        Some(f) => format!("{}; gatehouse_flash={f}", b.cookie),
        None => b.cookie.clone(),
    };
    finish(app.http().get(app.url(&to)).header("cookie", cookie)).await
}

/// Logs a seeded user in through the form and fetches `path` with the session.
pub async fn page_as(app: &TestApp, login: &str, path: &str) -> (Browser, Resp) {
    let (_, b) = log_in(app, login, &app.user(login).password.clone(), "").await;
    let b = b.expect("logged in");
    let page = finish(app.http().get(app.url(path)).header("cookie", &b.cookie)).await;
    (b, page)
}

async fn nonce(app: &TestApp, b: &Browser) -> String {
    let r = finish(
        app.http()
            .get(app.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(r.status, 200);
    r.text
}

async fn with_cookie(
    app: &TestApp,
    m: Method,
    path: &str,
    b: &Browser,
    nonce: Option<&str>,
    body: Option<serde_json::Value>,
) -> Resp {
    let mut rb = app
        .http()
        .request(m, app.url(path))
        .header("cookie", &b.cookie);
    if let Some(n) = nonce {
        rb = rb.header("x-wp-nonce", n);
    }
    if let Some(j) = body {
        rb = rb.json(&j);
    }
    finish(rb).await
}

both!(section_c_cookie_and_nonce, |app: TestApp| async move {
    let admin = app.user("siteadmin").clone();
    // 28: a wrong password re-shows the form (200) and is audited.
    let (r, b) = log_in(&app, "siteadmin", "wrong password", "").await;
    assert_eq!(r.status, 200);
    assert!(b.is_none());
    assert!(r.text.contains("The username or password is incorrect."));
    // 27: log in: 303 and a new HttpOnly, SameSite=Lax session cookie.
    let (r, b) = log_in(&app, "siteadmin", &admin.password, "").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/profile"));
    let b = b.expect("session cookie");
    let sc = r
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("gatehouse_session="))
        .unwrap();
    assert!(
        sc.contains("HttpOnly") && sc.contains("SameSite=Lax") && sc.contains("Path=/"),
        "{sc}"
    );
    assert!(
        !sc.contains("Secure"),
        "plain http on loopback: no Secure, no __Host- prefix"
    );
    // 29, 30: the nonce endpoint.
    let n = nonce(&app, &b).await;
    assert_eq!(n.len(), 10);
    let r = get(&app, "/wp-admin/admin-ajax.php?action=rest-nonce", None).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (400, "0"));
    // 31: users/me with cookie + nonce, and a fresh nonce in the answer.
    let r = with_cookie(
        &app,
        Method::GET,
        "/?rest_route=/wp/v2/users/me",
        &b,
        Some(&n),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["id"].as_i64()),
        (200, Some(admin.user.id.0))
    );
    assert_eq!(r.header("x-wp-nonce").map(str::len), Some(10));
    // 32, 33: create with the header, and with `_wpnonce`.
    let r = with_cookie(
        &app,
        Method::POST,
        "/?rest_route=/wp/v2/posts",
        &b,
        Some(&n),
        Some(json!({"title":"cookie","status":"draft"})),
    )
    .await;
    assert_eq!(r.status, 201);
    let r = with_cookie(
        &app,
        Method::POST,
        &format!("/?rest_route=/wp/v2/posts&_wpnonce={n}"),
        &b,
        None,
        Some(json!({"title":"cookie2"})),
    )
    .await;
    assert_eq!(r.status, 201);
    // 34: a wrong nonce.
    let r = with_cookie(
        &app,
        Method::POST,
        "/?rest_route=/wp/v2/posts",
        &b,
        Some("0123456789"),
        Some(json!({"title":"x"})),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"code":"rest_cookie_invalid_nonce","message":"Cookie check failed","data":{"status":403}})
    );
    // 35, 36: cookies without a nonce are anonymous.
    let r = with_cookie(
        &app,
        Method::POST,
        "/?rest_route=/wp/v2/posts",
        &b,
        None,
        Some(json!({"title":"x"})),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "rest_cannot_create"));
    let r = with_cookie(
        &app,
        Method::GET,
        "/?rest_route=/wp/v2/users/me",
        &b,
        None,
        None,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "rest_not_logged_in"));
    // 37: a valid header but an invalid `_wpnonce`: `_wpnonce` wins.
    let r = with_cookie(
        &app,
        Method::POST,
        "/?rest_route=/wp/v2/posts&_wpnonce=0123456789",
        &b,
        Some(&n),
        Some(json!({"title":"x"})),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_cookie_invalid_nonce")
    );
    // 38 (deliberate difference): an Authorization header beats the cookie, so a wrong one is 401.
    let r = finish(
        app.http()
            .get(app.url("/?rest_route=/wp/v2/users/me"))
            .header("cookie", &b.cookie)
            .header("x-wp-nonce", &n)
            .header(
                "authorization",
                basic("siteadmin", "abcd efgh ijkl mnop qrst uvwx"),
            ),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
    // 39: a tampered cookie with the nonce.
    let mut tampered = b.session.clone().into_bytes();
    tampered[5] = if tampered[5] == b'a' { b'b' } else { b'a' };
    let tb = Browser {
        cookie: format!("gatehouse_session={}", String::from_utf8(tampered).unwrap()),
        session: String::new(),
    };
    let r = with_cookie(
        &app,
        Method::GET,
        "/?rest_route=/wp/v2/users/me",
        &tb,
        Some(&n),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_cookie_invalid_nonce")
    );
    // 42, 47, 56: application passwords with cookie + nonce.
    let r = with_cookie(
        &app,
        Method::GET,
        "/?rest_route=/wp/v2/users/me/application-passwords/introspect",
        &b,
        Some(&n),
        None,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"code":"rest_no_authenticated_app_password","message":"Cannot introspect application password.","data":{"status":404}})
    );
    let r = with_cookie(
        &app,
        Method::POST,
        "/?rest_route=/wp/v2/users/me/application-passwords",
        &b,
        Some(&n),
        Some(json!({"name":"transcript-demo-cookie"})),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.header("x-wp-nonce").is_some());
    let uuid = r.body["uuid"].as_str().unwrap().to_string();
    let r = with_cookie(
        &app,
        Method::DELETE,
        &format!("/?rest_route=/wp/v2/users/me/application-passwords/{uuid}&_fields=deleted"),
        &b,
        Some(&n),
        None,
    )
    .await;
    assert_eq!(r.body, json!({"deleted": true}));
    // Sessions can manage credentials (SPEC §6) and list themselves.
    let r = with_cookie(
        &app,
        Method::GET,
        "/wp-json/gatehouse/v1/me/sessions",
        &b,
        Some(&n),
        None,
    )
    .await;
    assert_eq!(r.body[0]["current"], true);
    let audit = app.store.list_audit(None, 50).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.event == "login.failure" && e.login.as_deref() == Some("siteadmin")));
    assert!(audit.iter().any(|e| e.event == "login.success"));
});

both!(
    login_is_csrf_safe_and_fixation_free,
    |app: TestApp| async move {
        let pw = app.user("editor").password.clone();
        // Login CSRF: no pre-session cookie, or a token for another one, is refused.
        let r = finish(app.http().post(app.url("/login")).form(&[
            ("log", "editor"),
            ("pwd", pw.as_str()),
            ("_csrf", "x"),
        ]))
        .await;
        assert_eq!(r.status, 403);
        assert!(set_cookie(&r, "gatehouse_session").is_none());
        let page = get(&app, "/login", None).await;
        let token = csrf_of(&page.text);
        let r = finish(
            app.http()
                .post(app.url("/login"))
                .header(
                    "cookie",
                    "gatehouse_login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                )
                .form(&[
                    ("log", "editor"),
                    ("pwd", pw.as_str()),
                    ("_csrf", token.as_str()),
                ]),
        )
        .await;
        assert_eq!(r.status, 403);
        // Fixation: a session id planted before log-in is not the one issued.
        let planted = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
        let pre = set_cookie(&page, "gatehouse_login").unwrap();
        let r = finish(
            app.http()
                .post(app.url("/login"))
                .header(
                    "cookie",
                    format!("gatehouse_login={pre}; gatehouse_session={planted}"),
                )
                .form(&[
                    ("log", "editor"),
                    ("pwd", pw.as_str()),
                    ("_csrf", token.as_str()),
                ]),
        )
        .await;
        assert_eq!(r.status, 303);
        let issued = set_cookie(&r, "gatehouse_session").unwrap();
        assert_ne!(issued, planted);
        assert_eq!(
            set_cookie(&r, "gatehouse_login").as_deref(),
            Some(""),
            "the pre-session cookie is cleared"
        );
        let (_, b1) = log_in(&app, "editor", &pw, "").await;
        assert_ne!(b1.unwrap().session, issued, "every log-in gets a new id");
        // Application passwords are never accepted on the form.
        let app_pw = app.app_password("editor", "form").await;
        let (r, b) = log_in(&app, "editor", &app_pw, "").await;
        assert!(b.is_none());
        assert_eq!(r.status, 200);
    }
);

both!(redirects_stay_on_site, |app: TestApp| async move {
    let pw = app.user("author").password.clone();
    for (target, expected) in [
        ("/admin", format!("{}/admin", app.base_url)),
        ("https://evil.example/steal", "/profile".to_string()),
        ("//evil.example/x", "/profile".to_string()),
        (
            &format!("{}/profile#x", app.base_url) as &str,
            format!("{}/profile#x", app.base_url),
        ),
    ] {
        let (r, _) = log_in(&app, "author", &pw, target).await;
        assert_eq!(r.header("location"), Some(expected.as_str()), "{target}");
    }
});

both!(page_forms_need_the_csrf_token, |app: TestApp| async move {
    let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
    let b = b.unwrap();
    let page = finish(
        app.http()
            .get(app.url("/profile"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    for (h, v) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.header(h), Some(v), "{h}");
    }
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let csrf = csrf_of(&page.text);
    // Without the token, or from another origin, the form is refused.
    let r = finish(
        app.http()
            .post(app.url("/profile/api-keys"))
            .header("cookie", &b.cookie)
            .form(&[("description", "x")]),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = finish(
        app.http()
            .post(app.url("/profile/api-keys"))
            .header("cookie", &b.cookie)
            .header("origin", "https://evil.example")
            .form(&[("description", "x"), ("_csrf", csrf.as_str())]),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        app.store
            .list_api_keys(app.user("author").user.id)
            .await
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
    // With it: the form answers with a redirect, never with the secret itself…
    let posted = finish(
        app.http()
            .post(app.url("/profile/api-keys"))
            .header("cookie", &b.cookie)
            .form(&[("description", "laptop"), ("_csrf", csrf.as_str())]),
    )
    .await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.header("location"), Some("/profile"));
    assert!(!posted.text.contains("gak_"));
    let flash = set_cookie(&posted, "gatehouse_flash").expect("a one-time message");
    assert!(!flash.contains("gak_"), "sealed, not in clear");
    let set = posted.all("set-cookie").join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("Max-Age=120"),
        "{set}"
    );
    // …and the page it leads to shows the key once.
    let r = follow(&app, &b, &posted).await;
    assert_eq!(r.status, 200);
    let i = r.text.find("gak_").expect("the key is shown");
    let key = r.text[i..i + 53].to_string();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(
        r.all("set-cookie")
            .iter()
            .any(|c| c.starts_with("gatehouse_flash=;") && c.contains("Max-Age=0")),
        "the page drops the message's cookie"
    );
    // A reload, even one that sends the message's cookie again, shows it no more.
    let replay = follow(&app, &b, &posted).await;
    assert_eq!(replay.status, 200);
    assert!(!replay.text.contains(&key), "shown once");
    // Nor does the message open in another session of the same user.
    let (_, other) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
    let other = other.unwrap();
    let stolen = follow(&app, &other, &posted).await;
    assert!(!stolen.text.contains("gak_"), "bound to its session");
    assert_eq!(
        get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&format!("ApiKey {key}"))
        )
        .await
        .status,
        200
    );
    let again = finish(
        app.http()
            .get(app.url("/profile"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert!(!again.text.contains(&key), "shown only once");
    assert!(again.text.contains("laptop"));
    // Log out needs the token too; GET logout without a nonce only asks.
    let r = finish(
        app.http()
            .post(app.url("/logout"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = finish(
        app.http()
            .get(app.url("/wp-login.php?action=logout"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Do you really want to log out?"));
    assert_eq!(
        finish(
            app.http()
                .get(app.url("/profile"))
                .header("cookie", &b.cookie)
        )
        .await
        .status,
        200,
        "still logged in"
    );
    let hash = app
        .state
        .keys
        .hash(gatehouse_core::secrets::Purpose::Session, &b.session);
    let n = gatehouse_core::sessions::create_nonce(
        &app.state.keys,
        "log-out",
        app.user("author").user.id.0,
        &hash,
        app.clock.now(),
    );
    let r = finish(
        app.http()
            .get(app.url(&format!("/wp-login.php?action=logout&_wpnonce={n}")))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(r.status, 303);
    let r = finish(
        app.http()
            .get(app.url("/profile"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.header("location")),
        (303, Some("/login?redirect_to=/profile"))
    );
});

both!(sessions_expire_and_revoke, |app: TestApp| async move {
    let pw = app.user("editor").password.clone();
    let (_, a) = log_in(&app, "editor", &pw, "").await;
    let (_, b) = log_in(&app, "editor", &pw, "").await;
    let (a, b) = (a.unwrap(), b.unwrap());
    let na = nonce(&app, &a).await;
    let nb = nonce(&app, &b).await;
    // Revoking session b from session a: b's next request fails the cookie check.
    let list = with_cookie(
        &app,
        Method::GET,
        "/wp-json/gatehouse/v1/me/sessions",
        &a,
        Some(&na),
        None,
    )
    .await;
    let other = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = with_cookie(
        &app,
        Method::DELETE,
        &format!("/wp-json/gatehouse/v1/me/sessions/{other}"),
        &a,
        Some(&na),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = with_cookie(
        &app,
        Method::GET,
        "/wp-json/wp/v2/users/me",
        &b,
        Some(&nb),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "rest_cookie_invalid_nonce")
    );
    // Idle expiry: two days without a request end the session.
    assert_eq!(
        with_cookie(
            &app,
            Method::GET,
            "/wp-json/wp/v2/users/me",
            &a,
            Some(&na),
            None
        )
        .await
        .status,
        200
    );
    app.clock.advance(2 * 86_400 + 1);
    let r = with_cookie(
        &app,
        Method::GET,
        "/wp-json/wp/v2/users/me",
        &a,
        Some(&na),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = finish(
        app.http()
            .get(app.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
            .header("cookie", &a.cookie),
    )
    .await;
    assert_eq!(r.status, 400);
    // Nonces live two ticks (12 hours each) within a live session.
    let (_, c) = log_in(&app, "editor", &pw, "").await;
    let c = c.unwrap();
    let nc = nonce(&app, &c).await;
    for _ in 0..3 {
        app.clock.advance(12 * 3600);
        // keep the session active
        let _ = finish(
            app.http()
                .get(app.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
                .header("cookie", &c.cookie),
        )
        .await;
    }
    let r = with_cookie(
        &app,
        Method::GET,
        "/wp-json/wp/v2/users/me",
        &c,
        Some(&nc),
        None,
    )
    .await;
    assert_eq!(r.status, 403, "a nonce older than two ticks is refused");
});

both!(
    login_form_is_throttled,
    settings = |s: &mut Settings| s.throttle.pair_failures = 2,
    |app: TestApp| async move {
        for _ in 0..2 {
            let (r, _) = log_in(&app, "editor", "nope nope", "").await;
            assert_eq!(r.status, 200);
        }
        let (r, b) = log_in(&app, "editor", &app.user("editor").password.clone(), "").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(b.is_none());
        assert!(r.header("retry-after").is_some());
    }
);

both!(authorize_application_flow, |app: TestApp| async move {
    let q = "app_name=Phone%20App&app_id=7094539c-4a20-449d-b269-fbf65ce382fb&success_url=https%3A%2F%2Fapp.example%2Fok&reject_url=https%3A%2F%2Fapp.example%2Fno";
    let r = get(
        &app,
        &format!("/wp-admin/authorize-application.php?{q}"),
        None,
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(r
        .header("location")
        .unwrap()
        .starts_with("/login?redirect_to=%2Fwp-admin%2Fauthorize-application.php"));
    let bad = get(
        &app,
        "/wp-admin/authorize-application.php?app_name=x&success_url=http%3A%2F%2Fapp.example%2Fok",
        None,
    )
    .await;
    assert_eq!(bad.status, 400);
    let (_, b) = log_in(&app, "author", &app.user("author").password.clone(), "").await;
    let b = b.unwrap();
    let page = finish(
        app.http()
            .get(app.url(&format!("/wp-admin/authorize-application.php?{q}")))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Phone App"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("https://app.example"));
    let csrf = csrf_of(&page.text);
    let form = |decision: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("app_name", "Phone App".to_string()),
            ("app_id", "7094539c-4a20-449d-b269-fbf65ce382fb".to_string()),
            ("success_url", "https://app.example/ok".to_string()),
            ("reject_url", "https://app.example/no".to_string()),
            ("decision", decision.to_string()),
        ]
    };
    let r = finish(
        app.http()
            .post(app.url("/wp-admin/authorize-application.php"))
            .header("cookie", &b.cookie)
            .form(&form("reject")),
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("https://app.example/no?success=false")
    );
    let r = finish(
        app.http()
            .post(app.url("/wp-admin/authorize-application.php"))
            .header("cookie", &b.cookie)
            .form(&form("approve")),
    )
    .await;
    assert_eq!(r.status, 303);
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    let pairs: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(pairs["site_url"], app.base_url);
    assert_eq!(pairs["user_login"], "author");
    let r = get(
        &app,
        "/wp-json/wp/v2/users/me",
        Some(&basic("author", &pairs["password"])),
    )
    .await;
    assert_eq!(r.status, 200);
});

both!(admin_pages_and_audit_api, |app: TestApp| async move {
    let (_, sub) = log_in(
        &app,
        "subscriber",
        &app.user("subscriber").password.clone(),
        "",
    )
    .await;
    let r = finish(
        app.http()
            .get(app.url("/admin"))
            .header("cookie", &sub.unwrap().cookie),
    )
    .await;
    assert_eq!(r.status, 403);
    let (_, b) = log_in(&app, "netadmin", &app.user("netadmin").password.clone(), "").await;
    let b = b.unwrap();
    let page = finish(
        app.http()
            .get(app.url("/admin"))
            .header("cookie", &b.cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<td>Logged in</td>"),
        "the audit view lists log-ins, in words"
    );
    // No Disable button on one's own row.
    let me = app.user("netadmin").user.id.0;
    assert!(!page.text.contains(&format!("/admin/users/{me}/disable")));
    assert!(page.text.contains(&format!(
        "/admin/users/{}/disable",
        app.user("author").user.id.0
    )));
    let csrf = csrf_of(&page.text);
    let r = submit(
        &app,
        &b,
        "/admin/users",
        &[
            ("_csrf", csrf.as_str()),
            ("login", "newbie"),
            ("email", "newbie@example.com"),
            ("password", "long enough pw"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("User newbie was added."), "{}", r.text);
    assert!(
        !r.text.contains("long enough pw"),
        "a password is never carried back"
    );
    let newbie = app
        .store
        .find_user_auth("newbie")
        .await
        .unwrap()
        .unwrap()
        .user;
    // A refused form comes back with what was typed (but not the password) and says why.
    let r = submit(
        &app,
        &b,
        "/admin/users",
        &[
            ("_csrf", csrf.as_str()),
            ("login", "newbie"),
            ("email", "other@example.com"),
            ("password", "long enough pw"),
        ],
    )
    .await;
    assert!(r.text.contains("role=\"alert\""), "{}", r.text);
    assert!(r.text.contains("value=\"other@example.com\""), "{}", r.text);
    assert!(!r.text.contains("long enough pw"));
    let site = app.site.id.0.to_string();
    let r = submit(
        &app,
        &b,
        "/admin/members",
        &[
            ("_csrf", csrf.as_str()),
            ("site", site.as_str()),
            ("login", "newbie"),
            ("role", "author"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.store.find_role(app.site.id, newbie.id).await.unwrap(),
        Some(gatehouse_core::caps::Role::Author)
    );
    // The result is on the page: the notice names the site, the member list and the users'
    // role column show the new role, and the audit log says it in words.
    let site_name = &app.site.name;
    assert!(
        r.text
            .contains(&format!("newbie is now author on “{site_name}”.")),
        "{}",
        r.text
    );
    assert!(r.text.contains("<tr><td>newbie</td><td>author</td></tr>"));
    assert!(r
        .text
        .contains(&format!("<span class=\"tag\">author on {site_name}</span>")));
    assert!(r.text.contains("<td>Role changed</td>"));
    let r = submit(
        &app,
        &b,
        &format!("/admin/users/{}/disable", newbie.id.0),
        &[("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("User newbie was disabled"));
    assert!(app.store.get_user(newbie.id).await.unwrap().disabled);
    let r = submit(
        &app,
        &b,
        &format!("/admin/sites/{site}/require-auth"),
        &[("_csrf", csrf.as_str()), ("require_auth", "true")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r
        .text
        .contains(&format!("On “{site_name}”, authentication is required")));
    assert!(app.store.get_site(app.site.id).await.unwrap().require_auth);
    // The JSON audit API: everything for a network admin, own events for others.
    let r = get(
        &app,
        "/wp-json/gatehouse/v1/audit",
        Some(&app.app_basic("netadmin").await),
    )
    .await;
    let events: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for e in [
        "login.success",
        "user.create",
        "site.role",
        "user.disable",
        "site.require_auth",
    ] {
        assert!(events.contains(&e.to_string()), "{e} in {events:?}");
    }
    let r = get(
        &app,
        "/wp-json/gatehouse/v1/audit",
        Some(&app.app_basic("editor").await),
    )
    .await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["login"] == "editor"));
});

both!(
    https_cookies_are_host_prefixed_and_secure,
    settings = |s: &mut Settings| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()],
    |app: TestApp| async move {
        let page = finish(
            app.http()
                .get(app.url("/login"))
                .header("x-forwarded-proto", "https"),
        )
        .await;
        let pre_cookie = page
            .all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with("__Host-gatehouse_login="))
            .expect("__Host- pre-session cookie");
        assert!(
            pre_cookie.contains("; Secure")
                && pre_cookie.contains("Path=/")
                && !pre_cookie.contains("Domain"),
            "{pre_cookie}"
        );
        let pre = set_cookie(&page, "__Host-gatehouse_login").unwrap();
        let token = csrf_of(&page.text);
        let pw = app.user("editor").password.clone();
        let r = finish(
            app.http()
                .post(app.url("/login"))
                .header("x-forwarded-proto", "https")
                .header("cookie", format!("__Host-gatehouse_login={pre}"))
                .form(&[
                    ("log", "editor"),
                    ("pwd", pw.as_str()),
                    ("_csrf", token.as_str()),
                ]),
        )
        .await;
        assert_eq!(r.status, 303);
        let sc = r
            .all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with("__Host-gatehouse_session="))
            .expect("__Host- session cookie");
        assert!(
            sc.contains("; Secure") && sc.contains("HttpOnly") && sc.contains("SameSite=Lax"),
            "{sc}"
        );
    }
);

both!(
    passwords_and_cookies_need_https_from_remote_clients,
    settings = |s: &mut Settings| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()],
    |app: TestApp| async move {
        let (_, b) = log_in(&app, "editor", &app.user("editor").password.clone(), "").await;
        let b = b.unwrap();
        let n = nonce(&app, &b).await;
        let remote = |rb: gatehouse_testkit::reqwest::RequestBuilder| {
            rb.header("x-forwarded-for", "203.0.113.9")
        };
        let r = finish(remote(
            app.http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("cookie", &b.cookie)
                .header("x-wp-nonce", &n),
        ))
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_insecure_transport")
        );
        // Over https the session cookie is read only under its `__Host-` name.
        let r = finish(remote(
            app.http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("cookie", format!("__Host-gatehouse_session={}", b.session))
                .header("x-wp-nonce", &n)
                .header("x-forwarded-proto", "https"),
        ))
        .await;
        assert_eq!(r.status, 200);
        let page = get(&app, "/login", None).await;
        let pre = set_cookie(&page, "gatehouse_login").unwrap();
        let token = csrf_of(&page.text);
        let pw = app.user("editor").password.clone();
        let r = finish(remote(
            app.http()
                .post(app.url("/login"))
                .header("cookie", format!("gatehouse_login={pre}"))
                .form(&[
                    ("log", "editor"),
                    ("pwd", pw.as_str()),
                    ("_csrf", token.as_str()),
                ]),
        ))
        .await;
        assert_eq!(r.status, 403);
        assert!(set_cookie(&r, "gatehouse_session").is_none());
    }
);
