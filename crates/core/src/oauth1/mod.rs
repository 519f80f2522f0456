//! OAuth 1.0a (RFC 5849, SPEC §8; the WP-API OAuth1 plugin of seed 002): consumers ("clients"),
//! request and access tokens, and the signature rules (`signature`). Pure rules and types; the
//! three legs speak HTTP in the server and the single-use statements live in the store.
//! Invariants: consumer and token secrets are only ever stored sealed (`Keyring::seal`), bound to
//! their record; token keys and verifiers only as keyed hashes; a request token is never an
//! access token.

pub mod signature;
pub mod verify;

use crate::clock::Timestamp;
use crate::model::UserId;
use crate::secrets::{Keyring, Purpose, Sealed, Secret};

/// How far a request's `oauth_timestamp` may be from the server's clock, and how long a nonce
/// is remembered after its timestamp (seconds).
pub const TIMESTAMP_WINDOW_SECS: i64 = 600;
/// How long a request token waits for the user to approve it and the client to exchange it.
pub const REQUEST_TOKEN_TTL_SECS: i64 = 900;
/// The callback value that asks for the verifier to be shown instead of redirected (§2.1).
pub const OOB: &str = "oob";

/// Shapes of the WP-API plugin: a 12-character consumer key, 48-character secrets, 24-character
/// token keys and verifiers, all `[A-Za-z0-9]`.
pub const CONSUMER_KEY_LEN: usize = 12;
pub const SECRET_LEN: usize = 48;
pub const TOKEN_KEY_LEN: usize = 24;
pub const VERIFIER_LEN: usize = 24;

fn has_shape(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub fn is_consumer_key(s: &str) -> bool {
    has_shape(s, CONSUMER_KEY_LEN)
}
pub fn is_token_key(s: &str) -> bool {
    has_shape(s, TOKEN_KEY_LEN)
}
pub fn is_verifier(s: &str) -> bool {
    has_shape(s, VERIFIER_LEN)
}

/// An OAuth 1.0a consumer id (its row id; `ID:` of `oauth1 add`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsumerId(pub i64);

/// An OAuth 1.0a token id (its row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oauth1TokenId(pub i64);

/// A registered OAuth 1.0a application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub id: ConsumerId,
    /// The public consumer key (12 characters).
    pub key: String,
    pub name: String,
    pub description: String,
    /// The registered callback URL; `None` allows only `oob`.
    pub callback: Option<String>,
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

/// A consumer to register: its secret already sealed to its key.
#[derive(Debug, Clone)]
pub struct NewConsumer {
    pub key: String,
    pub secret: Sealed,
    pub name: String,
    pub description: String,
    pub callback: Option<String>,
    pub owner_id: UserId,
}

/// What the associated data of a consumer's sealed secret names.
pub fn consumer_binding(key: &str) -> String {
    format!("oauth1-consumer:{key}")
}

/// What the associated data of a token's sealed secret names: its keyed hash, which is unique.
pub fn token_binding(token_hash: &str) -> String {
    format!("oauth1-token:{token_hash}")
}

/// A new consumer's key and secret (shown once) and its record.
pub fn new_consumer(
    keys: &Keyring,
    name: String,
    description: String,
    callback: Option<String>,
    owner_id: UserId,
) -> (NewConsumer, Secret) {
    let key = crate::secrets::mint_alnum(CONSUMER_KEY_LEN)
        .expose_secret()
        .to_string();
    let secret = crate::secrets::mint_alnum(SECRET_LEN);
    let sealed = keys.seal(&consumer_binding(&key), secret.expose_secret());
    (
        NewConsumer {
            key,
            secret: sealed,
            name,
            description,
            callback,
            owner_id,
        },
        secret,
    )
}

/// What registering a consumer asks for (CLI `oauth1 add`, the developer page).
#[derive(Debug, Clone, Default)]
pub struct ConsumerSpec {
    pub name: String,
    pub description: String,
    pub callback: Option<String>,
}

/// Checks a registration: a name of 1 to 200 characters, a description of at most 1000, and a
/// callback URL by `validate_callback` (none allows only `oob`).
pub fn validate(spec: &ConsumerSpec) -> Result<ConsumerSpec, crate::admin::AdminError> {
    use crate::admin::AdminError::Invalid;
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains(char::is_control) {
        return Err(Invalid(
            "an application name must be 1 to 200 characters".into(),
        ));
    }
    let description = spec.description.trim();
    if description.chars().count() > 1000 || description.contains('\0') {
        return Err(Invalid("a description is at most 1000 characters".into()));
    }
    let callback = match spec.callback.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(OOB) => None,
        Some(c) => Some(validate_callback(c).map_err(Invalid)?),
    };
    Ok(ConsumerSpec {
        name: name.to_string(),
        description: description.to_string(),
        callback,
    })
}

