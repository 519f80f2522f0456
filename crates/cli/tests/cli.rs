//! The `gatehouse` binary as scripts use it (SPEC §10): `--json` shapes, exit status 2 with one
//! line on stderr for bad input, nothing written on failure — against a SQLite file and, when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set, a scratch PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_store::scratch::{PgScratch, TEST_POSTGRES_ENV};
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
    match std::env::var(TEST_POSTGRES_ENV) {
        Ok(base) => {
            let pg = PgScratch::create(&base).await.unwrap();
            out.push(Db {
                url: pg.url.clone(),
                dir,
                _pg: Some(pg),
            });
        }
        Err(_) => {
            eprintln!("SKIPPED (PostgreSQL) CLI test {tag}: set {TEST_POSTGRES_ENV} to run it")
        }
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
