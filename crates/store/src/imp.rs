//! The one body of SQL behind both backends. `impl_store!` instantiates it for a sqlx database
//! type; the statements use only syntax SQLite (≥ 3.35) and PostgreSQL share (`$n` parameters,
//! `RETURNING`, `ON CONFLICT … DO UPDATE`), so the two stores cannot drift apart.
//! Invariants: `throttle_fail` is one upsert; user and site creation are single transactions.

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

macro_rules! impl_store {
    ($store:ident, $db:ty, $name:literal) => {
        use $crate::imp::*;
        use $crate::conflict_as;
        use async_trait::async_trait;
        use gatehouse_core::caps::Role;
        use gatehouse_core::clock::Timestamp;
        use gatehouse_core::model::*;
        use gatehouse_core::store::*;
        use sqlx::QueryBuilder;

        fn push_post_where<'a>(qb: &mut QueryBuilder<'a, $db>, site: SiteId, f: &'a PostFilter) {
            qb.push(" WHERE site_id = ").push_bind(site.0);
            qb.push(" AND status IN (");
            let mut sep = qb.separated(", ");
            for s in &f.statuses {
                sep.push_bind(s.as_str());
            }
            if f.statuses.is_empty() {
                sep.push("''");
            }
            qb.push(")");
            if let Some(term) = &f.search {
                let pat = like_pattern(term);
                qb.push(" AND (LOWER(title) LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR LOWER(content) LIKE ")
                    .push_bind(pat)
                    .push(" ESCAPE '\\')");
            }
            if let Some(a) = f.author {
                qb.push(" AND author_id = ").push_bind(a.0);
            }
            if let Some(u) = f.nonpublic_only_by {
                qb.push(" AND (status = 'publish' OR author_id = ").push_bind(u.0).push(")");
            }
        }

        #[async_trait]
        impl UserStore for $store {
            async fn insert_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User> {
                let mut tx = self.pool.begin().await.map_err(crate::backend_err)?;
                let row: UserRow = sqlx::query_as(
                    "INSERT INTO users (login, email, display_name, password_hash, network_admin, disabled, created_at) \
                     VALUES ($1, $2, $3, $4, $5, FALSE, $6) \
                     RETURNING id, login, email, display_name, network_admin, disabled, created_at",
                )
                .bind(&new.login)
                .bind(&new.email)
                .bind(&new.display_name)
                .bind(&new.password_hash)
                .bind(new.network_admin)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(crate::backend_err)?;
                let login = new.login.to_lowercase();
                let email = new.email.to_lowercase();
                sqlx::query("INSERT INTO user_identifiers (ident, kind, user_id) VALUES ($1, 'login', $2)")
                    .bind(&login)
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_as("login"))?;
                if email != login {
                    sqlx::query("INSERT INTO user_identifiers (ident, kind, user_id) VALUES ($1, 'email', $2)")
                        .bind(&email)
                        .bind(row.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(conflict_as("email"))?;
                }
                tx.commit().await.map_err(crate::backend_err)?;
                Ok(row.into())
            }

            async fn get_user(&self, id: UserId) -> StoreResult<User> {
                let q = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
                let row: UserRow = sqlx::query_as(&q)
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(row.into())
            }

            async fn find_user_auth(&self, login_or_email: &str) -> StoreResult<Option<UserAuth>> {
                let q = format!(
                    "SELECT {USER_COLS}, u.password_hash FROM user_identifiers i \
                     JOIN users u ON u.id = i.user_id WHERE i.ident = $1"
                );
                let row: Option<UserAuthRow> = sqlx::query_as(&q)
                    .bind(login_or_email.to_lowercase())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(row.map(Into::into))
            }

            async fn count_users(&self) -> StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::backend_err)
            }

            async fn list_users(&self, offset: i64, limit: i64) -> StoreResult<Vec<User>> {
                let q = format!("SELECT {USER_COLS} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2");
                let rows: Vec<UserRow> = sqlx::query_as(&q).bind(limit).bind(offset)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
                let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(disabled)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn set_user_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
                let r = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(password_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }
        }

        #[async_trait]
        impl SiteStore for $store {
            async fn insert_site(&self, new: &NewSite, owner: UserId, now: Timestamp) -> StoreResult<Site> {
                let mut tx = self.pool.begin().await.map_err(crate::backend_err)?;
                let q = format!(
                    "INSERT INTO sites (name, url, host, require_auth, owner_id, created_at) \
                     VALUES ($1, $2, $3, FALSE, $4, $5) RETURNING {SITE_COLS}"
                );
                let row: SiteRow = sqlx::query_as(&q)
                    .bind(&new.name)
                    .bind(&new.url)
                    .bind(&new.host)
                    .bind(owner.0)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(conflict_as("host"))?;
                sqlx::query("INSERT INTO memberships (site_id, user_id, role) VALUES ($1, $2, 'administrator')")
                    .bind(row.id)
                    .bind(owner.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::backend_err)?;
                tx.commit().await.map_err(crate::backend_err)?;
                Ok(row.into())
            }

            async fn get_site(&self, id: SiteId) -> StoreResult<Site> {
                let q = format!("SELECT {SITE_COLS} FROM sites WHERE id = $1");
                let row: SiteRow = sqlx::query_as(&q)
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(row.into())
            }

            async fn find_site_by_host(&self, host: &str) -> StoreResult<Option<Site>> {
                let q = format!("SELECT {SITE_COLS} FROM sites WHERE host = $1");
                let row: Option<SiteRow> = sqlx::query_as(&q)
                    .bind(host.to_ascii_lowercase())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(row.map(Into::into))
            }

            async fn find_first_site(&self) -> StoreResult<Option<Site>> {
                let q = format!("SELECT {SITE_COLS} FROM sites ORDER BY id LIMIT 1");
                let row: Option<SiteRow> = sqlx::query_as(&q)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(row.map(Into::into))
            }

            async fn list_sites(&self, user: Option<UserId>, offset: i64, limit: i64) -> StoreResult<(Vec<Site>, i64)> {
                let (rows, total): (Vec<SiteRow>, i64) = match user {
                    Some(u) => {
                        let q = format!(
                            "SELECT {} FROM sites s JOIN memberships m ON m.site_id = s.id \
                             WHERE m.user_id = $1 ORDER BY s.id LIMIT $2 OFFSET $3",
                            SITE_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
                        );
                        let rows = sqlx::query_as(&q).bind(u.0).bind(limit).bind(offset)
                            .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                        let total = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE user_id = $1")
                            .bind(u.0).fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                        (rows, total)
                    }
                    None => {
                        let q = format!("SELECT {SITE_COLS} FROM sites ORDER BY id LIMIT $1 OFFSET $2");
                        let rows = sqlx::query_as(&q).bind(limit).bind(offset)
                            .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                        let total = sqlx::query_scalar("SELECT COUNT(*) FROM sites")
                            .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                        (rows, total)
                    }
                };
                Ok((rows.into_iter().map(Into::into).collect(), total))
            }

            async fn update_site(&self, id: SiteId, patch: &SitePatch) -> StoreResult<Site> {
                let (url, host) = match &patch.url_and_host {
                    Some((u, h)) => (Some(u.clone()), Some(h.clone())),
                    None => (None, None),
                };
                let q = format!(
                    "UPDATE sites SET name = COALESCE($2, name), url = COALESCE($3, url), \
                     host = COALESCE($4, host), require_auth = COALESCE($5, require_auth) \
                     WHERE id = $1 RETURNING {SITE_COLS}"
                );
                let row: SiteRow = sqlx::query_as(&q)
                    .bind(id.0)
                    .bind(patch.name.clone())
                    .bind(url)
                    .bind(host)
                    .bind(patch.require_auth)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(conflict_as("host"))?;
                Ok(row.into())
            }

            async fn delete_site(&self, id: SiteId) -> StoreResult<()> {
                let r = sqlx::query("DELETE FROM sites WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn remove_role(&self, site: SiteId, user: UserId) -> StoreResult<bool> {
                let r = sqlx::query("DELETE FROM memberships WHERE site_id = $1 AND user_id = $2")
                    .bind(site.0)
                    .bind(user.0)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::backend_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn set_role(&self, site: SiteId, user: UserId, role: Role) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO memberships (site_id, user_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (site_id, user_id) DO UPDATE SET role = $3",
                )
                .bind(site.0)
                .bind(user.0)
                .bind(role.as_str())
                .execute(&self.pool)
                .await
                .map_err(crate::backend_err)?;
                Ok(())
            }

            async fn find_role(&self, site: SiteId, user: UserId) -> StoreResult<Option<Role>> {
                let role: Option<String> =
                    sqlx::query_scalar("SELECT role FROM memberships WHERE site_id = $1 AND user_id = $2")
                        .bind(site.0)
                        .bind(user.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(crate::backend_err)?;
                role.as_deref().map(parse_role).transpose()
            }

            async fn list_site_users(&self, site: SiteId, authors_only: bool, offset: i64, limit: i64)
                -> StoreResult<(Vec<(User, Role)>, i64)> {
                let cond = "m.site_id = $1 AND ($2 = FALSE OR EXISTS (SELECT 1 FROM posts p \
                            WHERE p.site_id = m.site_id AND p.author_id = m.user_id AND p.status = 'publish'))";
                let q = format!(
                    "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE {cond} ORDER BY u.id LIMIT $3 OFFSET $4"
                );
                let rows: Vec<UserRoleRow> = sqlx::query_as(&q)
                    .bind(site.0).bind(authors_only).bind(limit).bind(offset)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                let cq = format!("SELECT COUNT(*) FROM memberships m WHERE {cond}");
                let total: i64 = sqlx::query_scalar(&cq)
                    .bind(site.0).bind(authors_only)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let role = parse_role(&r.role)?;
                    out.push((r.user.into(), role));
                }
                Ok((out, total))
            }
        }

        #[async_trait]
        impl PostStore for $store {
            async fn insert_post(&self, new: &NewPost, now: Timestamp) -> StoreResult<Post> {
                let q = format!(
                    "INSERT INTO posts (site_id, author_id, title, content, excerpt, slug, status, comments_open, created_at, modified_at, unfiltered) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING {POST_COLS}"
                );
                let row: PostRow = sqlx::query_as(&q)
                    .bind(new.site_id.0).bind(new.author_id.0).bind(&new.title).bind(&new.content)
                    .bind(&new.excerpt).bind(&new.slug).bind(new.status.as_str()).bind(new.comments_open)
                    .bind(now).bind(new.unfiltered)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                row.try_into()
            }

            async fn get_post(&self, site: SiteId, id: PostId) -> StoreResult<Post> {
                let q = format!("SELECT {POST_COLS} FROM posts WHERE site_id = $1 AND id = $2");
                let row: PostRow = sqlx::query_as(&q)
                    .bind(site.0).bind(id.0)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                row.try_into()
            }

            async fn list_posts(&self, site: SiteId, f: &PostFilter) -> StoreResult<(Vec<Post>, i64)> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {POST_COLS} FROM posts"));
                push_post_where(&mut qb, site, f);
                qb.push(if f.order_asc { " ORDER BY created_at ASC, id ASC" } else { " ORDER BY created_at DESC, id DESC" });
                qb.push(" LIMIT ").push_bind(f.limit).push(" OFFSET ").push_bind(f.offset);
                let rows: Vec<PostRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                let mut cqb = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM posts");
                push_post_where(&mut cqb, site, f);
                let total: i64 = cqb.build_query_scalar().fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                let posts = rows.into_iter().map(Post::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok((posts, total))
            }

            async fn update_post(&self, site: SiteId, id: PostId, p: &PostPatch, now: Timestamp) -> StoreResult<Post> {
                let q = format!(
                    "UPDATE posts SET title = COALESCE($3, title), content = COALESCE($4, content), \
                     excerpt = COALESCE($5, excerpt), slug = COALESCE($6, slug), status = COALESCE($7, status), \
                     author_id = COALESCE($8, author_id), comments_open = COALESCE($9, comments_open), modified_at = $10, \
                     unfiltered = (unfiltered AND $11) \
                     WHERE site_id = $1 AND id = $2 RETURNING {POST_COLS}"
                );
                let row: PostRow = sqlx::query_as(&q)
                    .bind(site.0).bind(id.0)
                    .bind(p.title.clone()).bind(p.content.clone()).bind(p.excerpt.clone()).bind(p.slug.clone())
                    .bind(p.status.map(|s| s.as_str())).bind(p.author_id.map(|a| a.0)).bind(p.comments_open)
                    .bind(now).bind(p.writer_unfiltered)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                row.try_into()
            }

            async fn delete_post(&self, site: SiteId, id: PostId) -> StoreResult<()> {
                let r = sqlx::query("DELETE FROM posts WHERE site_id = $1 AND id = $2")
                    .bind(site.0).bind(id.0)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn insert_comment(&self, new: &NewComment, now: Timestamp) -> StoreResult<Comment> {
                let q = format!(
                    "INSERT INTO comments (site_id, post_id, parent, author_id, author_name, content, status, created_at, unfiltered) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COMMENT_COLS}"
                );
                let row: CommentRow = sqlx::query_as(&q)
                    .bind(new.site_id.0).bind(new.post_id.0).bind(new.parent).bind(new.author_id.map(|a| a.0))
                    .bind(&new.author_name).bind(&new.content).bind(new.status.as_str()).bind(now).bind(new.unfiltered)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                row.try_into()
            }

            async fn list_comments(&self, site: SiteId, f: &CommentFilter) -> StoreResult<(Vec<Comment>, i64)> {
                let cond = "site_id = $1 AND status = $2 AND ($3 IS NULL OR post_id = $3) AND ($4 = FALSE OR post_id IN \
                            (SELECT p.id FROM posts p WHERE p.site_id = $1 AND p.status = 'publish'))";
                let q = format!("SELECT {COMMENT_COLS} FROM comments WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6");
                let rows: Vec<CommentRow> = sqlx::query_as(&q)
                    .bind(site.0).bind(f.status.as_str()).bind(f.post.map(|p| p.0)).bind(f.public_posts_only).bind(f.limit).bind(f.offset)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                let cq = format!("SELECT COUNT(*) FROM comments WHERE {cond}");
                let total: i64 = sqlx::query_scalar(&cq)
                    .bind(site.0).bind(f.status.as_str()).bind(f.post.map(|p| p.0)).bind(f.public_posts_only)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                let comments = rows.into_iter().map(Comment::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok((comments, total))
            }
        }

        #[async_trait]
        impl ThrottleStore for $store {
            async fn throttle_get(&self, keys: &[String]) -> StoreResult<Vec<ThrottleRow>> {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new("SELECT key, failures, window_start, blocked_until FROM throttle WHERE key IN (");
                let mut sep = qb.separated(", ");
                for k in keys {
                    sep.push_bind(k.as_str());
                }
                qb.push(")");
                let rows: Vec<(String, i64, i64, i64)> = qb.build_query_as().fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(key, failures, window_start, blocked_until)| ThrottleRow { key, failures, window_start, blocked_until })
                    .collect())
            }

            async fn throttle_fail(&self, key: &str, now: Timestamp, window_secs: i64) -> StoreResult<Counter> {
                let (failures, window_start): (i64, i64) = sqlx::query_as(
                    "INSERT INTO throttle (key, failures, window_start, blocked_until) VALUES ($1, 1, $2, 0) \
                     ON CONFLICT (key) DO UPDATE SET \
                       failures = CASE WHEN throttle.window_start < $3 THEN 1 ELSE throttle.failures + 1 END, \
                       window_start = CASE WHEN throttle.window_start < $3 THEN $2 ELSE throttle.window_start END \
                     RETURNING failures, window_start",
                )
                .bind(key).bind(now).bind(now.saturating_sub(window_secs))
                .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                Ok(Counter { failures, window_start })
            }

            async fn throttle_block(&self, key: &str, until: Timestamp) -> StoreResult<()> {
                sqlx::query("UPDATE throttle SET blocked_until = $2 WHERE key = $1 AND blocked_until < $2")
                    .bind(key).bind(until)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }

            async fn throttle_clear(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM throttle WHERE key = $1")
                    .bind(key)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn insert_audit(&self, e: &AuditEvent) -> StoreResult<()> {
                sqlx::query("INSERT INTO audit_log (at, event, user_id, login, address, detail, target_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(e.at).bind(&e.event).bind(e.user_id.map(|u| u.0)).bind(e.login.clone())
                    .bind(e.address.clone()).bind(&e.detail).bind(e.target_user_id.map(|u| u.0))
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }

            async fn list_audit(&self, involving: Option<UserId>, limit: i64) -> StoreResult<Vec<AuditEvent>> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT at, event, user_id, login, address, detail, target_user_id FROM audit_log \
                     WHERE $1 IS NULL OR user_id = $1 OR target_user_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(involving.map(|u| u.0))
                .bind(limit)
                .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }

        #[async_trait]
        impl KeyStore for $store {
            async fn record_key_fingerprint(&self, version: i64, fingerprint: &str, now: Timestamp) -> StoreResult<String> {
                sqlx::query("INSERT INTO server_keys (version, fingerprint, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING")
                    .bind(version).bind(fingerprint).bind(now)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                sqlx::query_scalar("SELECT fingerprint FROM server_keys WHERE version = $1")
                    .bind(version)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)
            }

            async fn list_key_versions(&self) -> StoreResult<Vec<i64>> {
                sqlx::query_scalar("SELECT version FROM server_keys ORDER BY version")
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)
            }
        }

        #[async_trait]
        impl ApiKeyStore for $store {
            async fn insert_api_key(&self, new: &NewApiKey, now: Timestamp) -> StoreResult<ApiKey> {
                let q = format!(
                    "INSERT INTO api_keys (kind, user_id, site_id, created_by, description, scopes, methods, expires_at, hash, key_version, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {API_KEY_COLS}"
                );
                let row: ApiKeyRow = sqlx::query_as(&q)
                    .bind(new.kind.as_str()).bind(new.user_id.map(|u| u.0)).bind(new.site_id.map(|s| s.0))
                    .bind(new.created_by.0).bind(&new.description)
                    .bind(new.scopes.as_ref().map(|s| Scope::join(s)))
                    .bind(new.methods.as_ref().map(|m| m.join(" ")))
                    .bind(new.expires_at).bind(&new.hash).bind(new.key_version).bind(now)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                Ok(ApiKeyMatch::try_from(row)?.key)
            }

            async fn find_api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyMatch>> {
                let q = format!(
                    "SELECT {}, {USER_COLS_PREFIXED}, m.role AS site_role FROM api_keys k \
                     LEFT JOIN users u ON u.id = COALESCE(k.user_id, k.created_by) \
                     LEFT JOIN memberships m ON m.site_id = k.site_id AND m.user_id = u.id \
                     WHERE k.hash = $1",
                    API_KEY_COLS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ")
                );
                let row: Option<ApiKeyUserRow> = sqlx::query_as(&q).bind(hash)
                    .fetch_optional(&self.pool).await.map_err(crate::backend_err)?;
                row.map(ApiKeyMatch::try_from).transpose()
            }

            async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<ApiKey> {
                let q = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE id = $1");
                let row: ApiKeyRow = sqlx::query_as(&q).bind(id.0)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                Ok(ApiKeyMatch::try_from(row)?.key)
            }

            async fn list_api_keys(&self, user: UserId) -> StoreResult<Vec<ApiKey>> {
                let q = format!(
                    "SELECT {API_KEY_COLS} FROM api_keys WHERE (user_id = $1 OR created_by = $1) AND revoked_at IS NULL ORDER BY id DESC"
                );
                let rows: Vec<ApiKeyRow> = sqlx::query_as(&q).bind(user.0)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                rows.into_iter().map(|r| ApiKeyMatch::try_from(r).map(|m| m.key)).collect()
            }

            async fn list_site_api_keys(&self, site: SiteId) -> StoreResult<Vec<ApiKey>> {
                let q = format!(
                    "SELECT {API_KEY_COLS} FROM api_keys WHERE site_id = $1 AND kind = 'site' AND revoked_at IS NULL ORDER BY id DESC"
                );
                let rows: Vec<ApiKeyRow> = sqlx::query_as(&q).bind(site.0)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                rows.into_iter().map(|r| ApiKeyMatch::try_from(r).map(|m| m.key)).collect()
            }

            async fn list_all_api_keys(&self, user: Option<UserId>, site: Option<SiteId>) -> StoreResult<Vec<ApiKey>> {
                let q = format!(
                    "SELECT {API_KEY_COLS} FROM api_keys WHERE ($1 IS NULL OR user_id = $1 OR created_by = $1) \
                     AND ($2 IS NULL OR site_id = $2) ORDER BY id"
                );
                let rows: Vec<ApiKeyRow> = sqlx::query_as(&q).bind(user.map(|u| u.0)).bind(site.map(|s| s.0))
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                rows.into_iter().map(|r| ApiKeyMatch::try_from(r).map(|m| m.key)).collect()
            }

            async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id.0).bind(now)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn revoke_user_api_keys(&self, user: UserId, now: Timestamp) -> StoreResult<u64> {
                let r = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE (user_id = $1 OR created_by = $1) AND revoked_at IS NULL")
                    .bind(user.0).bind(now)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected())
            }

            async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp, ip: &str, min_interval: i64) -> StoreResult<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $2, last_ip = $3 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $4)")
                    .bind(id.0).bind(now).bind(ip).bind(now - min_interval)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }
        }

        #[async_trait]
        impl AppPasswordStore for $store {
            async fn insert_app_password(&self, new: &NewAppPassword, now: Timestamp) -> StoreResult<AppPassword> {
                let q = format!(
                    "INSERT INTO app_passwords (uuid, user_id, app_id, name, hash, key_version, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {APP_PASSWORD_COLS}"
                );
                let row: AppPasswordRow = sqlx::query_as(&q)
                    .bind(&new.uuid).bind(new.user_id.0).bind(&new.app_id).bind(&new.name)
                    .bind(&new.hash).bind(new.key_version).bind(now)
                    .fetch_one(&self.pool).await.map_err(conflict_as("name"))?;
                Ok(<(AppPassword, String)>::from(row).0)
            }

            async fn find_app_password_by_hash(&self, hash: &str) -> StoreResult<Option<AppPasswordMatch>> {
                let q = format!(
                    "SELECT {}, {USER_COLS_PREFIXED} FROM app_passwords a JOIN users u ON u.id = a.user_id WHERE a.hash = $1",
                    APP_PASSWORD_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
                );
                let row: Option<AppPasswordUserRow> = sqlx::query_as(&q).bind(hash)
                    .fetch_optional(&self.pool).await.map_err(crate::backend_err)?;
                Ok(row.map(|r| {
                    let user = r.user();
                    let (password, hash) = r.password.into();
                    AppPasswordMatch { password, hash, user }
                }))
            }

            async fn list_app_passwords(&self, user: UserId) -> StoreResult<Vec<AppPassword>> {
                let q = format!("SELECT {APP_PASSWORD_COLS} FROM app_passwords WHERE user_id = $1 ORDER BY created_at, uuid");
                let rows: Vec<AppPasswordRow> = sqlx::query_as(&q).bind(user.0)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                Ok(rows.into_iter().map(|r| <(AppPassword, String)>::from(r).0).collect())
            }

            async fn get_app_password(&self, user: UserId, uuid: &str) -> StoreResult<AppPassword> {
                let q = format!("SELECT {APP_PASSWORD_COLS} FROM app_passwords WHERE user_id = $1 AND uuid = $2");
                let row: AppPasswordRow = sqlx::query_as(&q).bind(user.0).bind(uuid)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                Ok(<(AppPassword, String)>::from(row).0)
            }

            async fn rename_app_password(&self, user: UserId, uuid: &str, name: &str) -> StoreResult<AppPassword> {
                let q = format!("UPDATE app_passwords SET name = $3 WHERE user_id = $1 AND uuid = $2 RETURNING {APP_PASSWORD_COLS}");
                let row: AppPasswordRow = sqlx::query_as(&q).bind(user.0).bind(uuid).bind(name)
                    .fetch_one(&self.pool).await.map_err(conflict_as("name"))?;
                Ok(<(AppPassword, String)>::from(row).0)
            }

            async fn delete_app_password(&self, user: UserId, uuid: &str) -> StoreResult<bool> {
                let r = sqlx::query("DELETE FROM app_passwords WHERE user_id = $1 AND uuid = $2")
                    .bind(user.0).bind(uuid)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn delete_app_passwords(&self, user: UserId) -> StoreResult<u64> {
                let r = sqlx::query("DELETE FROM app_passwords WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected())
            }

            async fn touch_app_password(&self, uuid: &str, now: Timestamp, ip: &str, min_interval: i64) -> StoreResult<()> {
                sqlx::query("UPDATE app_passwords SET last_used_at = $2, last_ip = $3 WHERE uuid = $1 AND (last_used_at IS NULL OR last_used_at <= $4)")
                    .bind(uuid).bind(now).bind(ip).bind(now - min_interval)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, hash: &str, user: UserId, now: Timestamp, expires_at: Timestamp, ip: &str, user_agent: &str) -> StoreResult<Session> {
                let q = format!(
                    "INSERT INTO sessions (hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING {SESSION_COLS}"
                );
                let row: SessionRow = sqlx::query_as(&q)
                    .bind(hash).bind(user.0).bind(now).bind(expires_at).bind(ip).bind(user_agent)
                    .fetch_one(&self.pool).await.map_err(crate::backend_err)?;
                Ok(row.into())
            }

            async fn find_session_by_hash(&self, hash: &str) -> StoreResult<Option<SessionMatch>> {
                let q = format!(
                    "SELECT {}, s.hash, {USER_COLS_PREFIXED} FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.hash = $1 AND s.revoked_at IS NULL",
                    SESSION_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
                );
                let row: Option<SessionUserRow> = sqlx::query_as(&q).bind(hash)
                    .fetch_optional(&self.pool).await.map_err(crate::backend_err)?;
                Ok(row.map(|r| {
                    let user = User {
                        id: UserId(r.u_id),
                        login: r.u_login,
                        email: r.u_email,
                        display_name: r.u_display_name,
                        network_admin: r.u_network_admin,
                        disabled: r.u_disabled,
                        created_at: r.u_created_at,
                    };
                    SessionMatch { session: r.session.into(), hash: r.hash, user }
                }))
            }

            async fn touch_session(&self, id: i64, now: Timestamp, min_interval: i64) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at <= $3")
                    .bind(id).bind(now).bind(now - min_interval)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }

            async fn list_sessions(&self, user: UserId, now: Timestamp, idle_secs: i64) -> StoreResult<Vec<Session>> {
                let q = format!(
                    "SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
                     AND expires_at > $2 AND last_seen_at > $3 ORDER BY id DESC"
                );
                let rows: Vec<SessionRow> = sqlx::query_as(&q).bind(user.0).bind(now).bind(now - idle_secs)
                    .fetch_all(&self.pool).await.map_err(crate::backend_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn revoke_session(&self, user: UserId, id: i64, now: Timestamp) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(user.0).bind(id).bind(now)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn set_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET flash_id = $2 WHERE id = $1")
                    .bind(id).bind(flash_id)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }

            async fn take_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE sessions SET flash_id = NULL WHERE id = $1 AND flash_id = $2 AND revoked_at IS NULL")
                    .bind(id).bind(flash_id)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn revoke_user_sessions(&self, user: UserId, keep: Option<i64>, now: Timestamp) -> StoreResult<u64> {
                let r = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)")
                    .bind(user.0).bind(keep).bind(now)
                    .execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(r.rows_affected())
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(crate::backend_err)?;
                Ok(())
            }
            fn backend(&self) -> &'static str {
                $name
            }
        }
    };
}
pub(crate) use impl_store;
