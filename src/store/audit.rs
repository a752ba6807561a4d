//! The audit log: who read or changed which client's data, and when.

use crate::store::{AlertId, ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, staff};
use super::{DbConnection, StoreError};

/// What an audit entry records. Stored as its code (`as_str`); the
/// audit page shows its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    AccessDenied,
    AlertView,
    AlertAcknowledge,
    AlertDiscuss,
    AlertOutcome,
    ApiAlertRead,
    ApiAlertsList,
    ApiAppointmentRead,
    ApiAppointmentsList,
    ApiClientRead,
    ApiClientsList,
    ApiFhirPatient,
    ApiFhirResponse,
    ApiFhirResponses,
    ApiInvitationRead,
    ApiResponsesRead,
    ApiKeyCreate,
    ApiKeyRevoke,
    AppointmentRecord,
    AppointmentsImport,
    ClientView,
    ClientChange,
    ClientRecorded,
    ClientRecordExport,
    ClientLookup,
    ClientErase,
    ClientOptOut,
    EmailRetry,
    EmailTest,
    ExportTrends,
    ExportResearch,
    ClinicSettingChanged,
    SettingsDelivery,
    SettingsPrivacy,
    SettingsRetention,
    SettingsHelpLine,
    SettingsRiskWords,
    SettingsAlertOverdueDays,
    StaffCreate,
    StaffDeactivate,
    StaffReactivate,
    StaffPassword,
    StaffRole,
    StaffTeam,
    StaffTeamAccess,
    WebhookAdd,
    WebhookDisable,
    WebhookPrivateNetworks,
}

impl AuditAction {
    /// Every action, with its code and its words.
    const ALL: [(AuditAction, &'static str, &'static str); 48] = [
        (
            AuditAction::AccessDenied,
            "access.denied",
            "Refused: not this person's client",
        ),
        (AuditAction::AlertView, "alert.view", "Viewed an alert"),
        (
            AuditAction::AlertAcknowledge,
            "alert.acknowledge",
            "Acknowledged an alert",
        ),
        (
            AuditAction::AlertDiscuss,
            "alert.discuss",
            "Recorded a discussion about an alert",
        ),
        (
            AuditAction::AlertOutcome,
            "alert.outcome",
            "Recorded an alert's outcome",
        ),
        (AuditAction::ApiAlertRead, "api.alert.read", "Read an alert (API)"),
        (AuditAction::ApiAlertsList, "api.alerts.list", "Listed alerts (API)"),
        (
            AuditAction::ApiAppointmentRead,
            "api.appointment.read",
            "Read an appointment (API)",
        ),
        (
            AuditAction::ApiAppointmentsList,
            "api.appointments.list",
            "Listed appointments (API)",
        ),
        (AuditAction::ApiClientRead, "api.client.read", "Read a client (API)"),
        (AuditAction::ApiClientsList, "api.clients.list", "Listed clients (API)"),
        (
            AuditAction::ApiFhirPatient,
            "api.fhir.patient",
            "Read a client as a FHIR Patient (API)",
        ),
        (
            AuditAction::ApiFhirResponse,
            "api.fhir.response",
            "Read an answer as FHIR (API)",
        ),
        (
            AuditAction::ApiFhirResponses,
            "api.fhir.responses",
            "Searched answers as FHIR (API)",
        ),
        (
            AuditAction::ApiInvitationRead,
            "api.invitation.read",
            "Read an invitation (API)",
        ),
        (
            AuditAction::ApiResponsesRead,
            "api.responses.read",
            "Read a client's answers (API)",
        ),
        (AuditAction::ApiKeyCreate, "apikey.create", "Created an API key"),
        (AuditAction::ApiKeyRevoke, "apikey.revoke", "Revoked an API key"),
        (
            AuditAction::AppointmentRecord,
            "appointment.record",
            "Recorded an appointment",
        ),
        (
            AuditAction::AppointmentsImport,
            "appointments.import",
            "Imported appointments (CSV)",
        ),
        (AuditAction::ClientView, "client.view", "Viewed a client's page"),
        (
            AuditAction::ClientChange,
            "client.change",
            "Changed a client's details or emails",
        ),
        (
            AuditAction::ClientRecorded,
            "client.record",
            "Recorded a client (practice system)",
        ),
        (
            AuditAction::ClientRecordExport,
            "client.record.export",
            "Exported a client's record",
        ),
        (
            AuditAction::ClientLookup,
            "client.lookup",
            "Looked up a client (privacy)",
        ),
        (
            AuditAction::ClientErase,
            "client.erase",
            "Erased a client's identifying data",
        ),
        (AuditAction::ClientOptOut, "client.opt_out", "Stopped a client's emails"),
        (AuditAction::EmailRetry, "email.retry", "Retried a failed email"),
        (AuditAction::EmailTest, "email.test", "Sent a test email"),
        (
            AuditAction::ExportTrends,
            "export_trends_csv",
            "Exported the trends (CSV)",
        ),
        (
            AuditAction::ExportResearch,
            "export_research_csv",
            "Exported answers for research (CSV)",
        ),
        (
            AuditAction::ClinicSettingChanged,
            "clinic_setting_changed",
            "Changed a clinic setting",
        ),
        (
            AuditAction::SettingsDelivery,
            "settings.delivery",
            "Changed when questionnaires are sent",
        ),
        (
            AuditAction::SettingsPrivacy,
            "settings.privacy",
            "Changed the privacy settings",
        ),
        (
            AuditAction::SettingsRetention,
            "settings.retention",
            "Changed the retention period",
        ),
        (
            AuditAction::SettingsHelpLine,
            "settings.help_line",
            "Changed the survey's help line",
        ),
        (
            AuditAction::SettingsRiskWords,
            "settings.risk_words",
            "Changed the words-of-risk list",
        ),
        (
            AuditAction::SettingsAlertOverdueDays,
            "settings.alert_overdue_days",
            "Changed the time to acknowledge alerts",
        ),
        (AuditAction::StaffCreate, "staff.create", "Added a member of staff"),
        (
            AuditAction::StaffDeactivate,
            "staff.deactivate",
            "Deactivated a staff account",
        ),
        (
            AuditAction::StaffReactivate,
            "staff.reactivate",
            "Reactivated a staff account",
        ),
        (AuditAction::StaffPassword, "staff.password", "Set a staff password"),
        (AuditAction::StaffRole, "staff.role", "Changed a staff role"),
        (AuditAction::StaffTeam, "staff.team", "Changed a staff team"),
        (AuditAction::StaffTeamAccess, "staff.team_access", "Changed team access"),
        (AuditAction::WebhookAdd, "webhook.add", "Added a webhook"),
        (AuditAction::WebhookDisable, "webhook.disable", "Disabled a webhook"),
        (
            AuditAction::WebhookPrivateNetworks,
            "webhook.private_networks",
            "Changed webhook network access",
        ),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("", |(_, code, _)| code)
    }

