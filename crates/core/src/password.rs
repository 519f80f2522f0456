//! Account passwords: Argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1),
//! stored as PHC strings. Owns hashing and verification; the concurrency cap on Argon2id lives
//! in the server (it is a property of the process, SPEC §2).
//! Invariants: verification is constant-time in the hash comparison (argon2's `verify_password`);
//! an unknown user is checked against `dummy_phc` so failures cost the same (SPEC §0).
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

/// Checks a password against a stored PHC string. The server holds one (`Argon2id`); tests wrap
/// it to count checks, which is how they prove unknown users cost a real verification.
pub trait Verifier: Send + Sync + std::fmt::Debug {
    fn verify(&self, phc: &str, password: &str) -> bool;
}

/// The production verifier: `verify`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Argon2id;

impl Verifier for Argon2id {
    fn verify(&self, phc: &str, password: &str) -> bool {
        verify(phc, password)
    }
}

/// A PHC string at the production parameters for a random secret nobody knows (made once per
/// process), so checking against it costs exactly what a real check costs and never matches.
pub fn dummy_phc() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash(&generate(32)).unwrap_or_default())
}

/// For users that do not exist: spends the same work as a real check (one verification through
/// `v` against `dummy_phc`), so timing does not tell the two apart (SPEC §0). Always false.
pub fn verify_dummy(v: &dyn Verifier, password: &str) -> bool {
    let _ = v.verify(dummy_phc(), password);
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
    }

    /// Counts the checks it is asked for, and answers `true` to all of them (so a dummy check
    /// that passed its verifier's answer through would be caught).
    #[derive(Debug, Default)]
    struct YesMan(std::sync::atomic::AtomicU32);
    impl Verifier for YesMan {
        fn verify(&self, phc: &str, _password: &str) -> bool {
            assert_eq!(phc, dummy_phc());
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            true
        }
    }

    #[test]
    fn the_production_verifier_verifies() {
        let h = hash("correct horse").unwrap();
        assert!(Argon2id.verify(&h, "correct horse"));
        assert!(!Argon2id.verify(&h, "wrong"));
        let a = generate(24);
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, generate(24), "random");
    }

    #[test]
    fn the_dummy_check_does_the_work_and_never_verifies() {
        let v = YesMan::default();
        assert!(!verify_dummy(&v, "anything"));
        assert_eq!(
            v.0.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one real verification"
        );
        // The dummy hash is a real Argon2id hash at the production parameters, of no known password.
        assert!(dummy_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify(dummy_phc(), ""));
        assert!(!verify_dummy(&Argon2id, "gatehouse-dummy-password"));
        assert_eq!(dummy_phc(), dummy_phc(), "made once per process");
    }
}
