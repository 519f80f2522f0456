//! HTTP tests: the real server on 127.0.0.1:0, real SQLite and PostgreSQL, real requests.
//! Each `both!` test runs one body against both databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod browser;
mod cache;
mod clients;
mod credentials;
mod garbage;
mod guards;
mod hardening;
mod hosting;
mod oauth1;
mod oauth2;
mod ops;
mod sessions;
mod support;
mod wp;
mod wpcom;
