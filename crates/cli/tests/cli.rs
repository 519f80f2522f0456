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

/// A revocation made by the CLI (another process) is honoured by the running server on the
/// next request, on both databases.
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
        assert_eq!(status(format!("ApiKey {key}")).await, 401);
        // Revoking a user's credentials ends their application passwords too.
        let auth = app.app_basic("author").await;
        assert_eq!(status(auth.clone()).await, 200);
        let out = with_env(&db, &["revoke", "--user", "author"], &[]);
        assert!(out.status.success());
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
    assert_eq!(access.len(), 2, "one line per request: {logs}");
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
