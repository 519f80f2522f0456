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
    graceful_shutdown_stops_listening,
    |mut app: TestApp| async move {
        // A request in flight when shutdown begins still gets its answer.
        let client = app.http();
        let url = app.url("/wp-json/wp/v2/users/me");
        let auth = as_user(&app, "editor");
        let inflight = tokio::spawn(async move {
            client
                .get(url)
                .header("authorization", auth)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        tokio::task::yield_now().await;
        app.stop().await;
        let status = inflight.await.unwrap();
        assert!(matches!(status, Ok(200)) || status.is_err(), "{status:?}");
        assert!(
            app.http().get(app.url("/healthz")).send().await.is_err(),
            "no longer listening"
        );
    }
);
