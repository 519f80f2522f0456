//! WordPress's application-password routes (SPEC §4, TRANSCRIPTS section D) under
//! `/wp/v2/users/{id|me}/application-passwords`: list, create, delete all, introspect, and get,
//! update (rename) and delete one by uuid. Managing them needs a credential a person holds
//! (SPEC §6: account password or application password; API keys get 403). A user manages their
//! own; a network admin anyone's. The password appears only in the create response.

use super::wp::allow_header;
use super::{audit, require_manager, Cx};
use crate::error::ApiError;
use crate::rest::Reply;
use axum::http::{header, StatusCode};
use gatehouse_core::admin::AdminError;
use gatehouse_core::clock::wp_date;
use gatehouse_core::credentials;
use gatehouse_core::model::*;
use gatehouse_core::secrets::group_app_password;
use gatehouse_core::store::StoreError;
use serde_json::{json, Value};

const COLLECTION: &[&str] = &["GET", "POST", "DELETE"];
const ITEM: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn not_found() -> ApiError {
    ApiError::not_found(
        "rest_application_password_not_found",
        "Application password not found.",
    )
}

/// The user whose passwords are addressed (`me` or an id), after the §6 and ownership checks.
async fn target(cx: &Cx<'_>, who: &str) -> Result<User, ApiError> {
    let me = require_manager(cx)?;
    if who == "me" || who == me.id.0.to_string() {
        return Ok(me.clone());
    }
    let id = who
        .parse::<i64>()
        .map_err(|_| ApiError::not_found("rest_user_invalid_id", "Invalid user ID."))?;
    if !me.network_admin {
        // As WordPress multisite: a user who is not a member of this site does not exist here,
        // so the answer tells nothing about accounts elsewhere on the server.
        let member = match cx.site {
            Some(site) => cx.app.store.find_role(site.id, UserId(id)).await?.is_some(),
            None => false,
        };
        if !member {
            return Err(ApiError::not_found(
                "rest_user_invalid_id",
                "Invalid user ID.",
            ));
        }
    }
    let user = match cx.app.store.get_user(UserId(id)).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(
                "rest_user_invalid_id",
                "Invalid user ID.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !me.network_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "rest_cannot_manage_application_passwords",
            "Sorry, you are not allowed to manage application passwords for this user.",
        ));
    }
    Ok(user)
}

fn item_json(base: &str, p: &AppPassword, links: bool) -> Value {
    let mut v = json!({
        "uuid": p.uuid,
        "app_id": p.app_id,
        "name": p.name,
        "created": wp_date(p.created_at),
        "last_used": p.last_used_at.map(wp_date),
        "last_ip": p.last_ip,
    });
    if links {
        v["_links"] = json!({ "self": [{ "href": format!("{base}/wp-json/wp/v2/users/{}/application-passwords/{}", p.user_id.0, p.uuid) }] });
    }
    v
}

pub async fn list(cx: &Cx<'_>, who: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let items = cx.app.store.list_app_passwords(user.id).await?;
    let b = cx.base;
    let body: Vec<Value> = items.iter().map(|p| item_json(b, p, true)).collect();
    Ok(allow_header(Reply::ok(Value::Array(body)), COLLECTION))
}

