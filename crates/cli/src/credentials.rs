//! Credential commands (SPEC §5, §10): `api-key create`, `app-password create` and `revoke`.
//! A site key is attributed to an administrator it depends on (the site's owner, or
//! `--created-by`) and says so; `revoke` lists what it ends and ends exactly those, by id, so its
//! report cannot disagree with what it did. Secrets are minted by `core::credentials` and printed
//! once. Time: the caller's `now`.

use crate::lists::{app_password_entry, describe_key, key_entry, user_ref, Names};
use crate::output::{and_list, count, print_json, utc};
use crate::{usage, Failure};
use gatehouse_core::admin;
use gatehouse_core::caps::{Cap, Role};
use gatehouse_core::clock::Timestamp;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::model::{ApiKeyId, ApiKeyKind, Site, User};
use gatehouse_core::secrets::Keyring;
use gatehouse_core::store::{AuditEvent, Store, StoreError};
use gatehouse_proto::RevokeReport;

/// Writes an audit event for something done from the command line (no actor, no address).
/// A failed write is reported and does not undo the change.
pub async fn audit(
    s: &dyn Store,
    now: Timestamp,
    event: &str,
    target: Option<&User>,
    detail: String,
) {
    let e = AuditEvent {
        at: now,
        event: event.into(),
        user_id: None,
        login: None,
        // No account acted: the audit view's "From" says where it came from.
        address: Some("command line".into()),
        detail,
        target_user_id: target.map(|u| u.id),
    };
    if let Err(err) = s.insert_audit(&e).await {
        eprintln!("warning: could not write the audit log: {err}");
    }
}

