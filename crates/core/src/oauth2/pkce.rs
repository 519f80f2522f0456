//! PKCE (RFC 7636) with `S256` only (SPEC §3): the challenge is BASE64URL(SHA-256(verifier))
//! without padding; a verifier is 43–128 unreserved characters. Compared in constant time. Pure.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Whether `v` is a well-formed code verifier (RFC 7636 §4.1).
pub fn verifier_ok(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(unreserved)
}

/// Whether `c` can be an `S256` challenge: 43 base64url characters (a SHA-256 digest).
pub fn challenge_ok(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `S256` challenge of a verifier.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is well formed and its `S256` challenge is `challenge`.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    verifier_ok(verifier) && bool::from(s256(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256(v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(verify(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn malformed_verifiers_and_challenges_fail() {
        let c = s256(&"a".repeat(43));
        assert!(verify(&"a".repeat(43), &c));
        assert!(
            !verify(&"a".repeat(42), &s256(&"a".repeat(42))),
            "too short"
        );
        assert!(
            !verify(&"a".repeat(129), &s256(&"a".repeat(129))),
            "too long"
        );
        let spaced = format!("{} ", "a".repeat(43));
        assert!(!verify(&spaced, &s256(&spaced)), "reserved character");
        assert!(!verify(&"b".repeat(43), &c), "another verifier");
        assert!(!challenge_ok("short"));
        assert!(!challenge_ok(&"+".repeat(43)));
    }
}
