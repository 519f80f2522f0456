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

/// A user named inside another answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserRef {
    pub id: i64,
    pub login: String,
}

/// A site named inside another answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SiteRef {
    pub id: i64,
    pub url: String,
}

/// `gatehouse user list --json`. Times are RFC 3339 in UTC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserList {
    pub users: Vec<UserEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserEntry {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub network_admin: bool,
    pub disabled: bool,
    pub created: String,
}

/// `gatehouse site list --json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SiteList {
    pub sites: Vec<SiteEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SiteEntry {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub require_auth: bool,
    pub owner: UserRef,
    /// Every user with a role on the site, by user id.
    pub members: Vec<SiteMember>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SiteMember {
    pub id: i64,
    pub login: String,
    pub role: String,
}

/// `gatehouse api-key list --json`: never a secret or its hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiKeyEntry {
    pub id: i64,
    /// `user` or `site`.
    pub kind: String,
    pub description: String,
    /// The user a user key acts as; `null` for a site key.
    pub user: Option<UserRef>,
    /// The site the key is limited to (always set for a site key).
    pub site: Option<SiteRef>,
    /// For a site key, the administrator whose standing it depends on.
    pub created_by: UserRef,
    /// `null`: not limited by scope.
    pub scopes: Option<Vec<String>>,
    /// `null`: every HTTP method.
    pub methods: Option<Vec<String>>,
    pub created: String,
    pub last_used: Option<String>,
    pub last_ip: Option<String>,
    pub expires: Option<String>,
    /// When it was revoked; `null` while it is not.
    pub revoked: Option<String>,
}

/// `gatehouse app-password list --json`: never a password or its hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AppPasswordList {
    pub user: UserRef,
    pub app_passwords: Vec<AppPasswordEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AppPasswordEntry {
    pub uuid: String,
    pub name: String,
    pub app_id: String,
    pub created: String,
    pub last_used: Option<String>,
    pub last_ip: Option<String>,
}

/// `gatehouse revoke --json`: exactly what was revoked, each item once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevokeReport {
    /// The user whose credentials were revoked (`revoke --user`); `null` for `--api-key-id`.
    pub user: Option<UserRef>,
    pub api_keys: Vec<ApiKeyEntry>,
    pub app_passwords: Vec<AppPasswordEntry>,
    /// OAuth 2.0 authorizations ended (every token issued under each).
    pub oauth_grants: Vec<GrantEntry>,
    /// OAuth 1.0a authorizations ended (access tokens).
    pub oauth1_tokens: Vec<Oauth1Entry>,
    pub sessions_ended: u64,
}

/// An OAuth 1.0a authorization (access token): which app, as `revoke --json` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Oauth1Entry {
    pub id: i64,
    pub consumer_id: i64,
    pub app_name: String,
}

/// `gatehouse oauth1 add --json`: the plugin's `wp oauth1 add` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Oauth1ConsumerCreated {
    pub id: i64,
    pub key: String,
    pub secret: String,
}

/// An OAuth 2.0 authorization: which app, as `revoke --json` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GrantEntry {
    pub id: i64,
    pub client_id: String,
    pub client_name: String,
}
