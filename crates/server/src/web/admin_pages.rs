//! The admin pages: users, sites, roles, site keys, the audit view. Every form answers with a 303
//! back to the page (post/redirect/get) carrying what happened as a one-time message; revoking a
//! site key asks first.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::flash::Flash;
use gatehouse_core::model::*;
use gatehouse_core::store::SessionMatch;
use minijinja::{context, Value};
use std::collections::BTreeMap;

use super::form_action;
use super::profile::page_get;
use super::*;

// ---- admin ----------------------------------------------------------------------------

pub async fn admin_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    match Web::new(app, &ext, headers).await {
        Ok(web) => {
            // Only a page this user may see takes a message; and this one shows no secrets, so
            // a message holding one waits for the profile.
            if !web.is_admin {
                return admin_page(&web, Flash::default()).await;
            }
            let (flash, clear) = web.take_flash(false).await;
            let resp = admin_page(&web, flash).await;
            web.shown(resp, clear)
        }
        Err(r) => r,
    }
}

/// How many members a site's row lists on the page.
const MEMBERS_SHOWN: i64 = 200;

async fn admin_page(web: &Web, flash: Flash) -> Response {
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
    // Members per site, and so each user's roles across the sites shown.
    let mut roles_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut site_list: Vec<Value> = Vec::new();
    for site in &sites {
        let (members, total) = match store
            .list_site_users(site.id, false, 0, MEMBERS_SHOWN)
            .await
        {
            Ok(m) => m,
            Err(e) => return error_page(&ApiError::internal(e)),
        };
        for (m, role) in &members {
            roles_of
                .entry(m.id.0)
                .or_default()
                .push(format!("{} on {}", role.as_str(), site.name));
        }
        let members: Vec<Value> = members
            .iter()
            .map(|(m, role)| context! { login => m.login, role => role.as_str(), disabled => m.disabled })
            .collect();
        site_list.push(context! {
            id => site.id.0, name => site.name, url => site.url, require_auth => site.require_auth,
            members, more_members => (total - MEMBERS_SHOWN).max(0),
        });
    }
    let users: Vec<Value> =
        if u.network_admin {
            match store.list_users(0, 500).await {
            Ok(list) => list
                .iter()
                .map(|x| context! {
                    id => x.id.0, login => x.login, email => x.email, disabled => x.disabled,
                    network_admin => x.network_admin, me => x.id == u.id,
                    roles => roles_of.get(&x.id.0).cloned().unwrap_or_default(),
                })
                .collect(),
            Err(e) => return error_page(&ApiError::internal(e)),
        }
        } else {
            Vec::new()
        };
    let involving = (!u.network_admin).then_some(u.id);
    let audit: Vec<Value> = match store.list_audit(involving, 100).await {
        Ok(list) => list
            .iter()
            .map(|e| context! { at => date(e.at), event => e.event, what => describe(&e.event), login => e.login, address => e.address, detail => e.detail })
            .collect(),
        Err(e) => return error_page(&ApiError::internal(e)),
    };
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
    // The page itself is fine (200) even when it reports what the form before it refused.
    let status = StatusCode::OK;
    html(
        status,
        "admin.html",
        context! { ..web.base_ctx("Administration"), ..context! {
            network_admin => u.network_admin, users, sites => site_list, audit, site_keys,
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            notice => flash.notice, error => flash.error, typed => flash.fields,
        }},
    )
}

/// An audit event's name in words, for the admin page's "What" column.
fn describe(event: &str) -> &str {
    match event {
        "login.success" => "Logged in",
        "login.failure" => "Failed log-in",
        "logout" => "Logged out",
        "logout.everywhere" => "Logged out everywhere",
        "auth.failure_burst" => "Repeated failed sign-ins",
        "api_key.create" => "API key created",
        "api_key.revoke" => "API key revoked",
        "app_password.create" => "Application password created",
        "app_password.update" => "Application password renamed",
        "app_password.delete" => "Application password revoked",
        "session.revoke" => "Session ended",
        "session.revoke_others" => "Other sessions ended",
        "user.create" => "User added",
        "user.disable" => "User disabled",
        "user.enable" => "User enabled",
        "user.set_password" => "Password set",
        "credentials.revoke_all" => "Every credential revoked",
        "site.create" => "Site added",
        "site.update" => "Site changed",
        "site.delete" => "Site deleted",
        "site.require_auth" => "Site authentication changed",
        "site.role" => "Role changed",
        "key.rotate" => "Server key rotated",
        other => other,
    }
}

