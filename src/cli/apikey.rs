//! `rapport apikey create|list|revoke`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::clock::{Clock, SystemClock};
use crate::store::api_keys;
use crate::store::audit::AuditAction;

use super::{fail, load_settings};

#[derive(Subcommand)]
pub enum ApikeyCommand {
    /// Create a key; it is printed once and only its hash is kept.
    Create {
        /// Who uses the key, e.g. the practice system's name.
        #[arg(long)]
        name: String,
        /// read, write, or read,write.
        #[arg(long, default_value = "read,write")]
        scopes: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its number.
    Revoke { id: i64 },
}

pub fn run(config: Option<&Path>, command: ApikeyCommand) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = SystemClock.now();
    let mut conn = match crate::app::open_database(&settings.database_url, now) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match command {
        ApikeyCommand::Create { name, scopes } => {
            if name.trim().is_empty() {
                return fail("--name must not be empty");
            }
            let scopes = match api_keys::parse_scopes(&scopes) {
                Ok(s) => s,
                Err(e) => return fail(format!("--scopes: {e}")),
            };
            let created = conn.write_transaction(|conn| {
                let (key, secret) = api_keys::create(conn, &name, &scopes, now)?;
                let detail = format!(
                    "key #{} \"{}\" ({}), from the command line",
                    key.id, key.name, key.scopes
                );
                crate::store::audit::record(
                    conn,
                    &crate::store::audit::AuditEntry {
                        detail: Some(&detail),
                        ..crate::store::audit::AuditEntry::new(AuditAction::ApiKeyCreate)
                    },
                    now,
                )?;
                Ok::<_, crate::store::StoreError>((key, secret))
            });
            match created {
                Ok((key, secret)) => {
                    println!("{secret}");
                    eprintln!(
                        "API key #{} \"{}\" ({}) created. It is shown only now: store it in the practice system.",
                        key.id, key.name, key.scopes
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        ApikeyCommand::List => match api_keys::list(&mut conn) {
            Ok(keys) => {
                for k in keys {
                    println!(
                        "#{:<4} {:<30} {:<12} created {}{}",
                        k.id,
                        k.name,
                        k.scopes,
                        k.created_at.format("%Y-%m-%d"),
                        if k.revoked_at.is_some() { "  (revoked)" } else { "" }
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        ApikeyCommand::Revoke { id } => match conn.write_transaction(|conn| {
            let revoked = api_keys::revoke(conn, id, now)?;
            if revoked {
                let detail = format!("key #{id}, from the command line");
                crate::store::audit::record(
                    conn,
                    &crate::store::audit::AuditEntry {
                        detail: Some(&detail),
                        ..crate::store::audit::AuditEntry::new(AuditAction::ApiKeyRevoke)
                    },
                    now,
                )?;
            }
            Ok::<_, crate::store::StoreError>(revoked)
        }) {
            Ok(true) => {
                println!("API key #{id} revoked.");
                ExitCode::SUCCESS
            }
            Ok(false) => fail(format!("there is no active API key #{id}")),
            Err(e) => fail(e),
        },
    }
}
