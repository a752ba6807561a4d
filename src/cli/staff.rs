//! `rapport user add`: create staff accounts from the command line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::clock::{Clock, SystemClock};
use crate::security;
use crate::store::StoreError;
use crate::store::staff::{self, NewStaff, Role};

use super::{fail, load_settings};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a member of staff. The password is read from standard input
    /// (or asked for on a terminal), never from the command line.
    Add {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Team name; created if new.
        #[arg(long)]
        team: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password (input is shown; at least {} characters): ",
            security::MIN_PASSWORD_LEN
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err("no password given: pipe it on standard input, e.g. `echo \"$PASS\" | rapport user add …`".into());
    }
    security::check_new_password(&password)?;
    Ok(password)
}

pub fn run(config: Option<&Path>, command: UserCommand) -> ExitCode {
    let UserCommand::Add {
        role,
        email,
        name,
        team,
    } = command;
    if !crate::web::admin::looks_like_email(&email) {
        return fail(format!("--email: \"{email}\" is not a valid email address"));
    }
    if name.trim().is_empty() {
        return fail("--name must not be empty");
    }
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let hash = match security::hash_password(&password) {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    let now = SystemClock.now();
    let created = crate::app::open_database(&settings.database_url, now).and_then(|mut conn| {
        conn.write_transaction(|conn| {
            let team_id = match team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(t) => Some(staff::ensure_team(conn, t, now)?.id),
                None => None,
            };
            staff::create_staff(
                conn,
                &NewStaff {
                    email: &email,
                    name: &name,
                    role,
                    team_id,
                    password_hash: &hash,
                },
                now,
            )
        })
    });
    match created {
        Ok(member) => {
            println!(
                "Added {} <{}> as {}.",
                member.name,
                member.email,
                role.label().to_lowercase()
            );
            ExitCode::SUCCESS
        }
        Err(StoreError::Conflict(m)) => fail(m),
        Err(e) => fail(e),
    }
}
