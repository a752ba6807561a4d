//! `rapport user …`: staff accounts from the command line — add,
//! deactivate, reactivate, reset a password, change role or team. Every
//! change is audited, as the admin page's are.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::actions::staff::NewMember;
use crate::actions::{self, Actor};
use crate::clock::{Clock, SystemClock};
use crate::security;
use crate::store::StoreError;
use crate::store::staff::{self, AccountChange, Role};

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
    /// Stop an account signing in; its sessions end at once.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated account sign in again.
    Reactivate {
        #[arg(long)]
        email: String,
    },
    /// Set a new password (read from standard input); the account's
    /// sessions end at once.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Give an account another role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Move an account to a team (created if new), or to none with --team "".
    SetTeam {
        #[arg(long)]
        email: String,
        #[arg(long)]
        team: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn read_password(email: &str, name: &str) -> Result<String, String> {
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
    security::check_new_password(&password, email, name)?;
    Ok(password)
}

pub fn run(config: Option<&Path>, command: UserCommand) -> ExitCode {
    let (email, change) = match command {
        UserCommand::Add {
            role,
            email,
            name,
            team,
        } => return add(config, role, email, name, team),
        UserCommand::Deactivate { email } => (email, Change::Deactivate),
        UserCommand::Reactivate { email } => (email, Change::Reactivate),
        UserCommand::ResetPassword { email } => (email, Change::Password),
        UserCommand::SetRole { email, role } => (email, Change::Role(role)),
        UserCommand::SetTeam { email, team } => (email, Change::Team(team)),
    };
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = SystemClock.now();
    let mut conn = match crate::app::open_database(&settings.database_url, now) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let member = match staff::find_by_email(&mut conn, &email) {
        Ok(Some(m)) => m,
        Ok(None) => return fail(format!("--email: no member of staff has the email {}", email.trim())),
        Err(e) => return fail(e),
    };
    let account_change = match change {
        Change::Deactivate => AccountChange::Deactivate,
        Change::Reactivate => AccountChange::Reactivate,
        Change::Password => {
            let password = match read_password(&member.email, &member.name) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match security::hash_password(&password) {
                Ok(h) => AccountChange::Password(h),
                Err(e) => return fail(e),
            }
        }
        Change::Role(role) => AccountChange::Role(role),
        Change::Team(team) => AccountChange::Team(Some(team).filter(|t| !t.trim().is_empty())),
    };
    match actions::staff::change_account(&mut conn, Actor::CommandLine, member.id, &account_change, now) {
        Ok(after) => {
            let what = match account_change {
                AccountChange::Deactivate => "deactivated; their sessions have ended".to_string(),
                AccountChange::Reactivate => "can sign in again".to_string(),
                AccountChange::Password(_) => "has a new password; their sessions have ended".to_string(),
                AccountChange::Role(role) => format!("is now {}", role.label().to_lowercase()),
                AccountChange::Team(None) => "is in no team".to_string(),
                AccountChange::Team(Some(t)) => format!("is in the team {}", t.trim()),
            };
            println!("{} <{}> {what}.", after.name, after.email);
            ExitCode::SUCCESS
        }
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => fail(m),
        Err(e) => fail(e),
    }
}

enum Change {
    Deactivate,
    Reactivate,
    Password,
    Role(Role),
    Team(String),
}

fn add(config: Option<&Path>, role: Role, email: String, name: String, team: Option<String>) -> ExitCode {
    let email = match crate::domain::email::EmailAddress::parse(&email) {
        Ok(email) => email,
        Err(e) => return fail(format!("--email: {e}")),
    };
    if name.trim().is_empty() {
        return fail("--name must not be empty");
    }
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let password = match read_password(email.as_str(), &name) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let hash = match security::hash_password(&password) {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    let now = SystemClock.now();
    let created = crate::app::open_database(&settings.database_url, now).and_then(|mut conn| {
        let new = NewMember {
            email: &email,
            name: &name,
            role,
            team: team.as_deref(),
            password_hash: &hash,
        };
        actions::staff::add_member(&mut conn, Actor::CommandLine, &new, now)
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
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => fail(m),
        Err(e) => fail(e),
    }
}
