//! The per-request cost of recognising a credential (issue: "one checksum check, one HMAC and
//! one indexed look-up — no Argon2"): parse + check + keyed hash for each kind, without the
//! database. Argon2id is measured alongside for scale.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse_core::secrets::{self, Keyring, Purpose, ServerKey, TokenKind};

fn credentials(c: &mut Criterion) {
    let keys = Keyring::new(&ServerKey::generate(), 1);
    let user_key = secrets::mint(TokenKind::UserApiKey);
    let site_key = secrets::mint(TokenKind::SiteApiKey);
    let app = secrets::group_app_password(secrets::mint_app_password().expose_secret());

    c.bench_function("api_key/user: parse+checksum+hmac", |b| {
        b.iter(|| {
            let t = black_box(user_key.expose_secret());
            secrets::parse(t).unwrap();
            keys.hash(Purpose::ApiKey, t)
        })
    });
    c.bench_function("api_key/site: parse+checksum+hmac", |b| {
        b.iter(|| {
            let t = black_box(site_key.expose_secret());
            secrets::parse(t).unwrap();
            keys.hash(Purpose::ApiKey, t)
        })
    });
    c.bench_function("app_password: normalize+hmac", |b| {
        b.iter(|| {
            let n = secrets::normalize_app_password(black_box(&app)).unwrap();
            keys.hash(Purpose::AppPassword, &n)
        })
    });
    c.bench_function("api_key: reject bad checksum", |b| {
        let mut bad = user_key.expose_secret().to_string().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap();
        b.iter(|| secrets::parse(black_box(&bad)).unwrap_err())
    });
    let phc = gatehouse_core::password::hash("correct horse battery staple").unwrap();
    let mut g = c.benchmark_group("for scale");
    g.sample_size(10);
    g.bench_function("account password: argon2id verify (OWASP params)", |b| {
        b.iter(|| gatehouse_core::password::verify(&phc, black_box("correct horse battery staple")))
    });
    g.finish();
}

criterion_group!(benches, credentials);
criterion_main!(benches);
