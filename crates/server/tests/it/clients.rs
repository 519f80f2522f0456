//! Real third-party clients used unchanged: node-wpapi with an application password, and Python
//! `requests` with Basic and `ApiKey`. Skipped with a message where the client is missing, unless
//! `GATEHOUSE_TEST_REQUIRE_CHROMIUM=1` (CI installs the npm packages with Chromium).

use gatehouse_testkit::{both, TestApp};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn run(cmd: &mut tokio::process::Command) -> (bool, String) {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        cmd.kill_on_drop(true).output(),
    )
    .await
    .expect("the client finishes within a minute")
    .expect("the client runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

both!(
    wpapi_with_an_application_password,
    needs(
        gatehouse_no_wpapi,
        "wpapi test: run `npm ci` in tests/browser"
    ),
    |app: TestApp| async move {
        if !root().join("tests/browser/node_modules/wpapi").exists() {
            if std::env::var("GATEHOUSE_TEST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
                panic!(
                    "tests/browser/node_modules/wpapi is missing; run `npm ci` in tests/browser"
                );
            }
            eprintln!("SKIPPED wpapi test: run `npm ci` in tests/browser");
            return;
        }
        let pw = app.app_password("author", "wpapi").await;
        let (ok, text) = run(tokio::process::Command::new("node")
            .arg(root().join("tests/browser/wpapi.mjs"))
            .env("BASE_URL", &app.base_url)
            .env("LOGIN", "author")
            .env("APP_PASSWORD", &pw))
        .await;
        assert!(ok && text.contains("wpapi ok"), "{text}");
    }
);

const PYTHON_REQUESTS: &str = r#"
import os, sys, requests
from requests.auth import HTTPBasicAuth
base = os.environ["BASE_URL"]
me = requests.get(base + "/wp-json/wp/v2/users/me", auth=HTTPBasicAuth(os.environ["LOGIN"], os.environ["APP_PASSWORD"]), timeout=10)
assert me.status_code == 200 and me.json()["slug"] == os.environ["LOGIN"], me.text
r = requests.post(base + "/wp-json/wp/v2/posts", headers={"Authorization": "ApiKey " + os.environ["API_KEY"]}, data={"title": "from requests", "status": "publish"}, timeout=10)
assert r.status_code == 201, r.text
sites = requests.get(base + "/v1/sites", headers={"Authorization": "Bearer " + os.environ["API_KEY"]}, timeout=10)
assert sites.status_code == 200 and sites.json()["count"] == 1, sites.text
bad = requests.get(base + "/wp-json/wp/v2/users/me", auth=("author", "wrong"), timeout=10)
assert bad.status_code == 401 and "Basic" in bad.headers["WWW-Authenticate"], bad.headers
print("requests ok")
"#;

both!(
    python_requests_with_basic_and_api_keys,
    needs(
        gatehouse_no_python_requests,
        "Python test: pip install requests"
    ),
    |app: TestApp| async move {
        let has_requests = std::process::Command::new("python3")
            .args(["-c", "import requests"])
            .status()
            .is_ok_and(|s| s.success());
        if !has_requests {
            if std::env::var("GATEHOUSE_TEST_REQUIRE_PYTHON").is_ok_and(|v| v == "1") {
                panic!("GATEHOUSE_TEST_REQUIRE_PYTHON=1 but python3 with requests is missing");
            }
            eprintln!("SKIPPED Python requests test: pip install requests (CI requires it)");
            return;
        }
        let pw = app.app_password("author", "requests").await;
        let (_, key) = app.api_key(app.user_key_spec("author")).await;
        let (ok, text) = run(tokio::process::Command::new("python3")
            .args(["-c", PYTHON_REQUESTS])
            .env("BASE_URL", &app.base_url)
            .env("LOGIN", "author")
            .env("APP_PASSWORD", &pw)
            .env("API_KEY", &key)
            .env("NO_PROXY", "127.0.0.1"))
        .await;
        assert!(ok && text.contains("requests ok"), "{text}");
    }
);

const PYTHON_OAUTHLIB: &str = r#"
import os, re, html, requests
from requests_oauthlib import OAuth2Session
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server is plain http on loopback
base, cid, secret = os.environ["BASE_URL"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
redirect = "https://app.example/cb"
oauth = OAuth2Session(cid, redirect_uri=redirect, scope=["posts"], pkce="S256")
auth_url, state = oauth.authorization_url(base + "/oauth/authorize")
# The person in the browser: log in, then Allow on the consent page.
browser = requests.Session()
page = browser.get(base + "/login", timeout=10).text
csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
browser.post(base + "/login", data={"log": os.environ["LOGIN"], "pwd": os.environ["PASSWORD"], "_csrf": csrf}, allow_redirects=False, timeout=10)
consent = browser.get(auth_url, timeout=10).text
form = consent[consent.index('action="/oauth/authorize"'):]
form = form[:form.index("</form>")]
fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
fields.update({"decision": "allow", "blog": os.environ["SITE_ID"]})
back = browser.post(base + "/oauth/authorize", data=fields, allow_redirects=False, timeout=10)
assert back.status_code == 303, back.text
location = back.headers["Location"]
assert location.startswith(redirect + "?"), location
# The app: exchange the code (client authentication by HTTP Basic), call the API, refresh.
token = oauth.fetch_token(base + "/oauth/token", authorization_response=location, client_secret=secret, timeout=10)
assert token["token_type"] == "Bearer" and token["scope"] == ["posts"], token
me = oauth.get(base + "/wp-json/wp/v2/users/me", timeout=10)
assert me.status_code == 200 and me.json()["slug"] == os.environ["LOGIN"], me.text
new = oauth.refresh_token(base + "/oauth/token", auth=(cid, secret), timeout=10)
assert new["refresh_token"] != token["refresh_token"], new
assert oauth.get(base + "/wp-json/wp/v2/users/me", timeout=10).status_code == 200
print("requests-oauthlib ok")
"#;

both!(
    python_requests_oauthlib_code_flow,
    needs(
        gatehouse_no_python_oauthlib,
        "Python OAuth test: pip install requests-oauthlib"
    ),
    |app: TestApp| async move {
        let spec = gatehouse_core::oauth2::clients::ClientSpec {
            name: "requests-oauthlib app".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            ..Default::default()
        };
        let (client, secret) = gatehouse_core::oauth2::registry::register(
            &*app.store,
            &app.state.keys,
            &spec,
            app.user("netadmin").user.id,
            1,
        )
        .await
        .unwrap();
        let author = app.user("author");
        let (ok, text) = run(tokio::process::Command::new("python3")
            .args(["-c", PYTHON_OAUTHLIB])
            .env("BASE_URL", &app.base_url)
            .env("CLIENT_ID", client.client_id())
            .env("CLIENT_SECRET", secret.unwrap().expose_secret())
            .env("LOGIN", &author.login)
            .env("PASSWORD", &author.password)
            .env("SITE_ID", app.site.id.0.to_string())
            .env("NO_PROXY", "127.0.0.1"))
        .await;
        assert!(ok && text.contains("requests-oauthlib ok"), "{text}");
    }
);

both!(
    rust_oauth2_crate_code_flow_with_pkce_and_refresh,
    |app: TestApp| async move {
        use crate::support::{finish, get};
        use oauth2::basic::BasicClient;
        use oauth2::{
            AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
            TokenResponse, TokenUrl,
        };
        // A public client (no secret): PKCE is what protects its code.
        let spec = gatehouse_core::oauth2::clients::ClientSpec {
            name: "Rust oauth2 crate".into(),
            public: true,
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            ..Default::default()
        };
        let (registered, _) = gatehouse_core::oauth2::registry::register(
            &*app.store,
            &app.state.keys,
            &spec,
            app.user("netadmin").user.id,
            1,
        )
        .await
        .unwrap();
        let client = BasicClient::new(ClientId::new(registered.client_id()))
            .set_auth_uri(AuthUrl::new(format!("{}/oauth/authorize", app.base_url)).unwrap())
            .set_token_uri(TokenUrl::new(format!("{}/oauth/token", app.base_url)).unwrap())
            .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:43210/callback".into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, csrf) = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("posts".into()))
            .set_pkce_challenge(challenge)
            .url();
        // The person: log in, Allow on the consent page.
        let (_, b) =
            crate::sessions::log_in(&app, "author", &app.user("author").password.clone(), "").await;
        let b = b.unwrap();
        let path = &auth_url.as_str()[app.base_url.len()..];
        let consent = finish(app.http().get(app.url(path)).header("cookie", &b.cookie)).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        let mut form = crate::oauth2::consent_fields(&consent.text);
        form.push(("decision".into(), "allow".into()));
        form.push(("blog".into(), app.site.id.0.to_string()));
        let r = finish(
            app.http()
                .post(app.url("/oauth/authorize"))
                .header("cookie", &b.cookie)
                .form(&form),
        )
        .await;
        let back = url::Url::parse(r.header("location").unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
        assert_eq!(&q["state"], csrf.secret());
        // The app, through the crate.
        let http = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let token = client
            .exchange_code(AuthorizationCode::new(q["code"].clone()))
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
        let me = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&format!("Bearer {}", token.access_token().secret())),
        )
        .await;
        assert_eq!(me.body["slug"], "author");
        assert_eq!(
            token.scopes().map(|s| s[0].to_string()),
            Some("posts".into())
        );
        let refreshed = client
            .exchange_refresh_token(token.refresh_token().unwrap())
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("refresh: {e:?}"));
        assert_ne!(
            refreshed.refresh_token().unwrap().secret(),
            token.refresh_token().unwrap().secret()
        );
        // The old refresh token is spent: using it again ends the family.
        assert!(client
            .exchange_refresh_token(token.refresh_token().unwrap())
            .request_async(&http)
            .await
            .is_err());
        let me = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&format!("Bearer {}", refreshed.access_token().secret())),
        )
        .await;
        assert_eq!(me.status, 401, "the family was revoked");
    }
);