/// Registers a consumer: validates, mints its key and secret (the secret is returned once and
/// stored sealed), and stores it. A key collision (72 bits: never seen in practice) is retried.
pub async fn register(
    store: &dyn crate::store::Store,
    keys: &Keyring,
    spec: &ConsumerSpec,
    owner: UserId,
    now: Timestamp,
) -> Result<(Consumer, Secret), crate::admin::AdminError> {
    use crate::admin::AdminError;
    let valid = validate(spec)?;
    for _ in 0..3 {
        let (new, secret) = new_consumer(
            keys,
            valid.name.clone(),
            valid.description.clone(),
            valid.callback.clone(),
            owner,
        );
        match store.insert_consumer(&new, now).await {
            Ok(c) => return Ok((c, secret)),
            Err(crate::store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(AdminError::Store(e)),
        }
    }
    Err(AdminError::Store(crate::store::StoreError::Backend(
        "could not mint a unique consumer key".into(),
    )))
}

/// Temporary (request) credentials, or token (access) credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Request,
    Access,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Request => "request",
            TokenKind::Access => "access",
        }
    }
    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "request" => Some(TokenKind::Request),
            "access" => Some(TokenKind::Access),
            _ => None,
        }
    }
}

/// A token to store: its key as a keyed hash, its secret sealed to that hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: String,
    pub key_version: i64,
    pub secret: Sealed,
    pub kind: TokenKind,
    pub consumer_id: ConsumerId,
    /// The approving user (access tokens; request tokens get theirs on approval).
    pub user_id: Option<UserId>,
    /// A request token's callback (`oob` or the registered URL).
    pub callback: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// A new token's key and secret (given to the client once) and its record.
pub fn new_token(
    keys: &Keyring,
    kind: TokenKind,
    consumer_id: ConsumerId,
    user_id: Option<UserId>,
    callback: Option<String>,
    expires_at: Option<Timestamp>,
) -> (NewToken, Secret, Secret) {
    let key = crate::secrets::mint_alnum(TOKEN_KEY_LEN);
    let secret = crate::secrets::mint_alnum(SECRET_LEN);
    let hash = keys.hash(Purpose::OAuth1Token, key.expose_secret());
    let sealed = keys.seal(&token_binding(&hash), secret.expose_secret());
    (
        NewToken {
            hash,
            key_version: keys.version,
            secret: sealed,
            kind,
            consumer_id,
            user_id,
            callback,
            expires_at,
        },
        key,
        secret,
    )
}

/// A stored token (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: Oauth1TokenId,
    pub kind: TokenKind,
    pub consumer_id: ConsumerId,
    pub user_id: Option<UserId>,
    pub callback: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub authorized_at: Option<Timestamp>,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_ip: Option<String>,
}

impl Token {
    /// Live: not revoked, not used (a request token is exchanged once), not expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && self.used_at.is_none()
            && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A token found by its key's hash, with its consumer, the consumer's sealed secret and the
/// token's sealed secret, and the approving user if any. One indexed look-up.
#[derive(Debug, Clone)]
pub struct TokenMatch {
    pub token: Token,
    pub hash: String,
    pub secret: Sealed,
    pub consumer: Consumer,
    pub consumer_secret: Sealed,
    /// The approving user, with the consumer owner's suspension.
    pub user: Option<crate::model::User>,
    pub consumer_suspended: bool,
}

/// An OAuth 1.0a authorization a user gave (an access token), for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub token: Token,
    pub consumer: Consumer,
}

