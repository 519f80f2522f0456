//! Cookie sessions and WordPress-style nonces (SPEC §7), as pure functions: session lifetimes
//! (idle 2 days, absolute 14 days), `wp_rest` nonces — a stateless HMAC of (user, session,
//! action, 12-hour tick), valid for the current and previous tick, reusable — and CSRF tokens
//! for HTML forms, bound to the session (or, before log-in, to a pre-session cookie).
//! Invariants: nonces and CSRF tokens are compared in constant time; nothing here is stored.
//! Time comes from the caller (`now`).

use crate::clock::Timestamp;
use crate::model::Session;
use crate::secrets::{hashes_equal, Keyring, Purpose};

pub const IDLE_SECS: i64 = 2 * 86_400;
pub const ABSOLUTE_SECS: i64 = 14 * 86_400;
/// Half a day: WordPress's nonce tick (`wp_nonce_tick`).
pub const NONCE_TICK_SECS: i64 = 43_200;
/// `last_seen` is written at most this often.
pub const TOUCH_SECS: i64 = crate::credentials::TOUCH_INTERVAL_SECS;

/// Whether a session is still usable at `now`.
pub fn is_live(s: &Session, now: Timestamp) -> bool {
    now < s.expires_at && now < s.last_seen_at + IDLE_SECS
}

/// WordPress's tick: `ceil(now / (DAY_IN_SECONDS / 2))`.
pub fn tick(now: Timestamp) -> i64 {
    (now + NONCE_TICK_SECS - 1).div_euclid(NONCE_TICK_SECS)
}

fn nonce_at(keys: &Keyring, tick: i64, action: &str, user: i64, session: &str) -> String {
    let full = keys.hash(Purpose::Nonce, &format!("{tick}|{action}|{user}|{session}"));
    full[..10].to_string()
}

/// The nonce for `action` now (what `wp_create_nonce` returns). `session` is the session's
/// stored hash, so nonces die with their session.
pub fn create_nonce(
    keys: &Keyring,
    action: &str,
    user: i64,
    session: &str,
    now: Timestamp,
) -> String {
    nonce_at(keys, tick(now), action, user, session)
}

/// WordPress's `wp_verify_nonce`: `Some(1)` for the current tick, `Some(2)` for the previous one.
pub fn verify_nonce(
    keys: &Keyring,
    nonce: &str,
    action: &str,
    user: i64,
    session: &str,
    now: Timestamp,
) -> Option<u8> {
    let t = tick(now);
    if hashes_equal(nonce, &nonce_at(keys, t, action, user, session)) {
        return Some(1);
    }
    if hashes_equal(nonce, &nonce_at(keys, t - 1, action, user, session)) {
        return Some(2);
    }
    None
}

/// The CSRF token of a form, bound to a session hash or a pre-session value.
pub fn csrf_token(keys: &Keyring, binding: &str) -> String {
    keys.hash(Purpose::Csrf, &format!("form|{binding}"))
}

pub fn csrf_ok(keys: &Keyring, binding: &str, presented: &str) -> bool {
    hashes_equal(presented, &csrf_token(keys, binding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserId;
    use crate::secrets::ServerKey;

    fn keys() -> Keyring {
        Keyring::new(&ServerKey::from_bytes([7; 32]), 1)
    }

    #[test]
    fn nonces_live_two_ticks_and_are_bound() {
        let k = keys();
        let t0 = 1_795_392_000; // a tick boundary
        let n = create_nonce(&k, "wp_rest", 3, "sess", t0 + 10);
        assert_eq!(n.len(), 10);
        assert_eq!(verify_nonce(&k, &n, "wp_rest", 3, "sess", t0 + 10), Some(1));
        assert_eq!(
            verify_nonce(&k, &n, "wp_rest", 3, "sess", t0 + NONCE_TICK_SECS + 10),
            Some(2)
        );
        assert_eq!(
            verify_nonce(&k, &n, "wp_rest", 3, "sess", t0 + 2 * NONCE_TICK_SECS + 10),
            None
        );
        assert_eq!(
            verify_nonce(&k, &n, "wp_rest", 4, "sess", t0 + 10),
            None,
            "bound to the user"
        );
        assert_eq!(
            verify_nonce(&k, &n, "wp_rest", 3, "other", t0 + 10),
            None,
            "bound to the session"
        );
        assert_eq!(
            verify_nonce(&k, &n, "log-out", 3, "sess", t0 + 10),
            None,
            "bound to the action"
        );
        assert_eq!(
            verify_nonce(&k, "deadbeef00", "wp_rest", 3, "sess", t0 + 10),
            None
        );
    }

    #[test]
    fn sessions_expire_idle_and_absolute() {
        let s = Session {
            id: 1,
            user_id: UserId(1),
            created_at: 0,
            last_seen_at: 100,
            expires_at: ABSOLUTE_SECS,
            ip: String::new(),
            user_agent: String::new(),
        };
        assert!(is_live(&s, 100 + IDLE_SECS - 1));
        assert!(!is_live(&s, 100 + IDLE_SECS));
        let busy = Session {
            last_seen_at: ABSOLUTE_SECS - 5,
            ..s
        };
        assert!(!is_live(&busy, ABSOLUTE_SECS));
    }

    #[test]
    fn lifetimes_and_ticks_are_wordpress_s() {
        assert_eq!((IDLE_SECS, ABSOLUTE_SECS), (172_800, 1_209_600));
        // ceil(now / 43200): a tick ends exactly on a multiple of half a day.
        assert_eq!(tick(1), 1);
        assert_eq!(tick(43_200), 1);
        assert_eq!(tick(43_201), 2);
        assert_eq!(tick(86_400), 2);
        assert_eq!(tick(0), 0);
    }

    #[test]
    fn csrf_tokens_are_bound() {
        let k = keys();
        let t = csrf_token(&k, "a");
        assert!(csrf_ok(&k, "a", &t));
        assert!(!csrf_ok(&k, "b", &t));
        assert!(!csrf_ok(&k, "a", ""));
    }
}
