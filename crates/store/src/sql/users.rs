//! Users: accounts and the one namespace of logins and emails (`user_identifiers`).
//! Part of the one SQL body both backends share (see `crate::sql`): compiled once for SQLite and
//! once for PostgreSQL, with `Db` and `Backend` naming the backend.

use super::prelude::*;

#[async_trait]
impl UserStore for Backend {
    async fn insert_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
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
        .map_err(backend_err)?;
        let login = new.login.to_lowercase();
        let email = new.email.to_lowercase();
        sqlx::query("INSERT INTO user_identifiers (ident, kind, user_id) VALUES ($1, 'login', $2)")
            .bind(&login)
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("login"))?;
        if email != login {
            sqlx::query(
                "INSERT INTO user_identifiers (ident, kind, user_id) VALUES ($1, 'email', $2)",
            )
            .bind(&email)
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("email"))?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(row.into())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        // Read together with the other requests' users at the same moment, never kept.
        let found = self
            .reads
            .users
            .get(vec![id], crate::batch::user_key, |ids| {
                read_users(self.clone(), ids)
            })
            .await?;
        found.into_iter().next().ok_or(StoreError::NotFound)
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
            .map_err(backend_err)?;
        Ok(row.map(Into::into))
    }

    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)
    }

    async fn list_users(&self, offset: i64, limit: i64) -> StoreResult<Vec<User>> {
        let q = format!("SELECT {USER_COLS} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2");
        let rows: Vec<UserRow> = sqlx::query_as(&q)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(id.0)
            .bind(disabled)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
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
            .map_err(backend_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn read_users(store: Backend, ids: Vec<UserId>) -> StoreResult<Vec<User>> {
    let rows: Vec<UserRow> = rows_in(
        &store,
        &format!("SELECT {USER_COLS} FROM users u WHERE u.id IN ("),
        ids.into_iter().map(|id| id.0),
    )
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
