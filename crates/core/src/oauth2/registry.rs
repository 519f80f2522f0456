//! Registering clients and rotating their secrets (SPEC §3, §10), shared by the CLI, the developer
//! page and the JSON API. A confidential client's secret (`gcs_`) is minted here, stored as a
//! keyed hash, and returned once.

use super::clients::{validate, ClientSpec};
use super::{Client, NewClient, StoredSecret};
use crate::admin::AdminError;
use crate::clock::Timestamp;
use crate::model::{ClientId, UserId};
use crate::secrets::{self, Keyring, Purpose, Secret};
use crate::store::{Store, StoreError};

fn new_secret(keys: &Keyring) -> (Secret, StoredSecret) {
    let secret = secrets::mint(secrets::TokenKind::ClientSecret);
    let stored = StoredSecret {
        hash: keys.hash(Purpose::ClientSecret, secret.expose_secret()),
        key_version: keys.version,
    };
    (secret, stored)
}

/// Registers a client owned by `owner`; a confidential client's secret comes back once.
pub async fn register(
    store: &dyn Store,
    keys: &Keyring,
    spec: &ClientSpec,
    owner: UserId,
    now: Timestamp,
) -> Result<(Client, Option<Secret>), AdminError> {
    let valid = validate(spec)?;
    let (secret, stored) = match valid.confidential {
        true => {
            let (s, st) = new_secret(keys);
            (Some(s), Some(st))
        }
        false => (None, None),
    };
    let new = NewClient {
        name: valid.name,
        description: valid.description,
        owner_id: owner,
        confidential: valid.confidential,
        redirect_uris: valid.redirect_uris,
        grants: valid.grants,
        access_ttl: valid.access_ttl,
        introspect_any: valid.introspect_any,
        secret: stored,
    };
    let client = store
        .insert_client(&new, now)
        .await
        .map_err(AdminError::Store)?;
    Ok((client, secret))
}

/// Replaces a confidential client's secret; the old one stops working at once. Tokens already
/// issued are not affected (revoke them with the client's grants).
pub async fn rotate_secret(
    store: &dyn Store,
    keys: &Keyring,
    id: ClientId,
) -> Result<Secret, AdminError> {
    let client = match store.get_client(id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(AdminError::NotFound(format!("client {}", id.0))),
        Err(e) => return Err(AdminError::Store(e)),
    };
    if !client.confidential {
        return Err(AdminError::Invalid(format!(
            "client {} is public: it has no secret to rotate",
            id.0
        )));
    }
    let (secret, stored) = new_secret(keys);
    if !store
        .set_client_secret(id, &stored)
        .await
        .map_err(AdminError::Store)?
    {
        return Err(AdminError::NotFound(format!("client {}", id.0)));
    }
    Ok(secret)
}

/// Replaces a client's redirect URIs, under the registration rules; a client that redirects
/// keeps at least one.
pub async fn set_redirect_uris(
    store: &dyn Store,
    client: &Client,
    uris: &[String],
) -> Result<Vec<String>, AdminError> {
    let spec = super::clients::ClientSpec {
        name: client.name.clone(),
        description: client.description.clone(),
        public: !client.confidential,
        redirect_uris: uris.to_vec(),
        grants: client
            .grants
            .iter()
            .map(|g| g.as_str().to_string())
            .collect(),
        allow_implicit: false,
        token_ttl: Some(client.access_ttl),
        introspect_any: client.introspect_any,
    };
    let valid = validate(&spec)?;
    if !store
        .set_client_redirect_uris(client.id, &valid.redirect_uris)
        .await
        .map_err(AdminError::Store)?
    {
        return Err(AdminError::NotFound(format!("client {}", client.id.0)));
    }
    Ok(valid.redirect_uris)
}
