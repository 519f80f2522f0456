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
