//! Checking what a request presents (SPEC §2, §4, §5), as domain answers the server turns into
//! each dialect's words and the log-in page into its own:
//! - the account password: under the throttle (consulted before any hashing, every failure
//!   counted, a burst audited) and the Argon2id concurrency cap; unknown users cost a dummy check,
//!   so unknown name, wrong password and disabled account are one answer in the same time;
//! - an application password: one keyed hash and one indexed look-up, bound to the name given;
//! - an API key: checksum, one keyed hash and one indexed look-up; a site key lives only while its
//!   creator is an enabled administrator of its site.
//!
//! Nothing here writes on success except clearing the throttle pair after an Argon2id check; use
//! of a key or application password is reported (`touch_due`) for the caller to record off the
//! request path. Time comes from the caller.

use crate::caps::Cap;
use crate::clock::Timestamp;
use crate::credentials::use_is_due;
use crate::model::{
    ApiKeyId, ApiKeyKind, ClientId, Constraints, Credential, Principal, Scope, User, UserId,
};
use crate::net::throttle_group;
use crate::secrets::{self, hashes_equal, Keyring, Purpose, TokenKind};
use crate::store::{
    ApiKeyMatch, AppPasswordMatch, AuditEvent, Settled, Store, StoreError, TokenMatch,
};
use crate::throttle::{self, Gate, Standing, ThrottlePolicy};
use async_trait::async_trait;
use std::net::IpAddr;

/// Why a presented credential was not accepted.
#[derive(Debug)]
pub enum Refusal {
    /// Unknown name, wrong secret, disabled account, revoked, expired or malformed key: one answer.
    Incorrect,
    /// This name from this address (or the address) failed too often: try after `retry_after`
    /// seconds.
    Throttled {
        retry_after: i64,
    },
    /// Every password-hashing permit is in use right now.
    Busy,
    /// A Gatehouse secret of another kind than the one checked (an access token presented as an
    /// API key): refused in that kind's own words.
    WrongKind(TokenKind),
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}

/// Runs one Argon2id verification off the request path under the operator's concurrency cap.
#[async_trait]
pub trait PasswordHashing: Send + Sync {
    /// Verifies `presented` against `stored`, or against a dummy hash when there is no account
    /// (same cost). `Err(Refusal::Busy)` when no permit is free now.
    async fn verify(&self, stored: Option<String>, presented: String) -> Result<bool, Refusal>;
    /// Waits for this attempt's turn at the head of this process's line of attempts at the
    /// throttle pair `pair` (first come, first served, like the Argon2id queue); the guard holds
    /// the place. `None` when the wait ran out (about a second).
    async fn line_up(&self, pair: &str) -> Option<Box<dyn Send>>;
    /// Waits a moment before the head of a line asks the database again (`ADMIT_PAUSE` in the
    /// server).
    async fn pause(&self);
}

/// How many pauses the head of a line waits for room in its pair's budget before it is refused
/// as busy (with the server's 10 ms pause, about a second — as long as a wait for an Argon2id
/// turn).
pub const ADMIT_PAUSES: u32 = 100;

/// Where the checks find a credential by its keyed hash: the store itself, or a cache in front of
/// it (the server's, dropped whenever the store's change counter moves). A cache returns the
/// stored row with `last_used_at` as this instance last recorded it, so a use is reported as due
/// once per interval however many requests share it.
#[async_trait]
pub trait Lookup: Send + Sync {
    async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyMatch>, StoreError>;
    async fn app_password(&self, hash: &str) -> Result<Option<AppPasswordMatch>, StoreError>;
    /// An access or refresh token by hash; only access tokens may be served from a cache.
    async fn access_token(&self, hash: &str) -> Result<Option<TokenMatch>, StoreError>;
    /// An OAuth 2.0 client with its stored secret, by id.
    async fn client(&self, id: ClientId) -> Result<Option<ClientAuth>, StoreError>;
}

/// A client and its stored secret (`None`: a public client).
pub type ClientAuth = (crate::oauth2::Client, Option<crate::oauth2::StoredSecret>);

