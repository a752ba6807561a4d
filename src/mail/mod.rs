//! Email: building messages (maud templates), the transports, and the
//! outbox dispatcher.
//!
//! May import `store`, `domain`, `security`, `config`, `i18n` and `clock`;
//! never `actions`, `context`, `jobs`, `web` or `cli`. The dispatcher works
//! with [`Outbound`], its own part of the running service.

pub mod dispatcher;
pub mod dkim;
pub mod smtp;
pub mod templates;
pub mod webhook;

use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use crate::config::{MailTransport, Settings};

/// What the outbox dispatcher works with: the database, the settings, the
/// clock, the key that opens sealed payloads, and the transport.
#[derive(Clone)]
pub struct Outbound {
    pub pool: crate::store::Pool,
    pub settings: std::sync::Arc<Settings>,
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    pub sealer: crate::security::Sealer,
    pub mailer: std::sync::Arc<Mailer>,
    pub dkim: Option<std::sync::Arc<Dkim>>,
}

impl Outbound {
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now()
    }
}

/// SMTP connections kept open at once, and so sends in flight.
pub const SMTP_CONNECTIONS: u32 = 8;

/// Where mail goes: one shared pool of SMTP connections, or a folder of
/// `.eml` files (the embedded default).
pub enum Mailer {
    Folder(AsyncFileTransport<Tokio1Executor>),
    Smtp(smtp::SmtpPool),
}

/// Why a send failed, as the outbox needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying later: network, timeout, 4xx.
    Transient(String),
    /// The server refused for good: 5xx.
    Permanent(String),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Folder(_) => f.write_str("Mailer::Folder"),
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
        }
    }
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Mailer, String> {
        match &settings.mail {
            MailTransport::Folder(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("RAPPORT_OUTBOX_DIR: cannot create {}: {e}", dir.display()))?;
                Ok(Mailer::Folder(AsyncFileTransport::new(dir)))
            }
            MailTransport::Smtp(url) => {
                let endpoint = smtp::Endpoint::parse(url, Duration::from_secs(settings.smtp_timeout_seconds))
                    .map_err(|e| format!("RAPPORT_SMTP_URL {}: {e}", crate::config::mask_url(url)))?;
                Ok(Mailer::Smtp(smtp::SmtpPool::new(endpoint, SMTP_CONNECTIONS)))
            }
        }
    }

    /// Sends one formatted message, byte for byte (so a DKIM signature over
    /// those bytes holds). The whole send is bounded by `limit` (lettre's own
    /// timeout covers only the connection).
    pub async fn send(&self, envelope: &Envelope, message: &[u8], limit: Duration) -> Result<(), SendError> {
        match self {
            Mailer::Folder(transport) => tokio::time::timeout(limit, transport.send_raw(envelope, message))
                .await
                .map_err(|_| SendError::Transient("writing the .eml file timed out".into()))?
                .map(|_| ())
                .map_err(|e| SendError::Transient(format!("cannot write the .eml file: {e}"))),
            Mailer::Smtp(pool) => tokio::time::timeout(limit, pool.send(envelope, message))
                .await
                .map_err(|_| {
                    SendError::Transient(format!("no answer from the SMTP server within {} s", limit.as_secs()))
                })?,
        }
    }
}

pub use dkim::Dkim;

impl Dkim {
    /// The signer the settings ask for, if any.
    pub fn from_settings(settings: &Settings) -> Result<Option<Dkim>, String> {
        let Some(d) = &settings.dkim else { return Ok(None) };
        let key = std::fs::read_to_string(&d.key_file)
            .map_err(|e| format!("RAPPORT_DKIM_KEY_FILE: cannot read {}: {e}", d.key_file.display()))?;
        Dkim::new(&d.domain, &d.selector, &key)
            .map(Some)
            .map_err(|e| format!("RAPPORT_DKIM_KEY_FILE: {}: {e}", d.key_file.display()))
    }
}
