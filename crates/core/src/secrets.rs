//! Every secret Gatehouse mints or recognises (SPEC §2): the token formats (type prefix, base62
//! body of ≥ 256 bits from the OS RNG, CRC32 checksum suffix, so a typo or truncation is refused
//! before any look-up and secret scanners can recognise them), WordPress-format application
//! passwords, and keyed hashing: HMAC-SHA256 under an HKDF purpose subkey of the server key.
//! Invariants: secret newtypes have a redacted `Debug` and no `Display`/`Serialize`; comparisons
//! of hashes are constant-time; randomness only from the OS RNG, here.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 43 base62 characters carry 256.03 bits.
pub const BODY_LEN: usize = 43;
pub const CHECKSUM_LEN: usize = 6;

/// The kinds of prefixed secret (SPEC §2 "Formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    AccessToken,
    RefreshToken,
    UserApiKey,
    SiteApiKey,
    ClientSecret,
}

impl TokenKind {
    pub const ALL: [TokenKind; 5] = [
        TokenKind::AccessToken,
        TokenKind::RefreshToken,
        TokenKind::UserApiKey,
        TokenKind::SiteApiKey,
        TokenKind::ClientSecret,
    ];
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "gat_",
            TokenKind::RefreshToken => "grt_",
            TokenKind::UserApiKey => "gak_",
            TokenKind::SiteApiKey => "gsk_",
            TokenKind::ClientSecret => "gcs_",
        }
    }
    /// Which prefix `s` carries, if any (before any other check).
    pub fn of(s: &str) -> Option<TokenKind> {
        TokenKind::ALL
            .into_iter()
            .find(|k| s.starts_with(k.prefix()))
    }
    pub fn len() -> usize {
        4 + BODY_LEN + CHECKSUM_LEN
    }
}

/// A secret value. `Debug` shows only its kind; there is no `Display`.
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// `n` characters of `[A-Za-z0-9]`, uniform, from the OS RNG: bytes are read in blocks (one
/// system call per block, not one per character) and each byte below 248 (= 4 × 62) gives a
/// character, so none is more likely than another.
fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut block = [0u8; 64];
    while out.len() < n {
        OsRng.fill_bytes(&mut block);
        for b in block.iter().filter(|b| **b < 248) {
            if out.len() == n {
                break;
            }
            out.push(BASE62[usize::from(*b % 62)] as char);
        }
    }
    out
}

fn checksum(prefix_and_body: &str) -> String {
    let mut v = crc32fast::hash(prefix_and_body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mints a new secret of `kind`.
pub fn mint(kind: TokenKind) -> Secret {
    let head = format!("{}{}", kind.prefix(), random_base62(BODY_LEN));
    let sum = checksum(&head);
    Secret(format!("{head}{sum}"))
}

/// Why a presented token is refused before any look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unknown token prefix")]
    Prefix,
    #[error("token has the wrong length or characters")]
    Shape,
    #[error("token checksum does not match")]
    Checksum,
}

/// Checks a presented token's kind, shape and checksum. No secret material is needed.
pub fn parse(s: &str) -> Result<TokenKind, FormatError> {
    let kind = TokenKind::of(s).ok_or(FormatError::Prefix)?;
    if s.len() != TokenKind::len() || !s[4..].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(FormatError::Shape);
    }
    let (head, sum) = s.split_at(4 + BODY_LEN);
    if checksum(head).as_bytes().ct_eq(sum.as_bytes()).into() {
        Ok(kind)
    } else {
        Err(FormatError::Checksum)
    }
}

/// A session id or pre-session value: 43 base62 characters (256 bits).
pub fn mint_session_id() -> Secret {
    Secret(random_base62(BODY_LEN))
}

