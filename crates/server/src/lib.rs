//! The Gatehouse HTTP server: the router, the credential chain, the three resource dialects and
//! the operational endpoints. Handlers are thin: parse → `core` logic and the store → render.
//! SPEC §0 (rules everywhere), §9 (resources), §11 (operations).

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod error;
pub mod keys;
pub mod oauth1;
pub mod oauth2;
pub mod rest;
pub mod routes;
pub mod sites;
pub mod telemetry;
pub mod web;

pub use app::{AppState, Application};
pub use config::Settings;
