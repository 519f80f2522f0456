//! HTTP tests: the real server on 127.0.0.1:0, real SQLite and PostgreSQL, real requests.
//! Each `both!` test runs one body against both databases.

mod auth;
mod hosting;
mod ops;
mod support;
mod wp;
mod wpcom;
