//! Filtered, paged lists for the integration API. Pages follow the id:
//! ask again with `after` = the last id seen.

use crate::store::{AlertId, AppointmentId, ClientId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::alerts::{Alert, AlertStatus};
use super::appointments::Appointment;
use super::clients::Client;
use super::invitations::Invitation;
use super::schema::{alerts, appointments, clients, invitations};
use super::{DbConnection, StoreError};

/// Longest page any list returns.
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    pub client_id: Option<ClientId>,
    /// Appointments starting at or after this moment.
    pub since: Option<NaiveDateTime>,
    /// Appointments starting before this moment.
    pub until: Option<NaiveDateTime>,
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub after: Option<AppointmentId>,
    pub limit: i64,
}

/// Appointments in id order, each with its invitation if it has one.
pub fn appointments(
    conn: &mut DbConnection,
    filter: &AppointmentFilter,
) -> Result<Vec<(Appointment, Option<Invitation>)>, StoreError> {
    let mut q = appointments::table.into_boxed();
    if let Some(id) = filter.client_id {
        q = q.filter(appointments::client_id.eq(id));
    }
    if let Some(t) = filter.since {
        q = q.filter(appointments::starts_at.ge(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(appointments::starts_at.lt(t));
    }
    if let Some(s) = &filter.source {
        q = q.filter(appointments::source.eq(s.clone()));
    }
    if let Some(e) = &filter.external_id {
        q = q.filter(appointments::external_id.eq(e.clone()));
    }
    if let Some(after) = filter.after {
        q = q.filter(appointments::id.gt(after));
    }
    let rows: Vec<Appointment> = q
        .order(appointments::id)
        .limit(filter.limit.clamp(1, MAX_LIMIT))
        .select(Appointment::as_select())
        .load(conn)?;
    let ids: Vec<AppointmentId> = rows.iter().map(|a| a.id).collect();
    let invs: Vec<Invitation> = invitations::table
        .filter(invitations::appointment_id.eq_any(&ids))
        .select(Invitation::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let inv = invs.iter().find(|i| i.appointment_id == a.id).cloned();
            (a, inv)
        })
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub after: Option<ClientId>,
    pub limit: i64,
}

pub fn clients(conn: &mut DbConnection, filter: &ClientFilter) -> Result<Vec<Client>, StoreError> {
    let mut q = clients::table.into_boxed();
    if let Some(s) = &filter.source {
        q = q.filter(clients::source.eq(s.clone()));
    }
    if let Some(e) = &filter.external_id {
        q = q.filter(clients::external_id.eq(e.clone()));
    }
    if let Some(after) = filter.after {
        q = q.filter(clients::id.gt(after));
    }
    Ok(q.order(clients::id)
        .limit(filter.limit.clamp(1, MAX_LIMIT))
        .select(Client::as_select())
        .load(conn)?)
}

/// Which alerts a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// Open or acknowledged: still needing the clinician.
    Active,
    Is(AlertStatus),
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub client_id: Option<ClientId>,
    pub state: Option<AlertState>,
    pub after: Option<AlertId>,
    pub limit: i64,
}

pub fn alerts(conn: &mut DbConnection, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
    let mut q = alerts::table.into_boxed();
    if let Some(id) = filter.client_id {
        q = q.filter(alerts::client_id.eq(id));
    }
    match filter.state {
        Some(AlertState::Active) => q = q.filter(alerts::status.ne(AlertStatus::Closed.as_str())),
        Some(AlertState::Is(status)) => q = q.filter(alerts::status.eq(status.as_str())),
        None => {}
    }
    if let Some(after) = filter.after {
        q = q.filter(alerts::id.gt(after));
    }
    Ok(q.order(alerts::id)
        .limit(filter.limit.clamp(1, MAX_LIMIT))
        .select(Alert::as_select())
        .load(conn)?)
}
