//! Wire types shared by the server, the CLI and clients: error envelopes of each dialect and the
//! bodies scripts parse (`--json` output of the CLI). Plain serde types; no I/O, no logic.
//! SPEC §0 (error envelopes per dialect), §5 (the key plugin's body), §10 (CLI JSON shapes).

use serde::{Deserialize, Serialize};

/// The WordPress REST API error: `{"code","message","data":{"status",…}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WpError {
    pub code: String,
    pub message: String,
    pub data: serde_json::Value,
}

/// The hosting and WordPress.com error: `{"error","message"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SimpleError {
    pub error: String,
    pub message: String,
}

/// The API-key plugin's error body (seed 004), used on `/wp-json/` for key failures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PluginError {
    pub status: String,
    pub error: String,
    pub code: String,
    pub error_description: String,
}

/// `gatehouse user add --json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserCreated {
    pub id: i64,
    pub login: String,
}

/// `gatehouse site add --json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SiteCreated {
    pub id: i64,
    pub name: String,
    pub url: String,
}
