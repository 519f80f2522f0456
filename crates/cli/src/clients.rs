//! `gatehouse client add | rotate-secret` and `gatehouse revoke --client | --token-stdin`
//! (SPEC §3, §10). A confidential client's secret is printed once; only its keyed hash is kept.

use crate::credentials::{audit, user_of_flag};
use crate::output::print_json;
use crate::{usage, Failure};
use gatehouse_core::admin::AdminError;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::model::{ClientId, User};
use gatehouse_core::oauth2::clients::ClientSpec;
use gatehouse_core::oauth2::{registry, TokenKind};
use gatehouse_core::secrets::{self, Keyring};
use gatehouse_core::store::{Store, StoreError};

/// An application's owner (`client add`, `oauth1 add`): `--owner`, else the first enabled
/// network admin; `command` names the command in the refusal.
pub(crate) async fn owner(
    s: &dyn Store,
    login: Option<&str>,
    command: &str,
) -> Result<User, Failure> {
    if let Some(l) = login {
        return user_of_flag(s, "--owner", l).await;
    }
    let users = s.list_users(0, 1000).await?;
    users
        .into_iter()
        .find(|u| u.network_admin && !u.disabled)
        .ok_or_else(|| {
            usage(format!(
                "{command} needs --owner LOGIN (there is no network admin to default to)"
            ))
        })
}

/// `client add`.
pub async fn add(
    s: &dyn Store,
    keys: &Keyring,
    spec: &ClientSpec,
    owner_login: Option<&str>,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let owner = owner(s, owner_login, "client add").await?;
    let (client, secret) = registry::register(s, keys, spec, owner.id, now).await?;
    audit(
        s,
        now,
        "oauth2_client.create",
        Some(&owner),
        format!(
            "{} OAuth client “{}” ({}) registered",
            if client.confidential {
                "confidential"
            } else {
                "public"
            },
            client.name,
            client.client_id()
        ),
    )
    .await;
    if json {
        let mut body = serde_json::json!({ "client_id": client.client_id() });
        if let Some(sec) = &secret {
            body["client_secret"] = serde_json::json!(sec.expose_secret());
        }
        print_json(&body);
        return Ok(());
    }
    let kind = if client.confidential {
        "confidential"
    } else {
        "public"
    };
    println!(
        "Registered {kind} client {} “{}”, owned by {}.",
        client.client_id(),
        client.name,
        owner.login
    );
    println!("client_id:     {}", client.client_id());
    match &secret {
        Some(sec) => println!(
            "client_secret: {}  (shown only now; rotate it with `gatehouse client rotate-secret {}`)",
            sec.expose_secret(),
            client.client_id()
        ),
        None => println!("client_secret: none (a public client uses PKCE instead)"),
    }
    println!(
        "grants:        {}",
        client
            .grants
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for u in &client.redirect_uris {
        println!("redirect URI:  {u}");
    }
    println!(
        "token lifetime: {}",
        if client.access_ttl == 0 {
            "until revoked".to_string()
        } else {
            format!("{} seconds", client.access_ttl)
        }
    );
    Ok(())
}

/// The client a `CLIENT_ID` argument names; unknown or malformed is bad input naming it.
fn client_id(flag: &str, v: &str) -> Result<ClientId, Failure> {
    gatehouse_core::oauth2::parse_client_id(v)
        .ok_or_else(|| usage(format!("{flag}{v}: not a client id (a positive number)")))
}

/// `client rotate-secret CLIENT_ID`.
pub async fn rotate_secret(
    s: &dyn Store,
    keys: &Keyring,
    id: &str,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let cid = client_id("", id)?;
    let secret = registry::rotate_secret(s, keys, cid)
        .await
        .map_err(|e| match e {
            AdminError::NotFound(_) => usage(format!("{id}: there is no client with that id")),
            other => other.into(),
        })?;
    let client = s.get_client(cid).await?;
    let owner = s.get_user(client.owner_id).await.ok();
    audit(
        s,
        now,
        "oauth2_client.rotate_secret",
        owner.as_ref(),
        format!("secret of OAuth client “{}” ({id}) rotated", client.name),
    )
    .await;
    if json {
        print_json(&serde_json::json!({ "client_secret": secret.expose_secret() }));
    } else {
        println!(
            "New secret of client {id} “{}” (shown only now; the old one no longer works):",
            client.name
        );
        println!("client_secret: {}", secret.expose_secret());
    }
    Ok(())
}

/// `revoke --client CLIENT_ID`: every live grant of the client, and so every token under them.
pub async fn revoke_client(
    s: &dyn Store,
    id: &str,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let cid = client_id("--client ", id)?;
    let client = match s.get_client(cid).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return Err(usage(format!(
                "--client {id}: there is no client with that id"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let n = s.revoke_client_grants(cid, now).await?;
    let words = format!(
        "revoked {n} authorization{} of OAuth client “{}” ({id}) and every token issued under {}",
        if n == 1 { "" } else { "s" },
        client.name,
        if n == 1 { "it" } else { "them" }
    );
    let owner = s.get_user(client.owner_id).await.ok();
    audit(
        s,
        now,
        "oauth2_client.revoke",
        owner.as_ref(),
        words.clone(),
    )
    .await;
    if json {
        print_json(&serde_json::json!({ "client_id": id, "grants_revoked": n }));
    } else {
        println!("{words}");
    }
    Ok(())
}

/// `revoke --token-stdin`: the access or refresh token read from stdin. A refresh token ends its
/// whole grant (every token issued under it, RFC 7009 §2.1); an access token ends alone.
pub async fn revoke_token(
    s: &dyn Store,
    keys: &Keyring,
    token: &str,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let token = token.trim();
    let kind = secrets::parse(token).map_err(|_| {
        usage(
            "--token-stdin: that is not a Gatehouse access token (gat_…) or refresh token (grt_…)",
        )
    })?;
    if !matches!(
        kind,
        secrets::TokenKind::AccessToken | secrets::TokenKind::RefreshToken
    ) {
        return Err(usage(
            "--token-stdin: only OAuth 2.0 access (gat_…) and refresh (grt_…) tokens are revoked this way; use --api-key-id for API keys",
        ));
    }
    let found = gatehouse_core::authn::find_oauth_token(s, keys, token).await?;
    let Some((m, _)) = found else {
        return Err(usage("--token-stdin: no such token on this server"));
    };
    let (what, done) = match m.token.kind {
        TokenKind::Refresh => (
            "the refresh token and every token of its authorization",
            s.revoke_grant(m.grant.id, now).await?,
        ),
        TokenKind::Access => ("the access token", s.revoke_token(m.token.id, now).await?),
    };
    let words = if done {
        format!(
            "revoked {what} (user {}, client {})",
            m.user.login, m.grant.client_id.0
        )
    } else {
        format!("{what} was already revoked")
    };
    if done {
        audit(s, now, "oauth2_token.revoke", Some(&m.user), words.clone()).await;
    }
    if json {
        print_json(&serde_json::json!({ "revoked": done, "kind": m.token.kind.as_str() }));
    } else {
        println!("{words}");
    }
    Ok(())
}
