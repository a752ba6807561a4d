//! `rapport apikey create|list|revoke`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::actions::{Actor, integrations};
use crate::clock::{Clock, SystemClock};
use crate::store::{StoreError, api_keys};

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
            let scopes = match api_keys::parse_scopes(&scopes) {
                Ok(s) => s,
                Err(e) => return fail(format!("--scopes: {e}")),
            };
            match integrations::create_api_key(&mut conn, Actor::CommandLine, &name, &scopes, now) {
                Ok((key, secret)) => {
                    println!("{secret}");
                    eprintln!(
                        "API key #{} \"{}\" ({}) created. It is shown only now: store it in the practice system.",
                        key.id, key.name, key.scopes
                    );
                    ExitCode::SUCCESS
                }
                Err(StoreError::Invalid(why)) => fail(format!("--name or --scopes: {why}")),
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
        ApikeyCommand::Revoke { id } => match integrations::revoke_api_key(&mut conn, Actor::CommandLine, id, now) {
            Ok(true) => {
                println!("API key #{id} revoked.");
                ExitCode::SUCCESS
            }
            Ok(false) => fail(format!("there is no active API key #{id}")),
            Err(e) => fail(e),
        },
    }
}
