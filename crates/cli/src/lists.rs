//! The list commands (SPEC §10): `user list`, `site list`, `api-key list`, `app-password list`.
//! Human output is a table with a header row, times in UTC (the headers say so) and an empty list
//! said in words; `--json` is one object (`{"users":[…]}`, …) in the shapes of `gatehouse_proto`.
//! Never prints a secret or a hash: the store keeps only hashes, and these entries leave them out.
//! Reads only; time comes from the caller (`now`, to tell expired keys).

use crate::output::{print_json, table, utc};
use crate::Failure;
use gatehouse_core::admin;
use gatehouse_core::clock::{rfc3339, Timestamp};
use gatehouse_core::model::{ApiKey, ApiKeyKind, AppPassword, SiteId, User, UserId};
use gatehouse_core::store::{Store, StoreError};
use gatehouse_proto::{
    ApiKeyEntry, ApiKeyList, AppPasswordEntry, AppPasswordList, SiteEntry, SiteList, SiteMember,
    SiteRef, UserEntry, UserList, UserRef,
};
use std::collections::HashMap;

/// Rows per store call when a list is read to its end.
const PAGE: i64 = 500;

/// Logins and site URLs by id, each looked up once.
pub struct Names<'a> {
    store: &'a dyn Store,
    users: HashMap<UserId, UserRef>,
    sites: HashMap<SiteId, SiteRef>,
}

impl<'a> Names<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Names {
            store,
            users: HashMap::new(),
            sites: HashMap::new(),
        }
    }

    pub async fn user(&mut self, id: UserId) -> Result<UserRef, Failure> {
        if let Some(u) = self.users.get(&id) {
            return Ok(u.clone());
        }
        let r = match self.store.get_user(id).await {
            Ok(u) => UserRef {
                id: u.id.0,
                login: u.login,
            },
            Err(StoreError::NotFound) => UserRef {
                id: id.0,
                login: format!("#{}", id.0),
            },
            Err(e) => return Err(e.into()),
        };
        self.users.insert(id, r.clone());
        Ok(r)
    }

    pub async fn site(&mut self, id: SiteId) -> Result<SiteRef, Failure> {
        if let Some(s) = self.sites.get(&id) {
            return Ok(s.clone());
        }
        let r = match self.store.get_site(id).await {
            Ok(s) => SiteRef {
                id: s.id.0,
                url: s.url,
            },
            Err(StoreError::NotFound) => SiteRef {
                id: id.0,
                url: format!("(deleted site {})", id.0),
            },
            Err(e) => return Err(e.into()),
        };
        self.sites.insert(id, r.clone());
        Ok(r)
    }
}

pub fn user_ref(u: &User) -> UserRef {
    UserRef {
        id: u.id.0,
        login: u.login.clone(),
    }
}

/// An API key as listed and as reported by `revoke`: everything but the secret and its hash.
pub async fn key_entry(names: &mut Names<'_>, k: &ApiKey) -> Result<ApiKeyEntry, Failure> {
    let user = match k.user_id {
        Some(u) => Some(names.user(u).await?),
        None => None,
    };
    let site = match k.site_id {
        Some(s) => Some(names.site(s).await?),
        None => None,
    };
    Ok(ApiKeyEntry {
        id: k.id.0,
        kind: k.kind.as_str().to_string(),
        description: k.description.clone(),
        user,
        site,
        created_by: names.user(k.created_by).await?,
        scopes: k
            .scopes
            .as_ref()
            .map(|s| s.iter().map(|x| x.as_str().to_string()).collect()),
        methods: k.methods.clone(),
        created: rfc3339(k.created_at),
        last_used: k.last_used_at.map(rfc3339),
        last_ip: k.last_ip.clone(),
        expires: k.expires_at.map(rfc3339),
        revoked: k.revoked_at.map(rfc3339),
    })
}

