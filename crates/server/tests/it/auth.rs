//! The credential chain's rules (SPEC §0, §2): the Basic setting, throttling and its release with
//! the fake clock, the audit of bursts, the Argon2id cap, disabled accounts, and the plain-http
//! and trusted-proxy rules.

use crate::support::*;
use gatehouse_core::throttle::ThrottlePolicy;
use gatehouse_server::Settings;
use gatehouse_testkit::{basic, both, TestApp};

both!(
    basic_with_account_password_is_off_by_default,
    settings = |s: &mut Settings| s.basic_auth_with_account_password = false,
    |app: TestApp| async move {
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&as_user(&app, "editor")),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
        let r = get(&app, "/wp-json/", None).await;
        assert!(r.body["authentication"].get("basic").is_none());
        assert!(r.body["authentication"]
            .get("application-passwords")
            .is_some());
    }
);

fn small_throttle(s: &mut Settings) {
    s.throttle = ThrottlePolicy {
        pair_failures: 3,
        pair_base_secs: 30,
        pair_max_secs: 900,
        address_failures: 8,
        address_window_secs: 300,
    };
}

both!(
    throttle_blocks_pairs_and_releases,
    settings = small_throttle,
    |app: TestApp| async move {
        let editor = app.user("editor");
        let wrong = basic("editor", "wrong password");
        for _ in 0..3 {
            assert_eq!(
                get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))
                    .await
                    .status,
                401
            );
        }
        // Blocked now, even with the right password.
        let r = get(&app, "/wp-json/wp/v2/users/me", Some(&editor.basic())).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("30"));
        // Another account from the same address is not blocked (no lock-out for everyone).
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&as_user(&app, "author"))
            )
            .await
            .status,
            200
        );
        // The burst was audited, once: on the failure that completed it, not on every failure.
        let audit = app.store.list_audit(None, 10).await.unwrap();
        let bursts: Vec<_> = audit
            .iter()
            .filter(|e| e.event == "auth.failure_burst")
            .collect();
        assert_eq!(bursts.len(), 1, "{audit:?}");
        assert_eq!(bursts[0].login.as_deref(), Some("editor"));
        // The block ends exactly when Retry-After says; the next failure doubles it.
        app.clock.advance(30);
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))
                .await
                .status,
            401
        );
        let r = get(&app, "/wp-json/wp/v2/users/me", Some(&editor.basic())).await;
        assert_eq!(
            (r.status.as_u16(), r.header("retry-after")),
            (429, Some("60"))
        );
        app.clock.advance(60);
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&editor.basic()))
                .await
                .status,
            200
        );
        // Success reset the pair: one more failure does not block.
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))
                .await
                .status,
            401
        );
        assert_eq!(
            get(&app, "/wp-json/wp/v2/users/me", Some(&editor.basic()))
                .await
                .status,
            200
        );
        // Counters are per name as presented (case folded): blocking the login does not block the
        // email, so the throttle never tells which email belongs to which login.
        app.clock.advance(3600);
        for name in ["author", "AUTHOR", "Author"] {
            assert_eq!(
                get(&app, "/wp-json/wp/v2/users/me", Some(&basic(name, "wrong")))
                    .await
                    .status,
                401
            );
        }
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&basic("author", &app.user("author").password)),
        )
        .await;
        assert_eq!(r.status, 429, "blocked after three failures in any case");
        for (name, expected) in [
            ("author@example.com", 401),
            ("ghost@example.com", 401),
            ("AUTHOR", 429),
        ] {
            let r = get(&app, "/wp-json/wp/v2/users/me", Some(&basic(name, "wrong"))).await;
            assert_eq!(
                r.status, expected,
                "{name}: the answer does not depend on the account"
            );
        }
        app.clock.advance(3600);
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&as_user(&app, "author"))
            )
            .await
            .status,
            200
        );
        // Per address: 8 failures in the window from many accounts block the address.
        for i in 0..8 {
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&basic(&format!("ghost{i}"), "x")),
            )
            .await;
        }
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&as_user(&app, "subscriber")),
        )
        .await;
        assert_eq!(r.status, 429);
        app.clock.advance(301);
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&as_user(&app, "subscriber"))
            )
            .await
            .status,
            200
        );
    }
);

both!(
    a_burst_of_parallel_guesses_gets_no_more_checks_than_the_budget,
    settings = small_throttle,
    |app: TestApp| async move {
        // Twelve wrong passwords at once: each is counted as in flight before its Argon2id check,
        // so exactly the pair's budget (3) is checked and answered 401; the rest wait for those
        // and are refused by the block they complete.
        let wrong = basic("editor", "wrong password");
        let answers = futures_util::future::join_all(
            (0..12).map(|_| get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))),
        )
        .await;
        let mut statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [vec![401; 3], vec![429; 9]].concat());
        assert!(answers
            .iter()
            .filter(|r| r.status == 429)
            .all(|r| r.header("retry-after") == Some("30")));
        // The block stands for the right password too, and was audited once.
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&app.user("editor").basic()),
        )
        .await;
        assert_eq!(r.status, 429);
        let audit = app.store.list_audit(None, 20).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.event == "auth.failure_burst")
                .count(),
            1
        );
        // After the block, one attempt and a doubled block; the right one then gets in.
        app.clock.advance(30);
        let answers = futures_util::future::join_all(
            (0..6).map(|_| get(&app, "/wp-json/wp/v2/users/me", Some(&wrong))),
        )
        .await;
        assert_eq!(answers.iter().filter(|r| r.status == 401).count(), 1);
        app.clock.advance(60);
        let right = app.user("editor").basic();
        let r = get(&app, "/wp-json/wp/v2/users/me", Some(&right)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // A burst of right passwords is not throttled: those past the budget wait for the
        // checks in flight, whose successes leave room.
        let answers = futures_util::future::join_all(
            (0..12).map(|_| get(&app, "/wp-json/wp/v2/users/me", Some(&right))),
        )
        .await;
        assert!(
            answers.iter().all(|r| r.status == 200),
            "{:?}",
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
    }
);

