//! Alerts: the engine's reading of a client's history kept in the
//! database (evaluate a client, and the clinician told when it cannot
//! wait), and a clinician's (or an integration's) steps on an alert:
//! acknowledge, discussed with the client, outcome.

use crate::store::{AlertId, ClientId};
use chrono::NaiveDateTime;

use super::Actor;
use crate::domain::engine::{self, ClosedEpisode};
use crate::store::alerts::{self, Alert, AlertStatus, Change, RepairOutcome, RepairStep};
use crate::store::audit::AuditAction;
use crate::store::clients::Client;
use crate::store::invitations::Mailing;
use crate::store::webhooks::{self, AlertChange};
use crate::store::{DbConnection, StoreError, audit, clients, history};

/// Evaluates a client's whole history and brings their alerts in line
/// with it: alerts opened, raised, recovered or given new signals;
/// integrations told; the clinician emailed about what cannot wait.
/// Idempotent: the same history changes nothing the second time. Call
/// inside a write transaction (answering a questionnaire, an invitation
/// expiring, a missed appointment, the rules changing).
pub fn evaluate_client(
    conn: &mut DbConnection,
    client: &Client,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Vec<Change>, StoreError> {
    let Some(loaded) = history::load(conn, client.id)? else {
        return Ok(vec![]);
    };
    let existing = alerts::for_client(conn, client.id)?;
    let closed: Vec<ClosedEpisode> = existing
        .iter()
        .filter_map(|a| {
            Some(ClosedEpisode {
                opened_at_session: a.opened_at_session as u32,
                closed_after_session: a.closed_after_session? as u32,
                not_a_rupture: a.outcome == Some(RepairOutcome::NotARupture),
            })
        })
        .collect();
    let episodes = engine::alerts(&loaded.history, &loaded.settings, &closed);
    let mut changes = vec![];
    for episode in &episodes {
        let found = existing
            .iter()
            .find(|a| a.opened_at_session as u32 == episode.opened_at_session);
        changes.extend(alerts::reconcile_episode(conn, client, found, episode, now)?);
    }
    if !changes.is_empty() {
        webhooks::announce_evaluation(conn, mailing, &changes, now)?;
        alerts::notify_urgent(conn, client.clinician_id, mailing, now)?;
    }
    Ok(changes)
}

/// [`evaluate_client`] in its own write transaction, by the client's id.
pub fn evaluate_client_by_id(
    conn: &mut DbConnection,
    client_id: ClientId,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Vec<Change>, StoreError> {
    conn.idempotent_write(|conn| {
        let client = clients::find(conn, client_id)?;
        evaluate_client(conn, &client, mailing, now)
    })
}

/// Clients evaluated again per job pass.
const REEVALUATE_CHUNK: i64 = 500;

/// One step of bringing stored alerts up to [`alerts::RULES_VERSION`]:
/// evaluates the next clients with alerts (each in its own transaction)
/// and returns how many. Evaluation is idempotent; the stricter recovery
/// rule can only merge episodes, while the words-of-risk rule may open an
/// alert for an earlier comment that no one was alerted to — and its
/// clinician is told. (Clients without any alert are evaluated again at
/// their next answer.)
pub fn reevaluate_after_rule_change(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let Some(after) = alerts::rules_catch_up(conn)? else {
        return Ok(0);
    };
    let clients = alerts::clients_with_alerts_after(conn, after, REEVALUATE_CHUNK)?;
    for &client_id in &clients {
        evaluate_client_by_id(conn, client_id, mailing, now)?;
    }
    let up_to = clients
        .last()
        .copied()
        .filter(|_| clients.len() as i64 == REEVALUATE_CHUNK);
    alerts::record_rules_catch_up(conn, up_to, now)?;
    Ok(clients.len())
}

/// Records `step` on the alert, in one write transaction with its audit
/// entry (the same entry from the pages and the API), and returns the alert
/// as it now stands. Acknowledging an alert that is already acknowledged
/// changes nothing and logs nothing; any step on a closed alert is a
/// conflict (its log can no longer change).
pub fn record_repair_step(
    conn: &mut DbConnection,
    actor: Actor,
    alert_id: AlertId,
    step: &RepairStep,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Alert, StoreError> {
    conn.write_transaction(|conn| {
        let alert = alerts::find(conn, alert_id)?;
        if alert.status == AlertStatus::Acknowledged && *step == RepairStep::Acknowledge {
            return Ok(alert);
        }
        alerts::record_step(conn, &alert, step, actor.staff_id(), now)?;
        let (action, change) = match step {
            RepairStep::Acknowledge => (AuditAction::AlertAcknowledge, AlertChange::Acknowledged),
            RepairStep::Discussed { .. } => (AuditAction::AlertDiscuss, AlertChange::Discussed),
            RepairStep::Outcome { .. } => (AuditAction::AlertOutcome, AlertChange::Outcome),
        };
        webhooks::alert_changed(conn, mailing, alert.id, change, now)?;
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
