//! Issuing tokens (SPEC §3): a grant and its first tokens are written in one transaction; only
//! keyed hashes are stored, the secrets go to the client once. Lifetimes: access tokens the
//! client's (`0` = until revoked, with no refresh token), refresh tokens 30 days, a family a year.

use super::{
    Client, Flow, Grant, NewGrant, NewToken, TokenKind, FAMILY_TTL_SECS, REFRESH_TTL_SECS,
};
use crate::clock::Timestamp;
use crate::model::{GrantId, SiteId, UserId};
use crate::secrets::{self, Keyring, Purpose, Secret};
use crate::store::{Store, StoreError};

/// What the token endpoint answers with.
#[derive(Debug)]
pub struct Issued {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Seconds until the access token expires; `None` = until revoked.
    pub expires_in: Option<i64>,
    pub scope: String,
    pub grant: Grant,
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub client: &'a Client,
    pub user: UserId,
    pub site: Option<SiteId>,
    pub scope: String,
    pub flow: Flow,
    /// Issue a refresh token too (never when access tokens last until revoked).
    pub refresh: bool,
    /// The access token's lifetime, when not the client's (the implicit grant's 14 days).
    pub access_ttl: Option<i64>,
}

/// Lifetime of an implicit-grant access token (SPEC §3).
pub const IMPLICIT_TTL_SECS: i64 = 14 * 86_400;

/// Records a new grant with an access token (and a refresh token when asked for and allowed).
pub async fn issue(
    store: &dyn Store,
    keys: &Keyring,
    req: Request<'_>,
    now: Timestamp,
) -> Result<Issued, StoreError> {
    let ttl = req.access_ttl.unwrap_or(req.client.access_ttl);
    let expires_in = (ttl > 0).then_some(ttl);
    let access = secrets::mint(secrets::TokenKind::AccessToken);
    let mut tokens = vec![NewToken {
        hash: keys.hash(Purpose::OAuthToken, access.expose_secret()),
        key_version: keys.version,
        kind: TokenKind::Access,
        grant_id: GrantId(0),
        scope: req.scope.clone(),
        expires_at: expires_in.map(|t| now + t),
    }];
    let refresh = (req.refresh && ttl > 0).then(|| secrets::mint(secrets::TokenKind::RefreshToken));
    if let Some(r) = &refresh {
        tokens.push(NewToken {
            hash: keys.hash(Purpose::OAuthToken, r.expose_secret()),
            key_version: keys.version,
            kind: TokenKind::Refresh,
            grant_id: GrantId(0),
            scope: req.scope.clone(),
            expires_at: Some(now + REFRESH_TTL_SECS),
        });
    }
    let grant = NewGrant {
        client_id: req.client.id,
        user_id: req.user,
        site_id: req.site,
        scope: req.scope.clone(),
        flow: req.flow,
        // A family ends a year after it began however often it is refreshed; tokens that last
        // until revoked (`ttl` 0) have no end but revocation.
        expires_at: if ttl == 0 {
            Timestamp::MAX
        } else {
            now + FAMILY_TTL_SECS
        },
    };
    let (grant, _) = store.insert_grant(&grant, &tokens, now).await?;
    Ok(Issued {
        access_token: access,
        refresh_token: refresh,
        expires_in,
        scope: req.scope,
        grant,
    })
}
