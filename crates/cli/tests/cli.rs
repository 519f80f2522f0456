//! The `gatehouse` binary as scripts use it (SPEC §10): `--json` shapes, exit status 2 with one
//! line on stderr for bad input, nothing written on failure — against a SQLite file and, when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set, a scratch PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_store::scratch::{postgres_url_for_test, PgScratch};
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Db {
    url: String,
    dir: std::path::PathBuf,
    _pg: Option<PgScratch>,
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("gatehouse-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn databases(tag: &str) -> Vec<Db> {
    let dir = tempdir(tag);
    let mut out = vec![Db {
        url: format!("sqlite://{}/cli.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    }];
    if let Some(base) = postgres_url_for_test(&format!("CLI test {tag}")) {
        let pg = PgScratch::create(&base).await.unwrap();
        out.push(Db {
            url: pg.url.clone(),
            dir,
            _pg: Some(pg),
        });
    }
    out
}

fn gatehouse(db: &Db, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(["--database-url", &db.url])
        .args(args)
        .env_remove("GATEHOUSE_CONFIG")
        .current_dir(&db.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Exit status 2 and exactly one line on stderr that mentions `needle`.
fn usage_error(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn users_sites_and_roles_from_the_command_line() {
    for db in databases("admin").await {
        let u = json(&gatehouse(
            &db,
            &[
                "user",
                "add",
                "alice",
                "--email",
                "alice@example.com",
                "--password",
                "correct horse",
                "--network-admin",
                "--json",
            ],
            None,
        ));
        assert_eq!(u["login"], "alice");
        assert!(u["id"].is_i64());
        let b = json(&gatehouse(
            &db,
            &[
                "user",
                "add",
                "bob",
                "--email",
                "bob@example.com",
                "--password-stdin",
                "--json",
            ],
            Some("battery staple\n"),
        ));
        assert_eq!(b["login"], "bob");
        // Duplicates and bad input: exit 2, one line, nothing written.
        usage_error(
            &gatehouse(
                &db,
                &[
                    "user",
                    "add",
                    "ALICE",
                    "--email",
                    "x@example.com",
                    "--password",
                    "12345678",
                ],
                None,
            ),
            "login",
        );
        usage_error(
            &gatehouse(
                &db,
                &[
                    "user",
                    "add",
                    "carol",
                    "--email",
                    "Alice@Example.com",
                    "--password",
                    "12345678",
                ],
                None,
            ),
            "email",
        );
        usage_error(
            &gatehouse(
                &db,
                &[
                    "user",
                    "add",
                    "carol",
                    "--email",
                    "not-an-email",
                    "--password",
                    "12345678",
                ],
                None,
            ),
            "email",
        );
        usage_error(
            &gatehouse(
                &db,
                &[
                    "user",
                    "add",
                    "carol",
                    "--email",
                    "c@example.com",
                    "--password",
                    "short",
                ],
                None,
            ),
            "password",
        );
        usage_error(
            &gatehouse(
                &db,
                &["user", "add", "carol", "--email", "c@example.com"],
                None,
            ),
            "password",
        );
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        assert_eq!(
            store.count_users().await.unwrap(),
            2,
            "failed adds wrote nothing"
        );

        let s = json(&gatehouse(
            &db,
            &[
                "site",
                "add",
                "Blog",
                "--url",
                "https://blog.example/",
                "--owner",
                "alice",
                "--json",
            ],
            None,
        ));
        assert_eq!(s["url"], "https://blog.example");
        assert_eq!(s["name"], "Blog");
        usage_error(
            &gatehouse(
                &db,
                &[
                    "site",
                    "add",
                    "Again",
                    "--url",
                    "https://BLOG.example",
                    "--owner",
                    "alice",
                ],
                None,
            ),
            "host",
        );
        usage_error(
            &gatehouse(
                &db,
                &["site", "add", "Bad", "--url", "ftp://x", "--owner", "alice"],
                None,
            ),
            "http",
        );
        usage_error(
            &gatehouse(
                &db,
                &[
                    "site",
                    "add",
                    "Nobody",
                    "--url",
                    "https://n.example",
                    "--owner",
                    "nobody",
                ],
                None,
            ),
            "nobody",
        );

        let m = json(&gatehouse(
            &db,
            &[
                "site",
                "member",
                "https://blog.example",
                "bob",
                "--role",
                "editor",
                "--json",
            ],
            None,
        ));
        assert_eq!(m["role"], "editor");
        usage_error(
            &gatehouse(
                &db,
                &["site", "member", "1", "bob", "--role", "owner"],
                None,
            ),
            "role",
        );
        usage_error(
            &gatehouse(
                &db,
                &["site", "member", "999", "bob", "--role", "author"],
                None,
            ),
            "site",
        );

        let sid = s["id"].to_string();
        let set = json(&gatehouse(
            &db,
            &[
                "site",
                "set",
                &sid,
                "--require-auth",
                "true",
                "--name",
                "Renamed",
                "--json",
            ],
            None,
        ));
        assert_eq!(set["require_auth"], true);
        assert_eq!(set["name"], "Renamed");
        usage_error(
            &gatehouse(&db, &["site", "set", &sid, "--require-auth", "maybe"], None),
            "require-auth",
        );
        usage_error(
            &gatehouse(&db, &["site", "set", &sid], None),
            "at least one",
        );

        // The server sees what the CLI wrote.
        let site = store
            .get_site(gatehouse_core_site_id(s["id"].as_i64().unwrap()))
            .await
            .unwrap();
        assert!(site.require_auth);
        let bob = store
            .find_user_auth("bob@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .find_role(site.id, bob.user.id)
                .await
                .unwrap()
                .map(|r| r.as_str()),
            Some("editor")
        );
        assert!(bob.password_hash.starts_with("$argon2id$"));

        // `--role none` takes the role away (the only way to end access to a private site
        // short of disabling the account).
        let m = json(&gatehouse(
            &db,
            &["site", "member", &sid, "bob", "--role", "none", "--json"],
            None,
        ));
        assert_eq!(m["role"], serde_json::Value::Null);
        assert_eq!(store.find_role(site.id, bob.user.id).await.unwrap(), None);
    }
}

fn gatehouse_core_site_id(id: i64) -> gatehouse_core::model::SiteId {
    gatehouse_core::model::SiteId(id)
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_invocations_exit_2_with_one_line() {
    let dir = tempdir("usage");
    let db = Db {
        url: format!("sqlite://{}/u.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    usage_error(&gatehouse(&db, &["user", "add"], None), "required");
    usage_error(&gatehouse(&db, &["frobnicate"], None), "frobnicate");
    usage_error(
        &gatehouse(
            &db,
            &[
                "user",
                "add",
                "x",
                "--email",
                "bad",
                "--password",
                "12345678",
            ],
            None,
        ),
        "email",
    );
    assert!(
        !dir.join("u.db").exists(),
        "input is checked before the database is opened"
    );
    let cfg = dir.join("g.toml");
    std::fs::write(&cfg, "lissten = \"127.0.0.1:1\"\n").unwrap();
    usage_error(
        &gatehouse(&db, &["--config", cfg.to_str().unwrap(), "migrate"], None),
        "lissten",
    );
    let out = gatehouse(&db, &["migrate"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied (sqlite)"));
    let warn = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--database-url", &db.url, "migrate"])
        .env("GATEHOUSE_NO_SUCH_SETTING", "1")
        .output()
        .unwrap();
    assert!(warn.status.success());
    assert!(String::from_utf8_lossy(&warn.stderr).contains("GATEHOUSE_NO_SUCH_SETTING"));
}

fn with_env(db: &Db, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(["--database-url", &db.url])
        .args(args)
        .current_dir(&db.dir)
        .env_remove("GATEHOUSE_SECRET_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

const KEY_A: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const KEY_B: &str = "0202020202020202020202020202020202020202020202020202020202020202";

#[tokio::test(flavor = "multi_thread")]
async fn credentials_from_the_command_line_and_the_server_key() {
    for db in databases("creds").await {
        let env = [("GATEHOUSE_SECRET_KEY", KEY_A)];
        json(&with_env(
            &db,
            &[
                "user",
                "add",
                "dave",
                "--email",
                "dave@example.com",
                "--password",
                "12345678",
                "--json",
            ],
            &env,
        ));
        json(&with_env(
            &db,
            &[
                "site",
                "add",
                "D",
                "--url",
                "https://d.example",
                "--owner",
                "dave",
                "--json",
            ],
            &env,
        ));
        let k = json(&with_env(
            &db,
            &[
                "api-key",
                "create",
                "--user",
                "dave",
                "--description",
                "ci",
                "--scope",
                "posts",
                "--site",
                "https://d.example",
                "--expires-in",
                "3600",
                "--json",
            ],
            &env,
        ));
        assert!(k["key"].as_str().unwrap().starts_with("gak_"));
        assert!(k["id"].is_i64());
        let sk = json(&with_env(
            &db,
            &[
                "api-key",
                "create",
                "--site",
                "https://d.example",
                "--description",
                "public",
                "--json",
            ],
            &env,
        ));
        assert!(sk["key"].as_str().unwrap().starts_with("gsk_"));
        let ap = json(&with_env(
            &db,
            &[
                "app-password",
                "create",
                "--user",
                "dave",
                "--name",
                "phone",
                "--json",
            ],
            &env,
        ));
        assert_eq!(ap["password"].as_str().unwrap().len(), 29);
        assert!(ap["uuid"].is_string());
        // Bad input: exit 2, one line.
        usage_error(
            &with_env(
                &db,
                &[
                    "api-key",
                    "create",
                    "--user",
                    "dave",
                    "--description",
                    "x",
                    "--scope",
                    "everything",
                ],
                &env,
            ),
            "scope",
        );
        usage_error(
            &with_env(&db, &["api-key", "create", "--description", "x"], &env),
            "--user",
        );
        usage_error(
            &with_env(
                &db,
                &[
                    "app-password",
                    "create",
                    "--user",
                    "dave",
                    "--name",
                    "phone",
                ],
                &env,
            ),
            "unique",
        );
        usage_error(&with_env(&db, &["revoke"], &env), "required");
        usage_error(
            &with_env(&db, &["revoke", "--api-key-id", "424242"], &env),
            "424242",
        );
        // Revocation.
        let id = k["id"].to_string();
        let out = with_env(&db, &["revoke", "--api-key-id", &id], &env);
        assert!(out.status.success());
        usage_error(
            &with_env(&db, &["revoke", "--api-key-id", &id], &env),
            "no active API key",
        );
        // A different server key is refused rather than silently invalidating every credential.
        let out = with_env(
            &db,
            &["api-key", "create", "--user", "dave", "--description", "x"],
            &[("GATEHOUSE_SECRET_KEY", KEY_B)],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("not the key this database was set up with"));
        let serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args([
                "--database-url",
                &db.url,
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .env("GATEHOUSE_SECRET_KEY", KEY_B)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(std::time::Duration::from_secs(30), serve)
            .await
            .expect("serve must refuse, not run")
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "serve refuses to start with the wrong key"
        );
        let out = with_env(
            &db,
            &["api-key", "create", "--user", "dave", "--description", "x"],
            &[("GATEHOUSE_SECRET_KEY", "not hex")],
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_key_file_is_created_private_and_checked() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("keyfile");
    let db = Db {
        url: format!("sqlite://{}/k.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    json(&with_env(
        &db,
        &[
            "user",
            "add",
            "erin",
            "--email",
            "erin@example.com",
            "--password",
            "12345678",
            "--json",
        ],
        &[],
    ));
    json(&with_env(
        &db,
        &[
            "app-password",
            "create",
            "--user",
            "erin",
            "--name",
            "a",
            "--json",
        ],
        &[],
    ));
    let key_file = dir.join("secret.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "created beside the SQLite file with mode 0600");
    json(&with_env(
        &db,
        &[
            "app-password",
            "create",
            "--user",
            "erin",
            "--name",
            "b",
            "--json",
        ],
        &[],
    ));
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = with_env(
        &db,
        &["app-password", "create", "--user", "erin", "--name", "c"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("readable by group or others"));
    // A missing key file would mint a new key; the database refuses it.
    std::fs::remove_file(&key_file).unwrap();
    let out = with_env(
        &db,
        &["app-password", "create", "--user", "erin", "--name", "d"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the key this database was set up with")
    );
}

/// SPEC §11: a revocation made by one instance or by the CLI is honoured by every instance within
/// 1 second. Tests wait that second and no more.
async fn within_a_second() {
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}

/// A revocation made by the CLI (another process) is honoured by the running server within a
/// second, on both databases.
#[tokio::test(flavor = "multi_thread")]
async fn cli_revocation_is_honoured_by_a_running_server() {
    for backend in [
        gatehouse_testkit::Backend::Sqlite,
        gatehouse_testkit::Backend::Postgres,
    ] {
        let Some(app) = gatehouse_testkit::TestApp::spawn(backend).await else {
            continue;
        };
        let (id, key) = app.api_key(app.user_key_spec("editor")).await;
        let url = app.url("/wp-json/wp/v2/users/me");
        let status = |auth: String| {
            let client = app.http();
            let url = url.clone();
            async move {
                client
                    .get(url)
                    .header("authorization", auth)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(status(format!("ApiKey {key}")).await, 200);
        let db = Db {
            url: app.state.settings.database_url.clone().unwrap(),
            dir: std::env::temp_dir(),
            _pg: None,
        };
        let out = with_env(&db, &["revoke", "--api-key-id", &id.to_string()], &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        within_a_second().await;
        assert_eq!(status(format!("ApiKey {key}")).await, 401);
        // Revoking a user's credentials ends their application passwords too.
        let auth = app.app_basic("author").await;
        assert_eq!(status(auth.clone()).await, 200);
        let out = with_env(&db, &["revoke", "--user", "author"], &[]);
        assert!(out.status.success());
        within_a_second().await;
        assert_eq!(status(auth).await, 401);
    }
}

/// `serve --log-format json`: one JSON object per request with secrets redacted; SIGTERM stops
/// the server cleanly.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn json_logs_redact_secrets_and_sigterm_stops_cleanly() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let dir = tempdir("serve");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
        ])
        .env_remove("GATEHOUSE_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = String::new();
    let mut printed = String::new();
    let find = async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(i) = line.find("listening on http://") {
                base = line[i + 13..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_string();
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), find)
        .await
        .expect("the server starts");
    let key = printed
        .split_whitespace()
        .find(|w| w.starts_with("gak_"))
        .unwrap()
        .to_string();
    let client = gatehouse_testkit::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "{base}/wp-json/wp/v2/users/me?code=SECRETCODE123&state=visible&password=SECRETPW123"
        ))
        .header("authorization", format!("ApiKey {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/v1/user"))
        .header("authorization", "Basic YWRtaW46U0VDUkVUQkFTSUM=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A page request logs the session's user: log in through the form as a browser does.
    let admin_password = printed
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("admin "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo prints the admin's password")
        .to_string();
    let client = gatehouse_testkit::reqwest::Client::builder()
        .no_proxy()
        .redirect(gatehouse_testkit::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let pre = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|c| {
            let c = c.to_str().ok()?.split(';').next()?.to_string();
            c.starts_with("gatehouse_login=").then_some(c)
        })
        .unwrap();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let csrf = &html[at..at + html[at..].find('"').unwrap()];
    let r = client
        .post(format!("{base}/login"))
        .header("cookie", &pre)
        .form(&[
            ("log", "admin"),
            ("pwd", admin_password.as_str()),
            ("_csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|c| {
            let c = c.to_str().ok()?.split(';').next()?.to_string();
            c.starts_with("gatehouse_session=").then_some(c)
        })
        .expect("logged in");
    let r = client
        .get(format!("{base}/profile"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "clean exit: {exit:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "gatehouse::access")
        .collect();
    assert_eq!(access.len(), 5, "one line per request: {logs}");
    let profile = access
        .iter()
        .find(|l| l["uri"] == "/profile")
        .expect("the profile request is logged");
    assert_eq!(profile["dialect"], "page", "{profile}");
    assert_eq!(profile["auth"], "cookie", "{profile}");
    assert!(profile["user_id"].as_i64().is_some(), "{profile}");
    let form = access.iter().find(|l| l["method"] == "POST").unwrap();
    assert_eq!(form["auth"], "anonymous", "before log-in: {form}");
    assert!(
        !logs.contains(&admin_password),
        "the password is not logged"
    );
    assert!(access[0]["uri"].as_str().unwrap().contains("code=REDACTED"));
    assert!(access[0]["uri"].as_str().unwrap().contains("state=visible"));
    assert_eq!(access[0]["auth"], "api_key");
    for secret in [
        "SECRETCODE123",
        "SECRETPW123",
        key.as_str(),
        "YWRtaW46U0VDUkVUQkFTSUM=",
        "SECRETBASIC",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

/// Starts `gatehouse serve` on port 0 and returns the child and its base URL.
async fn serve(db: &Db, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args([
        "--database-url",
        &db.url,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ])
    .env_remove("GATEHOUSE_SECRET_KEY")
    .current_dir(&db.dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let find = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(i) = line.find("listening on http://") {
                return line[i + 13..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_string();
            }
        }
        panic!("the server did not start");
    };
    let base = tokio::time::timeout(std::time::Duration::from_secs(60), find)
        .await
        .expect("the server starts");
    (child, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_keeps_old_credentials_working() {
    let dir = tempdir("rotate");
    let db = Db {
        url: format!("sqlite://{}/r.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    json(&with_env(
        &db,
        &[
            "user",
            "add",
            "rita",
            "--email",
            "rita@example.com",
            "--password",
            "12345678",
            "--json",
        ],
        &[],
    ));
    json(&with_env(
        &db,
        &[
            "site",
            "add",
            "R",
            "--url",
            "https://r.example",
            "--owner",
            "rita",
            "--json",
        ],
        &[],
    ));
    let k1 = json(&with_env(
        &db,
        &[
            "api-key",
            "create",
            "--user",
            "rita",
            "--description",
            "old",
            "--json",
        ],
        &[],
    ));
    let p1 = json(&with_env(
        &db,
        &[
            "app-password",
            "create",
            "--user",
            "rita",
            "--name",
            "old",
            "--json",
        ],
        &[],
    ));
    let out = with_env(&db, &["key", "rotate"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key_file = dir.join("secret.key");
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.starts_with("v1:") && text.contains("\nv2:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let k2 = json(&with_env(
        &db,
        &[
            "api-key",
            "create",
            "--user",
            "rita",
            "--description",
            "new",
            "--json",
        ],
        &[],
    ));
    let p2 = json(&with_env(
        &db,
        &[
            "app-password",
            "create",
            "--user",
            "rita",
            "--name",
            "new",
            "--json",
        ],
        &[],
    ));
    let store = gatehouse_store::connect(&db.url).await.unwrap();
    let version = |id: &serde_json::Value| gatehouse_core::model::ApiKeyId(id.as_i64().unwrap());
    assert_eq!(
        store
            .get_api_key(version(&k1["id"]))
            .await
            .unwrap()
            .key_version,
        1
    );
    assert_eq!(
        store
            .get_api_key(version(&k2["id"]))
            .await
            .unwrap()
            .key_version,
        2
    );
    let (mut child, base) = serve(&db, &[]).await;
    let client = gatehouse_testkit::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    for auth in [
        format!("ApiKey {}", k1["key"].as_str().unwrap()),
        format!("ApiKey {}", k2["key"].as_str().unwrap()),
        gatehouse_testkit::basic("rita", p1["password"].as_str().unwrap()),
        gatehouse_testkit::basic("rita", p2["password"].as_str().unwrap()),
    ] {
        let r = client
            .get(format!("{base}/wp-json/wp/v2/users/me"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", &auth[..12]);
    }
    child.kill().await.unwrap();
    // Losing the new version is refused, not silently tolerated.
    std::fs::write(&key_file, text.lines().next().unwrap()).unwrap();
    let out = with_env(
        &db,
        &["api-key", "create", "--user", "rita", "--description", "x"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("version 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // With the key in the environment, rotation is the operator's to do.
    let env_db = Db {
        url: format!("sqlite://{}/e.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    let out = with_env(
        &env_db,
        &["key", "rotate"],
        &[("GATEHOUSE_SECRET_KEY", KEY_A)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GATEHOUSE_SECRET_KEY"));
}

/// Two `gatehouse serve` processes on one database share the throttle: failures counted by one
/// block the name on the other (SPEC §2, §11: counters live in the database). On SQLite (one file)
/// and PostgreSQL.
#[tokio::test(flavor = "multi_thread")]
async fn two_server_processes_share_the_throttle() {
    for db in databases("two-servers").await {
        let env = [
            ("GATEHOUSE_SECRET_KEY", KEY_A),
            ("GATEHOUSE_BASIC_AUTH_WITH_ACCOUNT_PASSWORD", "true"),
        ];
        let out = with_env(
            &db,
            &[
                "user",
                "add",
                "alice",
                "--email",
                "alice@example.com",
                "--password",
                "a-long-password",
            ],
            &env,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (mut one, base_one) = serve(&db, &env).await;
        let (mut two, base_two) = serve(&db, &env).await;
        let client = gatehouse_testkit::reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap();
        let attempt = |base: String| {
            let client = client.clone();
            async move {
                client
                    .get(format!("{base}/wp-json/wp/v2/users/me"))
                    .basic_auth("alice", Some("wrong"))
                    .timeout(std::time::Duration::from_secs(10))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        for i in 0..10 {
            let base = if i % 2 == 0 { &base_one } else { &base_two };
            assert_eq!(attempt(base.clone()).await, 401, "attempt {i} on {base}");
        }
        for base in [&base_one, &base_two] {
            assert_eq!(attempt(base.clone()).await, 429, "blocked on {base} too");
        }
        let _ = one.kill().await;
        let _ = two.kill().await;
    }
}

/// SPEC §11 across instances: two `gatehouse serve` processes on one database (PostgreSQL, and
/// a SQLite file shared the same way), each answering a credential from its cache, honour a
/// revocation made through the other — or by the CLI — within a second; the instance that made
/// it honours it on the next request.
#[tokio::test(flavor = "multi_thread")]
async fn revocations_reach_every_instance_within_a_second() {
    for db in databases("within-a-second").await {
        let env = [("GATEHOUSE_SECRET_KEY", KEY_A)];
        let ok = |args: &[&str]| json(&with_env(&db, args, &env));
        ok(&[
            "user",
            "add",
            "erin",
            "--email",
            "erin@example.com",
            "--password",
            "a-long-password",
            "--json",
        ]);
        ok(&[
            "site",
            "add",
            "E",
            "--url",
            "https://e.example",
            "--owner",
            "erin",
            "--json",
        ]);
        let key = ok(&[
            "api-key",
            "create",
            "--user",
            "erin",
            "--description",
            "ci",
            "--json",
        ]);
        let (key_id, key) = (
            key["id"].as_i64().unwrap(),
            key["key"].as_str().unwrap().to_string(),
        );
        let manager = ok(&[
            "app-password",
            "create",
            "--user",
            "erin",
            "--name",
            "manager",
            "--json",
        ]);
        let manager = manager["password"].as_str().unwrap().to_string();
        let phone = ok(&[
            "app-password",
            "create",
            "--user",
            "erin",
            "--name",
            "phone",
            "--json",
        ]);
        let phone = phone["password"].as_str().unwrap().to_string();
        let (mut one, base_one) = serve(&db, &env).await;
        let (mut two, base_two) = serve(&db, &env).await;
        let client = gatehouse_testkit::reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let me = |base: &str, auth: String| {
            let req = client
                .get(format!("{base}/wp-json/wp/v2/users/me"))
                .header("authorization", auth);
            async move { req.send().await.unwrap().status().as_u16() }
        };
        let hits = |base: &str| {
            let req = client.get(format!("{base}/metrics"));
            async move {
                let text = req.send().await.unwrap().text().await.unwrap();
                text.lines()
                    .find_map(|l| l.strip_prefix("gatehouse_cache_hits_total "))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .unwrap_or(0.0)
            }
        };
        let api_key = format!("ApiKey {key}");
        let basic = |pw: &str| {
            use base64::Engine;
            let raw = format!("erin:{pw}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        };
        // Each instance answers from memory once it has seen the credential. (A cache answers
        // only within a second of its last read of the counter, which a loaded machine can
        // delay, so a few rounds are allowed.)
        for base in [&base_one, &base_two] {
            let mut from_memory = false;
            for _ in 0..5 {
                let before = hits(base).await;
                for _ in 0..3 {
                    assert_eq!(me(base, api_key.clone()).await, 200, "{base}");
                    assert_eq!(me(base, basic(&phone)).await, 200, "{base}");
                }
                if hits(base).await >= before + 4.0 {
                    from_memory = true;
                    break;
                }
            }
            assert!(from_memory, "{base} serves from its cache");
        }
        // Revoked through instance one: refused there on the next request, on two within 1 s.
        let r = client
            .delete(format!("{base_one}/wp-json/gatehouse/v1/api-keys/{key_id}"))
            .header("authorization", basic(&manager))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        assert_eq!(me(&base_one, api_key.clone()).await, 401);
        within_a_second().await;
        assert_eq!(me(&base_two, api_key.clone()).await, 401);
        // Revoked by the CLI: both instances within 1 s.
        for base in [&base_one, &base_two] {
            assert_eq!(me(base, basic(&phone)).await, 200, "{base}");
        }
        let out = with_env(&db, &["revoke", "--user", "erin"], &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        within_a_second().await;
        for base in [&base_one, &base_two] {
            assert_eq!(me(base, basic(&phone)).await, 401, "{base}");
        }
        let _ = one.kill().await;
        let _ = two.kill().await;
    }
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn now() -> i64 {
    use gatehouse_core::clock::Clock;
    gatehouse_core::clock::SystemClock.now()
}

/// Adds `login` with a password from stdin; returns its id.
fn add_user(db: &Db, login: &str, extra: &[&str]) -> i64 {
    let email = format!("{login}@example.com");
    let mut args = vec![
        "user",
        "add",
        login,
        "--email",
        &email,
        "--password-stdin",
        "--json",
    ];
    args.extend_from_slice(extra);
    json(&gatehouse(db, &args, Some("a-long-password\n")))["id"]
        .as_i64()
        .unwrap()
}

/// `user list`, `site list`, `api-key list`, `app-password list`: a table with a header row and
/// UTC times for people, one JSON object for scripts, an empty list in words, never a secret.
#[tokio::test(flavor = "multi_thread")]
async fn list_commands_for_people_and_scripts() {
    for db in databases("lists").await {
        // Empty lists are said in words.
        assert!(stdout(&gatehouse(&db, &["user", "list"], None)).contains("no users yet"));
        assert!(stdout(&gatehouse(&db, &["site", "list"], None)).contains("no sites yet"));
        assert!(stdout(&gatehouse(&db, &["api-key", "list"], None))
            .contains("There are no API keys on this server."));
        assert_eq!(
            json(&gatehouse(&db, &["user", "list", "--json"], None)),
            serde_json::json!({ "users": [] })
        );

        let alice = add_user(
            &db,
            "alice",
            &["--network-admin", "--display-name", "Alice A."],
        );
        let bob = add_user(&db, "bob", &[]);
        let site = json(&gatehouse(
            &db,
            &[
                "site",
                "add",
                "Blog",
                "--url",
                "https://blog.example",
                "--owner",
                "alice",
                "--json",
            ],
            None,
        ))["id"]
            .as_i64()
            .unwrap();
        stdout(&gatehouse(
            &db,
            &[
                "site",
                "member",
                "https://blog.example",
                "bob",
                "--role",
                "Editor",
            ],
            None,
        ));
        let user_key = json(&gatehouse(
            &db,
            &[
                "api-key",
                "create",
                "--user",
                "bob",
                "--description",
                "bob's script",
                "--scope",
                "posts:read",
                "--site",
                "https://blog.example",
                "--expires-in",
                "3600",
                "--json",
            ],
            None,
        ));
        let other_key = json(&gatehouse(
            &db,
            &[
                "api-key",
                "create",
                "--user",
                "alice",
                "--description",
                "old",
                "--json",
            ],
            None,
        ));
        let site_key = json(&gatehouse(
            &db,
            &[
                "api-key",
                "create",
                "--site",
                "https://blog.example",
                "--description",
                "Public mirror",
                "--json",
            ],
            None,
        ));
        stdout(&gatehouse(
            &db,
            &["revoke", "--api-key-id", &other_key["id"].to_string()],
            None,
        ));
        json(&gatehouse(
            &db,
            &[
                "app-password",
                "create",
                "--user",
                "bob",
                "--name",
                "phone",
                "--json",
            ],
            None,
        ));

        // user list
        let users = json(&gatehouse(&db, &["user", "list", "--json"], None));
        let users = users["users"].as_array().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0]["id"], alice);
        assert_eq!(users[0]["login"], "alice");
        assert_eq!(users[0]["email"], "alice@example.com");
        assert_eq!(users[0]["display_name"], "Alice A.");
        assert_eq!(users[0]["network_admin"], true);
        assert_eq!(users[0]["disabled"], false);
        assert!(users[0]["created"].as_str().unwrap().ends_with("+00:00"));
        assert_eq!(users[1]["login"], "bob");
        assert_eq!(users[1]["network_admin"], false);
        let text = stdout(&gatehouse(&db, &["user", "list"], None));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("ID  LOGIN"), "{text}");
        assert!(lines[0].contains("CREATED (UTC)"), "{text}");
        assert!(lines[1].contains("alice@example.com") && lines[1].contains("Alice A."));
        // Aligned: every row's email starts in the header's EMAIL column.
        let col = lines[0].find("EMAIL").unwrap();
        assert_eq!(lines[1].find("alice@example.com"), Some(col), "{text}");
        assert_eq!(lines[2].find("bob@example.com"), Some(col), "{text}");

        // site list
        let sites = json(&gatehouse(&db, &["site", "list", "--json"], None));
        assert_eq!(
            sites,
            serde_json::json!({ "sites": [{
                "id": site, "name": "Blog", "url": "https://blog.example", "require_auth": false,
                "owner": { "id": alice, "login": "alice" },
                "members": [
                    { "id": alice, "login": "alice", "role": "administrator" },
                    { "id": bob, "login": "bob", "role": "editor" },
                ],
            }]})
        );
        let text = stdout(&gatehouse(&db, &["site", "list"], None));
        assert!(text.lines().next().unwrap().contains("MEMBERS"), "{text}");
        assert!(
            text.contains("alice (administrator), bob (editor)"),
            "{text}"
        );

        // api-key list: every key, revoked ones too, and never a secret.
        let out = gatehouse(&db, &["api-key", "list", "--json"], None);
        let raw = String::from_utf8_lossy(&out.stdout).into_owned();
        for secret in [&user_key["key"], &other_key["key"], &site_key["key"]] {
            assert!(!raw.contains(secret.as_str().unwrap()));
        }
        assert!(
            !raw.contains("\"hash\"") && !raw.contains("\"key\""),
            "{raw}"
        );
        let keys = json(&out);
        let keys = keys["api_keys"].as_array().unwrap();
        assert_eq!(keys.len(), 3);
        let uk = &keys[0];
        assert_eq!(uk["id"], user_key["id"]);
        assert_eq!(uk["kind"], "user");
        assert_eq!(uk["description"], "bob's script");
        assert_eq!(uk["user"], serde_json::json!({ "id": bob, "login": "bob" }));
        assert_eq!(
            uk["site"],
            serde_json::json!({ "id": site, "url": "https://blog.example" })
        );
        assert_eq!(uk["scopes"], serde_json::json!(["posts:read"]));
        assert!(uk["expires"].is_string());
        assert_eq!(uk["last_used"], serde_json::Value::Null);
        assert_eq!(uk["revoked"], serde_json::Value::Null);
        assert_eq!(keys[1]["id"], other_key["id"]);
        assert!(keys[1]["revoked"].is_string(), "revoked keys are listed");
        assert_eq!(keys[2]["kind"], "site");
        assert_eq!(keys[2]["user"], serde_json::Value::Null);
        assert_eq!(
            keys[2]["created_by"],
            serde_json::json!({ "id": alice, "login": "alice" })
        );
        let ids = |args: &[&str]| -> Vec<serde_json::Value> {
            json(&gatehouse(&db, args, None))["api_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].clone())
                .collect()
        };
        assert_eq!(
            ids(&["api-key", "list", "--user", "bob", "--json"]),
            vec![user_key["id"].clone()]
        );
        assert_eq!(
            ids(&["api-key", "list", "--user", "alice", "--json"]),
            vec![other_key["id"].clone(), site_key["id"].clone()],
            "alice's own key and the site key attributed to her"
        );
        assert_eq!(
            ids(&["api-key", "list", "--site", &site.to_string(), "--json"]),
            vec![user_key["id"].clone(), site_key["id"].clone()]
        );
        let text = stdout(&gatehouse(&db, &["api-key", "list"], None));
        let header = text.lines().next().unwrap();
        for h in [
            "ID",
            "KIND",
            "DESCRIPTION",
            "LAST USED (UTC)",
            "EXPIRES (UTC)",
            "STATUS",
        ] {
            assert!(header.contains(h), "{header}");
        }
        assert!(text.contains("revoked 2"), "{text}");
        assert!(text.contains("(created by alice)"), "{text}");
        assert!(
            text.contains("read-only") && text.contains("posts:read"),
            "{text}"
        );
        assert!(!text.contains("gak_") && !text.contains("gsk_"), "{text}");
        usage_error(
            &gatehouse(
                &db,
                &["api-key", "list", "--site", "https://nope.example"],
                None,
            ),
            "nope.example",
        );
        usage_error(
            &gatehouse(
                &db,
                &["api-key", "list", "--user", "bob", "--site", "1"],
                None,
            ),
            "--site",
        );

        // app-password list
        let aps = json(&gatehouse(
            &db,
            &["app-password", "list", "--user", "bob", "--json"],
            None,
        ));
        assert_eq!(
            aps["user"],
            serde_json::json!({ "id": bob, "login": "bob" })
        );
        let list = aps["app_passwords"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["name"], "phone");
        assert!(list[0]["uuid"].is_string());
        assert_eq!(list[0]["last_used"], serde_json::Value::Null);
        assert!(list[0].get("password").is_none());
        let text = stdout(&gatehouse(
            &db,
            &["app-password", "list", "--user", "bob"],
            None,
        ));
        assert!(text.starts_with("UUID"), "{text}");
        assert!(text.contains("CREATED (UTC)") && text.contains("phone") && text.contains("never"));
        assert_eq!(
            stdout(&gatehouse(
                &db,
                &["app-password", "list", "--user", "alice"],
                None
            ))
            .trim(),
            "alice has no application passwords."
        );
        usage_error(
            &gatehouse(&db, &["app-password", "list", "--user", "nobody"], None),
            "nobody",
        );
    }
}

/// `revoke --user` says which credentials it ends, by kind and description, and ends exactly
/// those: the user's keys, the site keys attributed to them, application passwords, sessions.
#[tokio::test(flavor = "multi_thread")]
async fn revoke_user_says_what_it_ends() {
    for db in databases("revoke-user").await {
        let alice = add_user(&db, "alice", &[]);
        add_user(&db, "bob", &[]);
        json(&gatehouse(
            &db,
            &[
                "site",
                "add",
                "Blog",
                "--url",
                "https://blog.example",
                "--owner",
                "alice",
                "--json",
            ],
            None,
        ));
        let create = |args: &[&str]| json(&gatehouse(&db, args, None))["id"].as_i64().unwrap();
        let laptop = create(&[
            "api-key",
            "create",
            "--user",
            "alice",
            "--description",
            "My laptop script",
            "--json",
        ]);
        let mirror = create(&[
            "api-key",
            "create",
            "--site",
            "https://blog.example",
            "--description",
            "Public mirror",
            "--json",
        ]);
        let bobs = create(&[
            "api-key",
            "create",
            "--user",
            "bob",
            "--description",
            "bob's",
            "--json",
        ]);
        json(&gatehouse(
            &db,
            &[
                "app-password",
                "create",
                "--user",
                "alice",
                "--name",
                "phone",
                "--json",
            ],
            None,
        ));
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        let uid = gatehouse_core::model::UserId(alice);
        let t = now();
        for h in ["s1", "s2"] {
            store
                .insert_session(h, uid, t, t + 86_400, "127.0.0.1", "test")
                .await
                .unwrap();
        }

        let text = stdout(&gatehouse(&db, &["revoke", "--user", "alice"], None));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                format!("revoked API key {laptop} \"My laptop script\"").as_str(),
                format!(
                    "revoked site key {mirror} \"Public mirror\" of site https://blog.example (created by alice)"
                )
                .as_str(),
                "revoked application password \"phone\"",
                "ended 2 sessions",
                "alice: revoked 1 API key, 1 site key and 1 application password; ended 2 sessions.",
            ],
            "{text}"
        );
        // Exactly those: alice's are revoked, bob's key is not.
        let key = |id: i64| {
            let store = store.clone();
            async move {
                store
                    .get_api_key(gatehouse_core::model::ApiKeyId(id))
                    .await
                    .unwrap()
            }
        };
        assert!(key(laptop).await.revoked_at.is_some());
        assert!(key(mirror).await.revoked_at.is_some());
        assert!(key(bobs).await.revoked_at.is_none());
        assert!(store.list_app_passwords(uid).await.unwrap().is_empty());
        assert!(store.find_session_by_hash("s1").await.unwrap().is_none());
        // The audit log says it in words, from the command line.
        let events = store.list_audit(Some(uid), 10).await.unwrap();
        let all = events
            .iter()
            .find(|e| e.event == "credentials.revoke_all")
            .expect("audited");
        assert_eq!(all.detail, lines[4], "{all:?}");
        assert_eq!(all.address.as_deref(), Some("command line"));
        assert!(events.iter().any(|e| e.event == "api_key.create"
            && e.detail == format!("API key “My laptop script” (#{laptop}) created")));
        // An unknown name is bad input naming the flag.
        let out = gatehouse(&db, &["revoke", "--user", "nobody"], None);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim(),
            "error: --user nobody: there is no user with that login or email"
        );
        // Role changes from the command line are audited too.
        let out = gatehouse(
            &db,
            &[
                "site",
                "member",
                "https://blog.example",
                "bob",
                "--role",
                "editor",
            ],
            None,
        );
        assert!(out.status.success());
        let bob_events = store
            .list_audit(Some(gatehouse_core::model::UserId(2)), 10)
            .await
            .unwrap();
        assert!(
            bob_events
                .iter()
                .any(|e| e.event == "site.role" && e.detail == "bob is now editor on “Blog”"),
            "{bob_events:?}"
        );

        // Nothing left: said in words.
        assert_eq!(
            stdout(&gatehouse(&db, &["revoke", "--user", "alice"], None)).trim(),
            "alice had no credentials to revoke."
        );

        // --json: one object, the same items.
        let k1 = create(&[
            "api-key",
            "create",
            "--user",
            "alice",
            "--description",
            "one",
            "--json",
        ]);
        let k2 = create(&[
            "api-key",
            "create",
            "--user",
            "alice",
            "--description",
            "two",
            "--json",
        ]);
        let r = json(&gatehouse(
            &db,
            &["revoke", "--user", "alice", "--json"],
            None,
        ));
        assert_eq!(
            r["user"],
            serde_json::json!({ "id": alice, "login": "alice" })
        );
        let mut ids: Vec<i64> = r["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, vec![k1, k2]);
        assert!(r["api_keys"][0]["revoked"].is_string());
        assert!(r["api_keys"][0].get("key").is_none());
        assert_eq!(r["app_passwords"], serde_json::json!([]));
        assert_eq!(r["sessions_ended"], 0);
        // Plurals and the one-key form.
        let k3 = create(&[
            "api-key",
            "create",
            "--user",
            "alice",
            "--description",
            "three",
            "--json",
        ]);
        let k4 = create(&[
            "api-key",
            "create",
            "--user",
            "alice",
            "--description",
            "four",
            "--json",
        ]);
        let text = stdout(&gatehouse(&db, &["revoke", "--user", "alice"], None));
        assert!(text.ends_with("alice: revoked 2 API keys.\n"), "{text}");
        assert!(text.contains(&format!("revoked API key {k3} \"three\"")));
        assert!(text.contains(&format!("revoked API key {k4} \"four\"")));
        assert_eq!(
            stdout(&gatehouse(
                &db,
                &["revoke", "--api-key-id", &bobs.to_string()],
                None
            ))
            .trim(),
            format!("revoked API key {bobs} \"bob's\" of bob")
        );
        let again = gatehouse(&db, &["revoke", "--api-key-id", &bobs.to_string()], None);
        usage_error(&again, &format!("--api-key-id {bobs}"));
        usage_error(&again, "revoked on");
        usage_error(
            &gatehouse(&db, &["revoke", "--user", "nobody"], None),
            "nobody",
        );
    }
}

/// A site key depends on its creator: `api-key create --site` says who that is, and
/// `--created-by` must name an enabled administrator of the site or a network admin.
#[tokio::test(flavor = "multi_thread")]
async fn site_keys_say_whose_they_are() {
    for db in databases("site-key-creator").await {
        add_user(&db, "alice", &[]);
        add_user(&db, "bob", &[]);
        add_user(&db, "carol", &[]);
        add_user(&db, "root", &["--network-admin"]);
        json(&gatehouse(
            &db,
            &[
                "site",
                "add",
                "Blog",
                "--url",
                "https://blog.example",
                "--owner",
                "alice",
                "--json",
            ],
            None,
        ));
        for (login, role) in [("bob", "editor"), ("carol", "administrator")] {
            stdout(&gatehouse(
                &db,
                &[
                    "site",
                    "member",
                    "https://blog.example",
                    login,
                    "--role",
                    role,
                ],
                None,
            ));
        }
        let site_key = |extra: &[&str]| {
            let mut args = vec![
                "api-key",
                "create",
                "--site",
                "https://blog.example",
                "--description",
                "Public mirror",
            ];
            args.extend_from_slice(extra);
            gatehouse(&db, &args, None)
        };
        let text = stdout(&site_key(&[]));
        let first = text.lines().next().unwrap();
        assert!(
            first.contains("site key") && first.contains("\"Public mirror\""),
            "{text}"
        );
        assert!(
            first.contains(
                "for https://blog.example, created by alice (the site's owner); it works only while alice administers the site"
            ),
            "{text}"
        );
        assert!(text.contains("gsk_"));
        // --json keeps its shape; the attribution goes to stderr.
        let out = site_key(&["--json"]);
        let v = json(&out);
        let obj = v.as_object().unwrap();
        assert_eq!(obj.keys().collect::<Vec<_>>(), vec!["id", "key"]);
        let note = String::from_utf8_lossy(&out.stderr);
        assert!(
            note.contains("created by alice (the site's owner)"),
            "{note}"
        );
        // --created-by: an administrator of the site, or a network admin.
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        let out = site_key(&["--created-by", "carol", "--json"]);
        let id = json(&out)["id"].as_i64().unwrap();
        let k = store
            .get_api_key(gatehouse_core::model::ApiKeyId(id))
            .await
            .unwrap();
        let carol = store.find_user_auth("carol").await.unwrap().unwrap().user;
        assert_eq!(k.created_by, carol.id);
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("created by carol (an administrator of the site)"));
        let text = stdout(&site_key(&["--created-by", "root"]));
        assert!(
            text.contains("created by root (a network admin); it works only while root is a network admin or administers the site"),
            "{text}"
        );
        let before = store.list_all_api_keys(None, None).await.unwrap().len();
        let out = site_key(&["--created-by", "bob"]);
        usage_error(&out, "--created-by bob");
        usage_error(&out, "editor");
        usage_error(
            &site_key(&["--created-by", "nobody"]),
            "--created-by nobody",
        );
        stdout(&gatehouse(
            &db,
            &["site", "member", "1", "carol", "--role", "none"],
            None,
        ));
        usage_error(&site_key(&["--created-by", "carol"]), "no role");
        usage_error(
            &gatehouse(
                &db,
                &[
                    "api-key",
                    "create",
                    "--user",
                    "bob",
                    "--description",
                    "x",
                    "--created-by",
                    "alice",
                ],
                None,
            ),
            "--created-by alice",
        );
        // The owner demoted: the default is refused too, and the message says what to do.
        stdout(&gatehouse(
            &db,
            &["site", "member", "1", "alice", "--role", "author"],
            None,
        ));
        usage_error(&site_key(&[]), "--created-by");
        assert_eq!(
            store.list_all_api_keys(None, None).await.unwrap().len(),
            before,
            "refused keys were not written"
        );
    }
}

/// `user set-password`: Argon2id as `user add`, the user's sessions ended, audited, one line.
#[tokio::test(flavor = "multi_thread")]
async fn set_password_replaces_it_and_ends_sessions() {
    for db in databases("set-password").await {
        let id = add_user(&db, "alice", &[]);
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        let uid = gatehouse_core::model::UserId(id);
        let t = now();
        store
            .insert_session("sess", uid, t, t + 86_400, "127.0.0.1", "test")
            .await
            .unwrap();
        let old = store.find_user_auth("alice").await.unwrap().unwrap();

        let out = gatehouse(
            &db,
            &["user", "set-password", "alice", "--password-stdin"],
            Some("new password 1\n"),
        );
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains("set the password of alice") && text.contains("ended 1 session "),
            "{text}"
        );
        let new = store.find_user_auth("alice").await.unwrap().unwrap();
        assert!(new.password_hash.starts_with("$argon2id$"));
        assert_ne!(new.password_hash, old.password_hash);
        assert!(gatehouse_core::password::verify(
            &new.password_hash,
            "new password 1"
        ));
        assert!(store.find_session_by_hash("sess").await.unwrap().is_none());
        let audit = store.list_audit(Some(uid), 10).await.unwrap();
        let e = audit
            .iter()
            .find(|e| e.event == "user.set_password")
            .expect("audited");
        assert_eq!(e.target_user_id, Some(uid));

        let v = json(&gatehouse(
            &db,
            &[
                "user",
                "set-password",
                "ALICE@example.com",
                "--password",
                "new password 2",
                "--json",
            ],
            None,
        ));
        assert_eq!(v, serde_json::json!({ "id": id, "login": "alice" }));
        let now_hash = store
            .find_user_auth("alice")
            .await
            .unwrap()
            .unwrap()
            .password_hash;
        assert!(gatehouse_core::password::verify(
            &now_hash,
            "new password 2"
        ));

        // Bad input: exit 2, one line, the password unchanged.
        usage_error(
            &gatehouse(
                &db,
                &["user", "set-password", "alice", "--password", "short"],
                None,
            ),
            "at least 8",
        );
        let out = gatehouse(&db, &["user", "set-password", "alice"], None);
        usage_error(&out, "--password ");
        usage_error(&out, "--password-stdin");
        usage_error(
            &gatehouse(
                &db,
                &["user", "set-password", "nobody", "--password", "12345678"],
                None,
            ),
            "nobody",
        );
        assert_eq!(
            store
                .find_user_auth("alice")
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            now_hash
        );
    }
}

/// Bad input names the flag and the value and says what would work: one line, exit 2, nothing
/// written (the database is not even opened).
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_names_the_flag_the_value_and_what_works() {
    let dir = tempdir("flags");
    let db = Db {
        url: format!("sqlite://{}/f.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    let out = gatehouse(
        &db,
        &[
            "api-key",
            "create",
            "--user",
            "x",
            "--description",
            "d",
            "--expires-in",
            "-5",
        ],
        None,
    );
    usage_error(
        &out,
        "--expires-in -5: must be a whole number of seconds from 1 to 315360000 (10 years)",
    );
    usage_error(
        &gatehouse(
            &db,
            &[
                "api-key",
                "create",
                "--user",
                "x",
                "--description",
                "d",
                "--expires-in",
                "soon",
            ],
            None,
        ),
        "--expires-in soon",
    );
    let out = gatehouse(&db, &["user", "add", "x", "--email", "x@example.com"], None);
    usage_error(&out, "--password ");
    usage_error(&out, "--password-stdin");
    let out = gatehouse(&db, &["serve", "--listen", "nonsense"], None);
    usage_error(&out, "--listen nonsense");
    usage_error(&out, "127.0.0.1:8080");
    let out = gatehouse(
        &db,
        &["site", "member", "1", "bob", "--role", "owner"],
        None,
    );
    usage_error(&out, "--role owner");
    usage_error(
        &out,
        "administrator, editor, author, contributor, subscriber, none",
    );
    let out = gatehouse(&db, &["usr", "list"], None);
    usage_error(&out, "'usr'");
    usage_error(&out, "'user'");
    usage_error(&out, "gatehouse --help");
    let out = gatehouse(&db, &["user", "lst"], None);
    usage_error(&out, "'list'");
    usage_error(&out, "gatehouse user --help");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
    // A URL the stores do not speak is refused, not taken for a file name.
    let mysql = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--database-url", "mysql://x", "migrate"])
        .current_dir(&dir)
        .output()
        .unwrap();
    usage_error(&mysql, "--database-url mysql://x");
    usage_error(&mysql, "sqlite:");
    usage_error(&mysql, "postgres");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "no file named mysql:… was created"
    );
    let env_url = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["migrate"])
        .env("GATEHOUSE_DATABASE_URL", "mysql://y")
        .current_dir(&dir)
        .output()
        .unwrap();
    usage_error(&env_url, "mysql://y");
    // Help: every flag explained, the command's own options before the global ones.
    let help = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "add", "--help"])
        .output()
        .unwrap();
    let help = stdout(&help);
    let own = help.find("Options:").unwrap();
    let global = help.find("Global options:").unwrap();
    assert!(own < global, "{help}");
    assert!(help[own..global].contains("--email"));
    assert!(help[global..].contains("--database-url"));
    for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
        let words = line.split_whitespace().count();
        assert!(words >= 3, "no help text: {line:?}");
    }
    let help = stdout(
        &Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["site", "member", "--help"])
            .output()
            .unwrap(),
    );
    assert!(
        help.contains("administrator, editor, author, contributor or subscriber; or none"),
        "{help}"
    );
}

/// A port already in use is named with the flag that changes it (exit 1: not bad input).
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_port_names_listen() {
    let dir = tempdir("busy");
    let db = Db {
        url: format!("sqlite://{}/b.db", dir.display()),
        dir: dir.clone(),
        _pg: None,
    };
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = with_env(
        &db,
        &["serve", "--listen", &format!("127.0.0.1:{port}")],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "127.0.0.1:{port} is already in use; choose another address with --listen, e.g. --listen 127.0.0.1:{}",
            port + 1
        )),
        "{err}"
    );
}

/// `serve --demo` on a database that already has users says how to get in again and how to start
/// over, with the real flags and paths; the banner names the log-in page.
#[tokio::test(flavor = "multi_thread")]
async fn demo_on_existing_data_says_how_to_get_in() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let dir = tempdir("demo-again");
    let data = dir.join("data");
    let run = |args: Vec<String>| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args(args)
            .env_remove("GATEHOUSE_SECRET_KEY")
            .env_remove("GATEHOUSE_CONFIG")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd.spawn().unwrap()
    };
    let data_flag = vec!["--data-dir".to_string(), data.display().to_string()];
    let serve = |extra: &[&str]| {
        let mut a = data_flag.clone();
        a.extend(["serve", "--listen", "127.0.0.1:0", "--demo"].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    for round in 0..2 {
        let mut child = run(serve(&[]));
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = String::new();
        let find = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("listening on http://") {
                    banner = line;
                    break;
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), find)
            .await
            .expect("the server starts");
        let base = banner[banner.find("http://").unwrap()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert!(
            banner.contains(&format!("Log in at {base}/login")),
            "{banner}"
        );
        child.kill().await.unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .await
            .unwrap();
        if round == 0 {
            assert!(!err.contains("already has users"), "{err}");
            continue;
        }
        assert!(err.contains("already has users"), "{err}");
        let d = data.display();
        assert!(
            err.contains(&format!(
                "gatehouse --data-dir {d} user set-password admin --password-stdin"
            )),
            "{err}"
        );
        assert!(err.contains(&format!("rm -rf {d}\n")), "{err}");
        assert!(
            err.contains(&format!("gatehouse --data-dir {d} serve --demo")),
            "{err}"
        );
    }
    // The suggested command works: the admin gets a password again.
    let db = Db {
        url: format!("sqlite://{}/gatehouse.db", data.display()),
        dir: dir.clone(),
        _pg: None,
    };
    let text = stdout(&gatehouse(
        &db,
        &["user", "set-password", "admin", "--password-stdin"],
        Some("back in again\n"),
    ));
    assert!(text.contains("set the password of admin"), "{text}");
    // With --database-url, that flag is repeated and the file is what to remove.
    let url = format!("sqlite://{}/other.db", dir.display());
    add_user(&db_at(&url, &dir), "root", &["--network-admin"]);
    let mut child = run(vec![
        "--database-url".into(),
        url.clone(),
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--demo".into(),
    ]);
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening on http://") {
                break;
            }
        }
    })
    .await
    .expect("the server starts");
    child.kill().await.unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(
        err.contains(&format!(
            "gatehouse --database-url {url} user set-password root --password-stdin"
        )),
        "{err}"
    );
    let file = format!("{}/other.db", dir.display());
    assert!(
        err.contains(&format!("rm -f {file} {file}-wal {file}-shm")),
        "{err}"
    );
}

fn db_at(url: &str, dir: &std::path::Path) -> Db {
    Db {
        url: url.to_string(),
        dir: dir.to_path_buf(),
        _pg: None,
    }
}

/// The CLI tests run each command on SQLite and, with `GATEHOUSE_TEST_POSTGRES_URL`, on a scratch
/// PostgreSQL database as well, in the same test. Without the URL this test is counted as
/// ignored in cargo's summary, so a run that left the PostgreSQL half out says so.
#[tokio::test]
#[cfg_attr(
    gatehouse_no_postgres,
    ignore = "PostgreSQL half of the CLI tests: set GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
)]
async fn the_postgresql_half_runs() {
    let dbs = databases("pg-half").await;
    assert_eq!(dbs.len(), 2, "SQLite and PostgreSQL");
    assert!(dbs[1].url.starts_with("postgres"), "{}", dbs[1].url);
    let out = gatehouse(&dbs[1], &["user", "list", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["users"], serde_json::json!([]));
}

/// `client add`, `client rotate-secret`, `revoke --token-stdin` and `revoke --client` against a
/// running server: the secret works until rotated, tokens until revoked (SPEC §3, §10).
#[tokio::test(flavor = "multi_thread")]
async fn oauth_clients_from_the_command_line() {
    for db in databases("oauth-clients").await {
        add_user(&db, "admin", &["--network-admin"]);
        json(&gatehouse(
            &db,
            &[
                "site",
                "add",
                "Blog",
                "--url",
                "http://127.0.0.1:1",
                "--owner",
                "admin",
                "--json",
            ],
            None,
        ));
        let added = json(&gatehouse(
            &db,
            &[
                "client",
                "add",
                "--name",
                "Reporter",
                "--redirect-uri",
                "https://app.example/cb",
                "--grant",
                "client_credentials",
                "--json",
            ],
            None,
        ));
        let id = added["client_id"].as_str().unwrap().to_string();
        let secret = added["client_secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("gcs_"), "{added}");
        // A public client: no secret, said in words.
        let text = stdout(&gatehouse(
            &db,
            &[
                "client",
                "add",
                "--name",
                "SPA",
                "--public",
                "--redirect-uri",
                "http://localhost:3000/callback",
            ],
            None,
        ));
        assert!(text.contains("Registered public client"), "{text}");
        assert!(text.contains("client_secret: none"), "{text}");
        assert!(
            text.contains("grants:        authorization_code refresh_token"),
            "{text}"
        );
        // Bad registrations: one line naming what is wrong, exit 2, nothing written.
        for (args, words) in [
            (
                vec!["--redirect-uri", "http://app.example/cb"],
                "must use https",
            ),
            (
                vec!["--redirect-uri", "https://app.example/cb#x"],
                "fragment",
            ),
            (
                vec![
                    "--public",
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--grant",
                    "password",
                ],
                "confidential clients only",
            ),
            (
                vec![
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--token-ttl",
                    "-5",
                ],
                "token lifetime",
            ),
            (
                vec!["--grant", "client_credentials", "--owner", "nobody"],
                "--owner nobody",
            ),
        ] {
            let mut all = vec!["client", "add", "--name", "Bad"];
            all.extend(args.iter().copied());
            let out = gatehouse(&db, &all, None);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
            assert!(err.contains(words), "{all:?}: {err}");
        }
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        assert_eq!(
            store.list_clients(None).await.unwrap().len(),
            2,
            "nothing written"
        );

        let (mut server, base) = serve(&db, &[]).await;
        let http = gatehouse_testkit::reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap();
        let get_token = |secret: String| {
            let (http, base, id) = (http.clone(), base.clone(), id.clone());
            async move {
                http.post(format!("{base}/oauth/token"))
                    .basic_auth(id, Some(secret))
                    .form(&[("grant_type", "client_credentials"), ("scope", "global")])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let r = get_token(secret.clone()).await;
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        let access = body["access_token"].as_str().unwrap().to_string();
        let me = |t: String| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                http.get(format!("{base}/wp-json/wp/v2/users/me"))
                    .bearer_auth(t)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(me(access.clone()).await, 200);
        // Rotating the secret: the old one stops, the new one works.
        let rotated = json(&gatehouse(
            &db,
            &["client", "rotate-secret", &id, "--json"],
            None,
        ));
        let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, secret);
        assert_eq!(get_token(secret.clone()).await.status(), 401);
        assert_eq!(get_token(new_secret.clone()).await.status(), 200);
        // One token from stdin.
        let text = stdout(&gatehouse(
            &db,
            &["revoke", "--token-stdin"],
            Some(&format!("{access}\n")),
        ));
        assert!(
            text.contains("revoked the access token (user admin"),
            "{text}"
        );
        within_a_second().await;
        assert_eq!(me(access.clone()).await, 401);
        let out = gatehouse(&db, &["revoke", "--token-stdin"], Some("gak_notatoken\n"));
        assert_eq!(out.status.code(), Some(2));
        // `revoke --user` ends the user's OAuth authorizations too.
        let third: serde_json::Value = get_token(new_secret.clone()).await.json().await.unwrap();
        let third = third["access_token"].as_str().unwrap().to_string();
        assert_eq!(me(third.clone()).await, 200);
        let text = stdout(&gatehouse(&db, &["revoke", "--user", "admin"], None));
        assert!(
            text.contains("revoked OAuth authorization of \"Reporter\""),
            "{text}"
        );
        assert!(text.contains("OAuth authorization"), "{text}");
        within_a_second().await;
        assert_eq!(me(third).await, 401);
        // Every token of the client.
        let second: serde_json::Value = get_token(new_secret.clone()).await.json().await.unwrap();
        let second = second["access_token"].as_str().unwrap().to_string();
        assert_eq!(me(second.clone()).await, 200);
        let r = json(&gatehouse(
            &db,
            &["revoke", "--client", &id, "--json"],
            None,
        ));
        assert_eq!(
            r["grants_revoked"], 1,
            "the one issued after revoke --user: {r}"
        );
        within_a_second().await;
        assert_eq!(me(second).await, 401);
        let out = gatehouse(&db, &["revoke", "--client", "999"], None);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--client 999"));
        server.kill().await.unwrap();
    }
}

/// `serve --demo` prints an OAuth 2.0 walk-through that works as printed: the authorize URL in a
/// browser (log in as author, Allow), then each printed `curl` line run by a shell.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_oauth_walkthrough_works_as_printed() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempdir("demo-oauth");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
        ])
        .env_remove("GATEHOUSE_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("Stop with Ctrl-C") {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("the server starts");
    let find = |needle: &str| -> String {
        printed
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not printed:\n{printed}"))
            .trim()
            .to_string()
    };
    let base = find("Log in at ")
        .split("Log in at ")
        .nth(1)
        .unwrap()
        .trim_end_matches(". Stop with Ctrl-C.")
        .trim_end_matches("/login")
        .to_string();
    let author_password = printed
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("author "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let authorize = find("/oauth/authorize?client_id=");
    let http = gatehouse_testkit::reqwest::Client::builder()
        .no_proxy()
        .redirect(gatehouse_testkit::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie_of = |r: &gatehouse_testkit::reqwest::Response, name: &str| {
        r.headers().get_all("set-cookie").iter().find_map(|c| {
            let c = c.to_str().ok()?.split(';').next()?.to_string();
            c.starts_with(&format!("{name}=")).then_some(c)
        })
    };
    let hidden = |html: &str, form_action: &str| -> Vec<(String, String)> {
        let start = html.find(&format!("action=\"{form_action}\"")).unwrap();
        let form = &html[start..];
        let form = &form[..form.find("</form>").unwrap()];
        form.split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|chunk| {
                let name = &chunk[..chunk.find('"').unwrap()];
                let v = chunk.find("value=\"").unwrap() + 7;
                let value = &chunk[v..v + chunk[v..].find('"').unwrap()];
                (
                    name.to_string(),
                    value.replace("&#x2f;", "/").replace("&amp;", "&"),
                )
            })
            .collect()
    };
    // Step 1 in a "browser": log in as author, open the printed URL, Allow.
    let page = http.get(format!("{base}/login")).send().await.unwrap();
    let pre = cookie_of(&page, "gatehouse_login").unwrap();
    let mut form = hidden(&page.text().await.unwrap(), "/login");
    form.push(("log".into(), "author".into()));
    form.push(("pwd".into(), author_password));
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", &pre)
        .form(&form)
        .send()
        .await
        .unwrap();
    let session = cookie_of(&r, "gatehouse_session").expect("logged in");
    let consent = http
        .get(&authorize)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200);
    let mut form = hidden(&consent.text().await.unwrap(), "/oauth/authorize");
    form.push(("decision".into(), "allow".into()));
    form.push(("blog".into(), "1".into()));
    let r = http
        .post(format!("{base}/oauth/authorize"))
        .header("cookie", &session)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("http://localhost:8000/callback?code="),
        "{location}"
    );
    let query = location.split_once('?').unwrap().1;
    let code = form_urlencoded_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    // Steps 3 to 5 and the client_credentials line, as printed, run by a shell.
    let sh = |line: &str, env: &[(&str, &str)]| -> serde_json::Value {
        let out = Command::new("sh")
            .args(["-c", line])
            .envs(env.iter().copied())
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{line}: {}", String::from_utf8_lossy(&out.stdout)))
    };
    let exchange = find("-d grant_type=authorization_code -d \"code=$CODE\" -d redirect_uri=http://localhost:8000/callback http");
    let tokens = sh(&exchange, &[("CODE", &code)]);
    let access = tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    assert_eq!(tokens["blog_id"], "1");
    let me = sh(
        &find("Authorization: Bearer $ACCESS"),
        &[("ACCESS", &access)],
    );
    assert_eq!(me["slug"], "author");
    let rotated = sh(&find("grant_type=refresh_token"), &[("REFRESH", &refresh)]);
    assert!(
        rotated["refresh_token"]
            .as_str()
            .is_some_and(|r| r != refresh),
        "{rotated}"
    );
    let own = sh(&find("grant_type=client_credentials"), &[]);
    assert!(
        own["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("gat_")),
        "{own}"
    );
    child.kill().await.unwrap();
}

/// The pairs of a query string (values percent-decoded; the demo's codes are base62).
fn form_urlencoded_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `oauth1 add | list | delete` (SPEC §8, §10): `add` answers as `wp oauth1 add` does — three
/// lines, `ID:`, `Key:` (12 characters) and `Secret:` (48) — or one JSON object; bad input is one
/// line and exit 2; `revoke --user` ends the user's OAuth 1.0a authorizations and says so.
#[tokio::test(flavor = "multi_thread")]
async fn oauth1_applications_from_the_command_line() {
    for db in databases("oauth1").await {
        add_user(&db, "admin", &["--network-admin"]);
        let alice = add_user(&db, "alice", &[]);
        let text = stdout(&gatehouse(&db, &["oauth1", "add", "--name", "Desk"], None));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let id: i64 = lines[0].strip_prefix("ID: ").unwrap().parse().unwrap();
        let key = lines[1].strip_prefix("Key: ").unwrap();
        let secret = lines[2].strip_prefix("Secret: ").unwrap();
        assert!(
            key.len() == 12 && key.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{key}"
        );
        assert!(secret.len() == 48 && secret.bytes().all(|b| b.is_ascii_alphanumeric()));
        let added = json(&gatehouse(
            &db,
            &[
                "oauth1",
                "add",
                "--name",
                "Web",
                "--callback",
                "https://app.example/cb",
                "--owner",
                "alice",
                "--json",
            ],
            None,
        ));
        let obj = added.as_object().unwrap();
        assert_eq!(obj.len(), 3, "{added}");
        assert_eq!(obj["key"].as_str().unwrap().len(), 12);
        assert_eq!(obj["secret"].as_str().unwrap().len(), 48);
        let web_id = obj["id"].as_i64().unwrap();
        for (args, words) in [
            (
                vec!["--name", "X", "--callback", "http://app.example/cb"],
                "--callback \"http://app.example/cb\": The callback URL must use https",
            ),
            (
                vec!["--name", "X", "--callback", "https://app.example/cb\nx"],
                "control characters",
            ),
            (
                vec!["--name", "X", "--callback", "not-a-url"],
                "absolute URL",
            ),
            (
                vec!["--name", ""],
                "--name \"\": an application name must be 1 to 200 characters",
            ),
            (vec!["--name", "X", "--owner", "nobody"], "nobody"),
        ] {
            let mut all = vec!["oauth1", "add"];
            all.extend(args);
            usage_error(&gatehouse(&db, &all, None), words);
        }
        let listed = json(&gatehouse(&db, &["oauth1", "list", "--json"], None));
        let apps = listed["applications"].as_array().unwrap();
        assert_eq!(apps.len(), 2, "{listed}");
        assert_eq!(apps[0]["key"], key);
        assert_eq!(apps[1]["owner"]["login"], "alice");
        assert_eq!(apps[1]["callback"], "https://app.example/cb");
        assert!(
            !listed.to_string().contains(secret),
            "the list never shows a secret"
        );
        let table = stdout(&gatehouse(&db, &["oauth1", "list"], None));
        assert!(table.starts_with("ID  KEY"), "{table}");
        assert!(table.contains("oob only"), "{table}");

        // An authorization of alice's (written straight to the database) ends with revoke --user.
        let store = gatehouse_store::connect(&db.url).await.unwrap();
        let sealed = gatehouse_core::secrets::Sealed {
            key_version: 1,
            data: "x".into(),
        };
        store
            .insert_oauth1_token(
                &gatehouse_core::oauth1::NewToken {
                    hash: "h".into(),
                    key_version: 1,
                    secret: sealed,
                    kind: gatehouse_core::oauth1::TokenKind::Access,
                    consumer_id: gatehouse_core::oauth1::ConsumerId(id),
                    user_id: Some(gatehouse_core::model::UserId(alice)),
                    callback: None,
                    expires_at: None,
                },
                now(),
            )
            .await
            .unwrap();
        let report = json(&gatehouse(
            &db,
            &["revoke", "--user", "alice", "--json"],
            None,
        ));
        assert_eq!(report["oauth1_tokens"][0]["app_name"], "Desk", "{report}");
        assert_eq!(report["oauth1_tokens"][0]["consumer_id"], id);
        assert!(store
            .list_user_oauth1(gatehouse_core::model::UserId(alice))
            .await
            .unwrap()
            .is_empty());
        let text = stdout(&gatehouse(&db, &["revoke", "--user", "alice"], None));
        assert!(text.contains("had no credentials"), "{text}");

        // Delete: the application goes; an unknown id is one line and exit 2.
        let text = stdout(&gatehouse(
            &db,
            &["oauth1", "delete", &web_id.to_string()],
            None,
        ));
        assert!(text.contains("Deleted OAuth 1.0a application"), "{text}");
        usage_error(
            &gatehouse(&db, &["oauth1", "delete", &web_id.to_string()], None),
            "no OAuth 1.0a application",
        );
        let listed = json(&gatehouse(&db, &["oauth1", "list", "--json"], None));
        assert_eq!(listed["applications"].as_array().unwrap().len(), 1);
    }
}
