//! Teams, staff accounts and the record of failed sign-ins.

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
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub team_id: Option<i64>,
    pub password_hash: String,
    pub active: bool,
    pub sees_team: bool,
    pub notify_high: String,
    pub notify_other: String,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

impl StaffMember {
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Clinician)
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

pub fn find(conn: &mut DbConnection, id: i64) -> Result<StaffMember, StoreError> {
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

pub fn record_sign_in(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<(), StoreError> {
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

/// Counts failed sign-ins for an email since a moment (the rate limit is
/// kept in the database so it holds across several web instances).
pub fn recent_failures(conn: &mut DbConnection, email: &str, since: NaiveDateTime) -> Result<i64, StoreError> {
    Ok(sign_in_failures::table
        .filter(sign_in_failures::email.eq(normalise_email(email)))
        .filter(sign_in_failures::at.ge(since))
        .count()
        .get_result(conn)?)
}

pub fn record_failure(conn: &mut DbConnection, email: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::email.eq(normalise_email(email)),
            sign_in_failures::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn clear_failures(conn: &mut DbConnection, email: &str) -> Result<(), StoreError> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::email.eq(normalise_email(email)))).execute(conn)?;
    Ok(())
}

/// How a clinician hears about alerts: `immediate`, `digest` or `off`,
/// separately for high alerts and for the rest.
pub const NOTIFY_CHOICES: [&str; 3] = ["immediate", "digest", "off"];

pub fn set_notifications(conn: &mut DbConnection, id: i64, high: &str, other: &str) -> Result<(), StoreError> {
    if !NOTIFY_CHOICES.contains(&high) || !NOTIFY_CHOICES.contains(&other) {
        return Err(StoreError::Conflict("choose immediate, digest or off".into()));
    }
    diesel::update(staff::table.find(id))
        .set((staff::notify_high.eq(high), staff::notify_other.eq(other)))
        .execute(conn)?;
    Ok(())
}

/// A manager lets a clinician see their whole team's clients (or not).
pub fn set_sees_team(conn: &mut DbConnection, id: i64, sees_team: bool) -> Result<(), StoreError> {
    diesel::update(staff::table.find(id).filter(staff::role.eq(Role::Clinician.as_str())))
        .set(staff::sees_team.eq(sees_team))
        .execute(conn)?;
    Ok(())
}
