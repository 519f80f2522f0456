//! The admin pages: users, sites, roles, the audit view.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::model::*;
use gatehouse_core::store::SessionMatch;
use minijinja::{context, Value};

use super::form_action;
use super::*;

// ---- admin ----------------------------------------------------------------------------

pub async fn admin_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    match Web::new(app, peer_of(&ext), headers).await {
        Ok(web) => admin_page(&web, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

async fn admin_page(
    web: &Web,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let Some(u) = web.user() else {
        return redirect("/login?redirect_to=/admin");
    };
    let sites = match web.admin_sites(u).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    if !u.network_admin && sites.is_empty() {
        return message(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Only administrators can see this page.",
            web,
        );
    }
    let store = &web.app.store;
    let users: Vec<Value> = if u.network_admin {
        match store.list_users(0, 500).await {
            Ok(list) => list.iter().map(|x| context! { id => x.id.0, login => x.login, email => x.email, disabled => x.disabled, network_admin => x.network_admin }).collect(),
            Err(e) => return error_page(&ApiError::internal(e)),
        }
    } else {
        Vec::new()
    };
    let involving = (!u.network_admin).then_some(u.id);
    let audit: Vec<Value> = match store.list_audit(involving, 100).await {
        Ok(list) => list
            .iter()
            .map(|e| context! { at => date(e.at), event => e.event, login => e.login, address => e.address, detail => e.detail })
            .collect(),
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let site_list: Vec<Value> = sites.iter().map(|s| context! { id => s.id.0, name => s.name, url => s.url, require_auth => s.require_auth }).collect();
    // Every administrator of a site sees and revokes its site keys, whoever created them.
    let mut site_keys: Vec<Value> = Vec::new();
    for site in &sites {
        let keys = match store.list_site_api_keys(site.id).await {
            Ok(k) => k,
            Err(e) => return error_page(&ApiError::internal(e)),
        };
        for k in keys {
            let creator = match store.get_user(k.created_by).await {
                Ok(u) => u.login,
                Err(_) => format!("#{}", k.created_by.0),
            };
            site_keys.push(context! {
                id => k.id.0, site => site.name, description => k.description, creator,
                created => date(k.created_at), last_used => k.last_used_at.map(date),
            });
        }
    }
    html(
        status,
        "admin.html",
        context! { ..web.base_ctx("Administration"), ..context! {
            is_admin => true, network_admin => u.network_admin, users, sites => site_list, audit, site_keys,
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(), notice, error,
        }},
    )
}

/// Runs an admin form action after the CSRF check and reports back on the admin page.
async fn admin_result(web: &Web, r: Result<String, AdminError>) -> Response {
    match r {
        Ok(notice) => admin_page(web, StatusCode::OK, Some(&notice), None).await,
        Err(AdminError::Store(e)) => error_page(&ApiError::internal(e)),
        Err(e) => admin_page(web, StatusCode::BAD_REQUEST, None, Some(e.to_string())).await,
    }
}

fn forbidden(web: &Web) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Only administrators can do that.",
        web,
    )
}

form_action!(admin_user_add, |web, s, f| {
    if !s.user.network_admin {
        return forbidden(&web);
    }
    let spec = UserSpec {
        login: f.get("login").cloned().unwrap_or_default(),
        email: f.get("email").cloned().unwrap_or_default(),
        display_name: None,
        password: f.get("password").cloned().unwrap_or_default(),
        network_admin: false,
    };
    let r = admin::add_user(web.app.store.as_ref(), &spec, web.now()).await;
    if let Ok(u) = &r {
        web.audit(
            "user.create",
            Some(&s.user),
            None,
            format!("login={}", u.login),
        )
        .await;
    }
    admin_result(&web, r.map(|u| format!("User {} was added.", u.login))).await
});

async fn set_disabled(web: &Web, s: &SessionMatch, id: i64, disabled: bool) -> Response {
    if !s.user.network_admin || id == s.user.id.0 {
        return forbidden(web);
    }
    let r = web.app.store.set_user_disabled(UserId(id), disabled).await;
    if r.is_ok() {
        web.audit_about(
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            &s.user,
            UserId(id),
            format!("id={id}"),
        )
        .await;
        if disabled {
            let _ = web
                .app
                .store
                .revoke_user_sessions(UserId(id), None, web.now())
                .await;
        }
    }
    admin_result(
        web,
        r.map(|_| {
            format!(
                "User {id} was {}.",
                if disabled { "disabled" } else { "enabled" }
            )
        })
        .map_err(|e| AdminError::NotFound(e.to_string())),
    )
    .await
}

form_action!(admin_user_disable, |web, s, f, id: i64| {
    set_disabled(&web, &s, id, true).await
});
form_action!(admin_user_enable, |web, s, f, id: i64| {
    set_disabled(&web, &s, id, false).await
});

form_action!(admin_site_add, |web, s, f| {
    if !s.user.network_admin {
        return forbidden(&web);
    }
    let r = admin::add_site(
        web.app.store.as_ref(),
        f.get("name").map(String::as_str).unwrap_or(""),
        f.get("url").map(String::as_str).unwrap_or(""),
        s.user.id,
        web.now(),
    )
    .await;
    if let Ok(site) = &r {
        web.audit(
            "site.create",
            Some(&s.user),
            None,
            format!("url={}", site.url),
        )
        .await;
    }
    admin_result(&web, r.map(|x| format!("Site {} was added.", x.url))).await
});

/// Site administrators manage their own sites; network admins every site.
async fn manages(web: &Web, user: &User, site: SiteId) -> bool {
    web.admin_sites(user)
        .await
        .map(|s| s.iter().any(|x| x.id == site))
        .unwrap_or(false)
}

form_action!(admin_site_require_auth, |web, s, f, id: i64| {
    if !manages(&web, &s.user, SiteId(id)).await {
        return forbidden(&web);
    }
    let on = f.get("require_auth").is_some_and(|v| v == "true");
    let patch = SitePatch {
        require_auth: Some(on),
        ..Default::default()
    };
    let r = admin::update_site(web.app.store.as_ref(), SiteId(id), &patch).await;
    if r.is_ok() {
        web.audit(
            "site.require_auth",
            Some(&s.user),
            None,
            format!("id={id} require_auth={on}"),
        )
        .await;
    }
    admin_result(
        &web,
        r.map(|x| {
            format!(
                "{}: authentication is {}.",
                x.url,
                if on { "required" } else { "optional for reads" }
            )
        }),
    )
    .await
});

form_action!(admin_member_set, |web, s, f| {
    let site = match f.get("site").and_then(|v| v.parse::<i64>().ok()) {
        Some(id) => SiteId(id),
        None => return admin_result(&web, Err(AdminError::Invalid("choose a site".into()))).await,
    };
    if !manages(&web, &s.user, site).await {
        return forbidden(&web);
    }
    // A role, or "none" to take the user's role away.
    let role = match f.get("role").map(String::as_str) {
        Some(r) if r.eq_ignore_ascii_case("none") => None,
        Some(r) => match Role::parse(r) {
            Some(role) => Some(role),
            None => {
                return admin_result(&web, Err(AdminError::Invalid("unknown role".into()))).await
            }
        },
        None => return admin_result(&web, Err(AdminError::Invalid("unknown role".into()))).await,
    };
    let store = web.app.store.as_ref();
    let login = f.get("login").map(String::as_str).unwrap_or("").trim();
    let r = async {
        // Network admins manage every account. A site's own administrators change the roles of
        // the site's members only: they cannot pull in (and so read the email of) any account
        // on the server, and an unknown name and a non-member get the same answer, so the form
        // is no oracle for which logins and emails exist.
        let not_member = || AdminError::Invalid(format!("{login:?} is not a member of this site"));
        let user = match admin::find_user(store, login).await {
            Ok(u) => u,
            Err(AdminError::NotFound(_)) if !s.user.network_admin => return Err(not_member()),
            Err(e) => return Err(e),
        };
        if !s.user.network_admin
            && store
                .find_role(site, user.id)
                .await
                .map_err(AdminError::Store)?
                .is_none()
        {
            return Err(not_member());
        }
        match role {
            Some(role) => admin::set_member(store, site, user.id, role).await?,
            None => {
                admin::remove_member(store, site, user.id).await?;
            }
        }
        Ok::<_, AdminError>(user)
    }
    .await;
    let role_name = role.map(Role::as_str).unwrap_or("none");
    if let Ok(u) = &r {
        web.audit_about(
            "site.role",
            &s.user,
            u.id,
            format!("site={} user={} role={role_name}", site.0, u.login),
        )
        .await;
    }
    admin_result(
        &web,
        r.map(|u| match role {
            Some(role) => format!("{} is now {} on site {}.", u.login, role.as_str(), site.0),
            None => format!("{} no longer has a role on site {}.", u.login, site.0),
        }),
    )
    .await
});

form_action!(admin_site_key_revoke, |web, s, f, id: i64| {
    let key = match web.app.store.get_api_key(ApiKeyId(id)).await {
        Ok(k) if k.kind == ApiKeyKind::Site && k.revoked_at.is_none() => k,
        _ => {
            return message(
                StatusCode::NOT_FOUND,
                "Not found",
                "No such site key.",
                &web,
            )
        }
    };
    // Site keys always name their site (`validate_api_key`); one without matches no site here.
    let site = key.site_id.unwrap_or(SiteId(0));
    // Someone who does not administer the key's site learns nothing about it: the same 404.
    if !manages(&web, &s.user, site).await {
        return message(
            StatusCode::NOT_FOUND,
            "Not found",
            "No such site key.",
            &web,
        );
    }
    let r = web
        .app
        .store
        .revoke_api_key(key.id, web.now())
        .await
        .map_err(AdminError::Store);
    if matches!(r, Ok(true)) {
        web.audit(
            "api_key.revoke",
            Some(&s.user),
            None,
            format!(
                "site key {:?} (id={id}) of site {}",
                key.description, site.0
            ),
        )
        .await;
    }
    admin_result(
        &web,
        r.map(|_| format!("The site key {:?} was revoked.", key.description)),
    )
    .await
});