/// The store itself, held the way a server holds it: look-ups that do not come from a cache.
#[async_trait]
impl Lookup for std::sync::Arc<dyn Store> {
    async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyMatch>, StoreError> {
        self.find_api_key_by_hash(hash).await
    }
    async fn app_password(&self, hash: &str) -> Result<Option<AppPasswordMatch>, StoreError> {
        self.find_app_password_by_hash(hash).await
    }
    async fn access_token(&self, hash: &str) -> Result<Option<TokenMatch>, StoreError> {
        self.find_token_by_hash(hash).await
    }
    async fn client(&self, id: ClientId) -> Result<Option<ClientAuth>, StoreError> {
        self.find_client_auth(id).await
    }
}

/// What the checks need: the store, the keyring, the throttle policy and the password hasher.
pub struct Checker<'a> {
    pub store: &'a dyn Store,
    /// Credential look-ups by keyed hash (`store`, or a cache in front of it).
    pub lookup: &'a dyn Lookup,
    pub keys: &'a Keyring,
    pub throttle: &'a ThrottlePolicy,
    pub hashing: &'a dyn PasswordHashing,
}

/// A credential that was accepted, and whether its use should be recorded now.
#[derive(Debug)]
pub struct Accepted {
    pub principal: Principal,
    /// `last_used` is older than the touch interval: the caller records this use (off the
    /// request path).
    pub touch_due: bool,
}

