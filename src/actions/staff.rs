//! Staff accounts: adding a member of staff (from the admin page, by
//! `rapport user add`, or for the demo clinic) and changing an account
//! (the admin page, one's own password, `rapport user`); a clinician's
//! choice of alert emails.

use crate::store::StaffId;
use chrono::NaiveDateTime;

use super::Actor;
use crate::domain::email::EmailAddress;
use crate::store::audit::AuditAction;
use crate::store::invitations::Mailing;
use crate::store::staff::{self, AccountChange, NewStaff, Notify, Role, StaffMember};
use crate::store::{DbConnection, StoreError, alerts};

/// Changes a staff account (deactivate, reactivate, password, role,
/// team) and writes its audit entry, in one transaction, whoever does it:
/// an admin's page, the person's own password page, or `rapport user`.
pub fn change_account(
    conn: &mut DbConnection,
    by: Actor,
    id: StaffId,
    change: &AccountChange,
    now: NaiveDateTime,
) -> Result<StaffMember, StoreError> {
    conn.write_transaction(|conn| {
        let detail = staff::apply_account_change(conn, id, change, now)?;
        by.record(
            conn,
            change.audit_action(),
            None,
            Some(&by.detail(format!("staff #{id}{detail}"))),
            now,
        )?;
        staff::find(conn, id)
    })
}

/// A clinician's choice of how to hear about high and other alerts. Alerts
/// waiting untold that the new choice says cannot wait are emailed now
/// (one notice), not at the next alert.
pub fn set_alert_emails(
    conn: &mut DbConnection,
    clinician_id: StaffId,
    high: Notify,
    other: Notify,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        staff::set_notifications(conn, clinician_id, high, other)?;
        alerts::notify_urgent(conn, clinician_id, mailing, now)
    })
}

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
        actor.record(conn, AuditAction::StaffCreate, None, Some(&detail), now)?;
        Ok(member)
    })
}