/// The wall clock, for clients that sign with it (the test server's clock is fake).
fn real_now() -> i64 {
    gatehouse_core::clock::Clock::now(&gatehouse_core::clock::SystemClock)
}

const PYTHON_OAUTH1: &str = r#"
import os, re, html, requests
from requests_oauthlib import OAuth1Session
base, key, secret = os.environ["BASE_URL"], os.environ["KEY"], os.environ["SECRET"]
callback = os.environ["CALLBACK"]
oauth = OAuth1Session(key, client_secret=secret, callback_uri=callback)
rt = oauth.fetch_request_token(base + "/oauth1/request", timeout=10)
assert rt.get("oauth_callback_confirmed") == "true", rt
auth_url = oauth.authorization_url(base + "/oauth1/authorize")
# The person in the browser: log in, then Approve.
browser = requests.Session()
page = browser.get(base + "/login", timeout=10).text
csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
browser.post(base + "/login", data={"log": os.environ["LOGIN"], "pwd": os.environ["PASSWORD"], "_csrf": csrf}, allow_redirects=False, timeout=10)
approve = browser.get(auth_url, timeout=10)
assert approve.status_code == 200, approve.text
form = approve.text[approve.text.index('action="/oauth1/authorize"'):]
fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
fields["decision"] = "allow"
back = browser.post(base + "/oauth1/authorize", data=fields, allow_redirects=False, timeout=10)
if callback == "oob":
    assert back.status_code == 200, back.text
    verifier = re.search(r'id="verifier" readonly value="([^"]+)"', back.text).group(1)
    oauth = OAuth1Session(key, client_secret=secret, resource_owner_key=rt["oauth_token"], resource_owner_secret=rt["oauth_token_secret"], verifier=verifier)
