//! The audit log: who read or changed which client's data, and when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, staff};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub staff_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub action: &'a str,
    pub client_id: Option<i64>,
    pub alert_id: Option<i64>,
    pub detail: Option<&'a str>,
}

pub fn record(conn: &mut DbConnection, entry: &AuditEntry, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now),
            audit_log::staff_id.eq(entry.staff_id),
            audit_log::api_key_id.eq(entry.api_key_id),
            audit_log::action.eq(entry.action),
            audit_log::client_id.eq(entry.client_id),
            audit_log::alert_id.eq(entry.alert_id),
            audit_log::detail.eq(entry.detail),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub staff_name: Option<String>,
    pub action: String,
    pub client_id: Option<i64>,
    pub alert_id: Option<i64>,
    pub detail: Option<String>,
}

/// What to look for in the log; every part optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub staff_id: Option<i64>,
    pub client_id: Option<i64>,
    /// An action or the start of one ("client." for every client action).
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// Most recent entries first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    search(conn, &AuditFilter::default(), limit)
}

/// Entries matching the filter, most recent first.
pub fn search(conn: &mut DbConnection, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    let mut q = audit_log::table.left_join(staff::table).into_boxed();
    if let Some(id) = filter.staff_id {
        q = q.filter(audit_log::staff_id.eq(id));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(audit_log::client_id.eq(id));
    }
    if let Some(action) = &filter.action {
        let escaped = action.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        q = q.filter(audit_log::action.like(format!("{escaped}%")).escape('\\'));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_log::at.lt(until));
    }
    Ok(q.order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            staff::name.nullable(),
            audit_log::action,
            audit_log::client_id,
            audit_log::alert_id,
            audit_log::detail,
        ))
        .load(conn)?)
}

/// An action in words, for the audit log page and its export; the code
/// itself for one not listed.
pub fn action_label(action: &str) -> String {
    let label = match action {
        "access.denied" => "Refused: not this person's client",
        "alert.view" => "Viewed an alert",
        "alert.acknowledge" => "Acknowledged an alert",
        "alert.change" => "Recorded a repair step",
        "alert.discuss" => "Recorded a discussion about an alert",
        "alert.outcome" => "Recorded an alert's outcome",
        "apikey.create" => "Created an API key",
        "apikey.revoke" => "Revoked an API key",
        "appointment.record" => "Recorded an appointment",
        "appointments.import" => "Imported appointments (CSV)",
        "client.view" => "Viewed a client's page",
        "client.change" => "Changed a client's details or emails",
        "client.record" => "Read a client's whole record",
        "client.record.download" | "client.record.export" => "Exported a client's record",
        "client.lookup" => "Looked up a client (privacy)",
        "client.erase" => "Erased a client's identifying data",
        "client.opt_out" => "Stopped a client's emails",
        "email.retry" => "Retried a failed email",
        "email.test" => "Sent a test email",
        "settings.delivery" => "Changed when questionnaires are sent",
        "settings.privacy" => "Changed the privacy settings",
        "settings.retention" => "Changed the retention period",
        "settings.help_line" => "Changed the survey's help line",
        "settings.risk_words" => "Changed the words-of-risk list",
        "settings.alert_overdue_days" => "Changed the time to acknowledge alerts",
        "staff.create" => "Added a member of staff",
        "staff.deactivate" => "Deactivated a staff account",
        "staff.reactivate" => "Reactivated a staff account",
        "staff.password" => "Set a staff password",
        "staff.role" => "Changed a staff role",
        "staff.team" => "Changed a staff team",
        "staff.team_access" => "Changed team access",
        "webhook.add" => "Added a webhook",
        "webhook.disable" => "Disabled a webhook",
        "webhook.private_networks" => "Changed webhook network access",
        other => return other.to_string(),
    };
    label.to_string()
}
