//! Everything Rapport holds about one client, for a subject access request
//! (and for the integration API's reads of single items).

use crate::store::{AlertId, ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::alerts::{self, Alert, AlertEvent, AlertSignal};
use super::appointments::Appointment;
use super::clients::{self, Client};
use super::invitations::{self, Invitation};
use super::responses::{self, Response};
use super::schema::{alerts as alerts_table, appointments, audit_log, instruments, staff};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Queryable)]
pub struct AuditLine {
    pub id: i64,
    pub at: NaiveDateTime,
    pub staff_id: Option<StaffId>,
    pub api_key_id: Option<i64>,
    pub action: String,
    pub client_id: Option<ClientId>,
    pub alert_id: Option<AlertId>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AlertWithLog {
    pub alert: Alert,
    pub signals: Vec<AlertSignal>,
    pub events: Vec<AlertEvent>,
}

/// The whole record.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub client: Client,
    pub clinician_email: String,
    pub appointments: Vec<Appointment>,
    pub invitations: Vec<Invitation>,
    /// With the instrument's slug and version.
    pub responses: Vec<(Response, String, i32)>,
    pub alerts: Vec<AlertWithLog>,
    /// Every audit entry about the client or one of their alerts.
    pub audit: Vec<AuditLine>,
    /// True when the client's free-text answers were left out of this copy.
    pub free_text_withheld: bool,
}

impl ClientRecord {
    /// Leaves out the client's free-text answers.
    pub fn withhold_free_text(&mut self) {
        withhold_free_text(&mut self.responses);
        self.free_text_withheld = true;
    }
}

/// Leaves the client's words out of their responses.
pub fn withhold_free_text(responses: &mut [(Response, String, i32)]) {
    for (response, _, _) in responses {
        response.comment = None;
    }
}

pub fn clinician_email(conn: &mut DbConnection, staff_id: StaffId) -> Result<String, StoreError> {
    Ok(staff::table.find(staff_id).select(staff::email).first(conn)?)
}

/// An alert with its signals and repair log.
pub fn alert_with_log(conn: &mut DbConnection, alert: Alert) -> Result<AlertWithLog, StoreError> {
    let signals = alerts::signals(conn, alert.id)?;
    let events = alerts::events(conn, alert.id)?.into_iter().map(|(e, _)| e).collect();
    Ok(AlertWithLog { alert, signals, events })
}

/// Responses with the slug and version of the instrument each answered.
pub fn responses_with_instrument(
    conn: &mut DbConnection,
    client_id: ClientId,
) -> Result<Vec<(Response, String, i32)>, StoreError> {
    let rows = responses::for_client(conn, client_id)?;
    let mut out = Vec::with_capacity(rows.len());
    for response in rows {
        let (slug, version): (String, i32) = instruments::table
            .find(response.instrument_id)
            .select((instruments::slug, instruments::version))
            .first(conn)?;
        out.push((response, slug, version));
    }
    Ok(out)
}

/// Loads the record of a client; `NotFound` for an unknown id.
pub fn load(conn: &mut DbConnection, client_id: ClientId) -> Result<ClientRecord, StoreError> {
    let client = clients::find(conn, client_id)?;
    let clinician_email = clinician_email(conn, client.clinician_id)?;
    let appointments: Vec<Appointment> = appointments::table
        .filter(appointments::client_id.eq(client_id))
        .order((appointments::starts_at, appointments::id))
        .select(Appointment::as_select())
        .load(conn)?;
    let invitations = invitations::for_client(conn, client_id)?;
    let responses = responses_with_instrument(conn, client_id)?;
    let alert_rows: Vec<Alert> = alerts_table::table
        .filter(alerts_table::client_id.eq(client_id))
        .order(alerts_table::id)
        .select(Alert::as_select())
        .load(conn)?;
    let alert_ids: Vec<AlertId> = alert_rows.iter().map(|a| a.id).collect();
    let mut alerts = Vec::with_capacity(alert_rows.len());
    for alert in alert_rows {
        alerts.push(alert_with_log(conn, alert)?);
    }
    let audit: Vec<AuditLine> = audit_log::table
        .filter(
            audit_log::client_id
                .eq(client_id)
                .or(audit_log::alert_id.eq_any(&alert_ids)),
        )
        .order(audit_log::id)
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::staff_id,
            audit_log::api_key_id,
            audit_log::action,
            audit_log::client_id,
            audit_log::alert_id,
            audit_log::detail,
        ))
        .load(conn)?;
    Ok(ClientRecord {
        client,
        clinician_email,
        appointments,
        invitations,
        responses,
        alerts,
        audit,
        free_text_withheld: false,
    })
}