/// Whether `callback` may be used for `consumer` (§2.1 with SPEC §8): its registered callback —
/// compared as parsed URLs, so `HTTPS://App.example/cb` is `https://app.example/cb` but any other
/// path, query or port is not — or `oob`.
pub fn callback_allowed(consumer: &Consumer, callback: &str) -> bool {
    if callback == OOB {
        return true;
    }
    match (
        consumer.callback.as_deref().map(url::Url::parse),
        url::Url::parse(callback),
    ) {
        (Some(Ok(registered)), Ok(given)) => registered == given,
        _ => false,
    }
}

/// Validates a callback URL to register: an absolute `https` URL, or `http` on a loopback host
/// (RFC 8252 §7.3's rule, as for OAuth 2.0 redirect URIs), without a fragment, credentials or
/// control characters. Returns it as parsed (normalised: `HTTPS://App.Example` is stored as
/// `https://app.example/`), which is where the browser is sent.
pub fn validate_callback(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > signature::MAX_CALLBACK_LEN {
        return Err("The callback URL must be 1 to 2000 characters.".into());
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("The callback URL may not contain spaces or control characters.".into());
    }
    let url = url::Url::parse(raw).map_err(|_| {
        format!("The callback URL {raw} is not an absolute URL (https://app.example/callback).")
    })?;
    if url.fragment().is_some() {
        return Err("The callback URL may not have a #fragment.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The callback URL may not hold a user name or password.".into());
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => Ok(url.to_string()),
        "http" if loopback => Ok(url.to_string()),
        _ => Err(
            "The callback URL must use https (http only on 127.0.0.1, [::1] or localhost).".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::ServerKey;

    #[test]
    fn minted_credentials_have_the_plugins_shapes_and_open() {
        let keys = Keyring::new(&ServerKey::generate(), 1);
        let (c, secret) = new_consumer(&keys, "A".into(), String::new(), None, UserId(1));
        assert!(is_consumer_key(&c.key));
        assert!(has_shape(secret.expose_secret(), SECRET_LEN));
        assert!(!c.secret.data.contains(secret.expose_secret()));
        assert_eq!(
            keys.open(&c.secret, &consumer_binding(&c.key)).as_deref(),
            Some(secret.expose_secret())
        );
        let (t, key, tsecret) = new_token(
            &keys,
            TokenKind::Request,
            ConsumerId(1),
            None,
            Some(OOB.into()),
            Some(10),
        );
        assert!(is_token_key(key.expose_secret()));
        assert_eq!(t.hash, keys.hash(Purpose::OAuth1Token, key.expose_secret()));
        assert_eq!(
            keys.open(&t.secret, &token_binding(&t.hash)).as_deref(),
            Some(tsecret.expose_secret())
        );
        // A token's sealed secret does not open as the consumer's.
        assert_eq!(keys.open(&t.secret, &consumer_binding(&c.key)), None);
    }

    #[test]
    fn shapes_and_bindings() {
        assert!(is_consumer_key("abcDEF123456"));
        assert!(!is_consumer_key("abcDEF12345"));
        assert!(!is_consumer_key("abcDEF12345!"));
        assert!(is_token_key(&"a".repeat(24)));
        assert!(!is_token_key(&"a".repeat(23)));
        assert!(!is_token_key(&format!("{}-", "a".repeat(23))));
        assert!(is_verifier(&"Z9".repeat(12)));
        assert!(!is_verifier(&"Z9".repeat(11)));
        assert!(!is_verifier(&format!("{} ", "a".repeat(23))));
        // Each record has its own associated data: a consumer's and a token's never coincide.
        assert_eq!(consumer_binding("k1"), "oauth1-consumer:k1");
        assert_eq!(token_binding("h1"), "oauth1-token:h1");
        assert_ne!(consumer_binding("x"), token_binding("x"));
    }

    #[test]
    fn registrations_are_checked() {
        let spec = |name: &str, description: &str, callback: Option<&str>| ConsumerSpec {
            name: name.into(),
            description: description.into(),
            callback: callback.map(str::to_string),
        };
        let ok = validate(&spec("  App  ", "d", Some("HTTPS://App.Example/cb"))).unwrap();
        assert_eq!(ok.name, "App");
        assert_eq!(ok.callback.as_deref(), Some("https://app.example/cb"));
        assert_eq!(
            validate(&spec("A", "", Some("oob"))).unwrap().callback,
            None
        );
        assert_eq!(validate(&spec("A", "", Some(""))).unwrap().callback, None);
        assert!(validate(&spec(&"n".repeat(200), &"d".repeat(1000), None)).is_ok());
        for bad in [
            spec("", "", None),
            spec(&"n".repeat(201), "", None),
            spec("a\tb", "", None),
            spec("A", &"d".repeat(1001), None),
            spec("A", "a\0b", None),
            spec("A", "", Some("http://app.example/cb")),
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
        for k in [TokenKind::Request, TokenKind::Access] {
            assert_eq!(TokenKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TokenKind::Request.as_str(), "request");
        assert_eq!(TokenKind::Access.as_str(), "access");
        assert_eq!(TokenKind::parse("refresh"), None);
        // Callback limits and credentials in the URL.
        let long = format!("https://a.example/{}", "c".repeat(2000 - 18));
        assert!(validate_callback(&long).is_ok());
        assert!(validate_callback(&format!("{long}c")).is_err());
        assert!(validate_callback("").is_err());
        assert!(validate_callback("https://u@a.example/cb").is_err());
        assert!(validate_callback("https://:p@a.example/cb").is_err());
        assert!(validate_callback("http://[::1]:8/cb").is_ok());
        assert!(validate_callback("http://localhost/cb").is_ok());
        assert!(validate_callback("https://a.example/c b").is_err());
        assert!(validate_callback("https://a.example/c\u{7f}").is_err());
    }

    #[test]
    fn callbacks() {
        let mut c = Consumer {
            id: ConsumerId(1),
            key: "k".into(),
            name: "n".into(),
            description: String::new(),
            callback: None,
            owner_id: UserId(1),
            created_at: 0,
        };
        assert!(callback_allowed(&c, "oob"));
        assert!(!callback_allowed(&c, "https://a.example/cb"));
        c.callback = Some("https://a.example/cb".into());
        assert!(callback_allowed(&c, "https://a.example/cb"));
        assert!(!callback_allowed(&c, "https://a.example/cb?x=1"));
        assert!(callback_allowed(&c, "HTTPS://A.example/cb"));
        assert!(!callback_allowed(&c, "https://a.example/cb/"));
        assert!(!callback_allowed(&c, "https://a.example:8443/cb"));
        assert!(!callback_allowed(&c, "OOB"));
        assert_eq!(
            validate_callback("HTTP://LOCALHOST/cb").as_deref(),
            Ok("http://localhost/cb")
        );
        assert!(validate_callback("https://a.example/cb\nx").is_err());
        assert!(validate_callback("https://a.example/cb\r\nX: y").is_err());
        assert!(validate_callback("https://a.example/cb").is_ok());
        assert!(validate_callback("http://127.0.0.1:9/cb").is_ok());
        assert!(validate_callback("http://a.example/cb").is_err());
        assert!(validate_callback("https://a.example/cb#x").is_err());
        assert!(validate_callback("javascript:alert(1)").is_err());
        assert!(validate_callback("https://u:p@a.example/").is_err());
    }

    #[test]
    fn request_tokens_expire_and_are_used_once() {
        let t = Token {
            id: Oauth1TokenId(1),
            kind: TokenKind::Request,
            consumer_id: ConsumerId(1),
            user_id: None,
            callback: None,
            created_at: 0,
            expires_at: Some(100),
            authorized_at: None,
            used_at: None,
            revoked_at: None,
            last_used_at: None,
            last_ip: None,
        };
        assert!(t.is_live(99));
        assert!(!t.is_live(100));
        assert!(!Token {
            used_at: Some(5),
            ..t.clone()
        }
        .is_live(1));
        assert!(!Token {
            revoked_at: Some(5),
            ..t
        }
        .is_live(1));
    }
}
