//! The rows both backends read (`sqlx::FromRow` structs and their conversions into the model),
//! the column lists the statements share, and small helpers of the SQL body (`crate::sql`).

use gatehouse_core::caps::Role;
use gatehouse_core::model::*;
use gatehouse_core::store::{AuditEvent, StoreError, UserAuth};

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub network_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: UserId(r.id),
            login: r.login,
            email: r.email,
            display_name: r.display_name,
            network_admin: r.network_admin,
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserAuthRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

impl From<UserAuthRow> for UserAuth {
    fn from(r: UserAuthRow) -> UserAuth {
        UserAuth {
            user: r.user.into(),
            password_hash: r.password_hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRoleRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub role: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SiteRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub host: String,
    pub require_auth: bool,
    pub owner_id: i64,
    pub created_at: i64,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Site {
        Site {
            id: SiteId(r.id),
            name: r.name,
            url: r.url,
            host: r.host,
            require_auth: r.require_auth,
            owner_id: UserId(r.owner_id),
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PostRow {
    pub id: i64,
    pub site_id: i64,
    pub author_id: i64,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub slug: String,
    pub status: String,
    pub comments_open: bool,
    pub created_at: i64,
    pub modified_at: i64,
    pub unfiltered: bool,
}

impl TryFrom<PostRow> for Post {
    type Error = StoreError;
    fn try_from(r: PostRow) -> Result<Post, StoreError> {
        Ok(Post {
            id: PostId(r.id),
            site_id: SiteId(r.site_id),
            author_id: UserId(r.author_id),
            status: PostStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Backend(format!("bad post status {:?}", r.status)))?,
            title: r.title,
            content: r.content,
            excerpt: r.excerpt,
            slug: r.slug,
            comments_open: r.comments_open,
            created_at: r.created_at,
            modified_at: r.modified_at,
            unfiltered: r.unfiltered,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommentRow {
    pub id: i64,
    pub site_id: i64,
    pub post_id: i64,
    pub parent: i64,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub content: String,
    pub status: String,
    pub created_at: i64,
    pub unfiltered: bool,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;
    fn try_from(r: CommentRow) -> Result<Comment, StoreError> {
        Ok(Comment {
            id: CommentId(r.id),
            site_id: SiteId(r.site_id),
            post_id: PostId(r.post_id),
            parent: r.parent,
            author_id: r.author_id.map(UserId),
            author_name: r.author_name,
            content: r.content,
            status: CommentStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Backend(format!("bad comment status {:?}", r.status)))?,
            created_at: r.created_at,
            unfiltered: r.unfiltered,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: i64,
    pub event: String,
    pub user_id: Option<i64>,
    pub login: Option<String>,
    pub address: Option<String>,
    pub detail: String,
    pub target_user_id: Option<i64>,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> AuditEvent {
        AuditEvent {
            at: r.at,
            event: r.event,
            user_id: r.user_id.map(UserId),
            login: r.login,
            address: r.address,
            detail: r.detail,
            target_user_id: r.target_user_id.map(UserId),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub site_id: Option<i64>,
    pub created_by: i64,
    pub description: String,
    pub scopes: Option<String>,
    pub methods: Option<String>,
    pub expires_at: Option<i64>,
    pub hash: String,
    pub key_version: i64,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_ip: Option<String>,
}

impl TryFrom<ApiKeyRow> for gatehouse_core::store::ApiKeyMatch {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        let kind = match r.kind.as_str() {
            "user" => ApiKeyKind::User,
            "site" => ApiKeyKind::Site,
            other => return Err(StoreError::Backend(format!("bad api key kind {other:?}"))),
        };
        let scopes = match &r.scopes {
            Some(s) => Scope::parse_list([s.as_str()]).map_err(StoreError::Backend)?,
            None => None,
        };
        Ok(gatehouse_core::store::ApiKeyMatch {
            key: ApiKey {
                id: ApiKeyId(r.id),
                kind,
                user_id: r.user_id.map(UserId),
                site_id: r.site_id.map(SiteId),
                created_by: UserId(r.created_by),
                description: r.description,
                scopes,
                methods: r
                    .methods
                    .map(|m| m.split_whitespace().map(str::to_string).collect()),
                expires_at: r.expires_at,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
                last_used_at: r.last_used_at,
                last_ip: r.last_ip,
                key_version: r.key_version,
            },
            hash: r.hash,
            user: None,
            site_role: None,
        })
    }
}

/// An API key with its user's columns (prefixed `u_`): the user a user key acts as, or the creator
/// of a site key; and that user's role on the key's site.
#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyUserRow {
    #[sqlx(flatten)]
    pub key: ApiKeyRow,
    pub u_id: Option<i64>,
    pub u_login: Option<String>,
    pub u_email: Option<String>,
    pub u_display_name: Option<String>,
    pub u_network_admin: Option<bool>,
    pub u_disabled: Option<bool>,
    pub u_created_at: Option<i64>,
    /// The joined user's role on the key's site.
    pub site_role: Option<String>,
}

impl TryFrom<ApiKeyUserRow> for gatehouse_core::store::ApiKeyMatch {
    type Error = StoreError;
    fn try_from(r: ApiKeyUserRow) -> Result<Self, StoreError> {
        let user = match (r.u_id, r.u_login, r.u_email, r.u_display_name) {
            (Some(id), Some(login), Some(email), Some(display_name)) => Some(User {
                id: UserId(id),
                login,
                email,
                display_name,
                network_admin: r.u_network_admin.unwrap_or(false),
                disabled: r.u_disabled.unwrap_or(true),
                created_at: r.u_created_at.unwrap_or(0),
            }),
            _ => None,
        };
        let mut m = gatehouse_core::store::ApiKeyMatch::try_from(r.key)?;
        m.user = user;
        m.site_role = r.site_role.as_deref().map(parse_role).transpose()?;
        Ok(m)
    }
}

/// The `u_`-prefixed user columns for joins with another table that has `id`/`created_at`.
pub(crate) const USER_COLS_PREFIXED: &str = "u.id AS u_id, u.login AS u_login, u.email AS u_email, \
    u.display_name AS u_display_name, u.network_admin AS u_network_admin, u.disabled AS u_disabled, \
    u.created_at AS u_created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AppPasswordRow {
    pub uuid: String,
    pub user_id: i64,
    pub app_id: String,
    pub name: String,
    pub hash: String,
    pub key_version: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_ip: Option<String>,
}

impl From<AppPasswordRow> for (AppPassword, String) {
    fn from(r: AppPasswordRow) -> (AppPassword, String) {
        (
            AppPassword {
                uuid: r.uuid,
                user_id: UserId(r.user_id),
                app_id: r.app_id,
                name: r.name,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
                last_ip: r.last_ip,
                key_version: r.key_version,
            },
            r.hash,
        )
    }
}

/// An application password joined with its owner; the owner's columns are prefixed `u_` so
/// that no name is read twice (`created_at` exists on both).
#[derive(sqlx::FromRow)]
pub(crate) struct AppPasswordUserRow {
    #[sqlx(flatten)]
    pub password: AppPasswordRow,
    pub u_id: i64,
    pub u_login: String,
    pub u_email: String,
    pub u_display_name: String,
    pub u_network_admin: bool,
    pub u_disabled: bool,
    pub u_created_at: i64,
}

impl AppPasswordUserRow {
    pub(crate) fn user(&self) -> User {
        User {
            id: UserId(self.u_id),
            login: self.u_login.clone(),
            email: self.u_email.clone(),
            display_name: self.u_display_name.clone(),
            network_admin: self.u_network_admin,
            disabled: self.u_disabled,
            created_at: self.u_created_at,
        }
    }
}

pub(crate) const API_KEY_COLS: &str = "id, kind, user_id, site_id, created_by, description, scopes, methods, expires_at, hash, key_version, created_at, revoked_at, last_used_at, last_ip";
pub(crate) const APP_PASSWORD_COLS: &str =
    "uuid, user_id, app_id, name, hash, key_version, created_at, last_used_at, last_ip";

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Session {
        Session {
            id: r.id,
            user_id: UserId(r.user_id),
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionUserRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub hash: String,
    pub u_id: i64,
    pub u_login: String,
    pub u_email: String,
    pub u_display_name: String,
    pub u_network_admin: bool,
    pub u_disabled: bool,
    pub u_created_at: i64,
}

pub(crate) const SESSION_COLS: &str =
    "id, user_id, created_at, last_seen_at, expires_at, ip, user_agent";

pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Backend(format!("bad role {s:?}")))
}

/// `%` and `_` in a search term are literal (`LIKE … ESCAPE '\'`).
pub(crate) fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub(crate) const USER_COLS: &str =
    "u.id, u.login, u.email, u.display_name, u.network_admin, u.disabled, u.created_at";
pub(crate) const SITE_COLS: &str = "id, name, url, host, require_auth, owner_id, created_at";
pub(crate) const POST_COLS: &str = "id, site_id, author_id, title, content, excerpt, slug, status, comments_open, created_at, modified_at, unfiltered";
pub(crate) const COMMENT_COLS: &str =
    "id, site_id, post_id, parent, author_id, author_name, content, status, created_at, unfiltered";

// ---- OAuth 2.0 ------------------------------------------------------------------------------

pub(crate) const CLIENT_COLS: &str = "id, name, description, owner_id, confidential, redirect_uris, grants, access_ttl, introspect_any, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub owner_id: i64,
    pub confidential: bool,
    pub redirect_uris: String,
    pub grants: String,
    pub access_ttl: i64,
    pub introspect_any: bool,
    pub created_at: i64,
}

impl TryFrom<ClientRow> for gatehouse_core::oauth2::Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        use gatehouse_core::oauth2::GrantType;
        let grants = r
            .grants
            .split_whitespace()
            .map(|g| {
                GrantType::parse(g)
                    .ok_or_else(|| StoreError::Backend(format!("unknown grant {g:?} stored")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(gatehouse_core::oauth2::Client {
            id: ClientId(r.id),
            name: r.name,
            description: r.description,
            owner_id: UserId(r.owner_id),
            confidential: r.confidential,
            redirect_uris: r.redirect_uris.lines().map(str::to_string).collect(),
            grants,
            access_ttl: r.access_ttl,
            introspect_any: r.introspect_any,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientAuthRow {
    #[sqlx(flatten)]
    pub client: ClientRow,
    pub secret_hash: Option<String>,
    pub secret_version: Option<i64>,
}

pub(crate) const GRANT_COLS: &str =
    "id, client_id, user_id, site_id, scope, flow, created_at, expires_at, revoked_at, last_used_at, last_ip";

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    pub id: i64,
    pub client_id: i64,
    pub user_id: i64,
    pub site_id: Option<i64>,
    pub scope: String,
    pub flow: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_ip: Option<String>,
}

impl TryFrom<GrantRow> for gatehouse_core::oauth2::Grant {
    type Error = StoreError;
    fn try_from(r: GrantRow) -> Result<Self, StoreError> {
        Ok(gatehouse_core::oauth2::Grant {
            id: GrantId(r.id),
            client_id: ClientId(r.client_id),
            user_id: UserId(r.user_id),
            site_id: r.site_id.map(SiteId),
            scope: r.scope,
            flow: gatehouse_core::oauth2::Flow::parse(&r.flow)
                .ok_or_else(|| StoreError::Backend(format!("unknown flow {:?} stored", r.flow)))?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_ip: r.last_ip,
        })
    }
}

pub(crate) const TOKEN_COLS: &str =
    "id, kind, grant_id, scope, created_at, expires_at, revoked_at, rotated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub grant_id: i64,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rotated_at: Option<i64>,
}

impl TryFrom<TokenRow> for gatehouse_core::oauth2::Token {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(gatehouse_core::oauth2::Token {
            id: TokenId(r.id),
            kind: gatehouse_core::oauth2::TokenKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Backend(format!("unknown token kind {:?}", r.kind)))?,
            grant_id: GrantId(r.grant_id),
            scope: r.scope,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            rotated_at: r.rotated_at,
        })
    }
}

/// A token joined with its grant (columns `g_…`) and the grant's user (`u_…`).
#[derive(sqlx::FromRow)]
pub(crate) struct TokenMatchRow {
    #[sqlx(flatten)]
    pub token: TokenRow,
    pub hash: String,
    pub g_id: i64,
    pub g_client_id: i64,
    pub g_user_id: i64,
    pub g_site_id: Option<i64>,
    pub g_scope: String,
    pub g_flow: String,
    pub g_created_at: i64,
    pub g_expires_at: i64,
    pub g_revoked_at: Option<i64>,
    pub g_last_used_at: Option<i64>,
    pub g_last_ip: Option<String>,
    pub u_id: i64,
    pub u_login: String,
    pub u_email: String,
    pub u_display_name: String,
    pub u_network_admin: bool,
    pub u_disabled: bool,
    pub u_created_at: i64,
    pub client_suspended: bool,
}

impl TryFrom<TokenMatchRow> for gatehouse_core::store::TokenMatch {
    type Error = StoreError;
    fn try_from(r: TokenMatchRow) -> Result<Self, StoreError> {
        let grant = GrantRow {
            id: r.g_id,
            client_id: r.g_client_id,
            user_id: r.g_user_id,
            site_id: r.g_site_id,
            scope: r.g_scope,
            flow: r.g_flow,
            created_at: r.g_created_at,
            expires_at: r.g_expires_at,
            revoked_at: r.g_revoked_at,
            last_used_at: r.g_last_used_at,
            last_ip: r.g_last_ip,
        };
        Ok(gatehouse_core::store::TokenMatch {
            token: r.token.try_into()?,
            hash: r.hash,
            grant: grant.try_into()?,
            user: User {
                id: UserId(r.u_id),
                login: r.u_login,
                email: r.u_email,
                display_name: r.u_display_name,
                network_admin: r.u_network_admin,
                disabled: r.u_disabled,
                created_at: r.u_created_at,
            },
            client_suspended: r.client_suspended,
        })
    }
}

pub(crate) const CODE_COLS: &str = "client_id, user_id, site_id, scope, redirect_uri, code_challenge, created_at, expires_at, used_at, grant_id";

#[derive(sqlx::FromRow)]
pub(crate) struct CodeRow {
    pub client_id: i64,
    pub user_id: i64,
    pub site_id: Option<i64>,
    pub scope: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub grant_id: Option<i64>,
}

impl From<CodeRow> for gatehouse_core::oauth2::Code {
    fn from(r: CodeRow) -> Self {
        gatehouse_core::oauth2::Code {
            client_id: ClientId(r.client_id),
            user_id: UserId(r.user_id),
            site_id: r.site_id.map(SiteId),
            scope: r.scope,
            redirect_uri: r.redirect_uri,
            code_challenge: r.code_challenge,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            grant_id: r.grant_id.map(GrantId),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantNameRow {
    #[sqlx(flatten)]
    pub grant: GrantRow,
    pub client_name: String,
}

pub(crate) const CONSUMER_COLS: &str =
    "id, consumer_key, name, description, callback, owner_id, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ConsumerRow {
    pub id: i64,
    pub consumer_key: String,
    pub name: String,
    pub description: String,
    pub callback: Option<String>,
    pub owner_id: i64,
    pub created_at: i64,
}

impl From<ConsumerRow> for gatehouse_core::oauth1::Consumer {
    fn from(r: ConsumerRow) -> Self {
        gatehouse_core::oauth1::Consumer {
            id: gatehouse_core::oauth1::ConsumerId(r.id),
            key: r.consumer_key,
            name: r.name,
            description: r.description,
            callback: r.callback,
            owner_id: UserId(r.owner_id),
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConsumerAuthRow {
    #[sqlx(flatten)]
    pub consumer: ConsumerRow,
    pub secret_sealed: String,
    pub secret_version: i64,
    pub owner_disabled: bool,
}

pub(crate) const OAUTH1_TOKEN_COLS: &str = "id, kind, consumer_id, user_id, callback, created_at, expires_at, authorized_at, used_at, revoked_at, last_used_at, last_ip";

#[derive(sqlx::FromRow)]
pub(crate) struct Oauth1TokenRow {
    pub id: i64,
    pub kind: String,
    pub consumer_id: i64,
    pub user_id: Option<i64>,
    pub callback: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub authorized_at: Option<i64>,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_ip: Option<String>,
}

impl TryFrom<Oauth1TokenRow> for gatehouse_core::oauth1::Token {
    type Error = StoreError;
    fn try_from(r: Oauth1TokenRow) -> Result<Self, StoreError> {
        use gatehouse_core::oauth1::{ConsumerId, Oauth1TokenId, TokenKind};
        Ok(gatehouse_core::oauth1::Token {
            id: Oauth1TokenId(r.id),
            kind: TokenKind::parse(&r.kind).ok_or_else(|| {
                StoreError::Backend(format!("unknown token kind {} stored", r.kind))
            })?,
            consumer_id: ConsumerId(r.consumer_id),
            user_id: r.user_id.map(UserId),
            callback: r.callback,
            created_at: r.created_at,
            expires_at: r.expires_at,
            authorized_at: r.authorized_at,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_ip: r.last_ip,
        })
    }
}

/// A token joined with its consumer (`c_` columns), its user if approved (`u_`, a left join)
/// and the consumer owner's suspension.
#[derive(sqlx::FromRow)]
pub(crate) struct Oauth1TokenMatchRow {
    #[sqlx(flatten)]
    pub token: Oauth1TokenRow,
    pub hash: String,
    pub secret_sealed: String,
    pub secret_version: i64,
    pub c_id: i64,
    pub c_key: String,
    pub c_name: String,
    pub c_description: String,
    pub c_callback: Option<String>,
    pub c_owner_id: i64,
    pub c_created_at: i64,
    pub c_secret_sealed: String,
    pub c_secret_version: i64,
    pub u_id: Option<i64>,
    pub u_login: Option<String>,
    pub u_email: Option<String>,
    pub u_display_name: Option<String>,
    pub u_network_admin: Option<bool>,
    pub u_disabled: Option<bool>,
    pub u_created_at: Option<i64>,
    pub consumer_suspended: bool,
}

impl TryFrom<Oauth1TokenMatchRow> for gatehouse_core::oauth1::TokenMatch {
    type Error = StoreError;
    fn try_from(r: Oauth1TokenMatchRow) -> Result<Self, StoreError> {
        use gatehouse_core::secrets::Sealed;
        let user = match (
            r.u_id,
            r.u_login,
            r.u_email,
            r.u_display_name,
            r.u_network_admin,
            r.u_disabled,
            r.u_created_at,
        ) {
            (
                Some(id),
                Some(login),
                Some(email),
                Some(display_name),
                Some(network_admin),
                Some(disabled),
                Some(created_at),
            ) => Some(User {
                id: UserId(id),
                login,
                email,
                display_name,
                network_admin,
                disabled,
                created_at,
            }),
            _ => None,
        };
        Ok(gatehouse_core::oauth1::TokenMatch {
            token: r.token.try_into()?,
            hash: r.hash,
            secret: Sealed {
                key_version: r.secret_version,
                data: r.secret_sealed,
            },
            consumer: ConsumerRow {
                id: r.c_id,
                consumer_key: r.c_key,
                name: r.c_name,
                description: r.c_description,
                callback: r.c_callback,
                owner_id: r.c_owner_id,
                created_at: r.c_created_at,
            }
            .into(),
            consumer_secret: Sealed {
                key_version: r.c_secret_version,
                data: r.c_secret_sealed,
            },
            user,
            consumer_suspended: r.consumer_suspended,
        })
    }
}
