//! `/developer`: a logged-in user registers OAuth 2.0 applications (seed 000) — name, description,
//! redirect URIs and type — and gets the client id and, for a confidential app, a secret shown
//! once; rotates the secret, edits the redirect URIs, deletes the app. Every form answers 303
//! (post/redirect/get); rotating and deleting ask first. Only an app's owner manages it.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::admin::AdminError;
use gatehouse_core::flash::Flash;
use gatehouse_core::model::*;
use gatehouse_core::oauth2::clients::ClientSpec;
use gatehouse_core::oauth2::{registry, Client};
use minijinja::{context, Value};

use super::form_action;
use super::profile::{not_found, page_get};
use super::*;

pub async fn developer_get(
    State(app): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    let web = match Web::new(app, &ext, headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(s) = web.session.clone() else {
        return redirect("/login?redirect_to=/developer");
    };
    let (flash, clear) = web.take_flash(true).await;
    let clients = match web.app.store.list_clients(Some(s.user.id)).await {
        Ok(c) => c,
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let apps: Vec<Value> = clients
        .iter()
        .map(|c| {
            context! {
                id => c.client_id(), name => c.name, description => c.description,
                confidential => c.confidential,
                grants => c.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
                redirect_uris => c.redirect_uris.join("\n"),
                created => date(c.created_at),
            }
        })
        .collect();
    let consumers = match web.app.store.list_consumers(Some(s.user.id)).await {
        Ok(c) => c,
        Err(e) => return error_page(&ApiError::internal(e)),
    };
    let oauth1_apps: Vec<Value> = consumers
        .iter()
        .map(|c| {
            context! {
                id => c.id.0, key => c.key, name => c.name, description => c.description,
                callback => c.callback, created => date(c.created_at),
            }
        })
        .collect();
    let resp = html(
        StatusCode::OK,
        "developer.html",
        context! { ..web.base_ctx("Your applications"), ..context! {
            apps, oauth1_apps, base => web.base.clone(),
            secrets => flash.secrets.iter().map(|x| context! { label => x.label, value => x.value }).collect::<Vec<_>>(),
            notice => flash.notice, error => flash.error, typed => flash.fields,
        }},
    );
    web.shown(resp, clear)
}

/// The user's own client `id`.
async fn own_client(web: &Web, user: &User, id: &str) -> Option<Client> {
    let id = gatehouse_core::oauth2::parse_client_id(id)?;
    match web.app.store.get_client(id).await {
        Ok(c) if c.owner_id == user.id => Some(c),
        _ => None,
    }
}

fn uris_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

form_action!(developer_create, |web, s, f| {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let spec = ClientSpec {
        name: get("name").to_string(),
        description: get("description").to_string(),
        public: get("type") == "public",
        redirect_uris: uris_of(get("redirect_uris")),
        ..ClientSpec::default()
    };
    let typed = [
        ("name", get("name")),
        ("description", get("description")),
        ("redirect_uris", get("redirect_uris")),
        ("type", get("type")),
    ];
    let r = registry::register(
        web.app.store.as_ref(),
        &web.app.keys,
        &spec,
        s.user.id,
        web.now(),
    )
    .await;
    if let Ok((c, _)) = &r {
        web.audit(
            "oauth2_client.create",
            Some(&s.user),
            None,
            format!(
                "OAuth application “{}” ({}) registered",
                c.name,
                c.client_id()
            ),
        )
        .await;
    }
    let r = r.map(|(c, secret)| match secret {
        Some(sec) => Flash::secret(
            format!("The client secret of “{}” (client_id {})", c.name, c.client_id()),
            sec.expose_secret(),
        ),
        None => Flash::notice(format!(
            "“{}” is registered: its client_id is {}. It is public, so it has no secret: it uses PKCE.",
            c.name,
            c.client_id()
        )),
    });
    web.finish(&s, "/developer", r, &typed).await
});

form_action!(developer_redirects, |web, s, f, id: String| {
    let Some(c) = own_client(&web, &s.user, &id).await else {
        return not_found(&web);
    };
    let text = f.get("redirect_uris").map(String::as_str).unwrap_or("");
    let r = registry::set_redirect_uris(web.app.store.as_ref(), &c, &uris_of(text))
        .await
        .map(|_| Flash::notice(format!("The redirect URIs of “{}” were saved.", c.name)));
    web.finish(&s, "/developer", r, &[]).await
});

page_get!(developer_rotate_confirm, |web, s, id: String| {
    let Some(c) = own_client(&web, &s.user, &id)
        .await
        .filter(|c| c.confidential)
    else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "New client secret",
            question: format!("Replace the client secret of “{}”?", c.name),
            consequence:
                "The current secret stops working at once; tokens already issued keep working.",
            action: format!("/developer/{id}/rotate-secret"),
            button: "Replace the secret",
            back: "/developer",
        },
    )
    .await
});

