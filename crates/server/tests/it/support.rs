//! Small request helpers over `TestApp::http()`.

use gatehouse_testkit::reqwest::{self, header::HeaderMap, Method, StatusCode};
use gatehouse_testkit::TestApp;
use serde_json::Value;

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<&str>,
    json: Option<Value>,
) -> Resp {
    let mut rb = app.http().request(method, app.url(path));
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    if let Some(j) = json {
        rb = rb.json(&j);
    }
    finish(rb).await
}

pub async fn finish(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

pub async fn get(app: &TestApp, path: &str, auth: Option<&str>) -> Resp {
    send(app, Method::GET, path, auth, None).await
}

pub async fn post(app: &TestApp, path: &str, auth: Option<&str>, json: Value) -> Resp {
    send(app, Method::POST, path, auth, Some(json)).await
}

/// `Authorization: Basic` for a seeded user.
pub fn as_user(app: &TestApp, login: &str) -> String {
    app.user(login).basic()
}