/// Whether `s` has the shape of a session id or pre-session value (what `mint_session_id`
/// makes). Cookies of any other shape are ignored without a look-up.
pub fn is_session_id_shape(s: &str) -> bool {
    s.len() == BODY_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A WordPress application password: 24 characters `[A-Za-z0-9]`.
pub fn mint_app_password() -> Secret {
    Secret(random_base62(24))
}

/// `n` characters of `[A-Za-z0-9]` from the OS RNG: the WP-API OAuth 1.0a plugin's shapes
/// (consumer key 12, token key and verifier 24, secrets 48).
pub fn mint_alnum(n: usize) -> Secret {
    Secret(random_base62(n))
}

/// WordPress strips every non-alphanumeric character before checking; a result of exactly 24
/// characters is an application password's shape.
pub fn normalize_app_password(presented: &str) -> Option<String> {
    let s: String = presented
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    (s.len() == 24).then_some(s)
}

/// `abcd efgh …`: how WordPress shows an application password.
pub fn group_app_password(p: &str) -> String {
    p.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server key: 32 bytes. `Debug` is redacted.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(REDACTED)")
    }
}

impl ServerKey {
    pub fn from_bytes(b: [u8; 32]) -> ServerKey {
        ServerKey(b)
    }
    /// Parses 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Option<ServerKey> {
        let s = s.trim();
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(ServerKey(out))
    }
    pub fn generate() -> ServerKey {
        let mut b = [0u8; 32];
        OsRng.fill(&mut b);
        ServerKey(b)
    }
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
    /// A public identifier of the key, recorded in the database to detect a wrong key.
    pub fn fingerprint(&self) -> String {
        to_hex(&self.subkey("fingerprint")[..16])
    }
    /// HKDF-SHA256 purpose subkey (RFC 5869).
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"gatehouse"), &self.0);
        let mut okm = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(format!("gatehouse/v1/{purpose}").as_bytes(), &mut okm);
        okm
    }
}

/// What a keyed hash protects; each purpose has its own subkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ApiKey,
    AppPassword,
    /// Session ids, stored hashed.
    Session,
    /// `wp_rest` and other WordPress-style nonces.
    Nonce,
    /// CSRF tokens of HTML forms.
    Csrf,
    /// OAuth 2.0 client secrets (`gcs_`).
    ClientSecret,
    /// OAuth 2.0 access and refresh tokens (`gat_`, `grt_`).
    OAuthToken,
    /// OAuth 2.0 authorization codes.
    OAuthCode,
    /// OAuth 1.0a token keys and verifiers (the token *secrets* are sealed, not hashed).
    OAuth1Token,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::ApiKey => "api-key",
            Purpose::AppPassword => "app-password",
            Purpose::Session => "session",
            Purpose::Nonce => "nonce",
            Purpose::Csrf => "csrf",
            Purpose::ClientSecret => "oauth2-client-secret",
            Purpose::OAuthToken => "oauth2-token",
            Purpose::OAuthCode => "oauth2-code",
            Purpose::OAuth1Token => "oauth1-token",
        }
    }
}

/// The server key's subkeys, derived once at start, held as keyed HMAC states (the key
/// schedule is done once, not per request).
#[derive(Clone)]
pub struct Keyring {
    pub version: i64,
    api_key: Hmac<Sha256>,
    app_password: Hmac<Sha256>,
    session: Hmac<Sha256>,
    nonce: Hmac<Sha256>,
    csrf: Hmac<Sha256>,
    client_secret: Hmac<Sha256>,
    oauth_token: Hmac<Sha256>,
    oauth_code: Hmac<Sha256>,
    oauth1_token: Hmac<Sha256>,
    /// The key that seals OAuth 1.0a signing secrets (SPEC §2: a secret the server must use is
    /// stored AEAD-encrypted under its own subkey).
    seal: [u8; 32],
    /// The key that seals one-time page messages (`flash`): current version only, as a flash
    /// lives two minutes.
    flash: [u8; 32],
    /// Earlier key versions, newest first: stored hashes made with them still verify
    /// (SPEC §2 key rotation). New hashes always use the current version.
    older: Vec<Keyring>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(version {}, REDACTED)", self.version)
    }
}

