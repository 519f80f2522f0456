//! Posts and comments of a site.
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

fn push_post_where<'a>(qb: &mut QueryBuilder<'a, Db>, site: SiteId, f: &'a PostFilter) {
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
        qb.push(" AND (status = 'publish' OR author_id = ")
            .push_bind(u.0)
            .push(")");
    }
}

#[async_trait]
impl PostStore for Backend {
    async fn insert_post(&self, new: &NewPost, now: Timestamp) -> StoreResult<Post> {
        let q = format!(
            "INSERT INTO posts (site_id, author_id, title, content, excerpt, slug, status, comments_open, created_at, modified_at, unfiltered) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING {POST_COLS}"
        );
        let row: PostRow = sqlx::query_as(&q)
            .bind(new.site_id.0)
            .bind(new.author_id.0)
            .bind(&new.title)
            .bind(&new.content)
            .bind(&new.excerpt)
            .bind(&new.slug)
            .bind(new.status.as_str())
            .bind(new.comments_open)
            .bind(now)
            .bind(new.unfiltered)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn get_post(&self, site: SiteId, id: PostId) -> StoreResult<Post> {
        let q = format!("SELECT {POST_COLS} FROM posts WHERE site_id = $1 AND id = $2");
        let row: PostRow = sqlx::query_as(&q)
            .bind(site.0)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn list_posts(&self, site: SiteId, f: &PostFilter) -> StoreResult<(Vec<Post>, i64)> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {POST_COLS} FROM posts"));
        push_post_where(&mut qb, site, f);
        qb.push(if f.order_asc {
            " ORDER BY created_at ASC, id ASC"
        } else {
            " ORDER BY created_at DESC, id DESC"
        });
        qb.push(" LIMIT ")
            .push_bind(f.limit)
            .push(" OFFSET ")
            .push_bind(f.offset);
        let rows: Vec<PostRow> = qb
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        let mut cqb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM posts");
        push_post_where(&mut cqb, site, f);
        let total: i64 = cqb
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        let posts = rows
            .into_iter()
            .map(Post::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((posts, total))
    }

    async fn update_post(
        &self,
        site: SiteId,
        id: PostId,
        p: &PostPatch,
        now: Timestamp,
    ) -> StoreResult<Post> {
        let q = format!(
            "UPDATE posts SET title = COALESCE($3, title), content = COALESCE($4, content), \
             excerpt = COALESCE($5, excerpt), slug = COALESCE($6, slug), status = COALESCE($7, status), \
             author_id = COALESCE($8, author_id), comments_open = COALESCE($9, comments_open), modified_at = $10, \
             unfiltered = (unfiltered AND $11) \
             WHERE site_id = $1 AND id = $2 RETURNING {POST_COLS}"
        );
        let row: PostRow = sqlx::query_as(&q)
            .bind(site.0)
            .bind(id.0)
            .bind(p.title.clone())
            .bind(p.content.clone())
            .bind(p.excerpt.clone())
            .bind(p.slug.clone())
            .bind(p.status.map(|s| s.as_str()))
            .bind(p.author_id.map(|a| a.0))
            .bind(p.comments_open)
            .bind(now)
            .bind(p.writer_unfiltered)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn delete_post(&self, site: SiteId, id: PostId) -> StoreResult<()> {
        let r = sqlx::query("DELETE FROM posts WHERE site_id = $1 AND id = $2")
            .bind(site.0)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
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
            .bind(new.site_id.0)
            .bind(new.post_id.0)
            .bind(new.parent)
            .bind(new.author_id.map(|a| a.0))
            .bind(&new.author_name)
            .bind(&new.content)
            .bind(new.status.as_str())
            .bind(now)
            .bind(new.unfiltered)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        row.try_into()
    }

    async fn list_comments(
        &self,
        site: SiteId,
        f: &CommentFilter,
    ) -> StoreResult<(Vec<Comment>, i64)> {
        let cond = "site_id = $1 AND status = $2 AND ($3 IS NULL OR post_id = $3) AND ($4 = FALSE OR post_id IN \
                    (SELECT p.id FROM posts p WHERE p.site_id = $1 AND p.status = 'publish'))";
        let q = format!("SELECT {COMMENT_COLS} FROM comments WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6");
        let rows: Vec<CommentRow> = sqlx::query_as(&q)
            .bind(site.0)
            .bind(f.status.as_str())
            .bind(f.post.map(|p| p.0))
            .bind(f.public_posts_only)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        let cq = format!("SELECT COUNT(*) FROM comments WHERE {cond}");
        let total: i64 = sqlx::query_scalar(&cq)
            .bind(site.0)
            .bind(f.status.as_str())
            .bind(f.post.map(|p| p.0))
            .bind(f.public_posts_only)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        let comments = rows
            .into_iter()
            .map(Comment::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((comments, total))
    }
}
