//! Staff accounts: adding a member of staff, from the admin page, by
//! `rapport user add`, or for the demo clinic.

use chrono::NaiveDateTime;

use super::Actor;
use crate::domain::email::EmailAddress;
use crate::store::audit::AuditAction;
use crate::store::staff::{self, NewStaff, Role, StaffMember};
use crate::store::{DbConnection, StoreError, audit};

/// Who to add. The password is already hashed (hashing is slow: callers
/// do it off the database thread).
pub struct NewMember<'a> {
    pub email: &'a EmailAddress,
    pub name: &'a str,
    pub role: Role,
    /// The team's name; created when missing; blank for none.
    pub team: Option<&'a str>,
    pub password_hash: &'a str,
}

/// Adds the member (and their team when new) with its audit entry, in one
/// write transaction. An email already in use is a conflict naming it.
pub fn add_member(
    conn: &mut DbConnection,
    actor: Actor,
    new: &NewMember,
    now: NaiveDateTime,
) -> Result<StaffMember, StoreError> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid("a member of staff needs a name".into()));
    }
    conn.write_transaction(|conn| {
        let team_id = match new.team.map(str::trim).filter(|t| !t.is_empty()) {
            Some(team) => Some(staff::ensure_team(conn, team, now)?.id),
            None => None,
        };
        let member = staff::create_staff(
            conn,
            &NewStaff {
                email: new.email.as_str(),
                name: new.name,
                role: new.role,
                team_id,
                password_hash: new.password_hash,
            },
            now,
        )?;
        let detail = actor.detail(format!("staff #{}", member.id));
        audit::record(
            conn,
            &audit::AuditEntry {
                detail: Some(&detail),
                ..actor.audit(AuditAction::StaffCreate)
            },
            now,
        )?;
        Ok(member)
    })
}