pub fn app_password_entry(p: &AppPassword) -> AppPasswordEntry {
    AppPasswordEntry {
        uuid: p.uuid.clone(),
        name: p.name.clone(),
        app_id: p.app_id.clone(),
        created: rfc3339(p.created_at),
        last_used: p.last_used_at.map(rfc3339),
        last_ip: p.last_ip.clone(),
    }
}

/// A key in words, for one line of output: `API key 3 "ci"`, `API key 3 "ci" of dave`,
/// `site key 5 "mirror" of site https://blog.example (created by alice)`. The user a user key acts
/// as is named unless it is `subject` (the user the whole command is about).
pub fn describe_key(e: &ApiKeyEntry, subject: Option<i64>) -> String {
    if e.kind == ApiKeyKind::Site.as_str() {
        let site = e.site.as_ref().map(|s| s.url.as_str()).unwrap_or("?");
        return format!(
            "site key {} {:?} of site {site} (created by {})",
            e.id, e.description, e.created_by.login
        );
    }
    let mut out = format!("API key {} {:?}", e.id, e.description);
    if let Some(u) = &e.user {
        if Some(u.id) != subject {
            out.push_str(&format!(" of {}", u.login));
        }
        if e.created_by.id != u.id {
            out.push_str(&format!(" (created by {})", e.created_by.login));
        }
    }
    out
}

