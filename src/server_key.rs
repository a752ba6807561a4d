//! The server key: signs staff cookies and seals queued links and webhook
//! secrets. It is kept out of the database, so a copy of the database (a
//! backup, a dump handed to a supplier) opens nothing.
//!
//! May import `config` and `store` only.
//!
//! `RAPPORT_SECRET_KEY` sets it; otherwise it lives in a file beside the
//! SQLite database (`rapport.db` → `rapport.key`; `./rapport.key` for
//! PostgreSQL, or `RAPPORT_SECRET_KEY_FILE`), created on first start with
//! mode 0600. The database keeps only a check value, so a server started
//! with the wrong key, or without the key it was set up with, refuses to
//! start instead of silently failing every sealed email.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::store::{DbConnection, StoreError, kv};

/// Where older versions kept the key, in the `settings` table.
const LEGACY_KEY: &str = "secret_key";
/// A one-way check value of the key in use.
const CHECK_KEY: &str = "secret_key_check";
/// Shortest key accepted from a file.
const MIN_LENGTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(String),
}

fn check_value(secret: &str) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(b"rapport server key check v1\0")
            .chain_update(secret.as_bytes())
            .finalize(),
    )
}

/// The server key for this database: from the setting, the key file, or
/// (first start) a new one written to the key file. Moves a key that an
/// older version kept in the database out to the file.
pub fn load(settings: &Settings, conn: &mut DbConnection, now: NaiveDateTime) -> Result<String, KeyError> {
    let legacy = kv::get(conn, LEGACY_KEY)?;
    let (secret, source) = match &settings.secret_key {
        Some(k) => (k.clone(), "RAPPORT_SECRET_KEY".to_string()),
        None => {
            let path = settings.key_file();
            (
                read_or_create(&path, legacy.as_deref(), conn)?,
                path.display().to_string(),
            )
        }
    };
    let expected = check_value(&secret);
    let stored = kv::get_or_insert(conn, CHECK_KEY, || expected.clone(), now)?;
    if stored != expected {
        return Err(KeyError::Key(format!(
            "the server key from {source} is not the one this database was set up with; \
             use the key file from the first start (or its RAPPORT_SECRET_KEY)"
        )));
    }
    if legacy.is_some() {
        kv::remove(conn, LEGACY_KEY)?;
        tracing::info!("moved the server key out of the database into {source}");
    }
    Ok(secret)
}

fn read_or_create(path: &Path, legacy: Option<&str>, conn: &mut DbConnection) -> Result<String, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().to_string();
            if secret.len() < MIN_LENGTH {
                return Err(KeyError::Key(format!(
                    "the server key file {} holds fewer than {MIN_LENGTH} characters",
                    path.display()
                )));
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if legacy.is_none() && kv::get(conn, CHECK_KEY)?.is_some() {
                return Err(KeyError::Key(format!(
                    "this database was set up with a server key that is not at {}; restore that file \
                     (or set RAPPORT_SECRET_KEY) — a new key could not open its queued emails or sign-ins",
                    path.display()
                )));
            }
            let secret = legacy
                .map(str::to_string)
                .unwrap_or_else(|| hex::encode(rand::random::<[u8; 64]>()));
            match write_new(path, &secret) {
                Ok(()) => {
                    tracing::info!(
                        "created the server key {} (mode 0600): back it up apart from the database",
                        path.display()
                    );
                    Ok(secret)
                }
                // Another instance starting at the same moment wrote it first.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create(path, legacy, conn),
                Err(e) => Err(KeyError::Key(format!(
                    "cannot create the server key file {}: {e} (or set RAPPORT_SECRET_KEY)",
                    path.display()
                ))),
            }
        }
        Err(e) => Err(KeyError::Key(format!(
            "cannot read the server key file {}: {e}",
            path.display()
        ))),
    }
}

fn write_new(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Written under a temporary name and linked into place, so another
    // instance never reads a half-written key.
    let temporary = path.with_extension(format!("key.{}", std::process::id()));
    let mut file = options.open(&temporary)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    linked
}
