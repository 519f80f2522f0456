//! The identity model (SPEC §1) and the resources it protects: users, sites, roles per site,
//! posts and comments, and the `Principal` every authenticator yields.
//! Owns: plain data and the small parsing rules that belong to it. No I/O, no time.

use crate::caps::{Caps, Role};
use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    )*};
}
id_type!(UserId, SiteId, PostId, CommentId, ApiKeyId, ClientId, GrantId, TokenId);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub network_admin: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A user to create. `password_hash` is an Argon2id PHC string, never a password.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub network_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// The site's canonical URL without a trailing slash (`https://blog.example`).
    pub url: String,
    /// Lower-case `host[:port]` of `url`; unique across sites.
    pub host: String,
    pub require_auth: bool,
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewSite {
    pub name: String,
    pub url: String,
    pub host: String,
}

/// A change to a site; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SitePatch {
    pub name: Option<String>,
    pub url_and_host: Option<(String, String)>,
    pub require_auth: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Publish,
    Future,
    Draft,
    Pending,
    Private,
    Trash,
}

impl PostStatus {
    pub const ALL: [PostStatus; 6] = [
        PostStatus::Publish,
        PostStatus::Future,
        PostStatus::Draft,
        PostStatus::Pending,
        PostStatus::Private,
        PostStatus::Trash,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Publish => "publish",
            PostStatus::Future => "future",
            PostStatus::Draft => "draft",
            PostStatus::Pending => "pending",
            PostStatus::Private => "private",
            PostStatus::Trash => "trash",
        }
    }
    pub fn parse(s: &str) -> Option<PostStatus> {
        PostStatus::ALL.into_iter().find(|p| p.as_str() == s)
    }
    /// Statuses that WordPress counts as "published" for capability checks.
    pub fn is_published(self) -> bool {
        matches!(self, PostStatus::Publish | PostStatus::Private)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub site_id: SiteId,
    pub author_id: UserId,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub slug: String,
    pub status: PostStatus,
    pub comments_open: bool,
    pub created_at: Timestamp,
    pub modified_at: Timestamp,
    /// Written by someone holding `unfiltered_html`: rendered as written. Otherwise the rendered
    /// fields are sanitised (the raw ones are kept as written).
    pub unfiltered: bool,
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub site_id: SiteId,
    pub author_id: UserId,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub slug: String,
    pub status: PostStatus,
    pub comments_open: bool,
    /// The writer holds `unfiltered_html`.
    pub unfiltered: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PostPatch {
    pub title: Option<String>,
    pub content: Option<String>,
    pub excerpt: Option<String>,
    pub slug: Option<String>,
    pub status: Option<PostStatus>,
    pub author_id: Option<UserId>,
    pub comments_open: Option<bool>,
    /// The writer holds `unfiltered_html`. When false (the default) the post's HTML is sanitised
    /// from now on: a post stays unfiltered only while every writer may write unfiltered HTML.
    pub writer_unfiltered: bool,
}

/// Which posts a listing returns.
#[derive(Debug, Clone)]
pub struct PostFilter {
    pub statuses: Vec<PostStatus>,
    /// Case-insensitive substring of title or content.
    pub search: Option<String>,
    pub author: Option<UserId>,
    /// When set, posts that are not `publish` are listed only if this user wrote them
    /// (a contributor or author sees their own drafts, not others').
    pub nonpublic_only_by: Option<UserId>,
    pub offset: i64,
    pub limit: i64,
    pub order_asc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStatus {
    Approved,
    Hold,
    Spam,
    Trash,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Approved => "approved",
            CommentStatus::Hold => "hold",
            CommentStatus::Spam => "spam",
            CommentStatus::Trash => "trash",
        }
    }
    pub fn parse(s: &str) -> Option<CommentStatus> {
        match s {
            "approved" | "approve" | "1" => Some(CommentStatus::Approved),
            "hold" | "0" => Some(CommentStatus::Hold),
            "spam" => Some(CommentStatus::Spam),
            "trash" => Some(CommentStatus::Trash),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub site_id: SiteId,
    pub post_id: PostId,
    pub parent: i64,
    pub author_id: Option<UserId>,
    pub author_name: String,
    pub content: String,
    pub status: CommentStatus,
    pub created_at: Timestamp,
    /// Written by someone holding `unfiltered_html` (see `Post::unfiltered`).
    pub unfiltered: bool,
}

#[derive(Debug, Clone)]
pub struct NewComment {
    pub site_id: SiteId,
    pub post_id: PostId,
    pub parent: i64,
    pub author_id: Option<UserId>,
    pub author_name: String,
    pub content: String,
    pub status: CommentStatus,
    /// The writer holds `unfiltered_html`.
    pub unfiltered: bool,
}

#[derive(Debug, Clone)]
pub struct CommentFilter {
    pub post: Option<PostId>,
    /// Only comments on published posts (what a visitor may see).
    pub public_posts_only: bool,
    pub status: CommentStatus,
    pub offset: i64,
    pub limit: i64,
}

/// How a request authenticated. One per request (SPEC §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Anonymous,
    /// HTTP Basic with the account password (`basic_auth_with_account_password`).
    AccountPassword,
    /// HTTP Basic with an application password (SPEC §4).
    AppPassword,
    /// A user API key, `gak_…` (SPEC §5).
    ApiKey,
    /// A site API key, `gsk_…`: reads what a visitor may, never writes (SPEC §5).
    SiteKey,
    /// A login session cookie with a valid `wp_rest` nonce (SPEC §7).
    Cookie,
    /// An OAuth 2.0 access token, `gat_…` (SPEC §3).
    AccessToken,
    /// An OAuth 1.0a signed request with an access token (SPEC §8).
    OAuth1,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Anonymous => "anonymous",
            AuthMethod::AccountPassword => "account_password",
            AuthMethod::AppPassword => "app_password",
            AuthMethod::ApiKey => "api_key",
            AuthMethod::SiteKey => "site_key",
            AuthMethod::Cookie => "cookie",
            AuthMethod::AccessToken => "access_token",
            AuthMethod::OAuth1 => "oauth1",
        }
    }

    /// May this credential create, list or revoke credentials (SPEC §6)? Only what a person
    /// holds: the account password, an application password (and, later, a session).
    pub fn may_manage_credentials(self) -> bool {
        matches!(
            self,
            AuthMethod::AccountPassword | AuthMethod::AppPassword | AuthMethod::Cookie
        )
    }
}

