//! Appointments, as entered by clinicians, imported, or pushed by a
//! practice system.

use crate::store::{AppointmentId, ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{appointments, clients};
use super::{DbConnection, StoreError};
pub use crate::domain::appointment::AppointmentStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = appointments)]
pub struct Appointment {
    pub id: AppointmentId,
    pub client_id: ClientId,
    pub clinician_id: StaffId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub status: AppointmentStatus,
    pub source: String,
    pub external_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub client_id: ClientId,
    pub clinician_id: StaffId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: AppointmentStatus,
    pub source: String,
    pub external_id: String,
}

/// What an upsert did, so callers (CSV import, API) can report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

pub fn find_by_external(
    conn: &mut DbConnection,
    source: &str,
    external_id: &str,
) -> Result<Option<Appointment>, StoreError> {
    Ok(appointments::table
        .filter(appointments::source.eq(source))
        .filter(appointments::external_id.eq(external_id))
        .select(Appointment::as_select())
        .first(conn)
        .optional()?)
}

/// Inserts or updates by `(source, external_id)`. Call inside a write
/// transaction.
pub fn upsert(
    conn: &mut DbConnection,
    new: &NewAppointment,
    now: NaiveDateTime,
) -> Result<(Appointment, Upserted), StoreError> {
    match find_by_external(conn, &new.source, &new.external_id)? {
        Some(existing) => {
            let same = existing.client_id == new.client_id
                && existing.clinician_id == new.clinician_id
                && existing.starts_at == new.starts_at
                && existing.ends_at == new.ends_at
                && existing.status == new.status;
            if same {
                return Ok((existing, Upserted::Unchanged));
            }
            diesel::update(appointments::table.find(existing.id))
                .set((
                    appointments::client_id.eq(new.client_id),
                    appointments::clinician_id.eq(new.clinician_id),
                    appointments::starts_at.eq(new.starts_at),
                    appointments::ends_at.eq(new.ends_at),
                    appointments::status.eq(new.status.as_str()),
                    appointments::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok((find(conn, existing.id)?, Upserted::Updated))
        }
        None => {
            let id: AppointmentId = diesel::insert_into(appointments::table)
                .values((
                    appointments::client_id.eq(new.client_id),
                    appointments::clinician_id.eq(new.clinician_id),
                    appointments::starts_at.eq(new.starts_at),
                    appointments::ends_at.eq(new.ends_at),
                    appointments::status.eq(new.status.as_str()),
                    appointments::source.eq(&new.source),
                    appointments::external_id.eq(&new.external_id),
                    appointments::created_at.eq(now),
                    appointments::updated_at.eq(now),
                ))
                .returning(appointments::id)
                .get_result(conn)?;
            Ok((find(conn, id)?, Upserted::Created))
        }
    }
}

pub fn find(conn: &mut DbConnection, id: AppointmentId) -> Result<Appointment, StoreError> {
    appointments::table
        .find(id)
        .select(Appointment::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// A clinician's appointments from a moment on, with the client's name.
pub fn upcoming_for_clinician(
    conn: &mut DbConnection,
    clinician_id: StaffId,
    from: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(Appointment, String)>, StoreError> {
    Ok(appointments::table
        .inner_join(clients::table)
        .filter(appointments::clinician_id.eq(clinician_id))
        .filter(appointments::starts_at.ge(from))
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .order(appointments::starts_at)
        .limit(limit)
        .select((Appointment::as_select(), clients::name))
        .load(conn)?)
}

/// The client's next booked appointment from `from`, if any.
pub fn next_for_client(
    conn: &mut DbConnection,
    client_id: ClientId,
    from: NaiveDateTime,
) -> Result<Option<Appointment>, StoreError> {
    Ok(appointments::table
        .filter(appointments::client_id.eq(client_id))
        .filter(appointments::starts_at.ge(from))
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .order(appointments::starts_at)
        .select(Appointment::as_select())
        .first(conn)
        .optional()?)
}

/// Each client's next booked appointment from `from`, by client id.
pub fn next_for_clients(
    conn: &mut DbConnection,
    client_ids: &[ClientId],
    from: NaiveDateTime,
) -> Result<std::collections::HashMap<ClientId, NaiveDateTime>, StoreError> {
    let rows: Vec<(ClientId, NaiveDateTime)> = appointments::table
        .filter(appointments::client_id.eq_any(client_ids))
        .filter(appointments::starts_at.ge(from))
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .order(appointments::starts_at.desc())
        .select((appointments::client_id, appointments::starts_at))
        .load(conn)?;
    // Latest first, so the soonest is the one left in the map.
    Ok(rows.into_iter().collect())
}

pub fn for_client(conn: &mut DbConnection, client_id: ClientId) -> Result<Vec<Appointment>, StoreError> {
    Ok(appointments::table
        .filter(appointments::client_id.eq(client_id))
        .order(appointments::starts_at.desc())
        .select(Appointment::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(appointments::table.count().get_result(conn)?)
}
