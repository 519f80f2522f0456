//! The storage boundary: one trait per aggregate, combined by `Store`. Two implementations live
//! in `gatehouse-store` (SQLite and PostgreSQL) and pass the same conformance suite.
//! Methods take and return domain types, receive `now`, and never see a plaintext secret.
//! Invariants: counted state (throttle counters) changes in one atomic statement; a site and its
//! owner's membership are created in one transaction.

use crate::caps::Role;
use crate::clock::Timestamp;
use crate::model::*;
use async_trait::async_trait;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names what collided (`login`, `email`, `host`).
    #[error("{0} is already taken")]
    Conflict(String),
    #[error("database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user row together with what authenticates it.
#[derive(Debug, Clone)]
pub struct UserAuth {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait UserStore {
    /// Creates a user. Login and email share one namespace, case-insensitively (SPEC §1).
    async fn insert_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// Finds a user by login or email (case-insensitive), with the password hash. One indexed look-up.
    async fn find_user_auth(&self, login_or_email: &str) -> StoreResult<Option<UserAuth>>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Users by id.
    async fn list_users(&self, offset: i64, limit: i64) -> StoreResult<Vec<User>>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()>;
    /// Replaces a user's password hash (an Argon2id PHC string); `NotFound` if there is no such user.
    async fn set_user_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait SiteStore {
    /// Creates a site and makes `owner` its administrator, atomically.
    async fn insert_site(&self, new: &NewSite, owner: UserId, now: Timestamp) -> StoreResult<Site>;
    async fn get_site(&self, id: SiteId) -> StoreResult<Site>;
    async fn find_site_by_host(&self, host: &str) -> StoreResult<Option<Site>>;
    /// The oldest site, the primary one when no site has the public URL.
    async fn find_first_site(&self) -> StoreResult<Option<Site>>;
    /// Sites `user` has a role on (every site when `user` is `None`), by id, with the total.
    async fn list_sites(
        &self,
        user: Option<UserId>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<Site>, i64)>;
    async fn update_site(&self, id: SiteId, patch: &SitePatch) -> StoreResult<Site>;
    /// Deletes a site with its memberships, posts and comments.
    async fn delete_site(&self, id: SiteId) -> StoreResult<()>;
    async fn set_role(&self, site: SiteId, user: UserId, role: Role) -> StoreResult<()>;
    /// Takes `user`'s role on `site` away; false if they had none.
    async fn remove_role(&self, site: SiteId, user: UserId) -> StoreResult<bool>;
    async fn find_role(&self, site: SiteId, user: UserId) -> StoreResult<Option<Role>>;
    /// Users with a role on `site`; with `authors_only`, only those with a published post there.
    async fn list_site_users(
        &self,
        site: SiteId,
        authors_only: bool,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(User, Role)>, i64)>;
}

#[async_trait]
pub trait PostStore {
    async fn insert_post(&self, new: &NewPost, now: Timestamp) -> StoreResult<Post>;
    async fn get_post(&self, site: SiteId, id: PostId) -> StoreResult<Post>;
    async fn list_posts(&self, site: SiteId, filter: &PostFilter) -> StoreResult<(Vec<Post>, i64)>;
    async fn update_post(
        &self,
        site: SiteId,
        id: PostId,
        patch: &PostPatch,
        now: Timestamp,
    ) -> StoreResult<Post>;
    /// Deletes a post and its comments.
    async fn delete_post(&self, site: SiteId, id: PostId) -> StoreResult<()>;
    async fn insert_comment(&self, new: &NewComment, now: Timestamp) -> StoreResult<Comment>;
    async fn list_comments(
        &self,
        site: SiteId,
        filter: &CommentFilter,
    ) -> StoreResult<(Vec<Comment>, i64)>;
}

/// A counter's state after an atomic update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub window_start: Timestamp,
}

/// A throttle counter as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRow {
    pub key: String,
    pub failures: i64,
    pub window_start: Timestamp,
    pub blocked_until: Timestamp,
    /// Checks counted as in flight (`throttle_attempt`), valid until `pending_until`.
    pub pending: i64,
    pub pending_until: Timestamp,
}

/// How a check counted by `throttle_attempt` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Succeeded,
    Failed,
    /// Never checked (no Argon2id turn came): only its place in flight is given back.
    Unchecked,
}