/// OAuth-style scopes (SPEC §3). `None` in `Constraints::scopes` means "not scope-limited".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Auth,
    Global,
    SitesRead,
    SitesWrite,
    Posts,
    PostsRead,
    Comments,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Auth,
        Scope::Global,
        Scope::SitesRead,
        Scope::SitesWrite,
        Scope::Posts,
        Scope::PostsRead,
        Scope::Comments,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Auth => "auth",
            Scope::Global => "global",
            Scope::SitesRead => "sites:read",
            Scope::SitesWrite => "sites:write",
            Scope::Posts => "posts",
            Scope::PostsRead => "posts:read",
            Scope::Comments => "comments",
        }
    }

    /// Parses a space-separated scope list (SPEC §3): unknown scopes are refused, and `auth` and
    /// `global` stand alone. An empty list is `None` (not scope-limited).
    pub fn parse_list<'a>(
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Vec<Scope>>, String> {
        let mut out: Vec<Scope> = Vec::new();
        for item in items.into_iter().flat_map(str::split_whitespace) {
            let s = Scope::ALL
                .into_iter()
                .find(|s| s.as_str() == item)
                .ok_or_else(|| {
                    format!(
                        "unknown scope {item:?}; the scopes are {}",
                        Scope::ALL.map(Scope::as_str).join(", ")
                    )
                })?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        if out.len() > 1 && out.iter().any(|s| matches!(s, Scope::Auth | Scope::Global)) {
            return Err("the auth and global scopes cannot be combined with others".into());
        }
        Ok((!out.is_empty()).then_some(out))
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether an API key acts as its user or reads for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyKind {
    User,
    Site,
}

impl ApiKeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyKind::User => "user",
            ApiKeyKind::Site => "site",
        }
    }
    /// "API key" or "site key", as people read it (the audit log, the CLI).
    pub fn words(self) -> &'static str {
        match self {
            ApiKeyKind::User => "API key",
            ApiKeyKind::Site => "site key",
        }
    }
}

