//! The web pages in headless Chromium, as a person uses them (`tests/browser/flow.mjs`, driven by
//! playwright-core). Skipped with a message where Chromium or the npm package is missing, unless
//! `GATEHOUSE_TEST_REQUIRE_CHROMIUM=1` (CI), which makes that a failure. Screenshots go to
//! `target/screenshots/<backend>/flow/` and `…/oauth/`.

use gatehouse_testkit::{both, Backend, TestApp};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> Option<PathBuf> {
    let p = std::env::var("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/bin/chromium"));
    let ready = p.exists()
        && root()
            .join("tests/browser/node_modules/playwright-core")
            .exists();
    if !ready {
        if std::env::var("GATEHOUSE_TEST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
            panic!("GATEHOUSE_TEST_REQUIRE_CHROMIUM=1 but Chromium or tests/browser/node_modules is missing");
        }
        eprintln!("SKIPPED browser test: install Chromium (apt-get install chromium) and run `npm ci` in tests/browser");
        return None;
    }
    Some(p)
}

/// Runs a browser script (`tests/browser/<script>`) against `app` with `env`, screenshots into
/// `target/screenshots/<backend>/<sub>` (emptied first, so an earlier run's pictures never pass
/// for this one's); asserts it printed `ok_line` and left each of `pages`.
async fn run_browser(
    app: &TestApp,
    script: &str,
    sub: &str,
    env: &[(&str, String)],
    ok_line: &str,
    pages: &[&str],
) {
    let Some(chromium) = chromium() else { return };
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let shots = root().join("target/screenshots").join(backend).join(sub);
    let _ = std::fs::remove_dir_all(&shots);
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(root().join("tests/browser").join(script))
        .env("BASE_URL", &app.base_url)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", chromium)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("the browser flow finishes within two minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(ok_line), "{stdout}");
    for page in pages {
        assert!(
            shots.join(format!("{page}.png")).exists(),
            "screenshot {page}"
        );
    }
}

both!(
    log_in_create_use_revoke_log_out,
    needs(
        gatehouse_no_chromium,
        "browser test: apt-get install chromium, then `npm ci` in tests/browser"
    ),
    |app: TestApp| async move {
        let admin = app.user("netadmin");
        let env = [
            ("LOGIN", admin.login.clone()),
            ("PASSWORD", admin.password.clone()),
            ("MEMBER", app.user("author").login.clone()),
        ];
        let pages = [
            "home",
            "login",
            "login-wrong-password",
            "profile",
            "profile-bad-scope",
            "profile-new-key",
            "profile-reloaded",
            "revoke-confirm",
            "profile-revoked",
            "admin",
            "admin-role-changed",
            "developer",
            "authorize-application",
            "logged-out",
        ];
        run_browser(&app, "flow.mjs", "flow", &env, "browser flow ok", &pages).await;
    }
);

both!(
    oauth_code_flow_for_a_single_page_app,
    needs(
        gatehouse_no_chromium,
        "browser test: apt-get install chromium, then `npm ci` in tests/browser"
    ),
    |app: TestApp| async move {
        let spec = gatehouse_core::oauth2::clients::ClientSpec {
            name: "Browser SPA".into(),
            description: "A single-page app in the browser test.".into(),
            public: true,
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
            ..Default::default()
        };
        let (client, _) = gatehouse_core::oauth2::registry::register(
            &*app.store,
            &app.state.keys,
            &spec,
            app.user("netadmin").user.id,
            1,
        )
        .await
        .unwrap();
        let author = app.user("author");
        let env = [
            ("LOGIN", author.login.clone()),
            ("PASSWORD", author.password.clone()),
            ("CLIENT_ID", client.client_id()),
            ("SITE_ID", app.site.id.0.to_string()),
        ];
        let pages = ["oauth-login", "oauth-consent", "oauth-callback"];
        run_browser(
            &app,
            "oauth.mjs",
            "oauth",
            &env,
            "oauth browser flow ok",
            &pages,
        )
        .await;
    }
);

both!(
    oauth1_register_approve_use_revoke,
    needs(
        gatehouse_no_chromium,
        "browser test: apt-get install chromium, then `npm ci` in tests/browser"
    ),
    |app: TestApp| async move {
        // The app signs with the wall clock (the test server's clock is fake).
        app.clock.set(gatehouse_core::clock::Clock::now(
            &gatehouse_core::clock::SystemClock,
        ));
        let author = app.user("author");
        let env = [
            ("LOGIN", author.login.clone()),
            ("PASSWORD", author.password.clone()),
        ];
        let pages = [
            "oauth1-developer",
            "oauth1-approve",
            "oauth1-verifier",
            "oauth1-profile",
            "oauth1-revoke-confirm",
            "oauth1-revoked",
        ];
        run_browser(
            &app,
            "oauth1.browser.mjs",
            "oauth1",
            &env,
            "oauth1 browser flow ok",
            &pages,
        )
        .await;
    }
);
