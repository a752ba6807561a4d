//! Secrets: password hashing and the random tokens in emailed links and
//! API keys. Only hashes are ever stored.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Minimum length for staff passwords (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_LEN: usize = 10;

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

pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("the password must have at least {MIN_PASSWORD_LEN} characters"));
    }
    Ok(())
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
