//! `POST /api/v1/appointments`: a practice system reports an appointment.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::ApiCaller;
use crate::store::api_keys::Scope;
use crate::store::appointments::{AppointmentStatus, Upserted};
use crate::store::audit::{self, AuditEntry};
use crate::store::intake::{self, AppointmentIn, ClientDetails, IntakeError};
use crate::store::invitations;
use crate::web::error::{ApiError, AppError};
use crate::web::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentBody {
    pub source: String,
    pub external_id: String,
    pub clinician_email: String,
    pub client: ClientBody,
    /// RFC 3339, e.g. 2026-03-02T14:00:00+01:00.
    pub start: String,
    pub end: String,
    /// attended, cancelled, no_show or booked.
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct InvitationView {
    pub id: i64,
    pub status: String,
    pub send_at: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize)]
pub struct AppointmentView {
    pub appointment_id: i64,
    pub client_id: i64,
    pub status: String,
    /// created, updated or unchanged.
    pub outcome: &'static str,
    pub invitation: Option<InvitationView>,
}

pub fn utc_text(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(field: &str, text: &str) -> Result<NaiveDateTime, ApiError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| crate::store::truncate(t.naive_utc()))
        .map_err(|_| {
            ApiError(AppError::BadRequest(format!(
                "{field} \"{text}\" is not an RFC 3339 time such as 2026-03-02T14:00:00Z"
            )))
        })
}

impl AppointmentBody {
    fn into_intake(self) -> Result<AppointmentIn, ApiError> {
        let status: AppointmentStatus = self
            .status
            .parse()
            .map_err(|e: String| ApiError(AppError::BadRequest(e)))?;
        Ok(AppointmentIn {
            source: self.source,
            external_id: self.external_id,
            clinician_email: self.clinician_email,
            client: ClientDetails {
                external_id: self.client.external_id,
                name: self.client.name,
                email: self.client.email,
                language: self.client.language,
                time_zone: self.client.time_zone,
            },
            starts_at: parse_time("start", &self.start)?,
            ends_at: parse_time("end", &self.end)?,
            status,
        })
    }
}

#[post("/appointments")]
async fn create_or_update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<AppointmentBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Write)?;
    let input = body.into_inner().into_intake()?;
    let now = state.now();
    let settings = state.settings.clone();
    let key_id = caller.key.id;
    let recorded = state
        .db_mailing(move |conn, mailing| {
            let rules = invitations::delivery_rules(conn, &settings)?;
            let outcome = conn.write_transaction(|conn| {
                let recorded = intake::record(conn, &input, &rules, mailing, now)?;
                if recorded.outcome != Upserted::Unchanged {
                    audit::record(
                        conn,
                        &AuditEntry {
                            api_key_id: Some(key_id),
                            action: "appointment.record",
                            client_id: Some(recorded.client.id),
                            detail: Some(&format!("appointment #{}", recorded.appointment.id)),
                            ..Default::default()
                        },
                        now,
                    )?;
                }
                Ok::<_, IntakeError>(recorded)
            });
            Ok(outcome)
        })
        .await?;
    let recorded = recorded.map_err(|e| match e {
        IntakeError::Invalid(m) => ApiError(AppError::BadRequest(m)),
        IntakeError::Store(e) => ApiError(e.into()),
    })?;
    let invitation_id = recorded.invitation.as_ref().map(|i| i.id);
    let appointment_id = recorded.appointment.id;
    // Report the invitation as it stands (it may predate this call).
    let invitation = match invitation_id {
        Some(_) => recorded.invitation,
        None => {
            state
                .db(move |conn| invitations::for_appointment(conn, appointment_id))
                .await?
        }
    };
    let view = AppointmentView {
        appointment_id,
        client_id: recorded.client.id,
        status: recorded.appointment.status.clone(),
        outcome: match recorded.outcome {
            Upserted::Created => "created",
            Upserted::Updated => "updated",
            Upserted::Unchanged => "unchanged",
        },
        invitation: invitation.map(|i| InvitationView {
            id: i.id,
            status: i.status.clone(),
            send_at: utc_text(i.send_at),
            expires_at: utc_text(i.expires_at),
        }),
    };
    Ok(if recorded.outcome == Upserted::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(view))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_or_update);
}
