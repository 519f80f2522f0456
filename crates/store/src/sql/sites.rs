//! Sites and memberships (roles).
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl SiteStore for Backend {
    async fn insert_site(&self, new: &NewSite, owner: UserId, now: Timestamp) -> StoreResult<Site> {
        let mut tx = self.begin_write().await?;
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
        sqlx::query(
            "INSERT INTO memberships (site_id, user_id, role) VALUES ($1, $2, 'administrator')",
        )
        .bind(row.id)
        .bind(owner.0)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(row.into())
    }

    async fn get_site(&self, id: SiteId) -> StoreResult<Site> {
        let q = format!("SELECT {SITE_COLS} FROM sites WHERE id = $1");
        let row: SiteRow = sqlx::query_as(&q)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.into())
    }

    async fn find_site_by_host(&self, host: &str) -> StoreResult<Option<Site>> {
        let q = format!("SELECT {SITE_COLS} FROM sites WHERE host = $1");
        let row: Option<SiteRow> = sqlx::query_as(&q)
            .bind(host.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(Into::into))
    }

    async fn find_first_site(&self) -> StoreResult<Option<Site>> {
        let q = format!("SELECT {SITE_COLS} FROM sites ORDER BY id LIMIT 1");
        let row: Option<SiteRow> = sqlx::query_as(&q)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(Into::into))
    }

    async fn list_sites(
        &self,
        user: Option<UserId>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<Site>, i64)> {
        let (rows, total): (Vec<SiteRow>, i64) = match user {
            Some(u) => {
                let q = format!(
                    "SELECT {} FROM sites s JOIN memberships m ON m.site_id = s.id \
                     WHERE m.user_id = $1 ORDER BY s.id LIMIT $2 OFFSET $3",
                    SITE_COLS
                        .split(", ")
                        .map(|c| format!("s.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let rows = sqlx::query_as(&q)
                    .bind(u.0)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend_err)?;
                let total =
                    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE user_id = $1")
                        .bind(u.0)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(backend_err)?;
                (rows, total)
            }
            None => {
                let q = format!("SELECT {SITE_COLS} FROM sites ORDER BY id LIMIT $1 OFFSET $2");
                let rows = sqlx::query_as(&q)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend_err)?;
                let total = sqlx::query_scalar("SELECT COUNT(*) FROM sites")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend_err)?;
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
            .map_err(backend_err)?;
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
            .map_err(backend_err)?;
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
        .map_err(backend_err)?;
        Ok(())
    }

    async fn find_role(&self, site: SiteId, user: UserId) -> StoreResult<Option<Role>> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE site_id = $1 AND user_id = $2")
                .bind(site.0)
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend_err)?;
        role.as_deref().map(parse_role).transpose()
    }

    async fn list_site_users(
        &self,
        site: SiteId,
        authors_only: bool,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(User, Role)>, i64)> {
        let cond = "m.site_id = $1 AND ($2 = FALSE OR EXISTS (SELECT 1 FROM posts p \
                    WHERE p.site_id = m.site_id AND p.author_id = m.user_id AND p.status = 'publish'))";
        let q = format!(
            "SELECT {USER_COLS}, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE {cond} ORDER BY u.id LIMIT $3 OFFSET $4"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&q)
            .bind(site.0)
            .bind(authors_only)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        let cq = format!("SELECT COUNT(*) FROM memberships m WHERE {cond}");
        let total: i64 = sqlx::query_scalar(&cq)
            .bind(site.0)
            .bind(authors_only)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let role = parse_role(&r.role)?;
            out.push((r.user.into(), role));
        }
        Ok((out, total))
    }
}