#[async_trait]
pub trait ThrottleStore {
    /// The counters that exist among `keys` (one indexed read).
    async fn throttle_get(&self, keys: &[String]) -> StoreResult<Vec<ThrottleRow>>;
    /// Adds one failure to `key` atomically. A counter whose window began before
    /// `now - window_secs` restarts at 1. Returns the new count and window start.
    async fn throttle_fail(
        &self,
        key: &str,
        now: Timestamp,
        window_secs: i64,
    ) -> StoreResult<Counter>;
    async fn throttle_block(&self, key: &str, until: Timestamp) -> StoreResult<()>;
    /// Counts a check of the pair `key` as in flight *before* it is made, in one atomic
    /// statement, when the pair may have one: not blocked, and its failures plus the checks
    /// already in flight under `policy.pair_failures` (past it — after a block — only when none is
    /// in flight). `None`, with nothing written, otherwise. Failures older than `memory_secs`
    /// count as none. So a burst of parallel attempts never gets more checks than the budget;
    /// the caller settles each check with `throttle_settle`.
    async fn throttle_attempt(
        &self,
        key: &str,
        now: Timestamp,
        memory_secs: i64,
        policy: &crate::throttle::ThrottlePolicy,
    ) -> StoreResult<Option<Counter>>;
    /// Ends a check counted by `throttle_attempt`: a failure adds one and, from the threshold
    /// on, sets the doubling block in the same statement; a success forgets failures and block.
    /// Returns the pair's failures after it.
    async fn throttle_settle(
        &self,
        key: &str,
        now: Timestamp,
        outcome: Settled,
        policy: &crate::throttle::ThrottlePolicy,
    ) -> StoreResult<i64>;
    /// Forgets `key` (after a success: "consecutive" failures start again).
    async fn throttle_clear(&self, key: &str) -> StoreResult<()>;
}

/// One security-relevant event (SPEC §2 bursts; log-ins and credential changes later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub event: String,
    pub user_id: Option<UserId>,
    pub login: Option<String>,
    pub address: Option<String>,
    pub detail: String,
    /// The account the action was done to, when it is not the actor's own.
    pub target_user_id: Option<UserId>,
}

impl AuditEvent {
    /// A name as someone typed it, fit for the log: at most 200 characters (a log-in form may
    /// send a megabyte), control characters dropped.
    pub fn presented_name(name: &str) -> String {
        name.chars().filter(|c| !c.is_control()).take(200).collect()
    }
}