impl Keyring {
    pub fn new(key: &ServerKey, version: i64) -> Keyring {
        let mac = |purpose: Purpose| {
            // HMAC accepts keys of any length, so this cannot fail.
            Hmac::<Sha256>::new_from_slice(&key.subkey(purpose.name()))
                .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default()))
        };
        Keyring {
            version,
            api_key: mac(Purpose::ApiKey),
            app_password: mac(Purpose::AppPassword),
            session: mac(Purpose::Session),
            nonce: mac(Purpose::Nonce),
            csrf: mac(Purpose::Csrf),
            client_secret: mac(Purpose::ClientSecret),
            oauth_token: mac(Purpose::OAuthToken),
            oauth_code: mac(Purpose::OAuthCode),
            oauth1_token: mac(Purpose::OAuth1Token),
            seal: key.subkey("oauth1-signing-secret"),
            flash: key.subkey("page-flash"),
            older: Vec::new(),
        }
    }

    /// A keyring whose current version is the highest of `keys`; the others verify old hashes.
    pub fn from_versions(mut keys: Vec<(i64, ServerKey)>) -> Option<Keyring> {
        keys.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
        let mut rings = keys.iter().map(|(v, k)| Keyring::new(k, *v));
        let mut current = rings.next()?;
        current.older = rings.collect();
        Some(current)
    }

    /// The keyed hash under every version, current first, each computed only when asked for:
    /// look-ups try them in turn and stop at the first found (with a single key, one HMAC and
    /// one indexed look-up; after a rotation, a credential hashed under the current version
    /// still costs one).
    pub fn hashes<'a>(
        &'a self,
        purpose: Purpose,
        secret: &'a str,
    ) -> impl Iterator<Item = String> + 'a {
        std::iter::once(self)
            .chain(self.older.iter())
            .map(move |k| k.hash(purpose, secret))
    }

    /// Seals a secret the server must use later (an OAuth 1.0a consumer or token secret) with
    /// XChaCha20-Poly1305 under the current key version; `bound_to` names the record it belongs
    /// to (associated data), so a sealed value copied onto another record does not open.
    pub fn seal(&self, bound_to: &str, secret: &str) -> Sealed {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use rand::RngCore;
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce cannot fail for inputs of this size.
        let ct = cipher
            .encrypt(
                chacha20poly1305::XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: bound_to.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Sealed {
            key_version: self.version,
            data: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out),
        }
    }

    /// Opens a sealed secret with the key version it was sealed under; `None` if that version is
    /// not held, or the data or `bound_to` do not match.
    pub fn open(&self, sealed: &Sealed, bound_to: &str) -> Option<String> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let ring = std::iter::once(self)
            .chain(self.older.iter())
            .find(|k| k.version == sealed.key_version)?;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&sealed.data)
            .ok()?;
        if raw.len() < 24 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&ring.seal).into());
        let plain = cipher
            .decrypt(
                chacha20poly1305::XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: bound_to.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    pub(crate) fn flash_key(&self) -> &[u8; 32] {
        &self.flash
    }

    /// The versions this keyring holds, current first.
    pub fn versions(&self) -> Vec<i64> {
        std::iter::once(self.version)
            .chain(self.older.iter().map(|k| k.version))
            .collect()
    }

    /// HMAC-SHA256 of `secret` under the purpose's subkey, as lower-case hex (what is stored).
    pub fn hash(&self, purpose: Purpose, secret: &str) -> String {
        let mut mac = match purpose {
            Purpose::ApiKey => self.api_key.clone(),
            Purpose::AppPassword => self.app_password.clone(),
            Purpose::Session => self.session.clone(),
            Purpose::Nonce => self.nonce.clone(),
            Purpose::Csrf => self.csrf.clone(),
            Purpose::ClientSecret => self.client_secret.clone(),
            Purpose::OAuthToken => self.oauth_token.clone(),
            Purpose::OAuthCode => self.oauth_code.clone(),
            Purpose::OAuth1Token => self.oauth1_token.clone(),
        };
        mac.update(secret.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// A secret sealed by `Keyring::seal`: the key version and `base64url(nonce ‖ ciphertext)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_version: i64,
    pub data: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(version {}, REDACTED)", self.key_version)
    }
}

/// Constant-time equality of two stored hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_base62_is_exact_and_uniform() {
        for n in [0, 1, 43, 64, 200] {
            let s = random_base62(n);
            assert_eq!(s.len(), n);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        // 62,000 characters: each of the 62 about 1,000 times (σ ≈ 31; bounds at ±7σ).
        let mut counts = [0u32; 256];
        for _ in 0..1000 {
            for b in random_base62(62).bytes() {
                counts[usize::from(b)] += 1;
            }
        }
        for c in BASE62 {
            let n = counts[usize::from(*c)];
            assert!((780..=1220).contains(&n), "{} came {n} times", *c as char);
        }
    }

    #[test]
    fn sealed_secrets_open_only_where_they_belong() {
        let k1 = ServerKey::generate();
        let k2 = ServerKey::generate();
        let old = Keyring::new(&k1, 1);
        let sealed = old.seal("consumer:abc", "s3cret");
        assert!(!format!("{sealed:?}").contains(&sealed.data));
        assert_eq!(old.open(&sealed, "consumer:abc").as_deref(), Some("s3cret"));
        assert_eq!(old.open(&sealed, "consumer:abd"), None);
        // After rotation the old version still opens it; a keyring without it does not.
        let ring = Keyring::from_versions(vec![(1, k1), (2, k2.clone())]).unwrap();
        assert_eq!(
            ring.open(&sealed, "consumer:abc").as_deref(),
            Some("s3cret")
        );
        assert_eq!(ring.seal("x", "y").key_version, 2);
        assert_eq!(Keyring::new(&k2, 1).open(&sealed, "consumer:abc"), None);
        let mut tampered = sealed.clone();
        tampered.data.replace_range(
            40..41,
            if &tampered.data[40..41] == "A" {
                "B"
            } else {
                "A"
            },
        );
        assert_eq!(old.open(&tampered, "consumer:abc"), None);
        assert_eq!(
            old.open(
                &Sealed {
                    key_version: 1,
                    data: "!!".into()
                },
                "x"
            ),
            None
        );
        // Too short to hold a nonce and a tag: refused, never a panic; an empty secret still opens.
        let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 10]);
        assert_eq!(
            old.open(
                &Sealed {
                    key_version: 1,
                    data: short
                },
                "x"
            ),
            None
        );
        assert_eq!(old.open(&old.seal("x", ""), "x").as_deref(), Some(""));
        // Two seals of one secret differ (a fresh nonce each time).
        assert_ne!(old.seal("a", "b").data, old.seal("a", "b").data);
    }

    #[test]
    fn minted_tokens_parse_and_typos_do_not() {
        for kind in TokenKind::ALL {
            let t = mint(kind);
            let s = t.expose_secret();
            assert_eq!(s.len(), 53);
            assert!(s.starts_with(kind.prefix()));
            assert_eq!(parse(s), Ok(kind));
            // One changed character in the body breaks the checksum.
            let mut b = s.as_bytes().to_vec();
            b[10] = if b[10] == b'a' { b'b' } else { b'a' };
            assert_eq!(
                parse(std::str::from_utf8(&b).unwrap()),
                Err(FormatError::Checksum)
            );
            assert_eq!(parse(&s[..52]), Err(FormatError::Shape));
        }
        assert_eq!(parse("xyz_abc"), Err(FormatError::Prefix));
        assert_eq!(
            parse(&format!("gak_{}", "!".repeat(49))),
            Err(FormatError::Shape)
        );
        assert_ne!(
            mint(TokenKind::UserApiKey).expose_secret(),
            mint(TokenKind::UserApiKey).expose_secret()
        );
        assert_eq!(
            format!("{:?}", mint(TokenKind::UserApiKey)),
            "Secret(REDACTED)"
        );
    }

    #[test]
    fn session_ids_have_one_shape() {
        let id = mint_session_id();
        assert!(is_session_id_shape(id.expose_secret()));
        let s = id.expose_secret();
        assert!(!is_session_id_shape(&s[1..]), "too short");
        assert!(!is_session_id_shape(&format!("{s}a")), "too long");
        assert!(
            !is_session_id_shape(&format!("{}-", &s[1..])),
            "right length, not base62"
        );
        assert!(!is_session_id_shape(""));
    }

    #[test]
    fn app_passwords_have_wordpress_shape() {
        let p = mint_app_password();
        let s = p.expose_secret();
        assert_eq!(s.len(), 24);
        let grouped = group_app_password(s);
        assert_eq!(grouped.len(), 29);
        assert_eq!(normalize_app_password(&grouped).as_deref(), Some(s));
        assert_eq!(normalize_app_password(s).as_deref(), Some(s));
        assert_eq!(normalize_app_password("too short"), None);
        assert_eq!(
            normalize_app_password("correct horse battery staple!"),
            None
        );
    }

    #[test]
    fn keyed_hashes_depend_on_key_and_purpose() {
        let k1 = Keyring::new(&ServerKey::from_bytes([1; 32]), 1);
        let k2 = Keyring::new(&ServerKey::from_bytes([2; 32]), 1);
        let a = k1.hash(Purpose::ApiKey, "x");
        assert_eq!(a.len(), 64);
        assert_eq!(a, k1.hash(Purpose::ApiKey, "x"));
        assert_ne!(a, k1.hash(Purpose::AppPassword, "x"));
        assert_ne!(a, k2.hash(Purpose::ApiKey, "x"));
        assert!(hashes_equal(&a, &a.clone()));
        assert!(!hashes_equal(&a, &k2.hash(Purpose::ApiKey, "x")));
    }

    #[test]
    fn rotated_keyrings_hash_new_and_verify_old() {
        let (a, b) = (
            ServerKey::from_bytes([1; 32]),
            ServerKey::from_bytes([2; 32]),
        );
        let old = Keyring::new(&a, 1);
        let ring = Keyring::from_versions(vec![(1, a), (2, b.clone())]).unwrap();
        assert_eq!(ring.version, 2);
        assert_eq!(ring.versions(), vec![2, 1]);
        assert_eq!(
            ring.hash(Purpose::ApiKey, "x"),
            Keyring::new(&b, 2).hash(Purpose::ApiKey, "x")
        );
        let all: Vec<String> = ring.hashes(Purpose::ApiKey, "x").collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], old.hash(Purpose::ApiKey, "x"));
        assert!(Keyring::from_versions(Vec::new()).is_none());
    }

    #[test]
    fn server_keys_round_trip_hex_and_fingerprint() {
        let k = ServerKey::generate();
        let again = ServerKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(k.fingerprint(), again.fingerprint());
        assert_ne!(k.fingerprint(), ServerKey::generate().fingerprint());
        assert!(ServerKey::from_hex("abc").is_none());
        assert!(ServerKey::from_hex(&"zz".repeat(32)).is_none());
        assert_eq!(format!("{k:?}"), "ServerKey(REDACTED)");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Adversarial input never panics, and only well-formed tokens parse.
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            if parse(&s).is_ok() {
                prop_assert_eq!(s.len(), TokenKind::len());
            }
        }

        /// Any single-character change to a minted token is caught by the checksum or the shape.
        #[test]
        fn one_changed_character_is_refused(i in 4usize..53, c in proptest::char::range('0', 'z')) {
            let t = mint(TokenKind::UserApiKey);
            let mut b: Vec<char> = t.expose_secret().chars().collect();
            prop_assume!(b[i] != c);
            b[i] = c;
            let changed: String = b.into_iter().collect();
            prop_assert!(parse(&changed).is_err());
        }

        #[test]
        fn app_password_normalization_never_panics(s in "\\PC{0,64}") {
            if let Some(n) = normalize_app_password(&s) {
                prop_assert_eq!(n.len(), 24);
            }
        }
    }
}
