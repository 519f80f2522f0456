//! One-time page messages after a form (post/redirect/get): what a form did — a notice, an error
//! with the fields as typed, or a new secret to show once — travels to the page the form
//! redirects to in a cookie sealed with XChaCha20-Poly1305 under its own subkey, bound to the
//! session (its stored hash is the associated data) and short-lived. The session record holds
//! the flash's random id, and one atomic statement takes it, so a flash is shown once.
//! Invariants: a secret is never in a URL and never stored server-side; a flash does not open
//! without the server key, after its lifetime, or in another session; a reload shows nothing.

use crate::clock::Timestamp;
use crate::secrets::Keyring;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a flash waits for the page it is meant for.
pub const TTL_SECS: i64 = 120;
/// A sealed flash longer than this is not opened (a cookie holds at most about 4 KB).
pub const MAX_SEALED_LEN: usize = 3800;
/// Longest notice or error kept (characters); a longer one is cut with "…".
pub const MAX_TEXT_CHARS: usize = 300;
/// Longest field value kept (characters).
pub const MAX_FIELD_CHARS: usize = 500;

/// A secret to show once, with what it is ("Your new API key").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ShownOnce {
    pub label: String,
    pub value: String,
}

/// What the next page shows about the form that led to it.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// New secrets to show once: usually one; more when forms were sent again before the page
    /// showing the first could load (a double click, two tabs), so none is lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ShownOnce>,
    /// The form's fields as typed (never a password), to fill the form in again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Flash {
    pub fn notice(text: impl Into<String>) -> Flash {
        Flash {
            notice: Some(cut(&text.into(), MAX_TEXT_CHARS)),
            ..Flash::default()
        }
    }

    /// What a form refused; long input repeated in it is cut, so the message always arrives.
    pub fn error(text: impl Into<String>) -> Flash {
        Flash {
            error: Some(cut(&text.into(), MAX_TEXT_CHARS)),
            ..Flash::default()
        }
    }

    pub fn secret(label: impl Into<String>, value: impl Into<String>) -> Flash {
        Flash {
            secrets: vec![ShownOnce {
                label: cut(&label.into(), MAX_TEXT_CHARS),
                value: value.into(),
            }],
            ..Flash::default()
        }
    }

    /// Keeps `fields` as typed, each cut to `MAX_FIELD_CHARS` so the cookie stays small.
    pub fn with_fields<'a>(mut self, fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in fields {
            self.fields.insert(k.to_string(), cut(v, MAX_FIELD_CHARS));
        }
        self
    }

    /// Adds the secrets of an earlier flash that was never shown, before this one's.
    pub fn keeping(mut self, earlier: Flash) -> Self {
        let mut all = earlier.secrets;
        all.append(&mut self.secrets);
        self.secrets = all;
        self
    }

    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }
}

/// `text` cut to `max` characters, ending with "…" when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    id: String,
    exp: Timestamp,
    flash: Flash,
}

/// A fresh random flash id (128 bits, hex), recorded on the session until the flash is shown.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cipher(keys: &Keyring) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(keys.flash_key().into())
}

/// Seals `flash` for the session whose stored hash is `binding`, valid until `now + TTL_SECS`.
pub fn seal(keys: &Keyring, binding: &str, id: &str, flash: &Flash, now: Timestamp) -> String {
    let envelope = Envelope {
        id: id.to_string(),
        exp: now + TTL_SECS,
        flash: flash.clone(),
    };
    // Serializing plain strings and maps cannot fail.
    let plain = serde_json::to_vec(&envelope).unwrap_or_default();
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher(keys)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: binding.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// Opens a sealed flash: `(id, flash)` when it was sealed by this server for this session and
/// has not expired. The caller still takes `id` from the session (once) before showing it.
pub fn open(
    keys: &Keyring,
    binding: &str,
    sealed: &str,
    now: Timestamp,
) -> Option<(String, Flash)> {
    if sealed.len() > MAX_SEALED_LEN {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if raw.len() < 24 + 16 {
        return None;
    }
    let (nonce, body) = raw.split_at(24);
    let plain = cipher(keys)
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: binding.as_bytes(),
            },
        )
        .ok()?;
    let envelope: Envelope = serde_json::from_slice(&plain).ok()?;
    (now < envelope.exp && !envelope.id.is_empty()).then_some((envelope.id, envelope.flash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::ServerKey;

    fn keys() -> Keyring {
        Keyring::new(&ServerKey::from_bytes([7; 32]), 1)
    }

    #[test]
    fn opens_only_for_its_session_before_it_expires() {
        let k = keys();
        let f = Flash::secret("Your new API key", "gak_secret").with_fields([("scopes", "posts")]);
        let s = seal(&k, "session-a", "id1", &f, 1000);
        assert!(!s.contains("gak_secret"));
        assert_eq!(open(&k, "session-a", &s, 1000), Some(("id1".into(), f)));
        assert_eq!(
            open(&k, "session-a", &s, 1000 + TTL_SECS - 1).map(|x| x.0),
            Some("id1".into())
        );
        assert_eq!(open(&k, "session-a", &s, 1000 + TTL_SECS), None);
        assert_eq!(open(&k, "session-b", &s, 1000), None);
        let other = Keyring::new(&ServerKey::from_bytes([8; 32]), 1);
        assert_eq!(open(&other, "session-a", &s, 1000), None);
    }

    #[test]
    fn refuses_tampered_truncated_and_oversized_input() {
        let k = keys();
        let s = seal(&k, "b", "id", &Flash::notice("hi"), 0);
        let mut bytes = URL_SAFE_NO_PAD.decode(&s).unwrap_or_default();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(open(&k, "b", &URL_SAFE_NO_PAD.encode(&bytes), 0), None);
        assert_eq!(open(&k, "b", &s[..20], 0), None);
        assert_eq!(open(&k, "b", "", 0), None);
        assert_eq!(open(&k, "b", "!!!", 0), None);
        assert_eq!(open(&k, "b", &"A".repeat(MAX_SEALED_LEN + 1), 0), None);
    }

    #[test]
    fn long_input_is_cut_so_the_message_always_fits() {
        let long = "x".repeat(200_000);
        let f = Flash::error(format!("unknown scope {long:?}"))
            .with_fields([("description", long.as_str()), ("scopes", long.as_str())]);
        assert_eq!(f.fields["description"].chars().count(), MAX_FIELD_CHARS);
        assert_eq!(
            f.error.as_ref().map(|e| e.chars().count()),
            Some(MAX_TEXT_CHARS)
        );
        assert!(f.error.as_ref().is_some_and(|e| e.ends_with('…')));
        let s = seal(&keys(), "b", "id", &f, 0);
        assert!(s.len() <= MAX_SEALED_LEN, "{}", s.len());
        assert_eq!(open(&keys(), "b", &s, 0).map(|x| x.1), Some(f));
    }

    #[test]
    fn an_unshown_secret_is_kept_with_the_next() {
        let first = Flash::secret("Your new API key “a”", "gak_1");
        let both = Flash::secret("Your new API key “b”", "gak_2").keeping(first);
        let values: Vec<&str> = both.secrets.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(values, ["gak_1", "gak_2"]);
    }
}