else:
    assert back.status_code == 303, back.text
    assert back.headers["Location"].startswith(callback + "?"), back.headers["Location"]
    oauth.parse_authorization_response(back.headers["Location"])
oauth.fetch_access_token(base + "/oauth1/access", timeout=10)
me = oauth.get(base + "/wp-json/wp/v2/users/me", timeout=10)
assert me.status_code == 200 and me.json()["slug"] == os.environ["LOGIN"], me.text
post = oauth.post(base + "/wp-json/wp/v2/posts", json={"title": "via OAuth 1.0a", "status": "publish"}, timeout=10)
assert post.status_code == 201, post.text
form_post = oauth.post(base + "/wp-json/wp/v2/posts", data={"title": "form via OAuth 1.0a", "status": "draft"}, timeout=10)
assert form_post.status_code == 201, form_post.text
listed = oauth.get(base + "/wp-json/wp/v2/posts", params={"per_page": 2, "status": "draft"}, timeout=10)
assert listed.status_code == 200 and len(listed.json()) >= 1, listed.text
for path in ["/v1/user", "/rest/v1.1/me"]:
    r = oauth.get(base + path, timeout=10)
    assert r.status_code == 200, (path, r.text)
print("requests-oauthlib OAuth1 ok")
"#;

both!(
    python_requests_oauthlib_oauth1_flow,
    needs(
        gatehouse_no_python_oauthlib,
        "Python OAuth test: pip install requests-oauthlib"
    ),
    |app: TestApp| async move {
        // The client signs with the real time.
        app.clock.set(real_now());
        for callback in ["oob", "https://app.example/cb"] {
            let (c, secret) = gatehouse_core::oauth1::register(
                &*app.store,
                &app.state.keys,
                &gatehouse_core::oauth1::ConsumerSpec {
                    name: "requests-oauthlib OAuth1".into(),
                    description: String::new(),
                    callback: (callback != "oob").then(|| callback.to_string()),
                },
                app.user("netadmin").user.id,
                1,
            )
            .await
            .unwrap();
            let author = app.user("author");
            let (ok, text) = run(tokio::process::Command::new("python3")
                .args(["-c", PYTHON_OAUTH1])
                .env("BASE_URL", &app.base_url)
                .env("KEY", &c.key)
                .env("SECRET", secret.expose_secret())
                .env("CALLBACK", callback)
                .env("LOGIN", &author.login)
                .env("PASSWORD", &author.password)
                .env("NO_PROXY", "127.0.0.1"))
            .await;
            assert!(
                ok && text.contains("requests-oauthlib OAuth1 ok"),
                "{callback}: {text}"
            );
        }
    }
);