impl Checker<'_> {
    /// The throttle's answer for `name` from `addr`, before anything is checked: refused when
    /// blocked; otherwise whether the pair has failures on record.
    pub async fn gate(&self, addr: IpAddr, name: &str, now: Timestamp) -> Result<bool, Refusal> {
        match throttle::gate(self.store, name, &throttle_group(addr), now).await? {
            Gate::Blocked { retry_after } => Err(Refusal::Throttled { retry_after }),
            Gate::Open { counted } => Ok(counted),
        }
    }

    /// Counts a failed check of a guessable secret presented under `name` and audits a burst;
    /// returns the one failure answer. `user` is the account the name resolved to when the
    /// caller looked it up; otherwise it is looked up only for a burst's audit entry.
    pub async fn fail(
        &self,
        addr: IpAddr,
        name: &str,
        user: Option<UserId>,
        now: Timestamp,
    ) -> Refusal {
        match self.record_failure(addr, name, user, now).await {
            Ok(()) => Refusal::Incorrect,
            Err(e) => Refusal::Store(e),
        }
    }

    async fn record_failure(
        &self,
        addr: IpAddr,
        name: &str,
        user: Option<UserId>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let group = throttle_group(addr);
        let burst = throttle::record_failure(self.store, self.throttle, name, &group, now).await?;
        self.audit_burst(addr, name, user, burst, now).await
    }

    async fn audit_burst(
        &self,
        addr: IpAddr,
        name: &str,
        user: Option<UserId>,
        burst: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if burst {
            let user_id = match user {
                Some(id) => Some(id),
                None => self.store.find_user_auth(name).await?.map(|f| f.user.id),
            };
            self.store
                .insert_audit(&AuditEvent {
                    at: now,
                    event: "auth.failure_burst".into(),
                    user_id,
                    login: Some(AuditEvent::presented_name(name)),
                    address: Some(addr.to_string()),
                    detail: format!(
                        "{} failed password attempts in a row from this address; this name is blocked from it for a while",
                        self.throttle.pair_failures
                    ),
                    target_user_id: None,
                })
                .await?;
        }
        Ok(())
    }

    /// The account password of `name` (login or email), Argon2id-checked. Shared by HTTP Basic
    /// and the log-in page.
    pub async fn account_password(
        &self,
        addr: IpAddr,
        name: &str,
        password: String,
        now: Timestamp,
    ) -> Result<User, Refusal> {
        self.account_password_of(addr, name, password, now, None)
            .await
    }

    /// As `account_password`, accepting only the account `only` when given (the password
    /// grant: only the client's owner). Another account's right password is then a failed check
    /// like a wrong one — were it a success, the reset of the pair's failures would tell the
    /// client's owner that it was right.
    pub async fn account_password_of(
        &self,
        addr: IpAddr,
        name: &str,
        password: String,
        now: Timestamp,
        only: Option<UserId>,
    ) -> Result<User, Refusal> {
        // The throttle counts per name as presented (login or email), known or not, so its
        // answers reveal nothing about which names exist or belong together.
        self.gate(addr, name, now).await?;
        // Counted as in flight before it is checked (one atomic statement), so a burst of
        // parallel guesses gets no more checks than the pair's budget: the rest wait for the
        // outcome of those in flight and are refused once they complete a block.
        let group = throttle_group(addr);
        let pair = throttle::pair_key(name, &group);
        let (admitted, found) =
            futures_util::future::join(self.admit(&pair, now), self.store.find_user_auth(name))
                .await;
        admitted?;
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                self.settle(&pair, now, Settled::Unchecked).await?;
                return Err(e.into());
            }
        };
        let stored = found.as_ref().map(|f| f.password_hash.clone());
        let ok = match self.hashing.verify(stored, password).await {
            Ok(ok) => ok,
            Err(refusal) => {
                // Never checked (no Argon2id turn came): its place in flight is given back.
                self.settle(&pair, now, Settled::Unchecked).await?;
                return Err(refusal);
            }
        };
        match found {
            Some(f) if ok && !f.user.disabled && only.is_none_or(|id| id == f.user.id) => {
                self.settle(&pair, now, Settled::Succeeded).await?;
                Ok(f.user)
            }
            found => {
                // The pair's failure (and block) in one statement, then the address's count
                // and the audit entry when it completed a burst.
                let user = found.map(|f| f.user.id);
                let failed = async {
                    let burst = self.settle(&pair, now, Settled::Failed).await?;
                    throttle::record_address_failure(self.store, self.throttle, &group, now)
                        .await?;
                    self.audit_burst(addr, name, user, burst, now).await
                };
                match failed.await {
                    Ok(()) => Err(Refusal::Incorrect),
                    Err(e) => Err(Refusal::Store(e)),
                }
            }
        }
    }

    /// Takes a place in flight for a check at the throttle pair `pair` (`throttle::attempt`), in
    /// turn with this process's other attempts at the pair (first come, first served). When the
    /// budget is taken by checks in flight, the head of the line waits (reading, not writing)
    /// for room or a block — about a second at most, as in line, then `Busy` like a full
    /// Argon2id queue.
    async fn admit(&self, pair: &str, now: Timestamp) -> Result<(), Refusal> {
        let _line = self.hashing.line_up(pair).await.ok_or(Refusal::Busy)?;
        let mut pauses = 0;
        while !throttle::attempt(self.store, self.throttle, pair, now).await? {
            loop {
                if pauses == ADMIT_PAUSES {
                    return Err(Refusal::Busy);
                }
                pauses += 1;
                match throttle::standing(self.store, self.throttle, pair, now).await? {
                    Standing::Blocked { retry_after } => {
                        return Err(Refusal::Throttled { retry_after })
                    }
                    Standing::Room => break,
                    Standing::Full => self.hashing.pause().await,
                }
            }
        }
        Ok(())
    }

    async fn settle(
        &self,
        pair: &str,
        now: Timestamp,
        outcome: Settled,
    ) -> Result<bool, StoreError> {
        throttle::settle(self.store, self.throttle, pair, now, outcome).await
    }

    /// An application password presented under `name`: `Ok(None)` when it is not one of that
    /// (enabled) account's, so the caller may try the account password or count a failure.
    pub async fn app_password(
        &self,
        name: &str,
        presented: &str,
        now: Timestamp,
    ) -> Result<Option<Accepted>, Refusal> {
        let Some(normalized) = secrets::normalize_app_password(presented) else {
            return Ok(None);
        };
        let lookup = self.lookup;
        let found = first_found(
            self.keys,
            Purpose::AppPassword,
            &normalized,
            |h| async move { lookup.app_password(&h).await },
        );
        let Some((found, hash)) = found.await? else {
            return Ok(None);
        };
        let user = &found.user;
        let same_user =
            user.login.eq_ignore_ascii_case(name) || user.email.eq_ignore_ascii_case(name);
        if !hashes_equal(&found.hash, &hash) || !same_user || user.disabled {
            return Ok(None);
        }
        Ok(Some(Accepted {
            touch_due: use_is_due(found.password.last_used_at, now),
            principal: Principal {
                user: Some(found.user),
                credential: Credential::AppPassword {
                    uuid: found.password.uuid,
                },
                constraints: Constraints::default(),
            },
        }))
    }

    /// An API key (`gak_` user key or `gsk_` site key). Another kind of Gatehouse secret is
    /// `WrongKind`; anything else that fails is `Incorrect`.
    pub async fn api_key(&self, token: &str, now: Timestamp) -> Result<Accepted, Refusal> {
        let kind = match secrets::parse(token) {
            Ok(k @ (TokenKind::UserApiKey | TokenKind::SiteApiKey)) => k,
            Ok(other) => return Err(Refusal::WrongKind(other)),
            // A damaged one (its checksum fails) still gets its own kind's words.
            Err(_) => {
                return Err(match TokenKind::of(token) {
                    Some(
                        other @ (TokenKind::AccessToken
                        | TokenKind::RefreshToken
                        | TokenKind::ClientSecret),
                    ) => Refusal::WrongKind(other),
                    _ => Refusal::Incorrect,
                })
            }
        };
        let lookup = self.lookup;
        let found = first_found(self.keys, Purpose::ApiKey, token, |h| async move {
            lookup.api_key(&h).await
        });
        let Some((found, hash)) = found.await? else {
            return Err(Refusal::Incorrect);
        };
        let key = &found.key;
        let kind_matches = matches!(
            (kind, key.kind),
            (TokenKind::UserApiKey, ApiKeyKind::User) | (TokenKind::SiteApiKey, ApiKeyKind::Site)
        );
        if !hashes_equal(&found.hash, &hash)
            || !kind_matches
            || key.revoked_at.is_some()
            || key.expires_at.is_some_and(|t| t <= now)
        {
            return Err(Refusal::Incorrect);
        }
        let touch_due = use_is_due(key.last_used_at, now);
        let principal = match key.kind {
            ApiKeyKind::User => {
                let Some(user) = found.user.clone().filter(|u| !u.disabled) else {
                    return Err(Refusal::Incorrect);
                };
                Principal {
                    user: Some(user),
                    credential: Credential::ApiKey(key.id),
                    constraints: Constraints {
                        scopes: key.scopes.clone(),
                        site: key.site_id,
                        read_only: false,
                        methods: key.methods.clone(),
                    },
                }
            }
            ApiKeyKind::Site => {
                // A site key lives only as long as its creator is an enabled administrator of
                // the site (or a network admin): demoting or disabling them ends their keys.
                let creator_ok = found.user.as_ref().is_some_and(|u| {
                    !u.disabled
                        && (u.network_admin
                            || found
                                .site_role
                                .is_some_and(|r| r.caps().has(Cap::ManageOptions)))
                });
                if !creator_ok {
                    return Err(Refusal::Incorrect);
                }
                Principal {
                    user: None,
                    credential: Credential::SiteKey(key.id),
                    constraints: Constraints {
                        scopes: None,
                        site: key.site_id,
                        read_only: true,
                        methods: None,
                    },
                }
            }
        };
        Ok(Accepted {
            principal,
            touch_due,
        })
    }
}