/// The account a `--user`-like flag names; an unknown one is bad input naming the flag.
pub async fn user_of_flag(s: &dyn Store, flag: &str, login: &str) -> Result<User, Failure> {
    match admin::find_user(s, login).await {
        Ok(u) => Ok(u),
        Err(gatehouse_core::admin::AdminError::NotFound(_)) => Err(usage(format!(
            "{flag} {login}: there is no user with that login or email"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `editor` → `an editor`.
fn with_article(role: Role) -> String {
    let r = role.as_str();
    let article = if r.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {r}")
}

/// What keeps a site key made by its creator working (SPEC §5: an enabled administrator of the
/// site, or a network admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Administrator,
    NetworkAdmin,
    Both,
}

impl Standing {
    /// How the creator relates to the site, for `created by alice (…)`.
    fn relation(self, is_owner: bool) -> &'static str {
        match (is_owner, self) {
            (true, _) => "the site's owner",
            (false, Standing::NetworkAdmin) => "a network admin",
            (false, _) => "an administrator of the site",
        }
    }

    fn condition(self, login: &str) -> String {
        match self {
            Standing::Administrator => format!("it works only while {login} administers the site"),
            Standing::NetworkAdmin => {
                format!("it works only while {login} is a network admin or administers the site")
            }
            Standing::Both => {
                format!("it works only while {login} administers the site or is a network admin")
            }
        }
    }
}

/// Whether a site key made by `who` would work on `site`; if not, why not, in words.
async fn site_key_standing(s: &dyn Store, who: &User, site: &Site) -> Result<Standing, Failure> {
    let role = s.find_role(site.id, who.id).await?;
    let criterion = "a site key works only while its creator is an enabled administrator of its site or a network admin";
    if who.disabled {
        return Err(usage(format!(
            "{}'s account is disabled; {criterion}",
            who.login
        )));
    }
    let administers = role.is_some_and(|r| r.caps().has(Cap::ManageOptions));
    match (administers, who.network_admin) {
        (true, true) => return Ok(Standing::Both),
        (true, false) => return Ok(Standing::Administrator),
        (false, true) => return Ok(Standing::NetworkAdmin),
        (false, false) => {}
    }
    let has = match role {
        Some(r) => format!("is {} of {}", with_article(r), site.url),
        None => format!("has no role on {}", site.url),
    };
    Err(usage(format!(
        "{} {has}, not an administrator; {criterion}",
        who.login
    )))
}

/// The arguments of `api-key create` after the input checks.
pub struct CreateKey {
    pub spec: ApiKeySpec,
    pub user: Option<String>,
    pub site: Option<String>,
    pub created_by: Option<String>,
    pub json: bool,
}

pub async fn create_api_key(
    s: &dyn Store,
    keys: &Keyring,
    args: CreateKey,
    now: Timestamp,
) -> Result<(), Failure> {
    let CreateKey {
        mut spec,
        user,
        site,
        created_by,
        json,
    } = args;
    let user = match &user {
        Some(l) => Some(user_of_flag(s, "--user", l).await?),
        None => None,
    };
    let site = match &site {
        Some(x) => Some(admin::find_site(s, x).await?),
        None => None,
    };
    spec.user = user.as_ref().map(|u| u.id);
    spec.site = site.as_ref().map(|x| x.id);
    // A site key depends on its creator's standing on the site: name them, and refuse one that
    // could never work.
    let mut attribution = None;
    spec.created_by = match (&user, &site) {
        (Some(u), _) => u.id,
        (None, Some(x)) => {
            let creator = match &created_by {
                Some(l) => match admin::find_user(s, l).await {
                    Ok(u) => u,
                    Err(admin::AdminError::NotFound(_)) => {
                        return Err(usage(format!(
                            "--created-by {l}: there is no user with that login or email"
                        )))
                    }
                    Err(e) => return Err(e.into()),
                },
                None => s.get_user(x.owner_id).await?,
            };
            let standing = match (site_key_standing(s, &creator, x).await, &created_by) {
                (Ok(st), _) => st,
                (Err(f), _) if f.code != 2 => return Err(f),
                (Err(f), Some(l)) => return Err(usage(format!("--created-by {l}: {}", f.message))),
                (Err(f), None) => {
                    return Err(usage(format!(
                        "the site's owner {}; name an administrator of {} with --created-by LOGIN",
                        f.message, x.url
                    )))
                }
            };
            attribution = Some(format!(
                "for {}, created by {} ({}); {}",
                x.url,
                creator.login,
                standing.relation(creator.id == x.owner_id),
                standing.condition(&creator.login)
            ));
            creator.id
        }
        (None, None) => return Err(usage("api-key create needs --user or --site")),
    };
    let (key, secret) = credentials::create_api_key(s, keys, &spec, now).await?;
    let mut names = Names::new(s);
    let entry = key_entry(&mut names, &key).await?;
    audit(
        s,
        now,
        "api_key.create",
        user.as_ref(),
        format!(
            "{} “{}” (#{}) created",
            key.kind.words(),
            key.description,
            key.id.0
        ),
    )
    .await;
    if json {
        if let Some(a) = &attribution {
            eprintln!("note: site key {} {a}", key.id.0);
        }
        print_json(&serde_json::json!({ "id": key.id.0, "key": secret.expose_secret() }));
        return Ok(());
    }
    match key.kind {
        ApiKeyKind::Site => println!(
            "Created site key {} {:?} {}.",
            key.id.0,
            entry.description,
            attribution.unwrap_or_default()
        ),
        ApiKeyKind::User => {
            let mut limits = Vec::new();
            if let Some(x) = &entry.site {
                limits.push(format!("only on {}", x.url));
            }
            if let Some(sc) = &entry.scopes {
                limits.push(format!("scopes {}", sc.join(" ")));
            }
            if let Some(m) = &entry.methods {
                limits.push(format!("methods {}", m.join(" ")));
            }
            if let Some(t) = key.expires_at {
                limits.push(format!("expires {} UTC", utc(t)));
            }
            let limits = if limits.is_empty() {
                String::new()
            } else {
                format!(" ({})", limits.join("; "))
            };
            println!(
                "Created {} for {}{limits}.",
                describe_key(&entry, spec.user.map(|u| u.0)),
                user.as_ref().map(|u| u.login.as_str()).unwrap_or("?")
            );
        }
    }
    println!(
        "The key is shown only now; store it somewhere safe:\n{}",
        secret.expose_secret()
    );
    Ok(())
}

/// `revoke --api-key-id ID`.
pub async fn revoke_key(s: &dyn Store, id: i64, json: bool, now: Timestamp) -> Result<(), Failure> {
    let key = match s.get_api_key(ApiKeyId(id)).await {
        Ok(k) => k,
        Err(StoreError::NotFound) => {
            return Err(usage(format!(
                "--api-key-id {id}: no active API key with that id (see gatehouse api-key list)"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(t) = key.revoked_at {
        return Err(usage(format!(
            "--api-key-id {id}: no active API key with that id; it was revoked on {} UTC",
            utc(t)
        )));
    }
    if !s.revoke_api_key(key.id, now).await? {
        return Err(usage(format!(
            "--api-key-id {id}: no active API key with that id; it was revoked just now"
        )));
    }
    let mut names = Names::new(s);
    let mut revoked = key.clone();
    revoked.revoked_at = Some(now);
    let entry = key_entry(&mut names, &revoked).await?;
    let subject = match key.user_id {
        Some(u) => s.get_user(u).await.ok(),
        None => None,
    };
    audit(
        s,
        now,
        "api_key.revoke",
        subject.as_ref(),
        format!("{} “{}” (#{id}) revoked", key.kind.words(), key.description),
    )
    .await;
    if json {
        print_json(&RevokeReport {
            user: None,
            api_keys: vec![entry],
            app_passwords: Vec::new(),
            oauth_grants: Vec::new(),
            oauth1_tokens: Vec::new(),
            sessions_ended: 0,
        });
    } else {
        println!("revoked {}", describe_key(&entry, None));
    }
    Ok(())
}

/// How often `revoke --user` lists again, to catch credentials created while it was revoking.
const REVOKE_PASSES: usize = 3;

/// `revoke --user LOGIN`: every API key acting as or created by the user (their user keys and
/// the site keys attributed to them), every application password, every session.
pub async fn revoke_user(
    s: &dyn Store,
    login: &str,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let user = user_of_flag(s, "--user", login).await?;
    let mut names = Names::new(s);
    let mut keys = Vec::new();
    for _ in 0..REVOKE_PASSES {
        // The same rows `revoke_user_api_keys` would revoke (`user_id` or `created_by`), ended
        // one by one so that the report is exactly what was revoked.
        let mut listed = s.list_api_keys(user.id).await?;
        if listed.is_empty() {
            break;
        }
        // User keys first, then site keys; oldest first within each.
        listed.sort_by_key(|k| (k.kind == ApiKeyKind::Site, k.id.0));
        for mut k in listed {
            if s.revoke_api_key(k.id, now).await? {
                k.revoked_at = Some(now);
                keys.push(key_entry(&mut names, &k).await?);
            }
        }
    }
    let mut passwords = Vec::new();
    for _ in 0..REVOKE_PASSES {
        let listed = s.list_app_passwords(user.id).await?;
        if listed.is_empty() {
            break;
        }
        for p in listed {
            if s.delete_app_password(user.id, &p.uuid).await? {
                passwords.push(app_password_entry(&p));
            }
        }
    }
    let mut grants = Vec::new();
    for _ in 0..REVOKE_PASSES {
        let listed = s.list_user_grants(user.id, now).await?;
        if listed.is_empty() {
            break;
        }
        for (g, name) in listed {
            if s.revoke_user_grant(user.id, g.id, now).await? {
                grants.push(gatehouse_proto::GrantEntry {
                    id: g.id.0,
                    client_id: g.client_id.0.to_string(),
                    client_name: name,
                });
            }
        }
    }
    let mut oauth1 = Vec::new();
    for _ in 0..REVOKE_PASSES {
        let listed = s.list_user_oauth1(user.id).await?;
        if listed.is_empty() {
            break;
        }
        for a in listed {
            if s.revoke_oauth1_token(Some(user.id), a.token.id, now)
                .await?
            {
                oauth1.push(gatehouse_proto::Oauth1Entry {
                    id: a.token.id.0,
                    consumer_id: a.consumer.id.0,
                    app_name: a.consumer.name,
                });
            }
        }
    }
    // Request tokens the user approved but the app has not exchanged yet end too.
    s.revoke_user_oauth1(user.id, now).await?;
    let sessions = admin::end_sessions(s, user.id, now).await?;

    let user_keys = keys.iter().filter(|k| k.kind == "user").count();
    let site_keys = keys.len() - user_keys;
    let mut parts = Vec::new();
    if user_keys > 0 {
        parts.push(count(user_keys, "API key", "API keys"));
    }
    if site_keys > 0 {
        parts.push(count(site_keys, "site key", "site keys"));
    }
    if !passwords.is_empty() {
        parts.push(count(
            passwords.len(),
            "application password",
            "application passwords",
        ));
    }
    if !grants.is_empty() {
        parts.push(count(
            grants.len(),
            "OAuth authorization",
            "OAuth authorizations",
        ));
    }
    if !oauth1.is_empty() {
        parts.push(count(
            oauth1.len(),
            "OAuth 1.0a authorization",
            "OAuth 1.0a authorizations",
        ));
    }
    let sessions_text = count(sessions as usize, "session", "sessions");
    let summary = match (parts.is_empty(), sessions) {
        (true, 0) => format!("{} had no credentials to revoke.", user.login),
        (true, _) => format!(
            "{}: ended {sessions_text}; there were no API keys, application passwords or OAuth authorizations to revoke.",
            user.login
        ),
        (false, 0) => format!("{}: revoked {}.", user.login, and_list(&parts)),
        (false, _) => format!(
            "{}: revoked {}; ended {sessions_text}.",
            user.login,
            and_list(&parts)
        ),
    };
    audit(
        s,
        now,
        "credentials.revoke_all",
        Some(&user),
        summary.clone(),
    )
    .await;
    if json {
        print_json(&RevokeReport {
            user: Some(user_ref(&user)),
            api_keys: keys,
            app_passwords: passwords,
            oauth_grants: grants,
            oauth1_tokens: oauth1,
            sessions_ended: sessions,
        });
        return Ok(());
    }
    for k in &keys {
        println!("revoked {}", describe_key(k, Some(user.id.0)));
    }
    for p in &passwords {
        println!("revoked application password {:?}", p.name);
    }
    for g in &grants {
        println!(
            "revoked OAuth authorization of {:?} (client {}) and its tokens",
            g.client_name, g.client_id
        );
    }
    for a in &oauth1 {
        println!(
            "revoked OAuth 1.0a authorization of {:?} (application {})",
            a.app_name, a.consumer_id
        );
    }
    if sessions > 0 {
        println!("ended {sessions_text}");
    }
    println!("{summary}");
    Ok(())
}

/// `app-password create`.
pub async fn create_app_password(
    s: &dyn Store,
    keys: &Keyring,
    login: &str,
    name: &str,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let user = user_of_flag(s, "--user", login).await?;
    let (pw, secret) = credentials::create_app_password(s, keys, user.id, name, "", now).await?;
    let grouped = gatehouse_core::secrets::group_app_password(secret.expose_secret());
    audit(
        s,
        now,
        "app_password.create",
        Some(&user),
        format!("application password “{}” created", pw.name),
    )
    .await;
    if json {
        print_json(&serde_json::json!({ "uuid": pw.uuid, "password": grouped }));
    } else {
        println!(
            "Created application password {:?} for {} ({}). It is shown only now:\n{grouped}",
            pw.name, user.login, pw.uuid
        );
    }
    Ok(())
}