form_action!(developer_rotate, |web, s, f, id: String| {
    let Some(c) = own_client(&web, &s.user, &id)
        .await
        .filter(|c| c.confidential)
    else {
        return not_found(&web);
    };
    let r = registry::rotate_secret(web.app.store.as_ref(), &web.app.keys, c.id)
        .await
        .map(|sec| {
            Flash::secret(
                format!("The new client secret of “{}” (client_id {id})", c.name),
                sec.expose_secret(),
            )
        });
    if r.is_ok() {
        web.audit(
            "oauth2_client.rotate_secret",
            Some(&s.user),
            None,
            format!("secret of OAuth application “{}” ({id}) rotated", c.name),
        )
        .await;
    }
    web.finish(&s, "/developer", r, &[]).await
});

page_get!(developer_delete_confirm, |web, s, id: String| {
    let Some(c) = own_client(&web, &s.user, &id).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "Delete application",
            question: format!("Delete the application “{}”?", c.name),
            consequence: "Everyone who authorized it loses it at once: every token it holds stops working. This cannot be undone.",
            action: format!("/developer/{id}/delete"),
            button: "Delete application",
            back: "/developer",
        },
    )
    .await
});

form_action!(developer_delete, |web, s, f, id: String| {
    let Some(c) = own_client(&web, &s.user, &id).await else {
        return not_found(&web);
    };
    let r = web
        .app
        .store
        .delete_client(c.id)
        .await
        .map_err(AdminError::Store)
        .map(|_| Flash::notice(format!("The application “{}” was deleted.", c.name)));
    if r.is_ok() {
        web.audit(
            "oauth2_client.delete",
            Some(&s.user),
            None,
            format!("OAuth application “{}” ({id}) deleted", c.name),
        )
        .await;
    }
    web.finish(&s, "/developer", r, &[]).await
});

/// The user's own OAuth 1.0a application `id`.
async fn own_consumer(web: &Web, user: &User, id: i64) -> Option<gatehouse_core::oauth1::Consumer> {
    match web
        .app
        .store
        .get_consumer(gatehouse_core::oauth1::ConsumerId(id))
        .await
    {
        Ok(c) if c.owner_id == user.id => Some(c),
        _ => None,
    }
}

form_action!(developer_oauth1_create, |web, s, f| {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let spec = gatehouse_core::oauth1::ConsumerSpec {
        name: get("o1_name").to_string(),
        description: get("o1_description").to_string(),
        callback: Some(get("o1_callback").to_string()),
    };
    let typed = [
        ("o1_name", get("o1_name")),
        ("o1_description", get("o1_description")),
        ("o1_callback", get("o1_callback")),
    ];
    let r = gatehouse_core::oauth1::register(
        web.app.store.as_ref(),
        &web.app.keys,
        &spec,
        s.user.id,
        web.now(),
    )
    .await;
    if let Ok((c, _)) = &r {
        web.audit(
            "oauth1_consumer.create",
            Some(&s.user),
            None,
            format!(
                "OAuth 1.0a application “{}” ({}) registered",
                c.name, c.id.0
            ),
        )
        .await;
    }
    let r = r.map(|(c, secret)| {
        Flash::secret(
            format!("The secret of “{}” (key {})", c.name, c.key),
            secret.expose_secret(),
        )
    });
    web.finish(&s, "/developer#oauth1", r, &typed).await
});

page_get!(developer_oauth1_delete_confirm, |web, s, id: i64| {
    let Some(c) = own_consumer(&web, &s.user, id).await else {
        return not_found(&web);
    };
    confirm(
        &web,
        Ask {
            title: "Delete application",
            question: format!("Delete the OAuth 1.0a application “{}”?", c.name),
            consequence: "Everyone who authorized it loses it at once: every token it holds stops working. This cannot be undone.",
            action: format!("/developer/oauth1/{id}/delete"),
            button: "Delete application",
            back: "/developer#oauth1",
        },
    )
    .await
});

form_action!(developer_oauth1_delete, |web, s, f, id: i64| {
    let Some(c) = own_consumer(&web, &s.user, id).await else {
        return not_found(&web);
    };
    let r = web
        .app
        .store
        .delete_consumer(c.id)
        .await
        .map_err(AdminError::Store)
        .map(|_| Flash::notice(format!("The application “{}” was deleted.", c.name)));
    if r.is_ok() {
        web.audit(
            "oauth1_consumer.delete",
            Some(&s.user),
            None,
            format!("OAuth 1.0a application “{}” ({id}) deleted", c.name),
        )
        .await;
    }
    web.finish(&s, "/developer#oauth1", r, &[]).await
});
