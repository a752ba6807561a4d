//! Secrets: password hashing and the random tokens in emailed links and
//! API keys. Only hashes are ever stored.
//!
//! Imports nothing else of ours.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Minimum length for staff passwords (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted, when set and at sign-in alike (NIST asks
/// for at least 64; the bound keeps hashing cheap for a hostile request).
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the email is unknown, so a wrong email
/// takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    use std::sync::OnceLock;
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// A new staff password, by NIST SP 800-63B: long enough, not too long,
/// not a common or breached password (or one with digits and symbols added
/// at the end), and not the person's own email address or name. No rules
/// about character classes, which only make passwords harder to remember.
pub fn check_new_password(password: &str, email: &str, name: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(format!("the password must have at least {MIN_PASSWORD_LEN} characters"));
    }
    if length > MAX_PASSWORD_LEN {
        return Err(format!("the password must have at most {MAX_PASSWORD_LEN} characters"));
    }
    let lower = password.to_lowercase();
    if is_common_password(&lower) {
        return Err("that password is one of the most common (it appears in lists from data breaches); choose another, such as a few unrelated words".into());
    }
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    let name = name.trim().to_lowercase();
    let squeezed = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>();
    let own = [email.as_str(), local, name.as_str()];
    if own.iter().any(|o| {
        let o = squeezed(o);
        o.chars().count() >= 4 && squeezed(&lower).contains(&o)
    }) {
        return Err("the password must not contain your email address or name".into());
    }
    Ok(())
}

/// One of the shipped common passwords, or one of them followed only by
/// digits and symbols ("dragon2024!").
pub fn is_common_password(lowercase: &str) -> bool {
    use std::collections::HashSet;
    use std::sync::OnceLock;
    static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let common = COMMON.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    });
    if common.contains(lowercase) {
        return true;
    }
    let base = lowercase.trim_end_matches(|c: char| !c.is_alphabetic());
    base.chars().count() >= 6 && base.len() < lowercase.len() && common.contains(base)
}

/// A fresh link token: 256 bits from the operating system's generator,
/// URL-safe base64 (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom_fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn getrandom_fill(bytes: &mut [u8]) {
    use rand::TryRngCore;
    // OsRng reads the kernel's generator directly; failure to read it
    // means the machine cannot make secrets at all.
    rand::rngs::OsRng
        .try_fill_bytes(bytes)
        .expect("the operating system's random generator is unavailable");
}

/// SHA-256 of a token, hex-encoded: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {

    #[test]
    fn new_passwords_follow_nist() {
        let ok = |p: &str| check_new_password(p, "ann.lee@example.org", "Ann Lee");
        assert!(ok("violet kettle under nine moons").is_ok());
        assert!(ok("short").unwrap_err().contains("at least"));
        assert!(ok(&"x".repeat(MAX_PASSWORD_LEN + 1)).unwrap_err().contains("at most"));
        assert!(ok(&"xy".repeat(MAX_PASSWORD_LEN / 2)).is_ok(), "the longest allowed");
        for common in [
            "password123",
            "Password1234",
            "qwertyuiop",
            "1234567890",
            "football2024!!",
            "iloveyou!!!!",
        ] {
            assert!(ok(common).unwrap_err().contains("common"), "{common}");
        }
        assert!(ok("ann.lee@example.org").is_err());
        assert!(ok("my name is ann.lee ok").is_err());
        assert!(ok("Ann-Lee-forever-and-ever").unwrap_err().contains("name"));
        assert!(ok("annlee annlee annlee").unwrap_err().contains("name"));
    }
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}

/// Encrypts data kept only until it is used (the links inside a queued
/// email), so a copy of the database does not hold working survey links.
/// AES-256-GCM with a key derived from the server secret.
#[derive(Clone)]
pub struct Sealer {
    cipher: aes_gcm::Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened (wrong secret key, or damaged)")]
pub struct UnsealError;

impl Sealer {
    pub fn new(secret: &str) -> Sealer {
        use aes_gcm::KeyInit;
        let key = Sha256::new()
            .chain_update(b"rapport sealed data v1\0")
            .chain_update(secret.as_bytes())
            .finalize();
        Sealer {
            cipher: aes_gcm::Aes256Gcm::new(&key),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        use aes_gcm::aead::Aead;
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<String, UnsealError> {
        use aes_gcm::aead::Aead;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed)
            .map_err(|_| UnsealError)?;
        if bytes.len() < 12 {
            return Err(UnsealError);
        }
        let (nonce, data) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(aes_gcm::Nonce::from_slice(nonce), data)
            .map_err(|_| UnsealError)?;
        String::from_utf8(plain).map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod sealer_tests {
    use super::*;

    #[test]
    fn sealed_data_round_trips_and_resists_tampering() {
        let sealer = Sealer::new(&"s".repeat(64));
        let sealed = sealer.seal("https://clinic.example/s/TOKEN");
        assert!(!sealed.contains("TOKEN"));
        assert_eq!(sealer.open(&sealed).unwrap(), "https://clinic.example/s/TOKEN");
        assert!(Sealer::new(&"t".repeat(64)).open(&sealed).is_err());
        assert!(sealer.open("garbage").is_err());
    }
}