impl Checker<'_> {
    /// An OAuth 2.0 access token (`gat_`): live while the token, its grant and its user are; it
    /// acts as its user within the grant's site and the token's scope (SPEC §3).
    pub async fn access_token(&self, token: &str, now: Timestamp) -> Result<Accepted, Refusal> {
        match secrets::parse(token) {
            Ok(TokenKind::AccessToken) => {}
            Ok(other) => return Err(Refusal::WrongKind(other)),
            Err(_) => return Err(Refusal::Incorrect),
        }
        let lookup = self.lookup;
        let found = first_found(self.keys, Purpose::OAuthToken, token, |h| async move {
            lookup.access_token(&h).await
        });
        let Some((m, hash)) = found.await? else {
            return Err(Refusal::Incorrect);
        };
        if !hashes_equal(&m.hash, &hash)
            || m.token.kind != crate::oauth2::TokenKind::Access
            || !token_is_live(&m, now)
        {
            return Err(Refusal::Incorrect);
        }
        let scopes = Scope::parse_list([m.token.scope.as_str()]).map_err(|_| Refusal::Incorrect)?;
        Ok(Accepted {
            touch_due: use_is_due(m.grant.last_used_at, now),
            principal: Principal {
                credential: Credential::AccessToken {
                    token: m.token.id,
                    grant: m.grant.id,
                    client: m.grant.client_id,
                },
                constraints: Constraints {
                    scopes,
                    site: m.grant.site_id,
                    read_only: false,
                    methods: None,
                },
                user: Some(m.user),
            },
        })
    }

    /// Authenticates a client at the token, revocation and introspection endpoints (RFC 6749
    /// §2.3): a confidential client by its secret (keyed hash, constant-time, throttled like a
    /// password under the name `client:<id>`), a public client by its id alone, and only when
    /// it sends no secret.
    pub async fn client(
        &self,
        addr: IpAddr,
        client_id: &str,
        secret: Option<&str>,
        now: Timestamp,
    ) -> Result<crate::oauth2::Client, Refusal> {
        let Some(id) = crate::oauth2::parse_client_id(client_id) else {
            return Err(Refusal::Incorrect);
        };
        let name = format!("client:{}", id.0);
        // The throttle and the client are read at once; a throttled name is refused whatever
        // the client and secret are.
        let (gate, found) =
            futures_util::future::join(self.gate(addr, &name, now), self.lookup.client(id)).await;
        let counted = gate?;
        let found = found?;
        let ok = match (&found, secret) {
            (Some((c, Some(stored))), Some(presented)) if c.confidential => {
                secrets::parse(presented).is_ok_and(|k| k == TokenKind::ClientSecret)
                    && self
                        .keys
                        .hashes(Purpose::ClientSecret, presented)
                        .any(|h| hashes_equal(&h, &stored.hash))
            }
            (Some((c, None)), None) => !c.confidential,
            _ => false,
        };
        match found {
            Some((c, _)) if ok => {
                // "Consecutive" failures: a success forgets the pair's (a write only when
                // there were some).
                if counted {
                    throttle::record_success(self.store, &name, &throttle_group(addr)).await?;
                }
                Ok(c)
            }
            // A wrong secret is a guess: counted like a password (SPEC §2). An unknown client or
            // a missing secret is counted too, so the answer says nothing about which ids exist.
            _ => Err(self.fail(addr, &name, None, now).await),
        }
    }
}