#[async_trait]
pub trait AuditStore {
    async fn insert_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// The newest `limit` events; with `involving`, only those that user did or that were done to
    /// them (filtered in the query, so a page is never short).
    async fn list_audit(
        &self,
        involving: Option<UserId>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEvent>>;
}

/// An application password found by its hash, with the user it belongs to.
#[derive(Debug, Clone)]
pub struct AppPasswordMatch {
    pub password: AppPassword,
    pub hash: String,
    pub user: User,
}

/// An API key found by its hash.
#[derive(Debug, Clone)]
pub struct ApiKeyMatch {
    pub key: ApiKey,
    pub hash: String,
    /// The user a user key acts as; for a site key, the administrator who created it (whose
    /// standing the key depends on). Joined in the same look-up.
    pub user: Option<User>,
    /// That user's role on the key's site (same look-up).
    pub site_role: Option<crate::caps::Role>,
}

#[async_trait]
pub trait KeyStore {
    /// Records the fingerprint of server key `version` if none is recorded yet, and returns the
    /// recorded one (which the caller compares with its own). One atomic statement.
    async fn record_key_fingerprint(
        &self,
        version: i64,
        fingerprint: &str,
        now: Timestamp,
    ) -> StoreResult<String>;
    /// Every recorded key version, lowest first.
    async fn list_key_versions(&self) -> StoreResult<Vec<i64>>;
}

#[async_trait]
pub trait ApiKeyStore {
    async fn insert_api_key(&self, new: &NewApiKey, now: Timestamp) -> StoreResult<ApiKey>;
    /// One indexed look-up by keyed hash; revoked keys are returned too (the caller refuses them).
    async fn find_api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyMatch>>;
    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<ApiKey>;
    /// Keys created by or acting as `user` that are not revoked, newest first.
    async fn list_api_keys(&self, user: UserId) -> StoreResult<Vec<ApiKey>>;
    /// The site keys of `site` that are not revoked, newest first.
    async fn list_site_api_keys(&self, site: SiteId) -> StoreResult<Vec<ApiKey>>;
    /// Every key, revoked and expired ones too, oldest first (the operator's inventory). With
    /// `user`, only keys acting as or created by that user; with `site`, only keys limited to that
    /// site (its site keys and the user keys bound to it). Both filters apply in the query.
    async fn list_all_api_keys(
        &self,
        user: Option<UserId>,
        site: Option<SiteId>,
    ) -> StoreResult<Vec<ApiKey>>;
    /// Revokes a key; false if it was unknown or already revoked.
    async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<bool>;
    /// Revokes every key of or by `user`; returns how many.
    async fn revoke_user_api_keys(&self, user: UserId, now: Timestamp) -> StoreResult<u64>;
    /// Records use, unless recorded less than `min_interval` seconds ago (one conditional update).
    async fn touch_api_key(
        &self,
        id: ApiKeyId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait AppPasswordStore {
    /// Creates one; `Conflict("name")` if the user already has one with that name.
    async fn insert_app_password(
        &self,
        new: &NewAppPassword,
        now: Timestamp,
    ) -> StoreResult<AppPassword>;
    /// One indexed look-up by keyed hash, joined with the owner.
    async fn find_app_password_by_hash(&self, hash: &str) -> StoreResult<Option<AppPasswordMatch>>;
    async fn list_app_passwords(&self, user: UserId) -> StoreResult<Vec<AppPassword>>;
    async fn get_app_password(&self, user: UserId, uuid: &str) -> StoreResult<AppPassword>;
    async fn rename_app_password(
        &self,
        user: UserId,
        uuid: &str,
        name: &str,
    ) -> StoreResult<AppPassword>;
    /// False if there was no such password.
    async fn delete_app_password(&self, user: UserId, uuid: &str) -> StoreResult<bool>;
    async fn delete_app_passwords(&self, user: UserId) -> StoreResult<u64>;
    async fn touch_app_password(
        &self,
        uuid: &str,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()>;
}

/// A session found by its hash, with its user.
#[derive(Debug, Clone)]
pub struct SessionMatch {
    pub session: Session,
    pub hash: String,
    pub user: User,
}

#[async_trait]
pub trait SessionStore {
    async fn insert_session(
        &self,
        hash: &str,
        user: UserId,
        now: Timestamp,
        expires_at: Timestamp,
        ip: &str,
        user_agent: &str,
    ) -> StoreResult<Session>;
    /// One indexed look-up by keyed hash, joined with the user; revoked sessions are not found.
    async fn find_session_by_hash(&self, hash: &str) -> StoreResult<Option<SessionMatch>>;
    /// Records activity unless recorded less than `min_interval` seconds ago.
    async fn touch_session(&self, id: i64, now: Timestamp, min_interval: i64) -> StoreResult<()>;
    /// Live (not revoked, not expired at `now`) sessions of a user, newest first.
    async fn list_sessions(
        &self,
        user: UserId,
        now: Timestamp,
        idle_secs: i64,
    ) -> StoreResult<Vec<Session>>;
    /// Records the id of the one-time message waiting for this session's next page (replacing
    /// any earlier one).
    async fn set_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<()>;
    /// Takes the waiting message's id if it is `flash_id`, in one statement: true once.
    async fn take_session_flash(&self, id: i64, flash_id: &str) -> StoreResult<bool>;
    /// Ends one session of `user`; false if unknown.
    async fn revoke_session(&self, user: UserId, id: i64, now: Timestamp) -> StoreResult<bool>;
    /// Ends every session of `user` except `keep`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<u64>;
}

/// An OAuth 2.0 token found by its hash, with what decides whether it is live: its grant (a
/// revoked or expired grant ends every token under it) and the grant's user. One look-up.
#[derive(Debug, Clone)]
pub struct TokenMatch {
    pub token: crate::oauth2::Token,
    pub hash: String,
    pub grant: crate::oauth2::Grant,
    pub user: User,
    /// The client's owner account is disabled: the client is suspended, its tokens with it.
    pub client_suspended: bool,
}

/// OAuth 2.0 clients, grants (authorizations) and tokens (SPEC §3).
#[async_trait]
pub trait OAuth2Store {
    async fn insert_client(
        &self,
        new: &crate::oauth2::NewClient,
        now: Timestamp,
    ) -> StoreResult<crate::oauth2::Client>;
    async fn get_client(&self, id: ClientId) -> StoreResult<crate::oauth2::Client>;
    /// A client with its stored secret (none for a public client), to authenticate it.
    async fn find_client_auth(
        &self,
        id: ClientId,
    ) -> StoreResult<Option<(crate::oauth2::Client, Option<crate::oauth2::StoredSecret>)>>;
    /// Clients, oldest first; of one owner, or all.
    async fn list_clients(&self, owner: Option<UserId>) -> StoreResult<Vec<crate::oauth2::Client>>;
    /// Replaces a confidential client's secret; false if there is no such confidential client.
    async fn set_client_secret(
        &self,
        id: ClientId,
        secret: &crate::oauth2::StoredSecret,
    ) -> StoreResult<bool>;
    /// Replaces a client's registered redirect URIs; false if there is no such client.
    async fn set_client_redirect_uris(&self, id: ClientId, uris: &[String]) -> StoreResult<bool>;
    /// Deletes a client with its grants, codes and tokens.
    async fn delete_client(&self, id: ClientId) -> StoreResult<bool>;
    /// Revokes every live grant of a client, and so every token under them; returns how many.
    async fn revoke_client_grants(&self, id: ClientId, now: Timestamp) -> StoreResult<u64>;
    /// Records a grant and its first tokens in one transaction (the tokens' `grant_id` is set to
    /// the new grant's).
    async fn insert_grant(
        &self,
        grant: &crate::oauth2::NewGrant,
        tokens: &[crate::oauth2::NewToken],
        now: Timestamp,
    ) -> StoreResult<(crate::oauth2::Grant, Vec<crate::oauth2::Token>)>;
    /// One indexed look-up by keyed hash, joined with the token's grant and user.
    async fn find_token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenMatch>>;
    /// Revokes one grant (and so its tokens); false if it was not live.
    async fn revoke_grant(&self, id: GrantId, now: Timestamp) -> StoreResult<bool>;
    /// Revokes one token; false if it was not live.
    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> StoreResult<bool>;
    async fn insert_code(&self, code: &crate::oauth2::NewCode, now: Timestamp) -> StoreResult<()>;
    /// Marks the code with this hash used, in one conditional statement, and returns it — only
    /// to the first caller; `None` for an unknown or already used code.
    async fn consume_code(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<crate::oauth2::Code>>;
    /// The code with this hash, used or not (to tell a replay from an unknown code).
    async fn find_code(&self, hash: &str) -> StoreResult<Option<crate::oauth2::Code>>;
    /// Records the grant a code was redeemed for; true when a second use of the code was seen
    /// meanwhile (the caller revokes the grant: a replay ends what the first use issued, however
    /// the two raced).
    async fn set_code_grant(&self, hash: &str, grant: GrantId) -> StoreResult<bool>;
    /// Records a second use of a used code: `None` if there is no such used code, else the grant
    /// its first use was redeemed for, if recorded yet (if not, `set_code_grant` will say so).
    async fn mark_code_replayed(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Option<GrantId>>>;
    /// Presents a refresh token: in one transaction, marks it used (one conditional statement,
    /// so of two racing requests exactly one wins) and writes `tokens` under its grant.
    async fn rotate_refresh_token(
        &self,
        hash: &str,
        tokens: &[crate::oauth2::NewToken],
        now: Timestamp,
    ) -> StoreResult<crate::oauth2::Rotation>;
    /// A live grant of `user` to `client` for exactly this scope and site, given on the consent
    /// page (the authorization code flow): remembered consent.
    async fn find_live_grant(
        &self,
        user: UserId,
        client: ClientId,
        scope: &str,
        site: Option<SiteId>,
        now: Timestamp,
    ) -> StoreResult<Option<crate::oauth2::Grant>>;
    /// The live grants of a user (what they authorized), newest first, with each client's name.
    async fn list_user_grants(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<(crate::oauth2::Grant, String)>>;
    /// Revokes one of `user`'s grants; false if it is not theirs or not live.
    async fn revoke_user_grant(
        &self,
        user: UserId,
        id: GrantId,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Records a grant's use, at most once per `min_interval`.
    async fn touch_grant(
        &self,
        id: GrantId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()>;
}

/// OAuth 1.0a consumers, tokens and nonces (SPEC §8).
#[async_trait]
pub trait OAuth1Store {
    /// Registers a consumer; `Conflict("consumer_key")` if its key is taken.
    async fn insert_consumer(
        &self,
        new: &crate::oauth1::NewConsumer,
        now: Timestamp,
    ) -> StoreResult<crate::oauth1::Consumer>;
    /// A consumer by its public key, with its sealed secret and whether its owner is disabled.
    async fn find_consumer_by_key(
        &self,
        key: &str,
    ) -> StoreResult<Option<(crate::oauth1::Consumer, crate::secrets::Sealed, bool)>>;
    async fn get_consumer(
        &self,
        id: crate::oauth1::ConsumerId,
    ) -> StoreResult<crate::oauth1::Consumer>;
    /// Consumers, oldest first; of one owner, or all.
    async fn list_consumers(
        &self,
        owner: Option<UserId>,
    ) -> StoreResult<Vec<crate::oauth1::Consumer>>;
    /// Deletes a consumer with its tokens; false if there is no such consumer.
    async fn delete_consumer(&self, id: crate::oauth1::ConsumerId) -> StoreResult<bool>;
    async fn insert_oauth1_token(
        &self,
        new: &crate::oauth1::NewToken,
        now: Timestamp,
    ) -> StoreResult<crate::oauth1::Token>;
    /// A token by its key's keyed hash, joined with its consumer and user. One look-up.
    async fn find_oauth1_token(&self, hash: &str)
        -> StoreResult<Option<crate::oauth1::TokenMatch>>;
    /// Records a user's approval of a live, not yet approved request token, with the verifier's
    /// hash, in one conditional statement; false if it was not (still) waiting.
    async fn approve_request_token(
        &self,
        id: crate::oauth1::Oauth1TokenId,
        user: UserId,
        verifier_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Exchanges an approved request token for an access token: in one transaction, marks the
    /// request token used (one conditional statement matching its verifier, so of two racing
    /// exchanges exactly one wins) and stores `access` for its user. `None` if it was not live,
    /// not approved, or the verifier does not match.
    async fn exchange_request_token(
        &self,
        id: crate::oauth1::Oauth1TokenId,
        verifier_hash: &str,
        access: &crate::oauth1::NewToken,
        now: Timestamp,
    ) -> StoreResult<Option<crate::oauth1::Token>>;
    /// Remembers a nonce until `expires_at`; true the first time, false if it was seen. One
    /// `INSERT … ON CONFLICT DO NOTHING`, so it holds across instances.
    async fn remember_nonce(
        &self,
        consumer: crate::oauth1::ConsumerId,
        token: &str,
        timestamp: i64,
        nonce: &str,
        expires_at: Timestamp,
    ) -> StoreResult<bool>;
    /// A user's live access tokens (what they authorized), newest first, with each consumer.
    async fn list_user_oauth1(
        &self,
        user: UserId,
    ) -> StoreResult<Vec<crate::oauth1::Authorization>>;
    /// Revokes one token; with `user`, only if it is theirs. False if it was not live.
    async fn revoke_oauth1_token(
        &self,
        user: Option<UserId>,
        id: crate::oauth1::Oauth1TokenId,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Revokes every live token of a user; returns how many.
    async fn revoke_user_oauth1(&self, user: UserId, now: Timestamp) -> StoreResult<u64>;
    /// Records a token's use, at most once per `min_interval`.
    async fn touch_oauth1_token(
        &self,
        id: crate::oauth1::Oauth1TokenId,
        now: Timestamp,
        ip: &str,
        min_interval: i64,
    ) -> StoreResult<()>;
    /// Forgets expired nonces and request tokens; returns how many rows went.
    async fn purge_oauth1(&self, now: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait Store:
    UserStore
    + SiteStore
    + PostStore
    + ThrottleStore
    + AuditStore
    + KeyStore
    + ApiKeyStore
    + AppPasswordStore
    + SessionStore
    + OAuth2Store
    + OAuth1Store
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Succeeds when the database answers (`/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Which backend this is (`sqlite` or `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;
    /// The change counters (SPEC §11), moved by triggers in the database: `changes` by every
    /// committed change that can end or alter a credential, user, role or site, `content` by
    /// every change to posts and comments. Instances poll them and drop what they cached when
    /// they move.
    async fn change_epoch(&self) -> StoreResult<Epochs>;
    /// Starts a push channel for changes made by other instances, calling `wake` after each
    /// commit that moved the counter (PostgreSQL `LISTEN`, reconnecting on its own). Returns
    /// false where the backend has none (SQLite: polling alone). Needs a Tokio runtime.
    fn listen_for_changes(&self, wake: ChangeWaker) -> bool;
}

/// The two change counters as read together (`Store::change_epoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epochs {
    /// Credentials, users, roles, sites, OAuth clients and grants (migration 0008).
    pub changes: i64,
    /// Posts and comments (migration 0009).
    pub content: i64,
}

/// What `Store::listen_for_changes` calls when a change may have been committed elsewhere.
pub type ChangeWaker = std::sync::Arc<dyn Fn() + Send + Sync>;
