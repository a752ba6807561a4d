//! `rapport client erase|record ID` and `rapport retention`.

use crate::store::ClientId;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::actions::{self, Actor};
use crate::clock::{Clock, SystemClock};
use crate::config::parse_retention_days;
use crate::json::ClientRecordView;
use crate::store::erasure;
use crate::store::{self, DbConnection, StoreError};

use super::{fail, load_settings};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Erase a client's identifying data (name, email, external ids, free
    /// text, link tokens) and cancel their pending emails; anonymous scores
    /// are kept. Audited.
    Erase {
        /// The client's number.
        id: ClientId,
    },
    /// Print everything held about a client as JSON (subject access request). Audited.
    Record {
        /// The client's number.
        id: ClientId,
    },
}

#[derive(Args)]
pub struct RetentionArgs {
    /// List who would be erased now, changing nothing.
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
    /// Erase them now (the job loop also does this once a day).
    #[arg(long)]
    pub apply: bool,
    /// Days after the last appointment (default: RAPPORT_RETENTION_DAYS).
    #[arg(long, value_name = "DAYS")]
    pub days: Option<String>,
}

fn open(config: Option<&Path>) -> Result<DbConnection, ExitCode> {
    let settings = load_settings(config)?;
    store::establish(&settings.database_url)
        .and_then(|mut c| {
            store::run_migrations(&mut c)?;
            Ok(c)
        })
        .map_err(fail)
}

pub fn client(config: Option<&Path>, command: ClientCommand) -> ExitCode {
    let mut conn = match open(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let now = SystemClock.now();
    match command {
        ClientCommand::Erase { id } => {
            match actions::clients::erase(
                &mut conn,
                Actor::CommandLine,
                id,
                "rapport client erase (command line)",
                now,
            ) {
                Ok(done) => {
                    let again = if done.was_already_erased {
                        " (it had been erased before; checked again)"
                    } else {
                        ""
                    };
                    println!(
                        "Client #{id} erased{again}: name, email, time zone and external ids removed; \
                         {} free-text answer(s) and {} note(s) removed; {} link token(s) removed; \
                         {} invitation(s) and {} email(s) cancelled; {} response score(s) kept.",
                        done.comments_removed,
                        done.notes_removed,
                        done.link_tokens_removed,
                        done.invitations_cancelled,
                        done.emails_cancelled,
                        done.responses_kept
                    );
                    ExitCode::SUCCESS
                }
                Err(StoreError::NotFound) => fail(format!("there is no client #{id}; nothing was erased")),
                Err(e) => fail(e),
            }
        }
        ClientCommand::Record { id } => {
            let loaded = actions::clients::read_record(&mut conn, Actor::CommandLine, id, now);
            match loaded {
                Ok(record) => match serde_json::to_string_pretty(&ClientRecordView::new(&record, now)) {
                    Ok(json) => {
                        println!("{json}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e),
                },
                Err(StoreError::NotFound) => fail(format!("there is no client #{id}")),
                Err(e) => fail(e),
            }
        }
    }
}

pub fn retention(config: Option<&Path>, args: RetentionArgs) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let days = match &args.days {
        Some(text) => match parse_retention_days(text) {
            Ok(Some(d)) => d,
            Ok(None) => return fail("--days: give a number of days (30 or more)"),
            Err(e) => return fail(format!("--days: {e}")),
        },
        None => {
            let in_force = open(config).map_err(|_| ()).and_then(|mut conn| {
                crate::store::erasure::retention_days(&mut conn, settings.retention_days).map_err(|_| ())
            });
            match in_force {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return fail(
                        "retention is off: set it on Admin → Privacy or with RAPPORT_RETENTION_DAYS, or pass --days N",
                    );
                }
                Err(()) => return fail("could not read the retention setting from the database"),
            }
        }
    };
    if !args.dry_run && !args.apply {
        return fail("say --dry-run to list who would be erased, or --apply to erase them");
    }
    let mut conn = match open(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let now = SystemClock.now();
    if args.dry_run {
        return match erasure::retention_due(&mut conn, days, now) {
            Ok(due) => {
                println!("Dry run: nothing is changed. Retention {days} days after the last appointment.");
                if due.is_empty() {
                    println!("No client is due for erasure.");
                } else {
                    println!("{:<10} {:<18} responses (scores kept)", "client", "last appointment");
                    for c in &due {
                        let last = c
                            .last_appointment
                            .map_or_else(|| "none".to_string(), |t| t.format("%Y-%m-%d").to_string());
                        println!("#{:<9} {:<18} {}", c.client_id, last, c.responses);
                    }
                    println!("{} client(s) would be erased.", due.len());
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    match actions::clients::apply_retention(&mut conn, days, now) {
        Ok(n) => {
            println!("{n} client(s) erased (retention {days} days after the last appointment).");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
