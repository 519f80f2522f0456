//! The load benchmark's baseline (bench/run.sh): a minimal axum server on 127.0.0.1 answering
//! every GET with a fixed JSON body of the size of Gatehouse's `users/me` (about 650 bytes), so
//! the benchmark can report each case as a ratio to what this machine can do at all in the same
//! run. Usage: `bench-baseline [PORT]` (0 or nothing: the OS picks); prints
//! `listening on http://127.0.0.1:PORT`.
//! `bench-baseline argon2 SECS` instead measures bare Argon2id verification at Gatehouse's
//! parameters (`core::password`) on every CPU for SECS seconds and prints `argon2id_per_s=N`: the
//! ceiling for log-in and the password grant.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::OnceLock;

/// The same allocator as `gatehouse`, so the ratio compares the servers, not their allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn body() -> &'static str {
    static BODY: OnceLock<String> = OnceLock::new();
    BODY.get_or_init(|| {
        serde_json::json!({
            "id": 2,
            "name": "Demo editor",
            "url": "",
            "description": "",
            "link": "http://127.0.0.1:8080/author/editor/",
            "slug": "editor",
            "avatar_urls": {
                "24": "https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=24&d=mm&r=g",
                "48": "https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=48&d=mm&r=g",
                "96": "https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=96&d=mm&r=g"
            },
            "meta": [],
            "_links": {
                "self": [{ "href": "http://127.0.0.1:8080/wp-json/wp/v2/users/2" }],
                "collection": [{ "href": "http://127.0.0.1:8080/wp-json/wp/v2/users" }]
            }
        })
        .to_string()
    })
}

async fn answer() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body(),
    )
}

/// Verifications per second of one stored Argon2id hash, on every CPU at once.
fn argon2_rate(secs: u64) -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let phc = gatehouse_core::password::hash("correct horse battery staple").unwrap_or_default();
    let done = Arc::new(AtomicU64::new(0));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = std::time::Instant::now();
    let until = start + std::time::Duration::from_secs(secs);
    let workers: Vec<_> = (0..cpus)
        .map(|_| {
            let (phc, done) = (phc.clone(), done.clone());
            std::thread::spawn(move || {
                while std::time::Instant::now() < until {
                    if gatehouse_core::password::verify(&phc, "correct horse battery staple") {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    if let Some("argon2") = args.next().as_deref() {
        let secs = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
        println!("argon2id_per_s={:.1}", argon2_rate(secs));
        return Ok(());
    }
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = Router::new().fallback(get(answer));
    axum::serve(listener, app).await
}
