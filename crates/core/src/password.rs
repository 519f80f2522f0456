//! Account passwords: Argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1),
//! stored as PHC strings. Owns hashing and verification; the concurrency cap on Argon2id lives
//! in the server (it is a property of the process, SPEC §2).
//! Invariants: verification is constant-time in the hash comparison (argon2's `verify_password`);
//! an unknown user is checked against `DUMMY` so failures cost the same (SPEC §0).
//! Randomness: salts from the OS RNG.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed")]
    Hash,
}

fn hasher() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, m=19456 KiB, t=2, p=1 (also argon2's default).
    let params = Params::new(19_456, 2, 1, Some(32)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string with a fresh salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// True when `password` matches `phc`. A malformed stored hash never matches.
pub fn verify(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real check, for users that do not exist. Always false.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("gatehouse-dummy-password").unwrap_or_default());
    let _ = verify(phc, password);
    false
}

/// A fresh random password of `len` characters from `[A-Za-z0-9]` (OS RNG), for demo accounts.
pub fn generate(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut OsRng, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_owasp_parameters() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "correct horse "));
        assert!(!verify("not a hash", "x"));
        assert!(!verify_dummy("correct horse"));
    }
}
