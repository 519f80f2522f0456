//! Administrative operations shared by the CLI, `serve --demo`, the hosting API and the test kit:
//! creating users and sites, setting account passwords, roles and site settings. Owns input
//! validation for them, so every entry point refuses the same bad input with the same message
//! before anything is written. Invariant: a password change ends every session of that user.
//! Time comes from the caller (`now`); password salts from `password` (OS RNG).

use crate::caps::Role;
use crate::clock::Timestamp;
use crate::model::*;
use crate::password;
use crate::store::{Store, StoreError};
use crate::validate::{self, Invalid};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The input is wrong; the message says how (CLI exit status 2, API 400).
    #[error("{0}")]
    Invalid(String),
    /// Something with that name already exists (API 409).
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<Invalid> for AdminError {
    fn from(e: Invalid) -> Self {
        AdminError::Invalid(e.0)
    }
}

fn store_err(what: &str) -> impl Fn(StoreError) -> AdminError + '_ {
    move |e| match e {
        StoreError::Conflict(field) => AdminError::Conflict(format!("{field} is already taken")),
        StoreError::NotFound => AdminError::NotFound(what.to_string()),
        other => AdminError::Store(other),
    }
}

/// A validated request to create a user.
#[derive(Debug)]
pub struct UserSpec {
    pub login: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password: String,
    pub network_admin: bool,
}

impl UserSpec {
    /// Checks everything that can be checked without the database.
    pub fn validate(&self) -> Result<(), AdminError> {
        validate::login(&self.login)?;
        validate::email(&self.email)?;
        validate::new_password(&self.password)?;
        Ok(())
    }
}

pub async fn add_user(
    store: &dyn Store,
    spec: &UserSpec,
    now: Timestamp,
) -> Result<User, AdminError> {
    let login = validate::login(&spec.login)?;
    let email = validate::email(&spec.email)?;
    validate::new_password(&spec.password)?;
    let password_hash =
        password::hash(&spec.password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let new = NewUser {
        display_name: spec.display_name.clone().unwrap_or_else(|| login.clone()),
        login,
        email,
        password_hash,
        network_admin: spec.network_admin,
    };
    store
        .insert_user(&new, now)
        .await
        .map_err(store_err("user"))
}

/// Sets a user's account password (validated and hashed as `add_user` does) and ends every one of
/// their sessions, so whoever was logged in with the old password is logged out. Returns how many
/// live sessions were ended. Auditing is the caller's (it knows who acted).
pub async fn set_password(
    store: &dyn Store,
    user: UserId,
    password: &str,
    now: Timestamp,
) -> Result<u64, AdminError> {
    validate::new_password(password)?;
    let password_hash = password::hash(password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    store
        .set_user_password_hash(user, &password_hash)
        .await
        .map_err(store_err("user"))?;
    end_sessions(store, user, now).await
}

/// Ends every session of `user` and returns how many of them were live (not yet expired or idle):
/// the live ones are listed and ended one by one, so the count is exactly what was ended; the
/// dead ones are then ended too, uncounted, so that none of them can come back.
pub async fn end_sessions(
    store: &dyn Store,
    user: UserId,
    now: Timestamp,
) -> Result<u64, AdminError> {
    let live = store
        .list_sessions(user, now, crate::sessions::IDLE_SECS)
        .await
        .map_err(AdminError::Store)?;
    let mut ended = 0;
    for s in &live {
        if store
            .revoke_session(user, s.id, now)
            .await
            .map_err(AdminError::Store)?
        {
            ended += 1;
        }
    }
    store
        .revoke_user_sessions(user, None, now)
        .await
        .map_err(AdminError::Store)?;
    Ok(ended)
}

/// Finds a user by login or email.
pub async fn find_user(store: &dyn Store, login: &str) -> Result<User, AdminError> {
    match store
        .find_user_auth(login)
        .await
        .map_err(AdminError::Store)?
    {
        Some(a) => Ok(a.user),
        None => Err(AdminError::NotFound(format!("user {login:?}"))),
    }
}

/// Finds a site by id or by URL/host (SPEC §10: `SITE` is an id or a URL).
pub async fn find_site(store: &dyn Store, site: &str) -> Result<Site, AdminError> {
    let not_found = || AdminError::NotFound(format!("site {site:?}"));
    if let Ok(id) = site.parse::<i64>() {
        return store.get_site(SiteId(id)).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => AdminError::Store(other),
        });
    }
    let host = match validate::site_url(site) {
        Ok((_, host)) => host,
        Err(_) => site.trim().trim_end_matches('/').to_ascii_lowercase(),
    };
    store
        .find_site_by_host(&host)
        .await
        .map_err(AdminError::Store)?
        .ok_or_else(not_found)
}

pub async fn add_site(
    store: &dyn Store,
    name: &str,
    url: &str,
    owner: UserId,
    now: Timestamp,
) -> Result<Site, AdminError> {
    let name = site_name(name)?;
    let (url, host) = validate::site_url(url)?;
    store
        .insert_site(&NewSite { name, url, host }, owner, now)
        .await
        .map_err(store_err("site"))
}

pub fn site_name(name: &str) -> Result<String, AdminError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "site name must be 1 to 200 characters".into(),
        ));
    }
    Ok(n.to_string())
}

pub async fn set_member(
    store: &dyn Store,
    site: SiteId,
    user: UserId,
    role: Role,
) -> Result<(), AdminError> {
    store
        .set_role(site, user, role)
        .await
        .map_err(store_err("site or user"))
}

/// Takes a user's role on a site away (they keep their account and their other sites).
pub async fn remove_member(
    store: &dyn Store,
    site: SiteId,
    user: UserId,
) -> Result<bool, AdminError> {
    store
        .remove_role(site, user)
        .await
        .map_err(store_err("site or user"))
}

/// Validates a patch given as optional strings (CLI flags, API fields).
pub fn site_patch(
    name: Option<&str>,
    url: Option<&str>,
    require_auth: Option<bool>,
) -> Result<SitePatch, AdminError> {
    Ok(SitePatch {
        name: name.map(site_name).transpose()?,
        url_and_host: url.map(validate::site_url).transpose()?,
        require_auth,
    })
}

pub async fn update_site(
    store: &dyn Store,
    site: SiteId,
    patch: &SitePatch,
) -> Result<Site, AdminError> {
    store
        .update_site(site, patch)
        .await
        .map_err(store_err("site"))
}