async fn all_users(s: &dyn Store) -> Result<Vec<User>, Failure> {
    let mut out = Vec::new();
    loop {
        let page = s.list_users(out.len() as i64, PAGE).await?;
        let done = (page.len() as i64) < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub async fn users(s: &dyn Store, json: bool) -> Result<(), Failure> {
    let users = all_users(s).await?;
    if json {
        print_json(&UserList {
            users: users
                .iter()
                .map(|u| UserEntry {
                    id: u.id.0,
                    login: u.login.clone(),
                    email: u.email.clone(),
                    display_name: u.display_name.clone(),
                    network_admin: u.network_admin,
                    disabled: u.disabled,
                    created: rfc3339(u.created_at),
                })
                .collect(),
        });
    } else if users.is_empty() {
        println!(
            "There are no users yet. Add one with: gatehouse user add LOGIN --email EMAIL --password-stdin"
        );
    } else {
        let rows: Vec<Vec<String>> = users
            .iter()
            .map(|u| {
                vec![
                    u.id.0.to_string(),
                    u.login.clone(),
                    u.email.clone(),
                    u.display_name.clone(),
                    yes(u.network_admin),
                    yes(u.disabled),
                    utc(u.created_at),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "ID",
                    "LOGIN",
                    "EMAIL",
                    "DISPLAY NAME",
                    "NETWORK ADMIN",
                    "DISABLED",
                    "CREATED (UTC)",
                ],
                &rows
            )
        );
    }
    Ok(())
}

pub async fn sites(s: &dyn Store, json: bool) -> Result<(), Failure> {
    let mut sites = Vec::new();
    loop {
        let (page, _) = s.list_sites(None, sites.len() as i64, PAGE).await?;
        let done = (page.len() as i64) < PAGE;
        sites.extend(page);
        if done {
            break;
        }
    }
    let mut names = Names::new(s);
    let mut entries = Vec::with_capacity(sites.len());
    for site in &sites {
        let mut members = Vec::new();
        loop {
            let (page, _) = s
                .list_site_users(site.id, false, members.len() as i64, PAGE)
                .await?;
            let done = (page.len() as i64) < PAGE;
            members.extend(page.into_iter().map(|(u, role)| SiteMember {
                id: u.id.0,
                login: u.login,
                role: role.as_str().to_string(),
            }));
            if done {
                break;
            }
        }
        entries.push(SiteEntry {
            id: site.id.0,
            name: site.name.clone(),
            url: site.url.clone(),
            require_auth: site.require_auth,
            owner: names.user(site.owner_id).await?,
            members,
        });
    }
    if json {
        print_json(&SiteList { sites: entries });
    } else if entries.is_empty() {
        println!(
            "There are no sites yet. Add one with: gatehouse site add NAME --url URL --owner LOGIN"
        );
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                let members = e
                    .members
                    .iter()
                    .map(|m| format!("{} ({})", m.login, m.role))
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![
                    e.id.to_string(),
                    e.name.clone(),
                    e.url.clone(),
                    yes(e.require_auth),
                    e.owner.login.clone(),
                    if members.is_empty() {
                        "none".into()
                    } else {
                        members
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "ID",
                    "NAME",
                    "URL",
                    "REQUIRE AUTH",
                    "OWNER",
                    "MEMBERS (ROLE)"
                ],
                &rows
            )
        );
    }
    Ok(())
}

pub async fn api_keys(
    s: &dyn Store,
    user: Option<&str>,
    site: Option<&str>,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let user = match user {
        Some(l) => Some(crate::credentials::user_of_flag(s, "--user", l).await?),
        None => None,
    };
    let site = match site {
        Some(x) => Some(admin::find_site(s, x).await?),
        None => None,
    };
    let keys = s
        .list_all_api_keys(user.as_ref().map(|u| u.id), site.as_ref().map(|x| x.id))
        .await?;
    let mut names = Names::new(s);
    let mut entries = Vec::with_capacity(keys.len());
    for k in &keys {
        entries.push(key_entry(&mut names, k).await?);
    }
    if json {
        print_json(&ApiKeyList { api_keys: entries });
        return Ok(());
    }
    if entries.is_empty() {
        match (&user, &site) {
            (Some(u), _) => println!("{} has no API keys.", u.login),
            (_, Some(x)) => println!("{} has no API keys.", x.url),
            _ => println!("There are no API keys on this server."),
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .zip(&entries)
        .map(|(k, e)| {
            let who = match (&e.user, k.kind) {
                (_, ApiKeyKind::Site) => format!("(created by {})", e.created_by.login),
                (Some(u), _) => u.login.clone(),
                (None, _) => "-".into(),
            };
            let scopes = match (&e.scopes, k.kind) {
                (_, ApiKeyKind::Site) => "read-only".to_string(),
                (Some(s), _) => s.join(" "),
                (None, _) => "all".to_string(),
            };
            let status = match (k.revoked_at, k.expires_at) {
                (Some(t), _) => format!("revoked {}", utc(t)),
                (None, Some(t)) if t <= now => "expired".to_string(),
                _ => "active".to_string(),
            };
            vec![
                e.id.to_string(),
                e.kind.clone(),
                e.description.clone(),
                who,
                e.site
                    .as_ref()
                    .map(|x| x.url.clone())
                    .unwrap_or_else(|| "any".into()),
                scopes,
                utc(k.created_at),
                k.last_used_at.map(utc).unwrap_or_else(|| "never".into()),
                k.expires_at.map(utc).unwrap_or_else(|| "never".into()),
                status,
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "ID",
                "KIND",
                "DESCRIPTION",
                "USER",
                "SITE",
                "SCOPES",
                "CREATED (UTC)",
                "LAST USED (UTC)",
                "EXPIRES (UTC)",
                "STATUS",
            ],
            &rows
        )
    );
    Ok(())
}

pub async fn app_passwords(s: &dyn Store, login: &str, json: bool) -> Result<(), Failure> {
    let user = crate::credentials::user_of_flag(s, "--user", login).await?;
    let list = s.list_app_passwords(user.id).await?;
    if json {
        print_json(&AppPasswordList {
            user: user_ref(&user),
            app_passwords: list.iter().map(app_password_entry).collect(),
        });
    } else if list.is_empty() {
        println!("{} has no application passwords.", user.login);
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|p| {
                vec![
                    p.uuid.clone(),
                    p.name.clone(),
                    utc(p.created_at),
                    p.last_used_at.map(utc).unwrap_or_else(|| "never".into()),
                    p.last_ip.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "UUID",
                    "NAME",
                    "CREATED (UTC)",
                    "LAST USED (UTC)",
                    "LAST IP"
                ],
                &rows
            )
        );
    }
    Ok(())
}
