//! An appointment coming in — from the practice system's API, a CSV import
//! or a clinician's form — recorded the same way whichever door it came
//! by: idempotent on (source, external id), the client created or updated,
//! the invitation kept in step, and each change in the audit log under
//! whoever made it.

use chrono::NaiveDateTime;

use super::Actor;
use crate::domain::appointment::AppointmentIn;
use crate::domain::schedule::DeliveryRules;
use crate::store::appointments::Upserted;
use crate::store::audit::AuditAction;
use crate::store::intake::{self, IntakeError, Recorded};
use crate::store::invitations::Mailing;
use crate::store::{DbConnection, audit};

/// Records one appointment in its own write transaction (run again if it
/// lost a race with an identical request), with an `appointment.record`
/// audit entry when anything changed.
pub fn record(
    conn: &mut DbConnection,
    by: Actor,
    input: &AppointmentIn,
    rules: &DeliveryRules,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Recorded, IntakeError> {
    conn.idempotent_write(|conn| {
        let recorded = intake::record(conn, input, rules, mailing, now)?;
        if recorded.outcome != Upserted::Unchanged {
            audit::record(
                conn,
                &audit::AuditEntry {
                    client_id: Some(recorded.client.id),
                    detail: Some(&by.detail(format!("appointment #{}", recorded.appointment.id))),
                    ..by.audit(AuditAction::AppointmentRecord)
                },
                now,
            )?;
        }
        Ok(recorded)
    })
}