both!(
    argon2_cap_answers_503,
    settings = |s: &mut Settings| s.argon2_max_concurrency = 1,
    |app: TestApp| async move {
        let held = app.state.argon2.clone().acquire_owned().await.unwrap();
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&as_user(&app, "editor")),
        )
        .await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("1"));
        drop(held);
        assert_eq!(
            get(
                &app,
                "/wp-json/wp/v2/users/me",
                Some(&as_user(&app, "editor"))
            )
            .await
            .status,
            200
        );
    }
);

both!(
    a_client_that_hangs_up_mid_check_leaves_no_place_taken,
    settings = |s: &mut Settings| s.argon2_max_concurrency = 1,
    |app: TestApp| async move {
        // The only Argon2id turn is taken, so three wrong passwords take their places in the
        // pair's budget and wait; their clients hang up meanwhile. The checks run on (as tasks
        // of their own): each ends as busy and gives its place back — dropped with the request,
        // the places would stay until they lapse, and the right password would wait and get 503.
        let turn = app.state.argon2.clone().acquire_owned().await.unwrap();
        let wrong = basic("editor", "wrong password");
        for _ in 0..3 {
            let r = app
                .http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("authorization", &wrong)
                .timeout(std::time::Duration::from_millis(300))
                .send()
                .await;
            assert!(r.is_err(), "the client gave up first");
        }
        drop(turn);
        let pair = gatehouse_core::throttle::pair_key("editor", "127.0.0.1");
        let mut pending = -1;
        for _ in 0..40 {
            let rows = app
                .store
                .throttle_get(std::slice::from_ref(&pair))
                .await
                .unwrap();
            pending = rows.first().map_or(0, |r| r.pending);
            if pending == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(pending, 0, "every place was given back");
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&app.user("editor").basic()),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);

both!(
    attempts_take_turns_per_pair_and_only_per_pair,
    |app: TestApp| async move {
        use gatehouse_core::authn::PasswordHashing;
        use std::time::Duration;
        // One pair's line holds up only that pair: a victim's name from another address (another
        // pair) never waits behind an attacker's attempts.
        let a = app.state.line_up("pair:a").await.expect("a free line");
        let b = tokio::time::timeout(Duration::from_millis(200), app.state.line_up("pair:b"))
            .await
            .expect("another pair does not wait")
            .expect("its line is free");
        assert!(
            tokio::time::timeout(Duration::from_millis(200), app.state.line_up("pair:a"))
                .await
                .is_err(),
            "the same pair waits its turn"
        );
        drop((a, b));
        assert!(
            app.state.admit_lines.lock().unwrap().is_empty(),
            "a line nobody holds or waits for is gone, the abandoned wait's included"
        );
    }
);

both!(
    argon2_cap_serves_a_burst_in_turn,
    settings = |s: &mut Settings| s.argon2_max_concurrency = 1,
    |app: TestApp| async move {
        // Four checks at once with one permit: three wait their turn instead of getting 503.
        let auth = as_user(&app, "editor");
        let before = app.argon2_verifications();
        let burst = (0..4).map(|_| get(&app, "/wp-json/wp/v2/users/me", Some(&auth)));
        for r in futures_util::future::join_all(burst).await {
            assert_eq!(r.status, 200, "{}", r.text);
        }
        assert_eq!(app.argon2_verifications() - before, 4);
    }
);

both!(
    disabled_accounts_fail_like_wrong_passwords,
    |app: TestApp| async move {
        app.store
            .set_user_disabled(app.user("editor").user.id, true)
            .await
            .unwrap();
        let r = get(
            &app,
            "/wp-json/wp/v2/users/me",
            Some(&as_user(&app, "editor")),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_password"));
    }
);

both!(
    plain_http_and_trusted_proxies,
    settings = |s: &mut Settings| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()],
    |app: TestApp| async move {
        let auth = as_user(&app, "editor");
        // From a remote client over http (told by a trusted proxy): refused.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("authorization", &auth)
                .header("x-forwarded-for", "203.0.113.7"),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "rest_insecure_transport")
        );
        // The same over https: accepted.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("authorization", &auth)
                .header("x-forwarded-for", "203.0.113.7")
                .header("x-forwarded-proto", "https"),
        )
        .await;
        assert_eq!(r.status, 200);
        // Anonymous requests are not affected.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/posts"))
                .header("x-forwarded-for", "203.0.113.7"),
        )
        .await;
        assert_eq!(r.status, 200);
    }
);

both!(
    untrusted_forwarding_headers_are_ignored,
    |app: TestApp| async move {
        // No trusted proxies: X-Forwarded-For cannot make a loopback peer look remote (or the reverse).
        let auth = as_user(&app, "editor");
        let r = finish(
            app.http()
                .get(app.url("/wp-json/wp/v2/users/me"))
                .header("authorization", &auth)
                .header("x-forwarded-for", "203.0.113.7"),
        )
        .await;
        assert_eq!(r.status, 200);
        // Nor choose another site through X-Forwarded-Host.
        let r = finish(
            app.http()
                .get(app.url("/wp-json/"))
                .header("x-forwarded-host", "evil.example"),
        )
        .await;
        assert_eq!(r.body["url"], app.base_url);
    }
);
