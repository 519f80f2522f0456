//! The hosting dialect (`/v1/`): shapes, paging, visibility and the site-creation policy.

use crate::support::*;
use gatehouse_server::config::SiteCreation;
use gatehouse_server::Settings;
use gatehouse_testkit::reqwest::Method;
use gatehouse_testkit::{both, TestApp};
use serde_json::json;

both!(user_and_errors, |app: TestApp| async move {
    let r = get(&app, "/v1/user", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error":"authorization_required","message":"Authentication is required."})
    );
    assert_eq!(r.all("www-authenticate").len(), 2);
    let r = get(&app, "/v1/user/", Some(&as_user(&app, "editor"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], app.user("editor").user.id.0.to_string());
    assert_eq!(r.body["email"], "editor@example.com");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = get(&app, "/v1/user", Some("Bearer nope")).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let r = get(&app, "/v1/nothing", Some(&as_user(&app, "editor"))).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (404, Some("not_found"))
    );
    let r = send(
        &app,
        Method::PUT,
        "/v1/sites",
        Some(&as_user(&app, "editor")),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
});

both!(sites_paging_and_visibility, |app: TestApp| async move {
    let admin = as_user(&app, "netadmin");
    for i in 0..3 {
        let r = post(
            &app,
            "/v1/sites",
            Some(&admin),
            json!({"name": format!("Extra {i}"), "url": format!("https://extra{i}.example")}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(r.body["id"].is_string());
    }
    let r = get(&app, "/v1/sites?limit=2&offset=1", Some(&admin)).await;
    assert_eq!(r.body["count"], 4);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["next"],
        format!("{}/v1/sites?limit=2&offset=3", app.base_url)
    );
    assert_eq!(
        r.body["previous"],
        format!("{}/v1/sites?limit=2&offset=0", app.base_url)
    );
    let first = &r.body["results"][0];
    for k in ["id", "name", "url", "account", "tags"] {
        assert!(first.get(k).is_some(), "{k}");
    }
    assert_eq!(
        get(&app, "/v1/sites?limit=101", Some(&admin)).await.status,
        400
    );
    // A member sees only their sites; other sites are 404, not 403.
    let r = get(&app, "/v1/sites", Some(&as_user(&app, "editor"))).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["next"], serde_json::Value::Null);
    let other = get(&app, "/v1/sites?limit=1&offset=3", Some(&admin))
        .await
        .body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(
            &app,
            &format!("/v1/sites/{other}"),
            Some(&as_user(&app, "editor"))
        )
        .await
        .status,
        404
    );
    let own = app.site.id.0;
    assert_eq!(
        get(
            &app,
            &format!("/v1/sites/{own}"),
            Some(&as_user(&app, "editor"))
        )
        .await
        .status,
        200
    );
    // Only the site's administrators change it.
    let r = send(
        &app,
        Method::PATCH,
        &format!("/v1/sites/{own}"),
        Some(&as_user(&app, "editor")),
        Some(json!({"name":"x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "forbidden", "{}", r.text);
    let r = send(
        &app,
        Method::PATCH,
        &format!("/v1/sites/{own}"),
        Some(&as_user(&app, "siteadmin")),
        Some(json!({"name":"Renamed"})),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["name"].as_str()),
        (200, Some("Renamed"))
    );
    let r = send(
        &app,
        Method::PATCH,
        &format!("/v1/sites/{own}"),
        Some(&admin),
        Some(json!({"url":"https://extra0.example"})),
    )
    .await;
    assert_eq!(r.status, 409, "hosts stay unique");
    let r = send(
        &app,
        Method::DELETE,
        &format!("/v1/sites/{other}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        get(&app, &format!("/v1/sites/{other}"), Some(&admin))
            .await
            .status,
        404
    );
});

both!(
    site_creation_defaults_to_network_admins,
    |app: TestApp| async move {
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "siteadmin")),
            json!({"name":"Mine","url":"https://mine.example"}),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["error"].as_str()),
            (403, Some("forbidden"))
        );
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "netadmin")),
            json!({"name":"Bad","url":"ftp://x"}),
        )
        .await;
        assert_eq!(r.status, 400);
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "netadmin")),
            json!({"name":"Dup","url": app.base_url}),
        )
        .await;
        assert_eq!(r.status, 409);
        let r = post(
            &app,
            "/v1/sites",
            None,
            json!({"name":"Anon","url":"https://anon.example"}),
        )
        .await;
        assert_eq!(r.status, 401);
    }
);

both!(
    any_user_may_create_sites_when_allowed,
    settings = |s: &mut Settings| s.site_creation = SiteCreation::AnyUser,
    |app: TestApp| async move {
        let r = post(
            &app,
            "/v1/sites",
            Some(&as_user(&app, "outsider")),
            json!({"name":"Mine","url":"https://mine.example"}),
        )
        .await;
        assert_eq!(r.status, 201);
        let id = r.body["id"].as_str().unwrap().to_string();
        // The creator administers it.
        let r = send(
            &app,
            Method::PATCH,
            &format!("/v1/sites/{id}"),
            Some(&as_user(&app, "outsider")),
            Some(json!({"require_auth": true})),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["require_auth"].as_bool()),
            (200, Some(true))
        );
    }
);
