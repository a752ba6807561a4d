//! Appointments coming in from anywhere (the clinician's form, a CSV
//! import, the practice-system API) go through this one path, so each way
//! in behaves the same: idempotent on (source, external id), creating or
//! updating the client, and keeping the invitation in step.

use crate::store::StaffId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::appointments::{self, NewAppointment, Upserted};
use super::clients::{self, Client};
use super::invitations::{self, Invitation, Mailing};
use super::schema::clients as clients_table;
use super::staff::{self, Role};
use super::{DbConnection, StoreError};
pub use crate::domain::appointment::{AppointmentIn, ClientDetails};
use crate::domain::import::{DateOrder, Mapping};
use crate::domain::schedule::DeliveryRules;

#[derive(Debug)]
pub struct Recorded {
    pub appointment: appointments::Appointment,
    pub client: Client,
    pub outcome: Upserted,
    pub client_created: bool,
    pub invitation: Option<Invitation>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The request itself is wrong; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for IntakeError {
    fn from(e: diesel::result::Error) -> Self {
        IntakeError::Store(e.into())
    }
}

impl super::connection::MayRace for IntakeError {
    fn is_race(&self) -> bool {
        matches!(self, IntakeError::Store(e) if super::connection::MayRace::is_race(e))
    }
}

/// Records one appointment. Call inside a write transaction.
pub fn record(
    conn: &mut DbConnection,
    input: &AppointmentIn,
    rules: &DeliveryRules,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Recorded, IntakeError> {
    input.validate().map_err(IntakeError::Invalid)?;
    let clinician = staff::find_by_email(conn, &input.clinician_email)?
        .filter(|m| m.role() == Role::Clinician && m.active)
        .ok_or_else(|| {
            IntakeError::Invalid(format!(
                "no active clinician has the email {}",
                input.clinician_email.trim()
            ))
        })?;
    let (client, client_outcome) = upsert_client(
        conn,
        &input.source,
        &input.client,
        clinician.id,
        mailing.default_language,
        now,
    )?;
    let (appointment, appointment_outcome) = appointments::upsert(
        conn,
        &NewAppointment {
            client_id: client.id,
            clinician_id: clinician.id,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            status: input.status,
            source: input.source.trim().to_string(),
            external_id: input.external_id.trim().to_string(),
        },
        now,
    )?;
    let invitation = invitations::follow_appointment(conn, &appointment, &client, rules, mailing, now)?;
    // A corrected name or address alone is a change too: audited and
    // counted as an update, not "unchanged".
    let outcome = match (appointment_outcome, client_outcome) {
        (Upserted::Unchanged, Upserted::Created | Upserted::Updated) => Upserted::Updated,
        (outcome, _) => outcome,
    };
    Ok(Recorded {
        appointment,
        client,
        outcome,
        client_created: client_outcome == Upserted::Created,
        invitation,
    })
}

/// Finds the client by (source, external id), updating what changed, or
/// creates them; says which.
pub fn upsert_client(
    conn: &mut DbConnection,
    source: &str,
    details: &ClientDetails,
    clinician_id: StaffId,
    default_language: &str,
    now: NaiveDateTime,
) -> Result<(Client, Upserted), StoreError> {
    let existing: Option<Client> = clients_table::table
        .filter(clients_table::source.eq(source.trim()))
        .filter(clients_table::external_id.eq(details.external_id.trim()))
        .select(Client::as_select())
        .first(conn)
        .optional()?;
    let email = details
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    match existing {
        Some(client) => {
            let language = details.language.clone().unwrap_or_else(|| client.language.clone());
            let time_zone = details.time_zone.clone().or_else(|| client.time_zone.clone());
            let changed = client.name != details.name.trim()
                || client.email != email
                || client.language != language
                || client.time_zone != time_zone
                || client.clinician_id != clinician_id;
            if changed && client.erased_at.is_none() {
                diesel::update(clients_table::table.find(client.id))
                    .set((
                        clients_table::name.eq(details.name.trim()),
                        clients_table::email.eq(&email),
                        clients_table::language.eq(&language),
                        clients_table::time_zone.eq(&time_zone),
                        clients_table::clinician_id.eq(clinician_id),
                        clients_table::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                return Ok((clients::find(conn, client.id)?, Upserted::Updated));
            }
            Ok((client, Upserted::Unchanged))
        }
        None => {
            let client = clients::create(
                conn,
                &clients::NewClient {
                    clinician_id,
                    name: details.name.trim().to_string(),
                    email,
                    language: details.language.clone().unwrap_or_else(|| default_language.to_string()),
                    time_zone: details.time_zone.clone(),
                    source: Some(source.trim().to_string()),
                    external_id: Some(details.external_id.trim().to_string()),
                },
                now,
            )?;
            Ok((client, Upserted::Created))
        }
    }
}

const DATE_ORDER: &str = "import.date_order";

/// How the clinic's CSV files write dates (year-first unless set).
pub fn date_order(conn: &mut DbConnection) -> Result<DateOrder, StoreError> {
    Ok(super::kv::get(conn, DATE_ORDER)?
        .and_then(|v| DateOrder::parse(&v))
        .unwrap_or_default())
}

pub fn set_date_order(conn: &mut DbConnection, order: DateOrder, now: NaiveDateTime) -> Result<(), StoreError> {
    super::kv::set(conn, DATE_ORDER, order.as_str(), now)
}

fn mapping_key(source: &str) -> String {
    format!("import.mapping.{}", source.trim().to_lowercase())
}

/// The columns last used for files from this system, if any.
pub fn saved_mapping(conn: &mut DbConnection, source: &str) -> Result<Option<Mapping>, StoreError> {
    Ok(super::kv::get(conn, &mapping_key(source))?.and_then(|json| serde_json::from_str(&json).ok()))
}

pub fn save_mapping(
    conn: &mut DbConnection,
    source: &str,
    mapping: &Mapping,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    // A map of strings always serialises.
    let json = serde_json::to_string(mapping).unwrap_or_else(|_| "{}".into());
    super::kv::set(conn, &mapping_key(source), &json, now)
}
