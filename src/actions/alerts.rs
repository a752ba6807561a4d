//! A clinician's (or an integration's) steps on an alert: acknowledge,
//! discussed with the client, outcome.

use chrono::NaiveDateTime;

use super::Actor;
use crate::store::alerts::{self, Alert, AlertStatus, RepairStep};
use crate::store::invitations::Mailing;
use crate::store::{DbConnection, StoreError, audit};

/// Records `step` on the alert, in one write transaction with its audit
/// entry (the same entry from the pages and the API), and returns the alert
/// as it now stands. Acknowledging an alert that is already acknowledged
/// changes nothing and logs nothing; any step on a closed alert is a
/// conflict (its log can no longer change).
pub fn record_repair_step(
    conn: &mut DbConnection,
    actor: Actor,
    alert_id: i64,
    step: &RepairStep,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Alert, StoreError> {
    conn.write_transaction(|conn| {
        let alert = alerts::find(conn, alert_id)?;
        if alert.status == AlertStatus::Acknowledged && *step == RepairStep::Acknowledge {
            return Ok(alert);
        }
        alerts::record_step(conn, &alert, step, actor.staff_id(), mailing, now)?;
        let action = match step {
            RepairStep::Acknowledge => "alert.acknowledge",
            RepairStep::Discussed { .. } => "alert.discuss",
            RepairStep::Outcome { .. } => "alert.outcome",
        };
        audit::record(
            conn,
            &audit::AuditEntry {
                client_id: Some(alert.client_id),
                alert_id: Some(alert.id),
                ..actor.audit(action)
            },
            now,
        )?;
        alerts::find(conn, alert_id)
    })
}