pub async fn create(cx: &Cx<'_>, who: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let Some(name) = cx.params().str("name") else {
        return Err(ApiError::bad_request(
            "rest_missing_callback_param",
            "Missing parameter(s): name",
        )
        .with_data(json!({ "params": ["name"] })));
    };
    let app_id = cx.params().str("app_id").unwrap_or_default();
    if !app_id.is_empty() && uuid_shape(&app_id).is_none() {
        return Err(ApiError::invalid_param(
            "app_id",
            "app_id is not a valid UUID.",
        ));
    }
    let (pw, secret) = credentials::create_app_password(
        cx.app.store.as_ref(),
        &cx.app.keys,
        user.id,
        &name,
        &app_id,
        cx.now,
    )
    .await
    .map_err(|e| match e {
        AdminError::Conflict(m) => ApiError::new(
            StatusCode::CONFLICT,
            "application_password_duplicate_name",
            m,
        ),
        AdminError::Invalid(m) => ApiError::bad_request("application_password_empty_name", m),
        other => ApiError::internal(other),
    })?;
    audit(
        cx,
        "app_password.create",
        &user,
        format!("application password “{}” created", pw.name),
    )
    .await?;
    let b = cx.base;
    let mut body = item_json(b, &pw, false);
    body["password"] = json!(group_app_password(secret.expose_secret()));
    body["_links"] = item_json(b, &pw, true)["_links"].clone();
    let location = format!(
        "{b}/wp-json/wp/v2/users/{}/application-passwords/{}",
        user.id.0, pw.uuid
    );
    Ok(allow_header(Reply::created(body), COLLECTION)
        .header(header::LOCATION, &location)
        .header(header::CACHE_CONTROL, "no-store"))
}

pub async fn delete_all(cx: &Cx<'_>, who: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let count = cx.app.store.delete_app_passwords(user.id).await?;
    audit(
        cx,
        "app_password.delete_all",
        &user,
        format!("revoked every application password ({count})"),
    )
    .await?;
    Ok(allow_header(
        Reply::ok(json!({ "deleted": true, "count": count })),
        COLLECTION,
    ))
}

pub async fn introspect(cx: &Cx<'_>, who: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let current = match &cx.principal.credential {
        Credential::AppPassword { uuid } if cx.principal.user_id() == Some(user.id) => uuid.clone(),
        _ => {
            return Err(ApiError::not_found(
                "rest_no_authenticated_app_password",
                "Cannot introspect application password.",
            ))
        }
    };
    let pw = match cx.app.store.get_app_password(user.id, &current).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(allow_header(
        Reply::ok(item_json(cx.base, &pw, true)),
        &["GET"],
    ))
}

async fn load(cx: &Cx<'_>, user: &User, uuid: &str) -> Result<AppPassword, ApiError> {
    match cx.app.store.get_app_password(user.id, uuid).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(cx: &Cx<'_>, who: &str, uuid: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let pw = load(cx, &user, uuid).await?;
    Ok(allow_header(Reply::ok(item_json(cx.base, &pw, true)), ITEM))
}

pub async fn update(cx: &Cx<'_>, who: &str, uuid: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let pw = load(cx, &user, uuid).await?;
    let updated = match cx.params().str("name") {
        None => pw,
        Some(name) => {
            let name = credentials::app_password_name(&name).map_err(|e| {
                ApiError::bad_request("application_password_empty_name", e.to_string())
            })?;
            match cx.app.store.rename_app_password(user.id, uuid, &name).await {
                Ok(p) => p,
                Err(StoreError::Conflict(_)) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "application_password_duplicate_name",
                        "Each application name should be unique.",
                    ))
                }
                Err(StoreError::NotFound) => return Err(not_found()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(allow_header(
        Reply::ok(item_json(cx.base, &updated, true)),
        ITEM,
    ))
}

pub async fn delete(cx: &Cx<'_>, who: &str, uuid: &str) -> Result<Reply, ApiError> {
    let user = target(cx, who).await?;
    let pw = load(cx, &user, uuid).await?;
    if !cx.app.store.delete_app_password(user.id, uuid).await? {
        return Err(not_found());
    }
    let words = format!("application password “{}” revoked", pw.name);
    audit(cx, "app_password.delete", &user, words).await?;
    Ok(allow_header(
        Reply::ok(json!({ "deleted": true, "previous": item_json(cx.base, &pw, false) })),
        ITEM,
    ))
}

/// `8-4-4-4-12` hexadecimal.
fn uuid_shape(s: &str) -> Option<()> {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit())))
    .then_some(())
}
