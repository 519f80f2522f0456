//! OAuth 2.0 (SPEC §3; RFC 6749, 7636, 8252, 9700): clients and their registration rules, redirect
//! URI matching, PKCE, and the grants. Pure rules live here; the endpoints that speak HTTP live in
//! the server, the single-use statements in the store.

pub mod authorize;
pub mod clients;
pub mod issue;
pub mod pkce;
pub mod registry;

use crate::clock::Timestamp;
use crate::model::{ClientId, GrantId, SiteId, TokenId, UserId};

/// A grant type a client may use (RFC 6749 §1.3, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    Implicit,
    Password,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Implicit,
        GrantType::Password,
        GrantType::ClientCredentials,
    ];
    /// The grants a client gets when none are named (SPEC §3).
    pub const DEFAULT: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A registered client (SPEC §3). Its public `client_id` is its id as a decimal string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub description: String,
    pub owner_id: UserId,
    /// Confidential clients hold a secret; public ones (a single-page or native app) cannot.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grants: Vec<GrantType>,
    /// Access-token lifetime in seconds; 0 = until revoked, with no refresh token.
    pub access_ttl: i64,
    /// A resource server allowed to introspect every client's tokens.
    pub introspect_any: bool,
    pub created_at: Timestamp,
}

/// OAuth request parameters, each at most once (RFC 6749 §3.1, §3.2) and without NUL (which no
/// database may receive); the error says which rule a parameter broke.
pub fn unique_params(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<std::collections::HashMap<String, String>, String> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in pairs {
        if k.contains('\0') || v.contains('\0') {
            return Err("Parameters must not contain NUL characters.".into());
        }
        if out.insert(k.clone(), v).is_some() {
            return Err(format!("The parameter {k:?} was sent more than once."));
        }
    }
    Ok(out)
}

/// The client a public `client_id` names: a positive decimal number in its one spelling (the
/// inverse of `Client::client_id`), so `007` or `+7` name nothing.
pub fn parse_client_id(s: &str) -> Option<ClientId> {
    s.parse::<i64>()
        .ok()
        .filter(|i| *i > 0 && s == i.to_string())
        .map(ClientId)
}

impl Client {
    pub fn client_id(&self) -> String {
        self.id.0.to_string()
    }
    pub fn allows(&self, g: GrantType) -> bool {
        self.grants.contains(&g)
    }
}

/// A client's stored secret: its keyed hash and the key version that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub hash: String,
    pub key_version: i64,
}

/// A client to register (validated by `clients::validate`).
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub description: String,
    pub owner_id: UserId,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grants: Vec<GrantType>,
    pub access_ttl: i64,
    pub introspect_any: bool,
    pub secret: Option<StoredSecret>,
}

/// How an authorization was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    AuthorizationCode,
    Implicit,
    Password,
    ClientCredentials,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::AuthorizationCode => "authorization_code",
            Flow::Implicit => "implicit",
            Flow::Password => "password",
            Flow::ClientCredentials => "client_credentials",
        }
    }
    pub fn parse(s: &str) -> Option<Flow> {
        [
            Flow::AuthorizationCode,
            Flow::Implicit,
            Flow::Password,
            Flow::ClientCredentials,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// An authorization: what a user allowed a client (scope, site), and the family of tokens issued
/// under it. Revoking it ends them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub site_id: Option<SiteId>,
    /// Space-separated scopes as granted; empty = no scope (full access to one site).
    pub scope: String,
    pub flow: Flow,
    pub created_at: Timestamp,
    /// The family ends here, however often it is refreshed.
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_ip: Option<String>,
}

/// An authorization to record.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub site_id: Option<SiteId>,
    pub scope: String,
    pub flow: Flow,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// An issued access or refresh token (its secret is only in the client's hands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: TokenId,
    pub kind: TokenKind,
    pub grant_id: GrantId,
    /// The token's own scope: a refresh may narrow the access token below the grant's.
    pub scope: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub rotated_at: Option<Timestamp>,
}

/// A token to record, by its keyed hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: String,
    pub key_version: i64,
    pub kind: TokenKind,
    pub grant_id: GrantId,
    pub scope: String,
    pub expires_at: Option<Timestamp>,
}

/// An authorization code (RFC 6749 §4.1.2): single use, short-lived, bound to its client,
/// redirect URI, PKCE challenge, user, scope and site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub site_id: Option<SiteId>,
    pub scope: String,
    /// The redirect URI sent to the authorization endpoint, if one was (then required, equal, at
    /// the token endpoint).
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    /// The grant the code was redeemed for.
    pub grant_id: Option<GrantId>,
}

/// A code to record, by its keyed hash.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub hash: String,
    pub key_version: i64,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub site_id: Option<SiteId>,
    pub scope: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: Timestamp,
}

/// What presenting a refresh token did (one atomic statement decides it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was live and is now used: the new tokens were written under its grant.
    Rotated {
        grant: Grant,
        /// The new tokens, in the order given.
        tokens: Vec<Token>,
    },
    /// It had already been used (or revoked): someone replayed it. Its grant is returned so
    /// the caller can revoke the family.
    Replayed { grant: GrantId },
    /// No such refresh token.
    Unknown,
}

/// Authorization code lifetime by default (SPEC §3: 60 s; the `oauth_code_ttl_secs` setting).
pub const CODE_TTL_SECS: i64 = 60;

/// Whether a scope set binds its token to one site (SPEC §3): no scope (full access to one site)
/// or any per-site scope (`posts`, `posts:read`, `comments`); `auth`, `global` and the `sites:`
/// scopes are account-level.
pub fn binds_to_site(scopes: Option<&[crate::model::Scope]>) -> bool {
    use crate::model::Scope::*;
    match scopes {
        None => true,
        Some(s) => s.iter().any(|x| matches!(x, Posts | PostsRead | Comments)),
    }
}

/// Default access-token lifetime (SPEC §3).
pub const ACCESS_TTL_SECS: i64 = 3600;
/// Refresh tokens live 30 days from their issue…
pub const REFRESH_TTL_SECS: i64 = 30 * 86_400;
/// …and a family at most a year.
pub const FAMILY_TTL_SECS: i64 = 365 * 86_400;