/// Back to the admin page, at its top where the message is, with what happened.
async fn admin_done(
    web: &Web,
    s: &SessionMatch,
    r: Result<String, AdminError>,
    typed: &[(&str, &str)],
) -> Response {
    web.finish(s, "/admin", r.map(Flash::notice), typed).await
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
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let spec = UserSpec {
        login: get("login").to_string(),
        email: get("email").to_string(),
        display_name: None,
        password: get("password").to_string(),
        network_admin: false,
    };
    let r = admin::add_user(web.app.store.as_ref(), &spec, web.now()).await;
    if let Ok(u) = &r {
        web.audit(
            "user.create",
            Some(&s.user),
            None,
            format!("added user {} <{}>", u.login, u.email),
        )
        .await;
    }
    // The password typed is never carried back.
    let typed = [("login", get("login")), ("email", get("email"))];
    admin_done(
        &web,
        &s,
        r.map(|u| format!("User {} was added.", u.login)),
        &typed,
    )
    .await
});

async fn set_disabled(web: &Web, s: &SessionMatch, id: i64, disabled: bool) -> Response {
    if !s.user.network_admin {
        return forbidden(web);
    }
    if id == s.user.id.0 {
        return message(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "You cannot disable or enable your own account here; ask another network admin.",
            web,
        );
    }
    let store = web.app.store.as_ref();
    let login = match store.get_user(UserId(id)).await {
        Ok(u) => u.login,
        Err(_) => return message(StatusCode::NOT_FOUND, "Not found", "No such user.", web),
    };
    let r = store.set_user_disabled(UserId(id), disabled).await;
    let verb = if disabled { "disabled" } else { "enabled" };
    if r.is_ok() {
        web.audit_about(
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            &s.user,
            UserId(id),
            format!("{verb} user {login}"),
        )
        .await;
        if disabled {
            let _ = store
                .revoke_user_sessions(UserId(id), None, web.now())
                .await;
        }
    }
    let notice = if disabled {
        format!("User {login} was disabled and logged out everywhere.")
    } else {
        format!("User {login} was enabled.")
    };
    admin_done(web, s, r.map(|_| notice).map_err(AdminError::Store), &[]).await
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
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let r = admin::add_site(
        web.app.store.as_ref(),
        get("name"),
        get("url"),
        s.user.id,
        web.now(),
    )
    .await;
    if let Ok(site) = &r {
        web.audit(
            "site.create",
            Some(&s.user),
            None,
            format!("added site “{}” at {}", site.name, site.url),
        )
        .await;
    }
    let typed = [("site_name", get("name")), ("site_url", get("url"))];
    admin_done(
        &web,
        &s,
        r.map(|x| format!("Site “{}” ({}) was added.", x.name, x.url)),
        &typed,
    )
    .await
});

/// The site `id` if `user` administers it: site administrators manage their own sites, network
/// admins every site.
async fn managed(web: &Web, user: &User, site: SiteId) -> Option<Site> {
    web.admin_sites(user)
        .await
        .ok()?
        .into_iter()
        .find(|x| x.id == site)
}

form_action!(admin_site_require_auth, |web, s, f, id: i64| {
    let Some(site) = managed(&web, &s.user, SiteId(id)).await else {
        return forbidden(&web);
    };
    let on = f.get("require_auth").is_some_and(|v| v == "true");
    let patch = SitePatch {
        require_auth: Some(on),
        ..Default::default()
    };
    let r = admin::update_site(web.app.store.as_ref(), site.id, &patch).await;
    let rule = if on {
        "authentication is required for every REST request"
    } else {
        "public reads are allowed without authentication"
    };
    if r.is_ok() {
        web.audit(
            "site.require_auth",
            Some(&s.user),
            None,
            format!("on “{}”, {rule}", site.name),
        )
        .await;
    }
    admin_done(
        &web,
        &s,
        r.map(|x| format!("On “{}”, {rule}.", x.name)),
        &[],
    )
    .await
});

