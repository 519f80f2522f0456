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