both!(
    node_oauth_1_0a_signs_requests,
    needs(
        gatehouse_no_wpapi,
        "Node oauth-1.0a test: run `npm ci` in tests/browser"
    ),
    |app: TestApp| async move {
        if !root()
            .join("tests/browser/node_modules/oauth-1.0a")
            .exists()
        {
            if std::env::var("GATEHOUSE_TEST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
                panic!("tests/browser/node_modules/oauth-1.0a is missing; run `npm ci` in tests/browser");
            }
            eprintln!("SKIPPED oauth-1.0a test: run `npm ci` in tests/browser");
            return;
        }
        let access = crate::oauth1::authorized(&app, "author").await;
        // The client signs with the real time.
        app.clock.set(real_now());
        let (token, token_secret) = access.token.clone().unwrap();
        let (ok, text) = run(tokio::process::Command::new("node")
            .arg(root().join("tests/browser/oauth1.mjs"))
            .env("BASE_URL", &app.base_url)
            .env("CONSUMER_KEY", &access.key)
            .env("CONSUMER_SECRET", &access.secret)
            .env("TOKEN", token)
            .env("TOKEN_SECRET", token_secret)
            .env("LOGIN", "author"))
        .await;
        assert!(ok && text.contains("oauth-1.0a ok"), "{text}");
    }
);
