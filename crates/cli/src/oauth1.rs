//! `gatehouse oauth1 add | list | delete` (SPEC §8, §10): OAuth 1.0a applications ("consumers").
//! `add` answers as the WP-API plugin's `wp oauth1 add` does — `ID:`, `Key:`, `Secret:` on three
//! lines — or `{"id","key","secret"}` with `--json`. The secret is stored sealed.

use crate::credentials::audit;
use crate::output::{print_json, table, utc};
use crate::{usage, Failure};
use gatehouse_core::clock::{rfc3339, Timestamp};
use gatehouse_core::oauth1::{self, ConsumerId, ConsumerSpec};
use gatehouse_core::secrets::Keyring;
use gatehouse_core::store::Store;

/// `oauth1 add`.
pub async fn add(
    s: &dyn Store,
    keys: &Keyring,
    spec: &ConsumerSpec,
    owner_login: Option<&str>,
    json: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    let owner = crate::clients::owner(s, owner_login, "oauth1 add").await?;
    let (c, secret) = oauth1::register(s, keys, spec, owner.id, now).await?;
    audit(
        s,
        now,
        "oauth1_consumer.create",
        Some(&owner),
        format!(
            "OAuth 1.0a application “{}” ({}) registered",
            c.name, c.id.0
        ),
    )
    .await;
    if json {
        print_json(&gatehouse_proto::Oauth1ConsumerCreated {
            id: c.id.0,
            key: c.key,
            secret: secret.expose_secret().to_string(),
        });
    } else {
        println!("ID: {}", c.id.0);
        println!("Key: {}", c.key);
        println!("Secret: {}", secret.expose_secret());
    }
    Ok(())
}

/// `oauth1 list`.
pub async fn list(s: &dyn Store, json: bool) -> Result<(), Failure> {
    let consumers = s.list_consumers(None).await?;
    let mut owners = Vec::new();
    for c in &consumers {
        owners.push(s.get_user(c.owner_id).await?);
    }
    if json {
        let rows: Vec<_> = consumers
            .iter()
            .zip(&owners)
            .map(|(c, o)| {
                serde_json::json!({
                    "id": c.id.0,
                    "key": c.key,
                    "name": c.name,
                    "description": c.description,
                    "callback": c.callback,
                    "owner": { "id": o.id.0, "login": o.login },
                    "created": rfc3339(c.created_at),
                })
            })
            .collect();
        print_json(&serde_json::json!({ "applications": rows }));
        return Ok(());
    }
    if consumers.is_empty() {
        println!(
            "No OAuth 1.0a applications. Register one with `gatehouse oauth1 add --name NAME`."
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = consumers
        .iter()
        .zip(&owners)
        .map(|(c, o)| {
            vec![
                c.id.0.to_string(),
                c.key.clone(),
                c.name.clone(),
                o.login.clone(),
                c.callback.clone().unwrap_or_else(|| "oob only".into()),
                utc(c.created_at),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &["ID", "KEY", "NAME", "OWNER", "CALLBACK", "CREATED (UTC)"],
            &rows
        )
    );
    Ok(())
}

/// `oauth1 delete ID`: the application and every token it holds.
pub async fn delete(s: &dyn Store, id: i64, json: bool, now: Timestamp) -> Result<(), Failure> {
    let c = match s.get_consumer(ConsumerId(id)).await {
        Ok(c) => c,
        Err(gatehouse_core::store::StoreError::NotFound) => {
            return Err(usage(format!(
                "there is no OAuth 1.0a application {id} (see `gatehouse oauth1 list`)"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    s.delete_consumer(c.id).await?;
    audit(
        s,
        now,
        "oauth1_consumer.delete",
        None,
        format!(
            "OAuth 1.0a application “{}” ({}) deleted with its tokens",
            c.name, c.id.0
        ),
    )
    .await;
    if json {
        print_json(&serde_json::json!({ "id": c.id.0, "deleted": true }));
    } else {
        println!(
            "Deleted OAuth 1.0a application {} “{}” and every token it held.",
            c.id.0, c.name
        );
    }
    Ok(())
}