form_action!(admin_member_set, |web, s, f| {
    let typed_login = f.get("login").map(String::as_str).unwrap_or("").trim();
    let typed_site = f.get("site").map(String::as_str).unwrap_or("");
    let typed = [("member_login", typed_login), ("member_site", typed_site)];
    let site = match f.get("site").and_then(|v| v.parse::<i64>().ok()) {
        Some(id) => SiteId(id),
        None => {
            let e = Err(AdminError::Invalid("choose a site".into()));
            return admin_done(&web, &s, e, &typed).await;
        }
    };
    let Some(site) = managed(&web, &s.user, site).await else {
        return forbidden(&web);
    };
    // A role, or "none" to take the user's role away.
    let role = match f.get("role").map(String::as_str) {
        Some(r) if r.eq_ignore_ascii_case("none") => None,
        Some(r) => match Role::parse(r) {
            Some(role) => Some(role),
            None => {
                let e = Err(AdminError::Invalid("unknown role".into()));
                return admin_done(&web, &s, e, &typed).await;
            }
        },
        None => {
            let e = Err(AdminError::Invalid("unknown role".into()));
            return admin_done(&web, &s, e, &typed).await;
        }
    };
    let store = web.app.store.as_ref();
    let login = typed_login;
    let r = async {
        // Network admins manage every account. A site's own administrators change the roles of
        // the site's members only: they cannot pull in (and so read the email of) any account
        // on the server, and an unknown name and a non-member get the same answer, so the form
        // is no oracle for which logins and emails exist.
        let not_member =
            || AdminError::Invalid(format!("{login:?} is not a member of “{}”", site.name));
        let user = match admin::find_user(store, login).await {
            Ok(u) => u,
            Err(AdminError::NotFound(_)) if !s.user.network_admin => return Err(not_member()),
            Err(e) => return Err(e),
        };
        if !s.user.network_admin
            && store
                .find_role(site.id, user.id)
                .await
                .map_err(AdminError::Store)?
                .is_none()
        {
            return Err(not_member());
        }
        match role {
            Some(role) => admin::set_member(store, site.id, user.id, role).await?,
            None => {
                admin::remove_member(store, site.id, user.id).await?;
            }
        }
        Ok::<_, AdminError>(user)
    }
    .await;
    let words = |u: &User| match role {
        Some(role) => format!("{} is now {} on “{}”", u.login, role.as_str(), site.name),
        None => format!("{} no longer has a role on “{}”", u.login, site.name),
    };
    if let Ok(u) = &r {
        web.audit_about("site.role", &s.user, u.id, words(u)).await;
    }
    admin_done(&web, &s, r.map(|u| format!("{}.", words(&u))), &typed).await
});

/// The live site key `id` if `user` administers its site. Someone who does not learns nothing
/// about it: the same answer as for a key that does not exist.
async fn managed_site_key(web: &Web, user: &User, id: i64) -> Option<(ApiKey, Site)> {
    let key = match web.app.store.get_api_key(ApiKeyId(id)).await {
        Ok(k) if k.kind == ApiKeyKind::Site && k.revoked_at.is_none() => k,
        _ => return None,
    };
    // Site keys always name their site (`validate_api_key`); one without matches no site here.
    let site = managed(web, user, key.site_id.unwrap_or(SiteId(0))).await?;
    Some((key, site))
}

page_get!(admin_site_key_confirm, |web, s, id: i64| {
    let Some((key, site)) = managed_site_key(&web, &s.user, id).await else {
        return message(
            StatusCode::NOT_FOUND,
            "Not found",
            "No such site key.",
            &web,
        );
    };
    confirm(
        &web,
        Ask {
            title: "Revoke site key",
            question: format!(
                "Revoke the site key “{}” of “{}”?",
                key.description, site.name
            ),
            consequence: "Every program reading the site with it stops working at once. This cannot be undone.",
            action: format!("/admin/site-keys/{id}/revoke"),
            button: "Revoke site key",
            back: "/admin#site-keys",
        },
    )
    .await
});

form_action!(admin_site_key_revoke, |web, s, f, id: i64| {
    let Some((key, site)) = managed_site_key(&web, &s.user, id).await else {
        return message(
            StatusCode::NOT_FOUND,
            "Not found",
            "No such site key.",
            &web,
        );
    };
    let r = web
        .app
        .store
        .revoke_api_key(key.id, web.now())
        .await
        .map_err(AdminError::Store);
    let words = format!(
        "site key “{}” (#{id}) of “{}” revoked",
        key.description, site.name
    );
    if matches!(r, Ok(true)) {
        web.audit("api_key.revoke", Some(&s.user), None, words.clone())
            .await;
    }
    admin_done(
        &web,
        &s,
        r.map(|_| {
            format!(
                "The site key “{}” of “{}” was revoked.",
                key.description, site.name
            )
        }),
        &[],
    )
    .await
});