/// An API key as stored: everything but the secret (only its keyed hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub kind: ApiKeyKind,
    /// The user a user key acts as; `None` for a site key.
    pub user_id: Option<UserId>,
    /// The site a key is limited to (always set for a site key).
    pub site_id: Option<SiteId>,
    pub created_by: UserId,
    pub description: String,
    pub scopes: Option<Vec<Scope>>,
    pub methods: Option<Vec<String>>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_ip: Option<String>,
    pub key_version: i64,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub kind: ApiKeyKind,
    pub user_id: Option<UserId>,
    pub site_id: Option<SiteId>,
    pub created_by: UserId,
    pub description: String,
    pub scopes: Option<Vec<Scope>>,
    pub methods: Option<Vec<String>>,
    pub expires_at: Option<Timestamp>,
    /// HMAC of the secret under the API-key subkey of key `key_version`.
    pub hash: String,
    pub key_version: i64,
}

/// An application password as stored (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    pub uuid: String,
    pub user_id: UserId,
    pub app_id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub last_ip: Option<String>,
    pub key_version: i64,
}

#[derive(Debug, Clone)]
pub struct NewAppPassword {
    pub uuid: String,
    pub user_id: UserId,
    pub app_id: String,
    pub name: String,
    pub hash: String,
    pub key_version: i64,
}

/// What narrows a credential below its user (SPEC §1 Principal, §12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    pub scopes: Option<Vec<Scope>>,
    /// The one site the credential reaches; `None` = every site its user reaches.
    pub site: Option<SiteId>,
    pub read_only: bool,
    /// Upper-case HTTP methods the credential may use; `None` = all.
    pub methods: Option<Vec<String>>,
}

/// The one credential a request was authenticated by, with what identifies it (for introspection,
/// "this session" and fresh nonces). Its kind is the request's `AuthMethod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Nothing was presented.
    Anonymous,
    /// HTTP Basic with the account password (when the operator allows it).
    AccountPassword,
    /// An application password, by its uuid.
    AppPassword { uuid: String },
    /// A user API key (`gak_`).
    ApiKey(ApiKeyId),
    /// A read-only site key (`gsk_`).
    SiteKey(ApiKeyId),
    /// A cookie session with a `wp_rest` nonce: its row id and stored hash (nonces are bound to
    /// the hash).
    Session { id: i64, hash: String },
    /// An OAuth 2.0 access token, with the grant it was issued under and its client.
    AccessToken {
        token: TokenId,
        grant: GrantId,
        client: ClientId,
    },
    /// An OAuth 1.0a access token, with its consumer.
    OAuth1 {
        token: crate::oauth1::Oauth1TokenId,
        consumer: crate::oauth1::ConsumerId,
    },
}

impl Credential {
    pub fn method(&self) -> AuthMethod {
        match self {
            Credential::Anonymous => AuthMethod::Anonymous,
            Credential::AccountPassword => AuthMethod::AccountPassword,
            Credential::AppPassword { .. } => AuthMethod::AppPassword,
            Credential::ApiKey(_) => AuthMethod::ApiKey,
            Credential::SiteKey(_) => AuthMethod::SiteKey,
            Credential::Session { .. } => AuthMethod::Cookie,
            Credential::AccessToken { .. } => AuthMethod::AccessToken,
            Credential::OAuth1 { .. } => AuthMethod::OAuth1,
        }
    }
}

/// Who is asking, and through what.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: Option<User>,
    pub credential: Credential,
    pub constraints: Constraints,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal {
            user: None,
            credential: Credential::Anonymous,
            constraints: Constraints::default(),
        }
    }
    /// The kind of credential the request was authenticated by.
    pub fn method(&self) -> AuthMethod {
        self.credential.method()
    }
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }
    pub fn is_anonymous(&self) -> bool {
        self.user.is_none()
    }
}

/// A user's standing on one site: their role there (if any) and what it grants.
#[derive(Debug, Clone, Copy)]
pub struct SiteAccess {
    pub site_id: SiteId,
    pub require_auth: bool,
    pub role: Option<Role>,
    pub caps: Caps,
}

impl SiteAccess {
    pub fn new(site: &Site, user: Option<&User>, role: Option<Role>) -> SiteAccess {
        let caps = match user {
            Some(u) if u.disabled => Caps::NONE,
            Some(u) if u.network_admin => Caps::all(),
            Some(_) => role.map(Role::caps).unwrap_or(Caps::NONE),
            None => Caps::NONE,
        };
        SiteAccess {
            site_id: site.id,
            require_auth: site.require_auth,
            role,
            caps,
        }
    }
}

/// A server-side login session (SPEC §7). The id itself is only in the cookie; the database
/// keeps its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public row id, for listing and revoking.
    pub id: i64,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The absolute end of the session.
    pub expires_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
}
