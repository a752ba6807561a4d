//! Teams, staff accounts and the record of failed sign-ins.

use crate::store::StaffId;
use crate::store::audit::AuditAction;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{sign_in_failures, staff, teams};
use super::{DbConnection, StoreError};

/// What a member of staff may do. Least privilege: a clinician sees only
/// their own clients; a manager sees aggregates; an admin runs the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Clinician,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Clinician, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clinician => "clinician",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Clinician => "Clinician",
            Role::Manager => "Manager",
            Role::Admin => "Administrator",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "clinician" => Ok(Role::Clinician),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role \"{other}\": expected clinician, manager or admin"
            )),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff)]
pub struct StaffMember {
    pub id: StaffId,
    pub email: String,
    pub name: String,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub team_id: Option<i64>,
    pub password_hash: String,
    pub active: bool,
    pub sees_team: bool,
    #[diesel(deserialize_as = String)]
    pub notify_high: Notify,
    #[diesel(deserialize_as = String)]
    pub notify_other: Notify,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// Sessions issued under an older generation are no longer accepted.
    pub session_generation: i64,
}

impl StaffMember {
    pub fn role(&self) -> Role {
        self.role
    }

    /// How this clinician wants to hear about an alert of this severity.
    pub fn hears_about(&self, severity: crate::domain::signals::Severity) -> Notify {
        if severity == crate::domain::signals::Severity::High {
            self.notify_high
        } else {
            self.notify_other
        }
    }

    /// Whether either kind of alert goes to the daily summary.
    pub fn wants_summary(&self) -> bool {
        self.notify_high == Notify::Digest || self.notify_other == Notify::Digest
    }
}

pub struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub team_id: Option<i64>,
    pub password_hash: &'a str,
}

/// Finds a team by name, creating it when missing.
pub fn ensure_team(conn: &mut DbConnection, name: &str, now: NaiveDateTime) -> Result<Team, StoreError> {
    conn.write_transaction(|conn| {
        if let Some(team) = teams::table
            .filter(teams::name.eq(name))
            .select(Team::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(team);
        }
        diesel::insert_into(teams::table)
            .values((teams::name.eq(name), teams::created_at.eq(now)))
            .execute(conn)?;
        Ok(teams::table
            .filter(teams::name.eq(name))
            .select(Team::as_select())
            .first(conn)?)
    })
}

pub fn list_teams(conn: &mut DbConnection) -> Result<Vec<Team>, StoreError> {
    Ok(teams::table.order(teams::name).select(Team::as_select()).load(conn)?)
}

pub fn create_staff(conn: &mut DbConnection, new: &NewStaff, now: NaiveDateTime) -> Result<StaffMember, StoreError> {
    let email = normalise_email(new.email);
    let inserted = diesel::insert_into(staff::table)
        .values((
            staff::email.eq(&email),
            staff::name.eq(new.name.trim()),
            staff::role.eq(new.role.as_str()),
            staff::team_id.eq(new.team_id),
            staff::password_hash.eq(new.password_hash),
            staff::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => find_by_email(conn, &email)?.ok_or(StoreError::NotFound),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict(format!(
                    "a member of staff with the email {email} already exists"
                )))
            } else {
                Err(e)
            }
        }
    }
}

pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<StaffMember>, StoreError> {
    Ok(staff::table
        .filter(staff::email.eq(normalise_email(email)))
        .select(StaffMember::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: StaffId) -> Result<StaffMember, StoreError> {
    staff::table
        .find(id)
        .select(StaffMember::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// Staff with their team's name, ordered by name.
pub fn list_staff(conn: &mut DbConnection) -> Result<Vec<(StaffMember, Option<String>)>, StoreError> {
    Ok(staff::table
        .left_join(teams::table)
        .order(staff::name)
        .select((StaffMember::as_select(), teams::name.nullable()))
        .load(conn)?)
}

pub fn record_sign_in(conn: &mut DbConnection, id: StaffId, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(staff::table.find(id))
        .set(staff::last_sign_in_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn count_by_role(conn: &mut DbConnection, role: Role) -> Result<i64, StoreError> {
    Ok(staff::table
        .filter(staff::role.eq(role.as_str()))
        .count()
        .get_result(conn)?)
}

/// One sign-in attempt, recorded before the password is checked (so
/// concurrent guesses cannot all slip under the limit) and removed if it
/// succeeds. `address` is the client's network address.
pub fn record_attempt(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    Ok(diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::email.eq(normalise_email(email)),
            sign_in_failures::address.eq(address),
            sign_in_failures::at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())?)
}

/// Failed (or still running) attempts since a moment: for this account
/// from this address, and from this address for any account.
pub fn recent_attempts(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    since: NaiveDateTime,
) -> Result<(i64, i64), StoreError> {
    let from_address = sign_in_failures::table
        .filter(sign_in_failures::address.eq(address))
        .filter(sign_in_failures::at.ge(since));
    let pair: i64 = from_address
        .filter(sign_in_failures::email.eq(normalise_email(email)))
        .count()
        .get_result(conn)?;
    let all: i64 = from_address.count().get_result(conn)?;
    Ok((pair, all))
}

/// A successful sign-in: its own attempt and the account's earlier
/// failures from that address no longer count.
pub fn clear_attempts(conn: &mut DbConnection, email: &str, address: &str) -> Result<(), StoreError> {
    diesel::delete(
        sign_in_failures::table
            .filter(sign_in_failures::email.eq(normalise_email(email)))
            .filter(sign_in_failures::address.eq(address)),
    )
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a member of staff, on every device.
pub fn end_sessions(conn: &mut DbConnection, id: StaffId) -> Result<(), StoreError> {
    diesel::update(staff::table.find(id))
        .set(staff::session_generation.eq(staff::session_generation + 1))
        .execute(conn)?;
    Ok(())
}

/// A change to a staff account.
#[derive(Debug, Clone)]
pub enum AccountChange {
    Deactivate,
    Reactivate,
    /// A new password hash (an admin's reset, or the person's own change).
    Password(String),
    Role(Role),
    /// A team by name (created if new), or none.
    Team(Option<String>),
}

impl AccountChange {
    pub fn audit_action(&self) -> AuditAction {
        match self {
            AccountChange::Deactivate => AuditAction::StaffDeactivate,
            AccountChange::Reactivate => AuditAction::StaffReactivate,
            AccountChange::Password(_) => AuditAction::StaffPassword,
            AccountChange::Role(_) => AuditAction::StaffRole,
            AccountChange::Team(_) => AuditAction::StaffTeam,
        }
    }
}

/// Changes an account and returns what changed in a few words (for the
/// audit entry). The last active admin can be neither deactivated nor
/// given another role. Deactivation and a new password end the account's
/// sessions. Call inside a write transaction: use
/// `actions::staff::change_account`, which also writes the audit entry.
pub(crate) fn apply_account_change(
    conn: &mut DbConnection,
    id: StaffId,
    change: &AccountChange,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    {
        let member = find(conn, id)?;
        let last_admin = member.role() == Role::Admin
            && member.active
            && staff::table
                .filter(staff::role.eq(Role::Admin.as_str()))
                .filter(staff::active.eq(true))
                .count()
                .get_result::<i64>(conn)?
                <= 1;
        let detail = match change {
            AccountChange::Deactivate if last_admin => {
                return Err(StoreError::Conflict(
                    "this is the last active admin: add or reactivate another admin first".into(),
                ));
            }
            AccountChange::Role(role) if last_admin && *role != Role::Admin => {
                return Err(StoreError::Conflict(
                    "this is the last active admin: give another member of staff the admin role first".into(),
                ));
            }
            AccountChange::Deactivate => {
                diesel::update(staff::table.find(id))
                    .set(staff::active.eq(false))
                    .execute(conn)?;
                end_sessions(conn, id)?;
                String::new()
            }
            AccountChange::Reactivate => {
                diesel::update(staff::table.find(id))
                    .set(staff::active.eq(true))
                    .execute(conn)?;
                String::new()
            }
            AccountChange::Password(hash) => {
                diesel::update(staff::table.find(id))
                    .set(staff::password_hash.eq(hash))
                    .execute(conn)?;
                end_sessions(conn, id)?;
                String::new()
            }
            AccountChange::Role(role) => {
                diesel::update(staff::table.find(id))
                    .set(staff::role.eq(role.as_str()))
                    .execute(conn)?;
                format!(": {} → {}", member.role().as_str(), role.as_str())
            }
            AccountChange::Team(team) => {
                let team_id = match team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    Some(name) => Some(ensure_team(conn, name, now)?.id),
                    None => None,
                };
                diesel::update(staff::table.find(id))
                    .set(staff::team_id.eq(team_id))
                    .execute(conn)?;
                format!(": {}", team.as_deref().unwrap_or("no team"))
            }
        };
        Ok(detail)
    }
}

/// How a clinician hears about alerts, separately for high alerts and for
/// the rest. (Words of risk are told at once whatever the choice.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    Immediate,
    Digest,
    Off,
}

impl Notify {
    pub const ALL: [Notify; 3] = [Notify::Immediate, Notify::Digest, Notify::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Notify::Immediate => "immediate",
            Notify::Digest => "digest",
            Notify::Off => "off",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Notify::Immediate => "An email straight away",
            Notify::Digest => "In the daily summary (8:00)",
            Notify::Off => "No email: I check Rapport myself",
        }
    }

    pub fn parse(s: &str) -> Option<Notify> {
        Notify::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

pub fn set_notifications(conn: &mut DbConnection, id: StaffId, high: Notify, other: Notify) -> Result<(), StoreError> {
    diesel::update(staff::table.find(id))
        .set((
            staff::notify_high.eq(high.as_str()),
            staff::notify_other.eq(other.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A manager lets a clinician see their whole team's clients (or not).
pub fn set_sees_team(conn: &mut DbConnection, id: StaffId, sees_team: bool) -> Result<(), StoreError> {
    diesel::update(staff::table.find(id).filter(staff::role.eq(Role::Clinician.as_str())))
        .set(staff::sees_team.eq(sees_team))
        .execute(conn)?;
    Ok(())
}