    pub fn label(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("", |(_, _, label)| label)
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        Self::ALL.iter().find(|(_, c, _)| *c == code).map(|(a, _, _)| *a)
    }
}

/// One entry to write: the action, and who, about whom, in a few words.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub staff_id: Option<StaffId>,
    pub api_key_id: Option<i64>,
    pub action: AuditAction,
    pub client_id: Option<ClientId>,
    pub alert_id: Option<AlertId>,
    pub detail: Option<&'a str>,
}

impl AuditEntry<'_> {
    /// An entry for `action`, naming no one yet.
    pub fn new(action: AuditAction) -> Self {
        AuditEntry {
            staff_id: None,
            api_key_id: None,
            action,
            client_id: None,
            alert_id: None,
            detail: None,
        }
    }
}

pub fn record(conn: &mut DbConnection, entry: &AuditEntry, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now),
            audit_log::staff_id.eq(entry.staff_id),
            audit_log::api_key_id.eq(entry.api_key_id),
            audit_log::action.eq(entry.action.as_str()),
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
    pub client_id: Option<ClientId>,
    pub alert_id: Option<AlertId>,
    pub detail: Option<String>,
}

/// What to look for in the log; every part optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub staff_id: Option<StaffId>,
    pub client_id: Option<ClientId>,
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

/// An action in words, for the audit log page and its export (entries
/// written by earlier versions too); the code itself for one not known.
pub fn action_label(action: &str) -> String {
    if let Some(known) = AuditAction::parse(action) {
        return known.label().to_string();
    }
    match action {
        "alert.change" => "Recorded a repair step",
        "client.record.download" | "api.client.record" => "Exported a client's record",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod action_tests {
    use super::*;

    #[test]
    fn every_action_has_one_code_and_words() {
        let mut codes = std::collections::BTreeSet::new();
        for (action, code, label) in AuditAction::ALL {
            assert!(codes.insert(code), "{code} twice");
            assert_eq!(AuditAction::parse(code), Some(action));
            assert_eq!(action.as_str(), code);
            assert!(!label.is_empty() && action_label(code) == label);
        }
        // Entries earlier versions wrote still read in words.
        assert_eq!(action_label("alert.change"), "Recorded a repair step");
        assert_eq!(action_label("something.else"), "something.else");
    }
}