/// The OAuth 2.0 access or refresh token `presented` names, with the keyed hash it was found
/// by: one indexed look-up under the current key version, then under each older one.
pub async fn find_oauth_token(
    store: &dyn Store,
    keys: &Keyring,
    presented: &str,
) -> Result<Option<(crate::store::TokenMatch, String)>, StoreError> {
    first_found(keys, Purpose::OAuthToken, presented, |h| async move {
        store.find_token_by_hash(&h).await
    })
    .await
}

/// The first record `find` finds by the keyed hash of `secret`, current key version first
/// (older versions verify what was hashed before a rotation), with the hash it was found by.
/// Each version's hash is computed only if the ones before it found nothing.
pub async fn first_found<T, F, Fut>(
    keys: &Keyring,
    purpose: Purpose,
    secret: &str,
    mut find: F,
) -> Result<Option<(T, String)>, StoreError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
{
    for hash in keys.hashes(purpose, secret) {
        if let Some(found) = find(hash.clone()).await? {
            return Ok(Some((found, hash)));
        }
    }
    Ok(None)
}

/// Whether a token found by its hash is live at `now`: neither it nor its grant revoked or
/// expired, its user enabled, and its client not suspended (its owner enabled).
pub fn token_is_live(m: &crate::store::TokenMatch, now: Timestamp) -> bool {
    m.token.revoked_at.is_none()
        && m.token.rotated_at.is_none()
        && m.token.expires_at.is_none_or(|t| t > now)
        && m.grant.revoked_at.is_none()
        && m.grant.expires_at > now
        && !m.user.disabled
        && !m.client_suspended
}

/// The id of the key an accepted API-key principal was authenticated by.
pub fn api_key_id(p: &Principal) -> Option<ApiKeyId> {
    match p.credential {
        Credential::ApiKey(id) | Credential::SiteKey(id) => Some(id),
        _ => None,
    }
}
