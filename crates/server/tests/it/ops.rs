//! Operations: health, readiness, metrics, graceful shutdown.

use crate::support::*;
use gatehouse_testkit::{both, TestApp};

both!(health_ready_metrics, |app: TestApp| async move {
    assert_eq!(get(&app, "/healthz", None).await.body["status"], "ok");
    let r = get(&app, "/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["database"],
        match app.backend {
            gatehouse_testkit::Backend::Sqlite => "sqlite",
            gatehouse_testkit::Backend::Postgres => "postgres",
        }
    );
    get(&app, "/wp-json/wp/v2/users/me", Some("Bearer nope")).await;
    let m = get(&app, "/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(
        m.text.contains(
            "gatehouse_http_requests_total{dialect=\"wp\",method=\"GET\",status=\"401\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("gatehouse_auth_failures_total{scheme=\"bearer\"} 1"),
        "{}",
        m.text
    );
    assert!(m
        .text
        .contains("gatehouse_http_request_duration_seconds_bucket"));
});

both!(
    graceful_shutdown_lets_in_flight_requests_finish,
    |mut app: TestApp| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A request whose body is still arriving when shutdown begins must still be answered.
        let body = r#"{"title":"in flight","status":"draft"}"#;
        let head = format!(
        "POST /wp-json/wp/v2/posts HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.addr,
        as_user(&app, "editor"),
        body.len()
    );
        let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(&body.as_bytes()[..5]).await.unwrap();
        // Make sure the server has accepted the connection and is reading the body.
        get(&app, "/healthz", None).await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stopper = {
            let shutdown = app.begin_shutdown();
            tokio::spawn(async move {
                shutdown.await;
                let _ = tx.send(());
            })
        };
        sock.write_all(&body.as_bytes()[5..]).await.unwrap();
        let mut resp = String::new();
        sock.read_to_string(&mut resp).await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
        rx.await.unwrap();
        stopper.await.unwrap();
        assert!(
            app.http().get(app.url("/healthz")).send().await.is_err(),
            "no longer listening"
        );
        app.stop().await;
    }
);

both!(
    slow_and_broken_requests_are_cut_off,
    |app: TestApp| async move {
        use std::time::{Duration, Instant};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpStream;
        let started = Instant::now();
        // Headers that never finish (a "slowloris"): the connection is closed after the header
        // read timeout (30 s), not held for as long as the client likes.
        let mut slow_head = TcpStream::connect(app.addr).await.unwrap();
        slow_head
            .write_all(b"GET /wp-json/ HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
            .await
            .unwrap();
        // A body that never completes: 408 once its deadline (15 s from arrival) has passed.
        let mut slow_body = TcpStream::connect(app.addr).await.unwrap();
        slow_body
            .write_all(
                b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=cl",
            )
            .await
            .unwrap();
        // Broken chunked framing is a bad request (400), not a body too large (413).
        let mut broken = TcpStream::connect(app.addr).await.unwrap();
        broken
            .write_all(
                b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
                  zz\r\ngrant_type=client_credentials\r\n0\r\n\r\n",
            )
            .await
            .unwrap();
        let mut answer = String::new();
        broken.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("invalid_request"), "{answer}");

        let mut head_answer = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(45),
            slow_head.read_to_end(&mut head_answer),
        )
        .await
        .expect("the slow headers' connection is closed")
        .unwrap();
        let closed_after = started.elapsed();
        assert!(
            closed_after >= Duration::from_secs(29) && closed_after < Duration::from_secs(40),
            "{closed_after:?}"
        );
        let mut body_answer = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            slow_body.read_to_string(&mut body_answer),
        )
        .await
        .expect("the slow body is answered")
        .unwrap();
        assert!(body_answer.starts_with("HTTP/1.1 408"), "{body_answer}");

        // Meanwhile and after, the server answers others as usual.
        assert_eq!(get(&app, "/healthz", None).await.status, 200);
    }
);

both!(openapi_describes_routed_paths, |app: TestApp| async move {
    let doc = get(&app, "/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    assert_eq!(doc.body["servers"][0]["url"], app.base_url);
    assert!(doc.body["paths"]["/wp-json/gatehouse/v1/api-keys"]["post"].is_object());
    assert!(doc.body["components"]["securitySchemes"]["apiKey"].is_object());
    let auth = app.app_basic("netadmin").await;
    for path in gatehouse_server::routes::openapi::plain_get_paths() {
        let url = if path.ends_with("admin-ajax.php") {
            format!("{path}?action=rest-nonce")
        } else {
            path.to_string()
        };
        let r = get(&app, &url, Some(&auth)).await;
        assert!(
            r.status.is_success() || r.status == 400,
            "{path}: {}",
            r.status
        );
    }
});
