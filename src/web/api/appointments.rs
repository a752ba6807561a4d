//! Appointments: a practice system reports them (idempotent on its own id)
//! and reads them back with the questionnaire each one brought.

use crate::store::{AppointmentId, ClientId};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiCaller, audit_read, json_body, page_limit, parse_time, query};
use crate::actions::{self, Actor};
use crate::context::Context;
use crate::json::{AppointmentView, InvitationView, Problem};
use crate::store::api_keys::Scope;
use crate::store::appointments::{self, AppointmentStatus, Upserted};
use crate::store::audit::AuditAction;
use crate::store::intake::{AppointmentIn, ClientDetails, IntakeError};
use crate::store::listing::{self, AppointmentFilter};
use crate::store::{invitations, responses};
use crate::web::error::{ApiError, AppError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    /// The practice system's id for the client.
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where questionnaires go; empty or absent for none.
    pub email: Option<String>,
    /// A language tag such as `en` (default `en`).
    #[schema(min_length = 1, max_length = 20, pattern = "^[A-Za-z0-9-]+$", example = "en")]
    pub language: Option<String>,
    /// An IANA time zone such as `Europe/London` (default: the clinic's).
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentBody {
    /// A short name for the sending system, e.g. `pms`.
    #[schema(min_length = 1, max_length = 100, example = "pms")]
    pub source: String,
    /// The sending system's id for the appointment; together with `source` it makes the call idempotent.
    #[schema(min_length = 1, max_length = 200, example = "A-1001")]
    pub external_id: String,
    /// The clinician's email as known to Rapport.
    #[schema(format = Email)]
    pub clinician_email: String,
    pub client: ClientBody,
    /// RFC 3339, e.g. 2026-03-02T14:00:00+01:00.
    #[schema(format = DateTime, example = "2026-03-02T14:00:00Z")]
    pub start: String,
    /// RFC 3339, not before `start` and at most 12 hours after it.
    #[schema(format = DateTime, example = "2026-03-02T14:50:00Z")]
    pub end: String,
    /// attended, cancelled, no_show or booked.
    #[schema(value_type = AppointmentStatusName, inline, example = "attended")]
    pub status: String,
}

/// The statuses an appointment can be sent with.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Only describes the accepted strings in the OpenAPI document.
enum AppointmentStatusName {
    Attended,
    Cancelled,
    NoShow,
    Booked,
}

/// What recording an appointment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedAppointment {
    pub appointment_id: AppointmentId,
    pub client_id: ClientId,
    #[schema(example = "attended")]
    pub status: String,
    /// created, updated or unchanged.
    #[schema(example = "created")]
    pub outcome: &'static str,
    /// The questionnaire for this appointment, as it stands.
    pub invitation: Option<InvitationView>,
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

/// Record an appointment
///
/// Creates or updates the appointment identified by `(source, external_id)`, creating or updating its client
/// by `(source, client.external_id)`. An attended appointment schedules one questionnaire; a change to
/// cancelled or no_show cancels a pending one. Sending the same body again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/appointments",
    operation_id = "recordAppointment",
    tag = "appointments",
    request_body = AppointmentBody,
    responses(
        (status = 201, description = "Created", body = RecordedAppointment),
        (status = 200, description = "Updated, or unchanged", body = RecordedAppointment),
        (status = 400, description = "The body is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the write scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["write"]))
)]
#[post("/appointments")]
async fn create_or_update(
    state: web::Data<Context>,
    caller: ApiCaller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Write)?;
    let input = json_body::<AppointmentBody>(&body)?.into_intake()?;
    let now = state.now();
    let settings = state.settings.clone();
    let key_id = caller.key.id;
    let recorded = state
        .db_mailing(move |conn, mailing| {
            let rules = invitations::delivery_rules(conn, &settings)?;
            Ok(actions::appointments::record(
                conn,
                Actor::ApiKey(key_id),
                &input,
                &rules,
                mailing,
                now,
            ))
        })
        .await?;
    let recorded = recorded.map_err(|e| match e {
        IntakeError::Invalid(m) => ApiError(AppError::BadRequest(m)),
        IntakeError::Store(e) => ApiError(e.into()),
    })?;
    let appointment_id = recorded.appointment.id;
    // Report the invitation as it stands (it may predate this call).
    let invitation = match recorded.invitation {
        Some(i) => Some(i),
        None => {
            state
                .db(move |conn| invitations::for_appointment(conn, appointment_id))
                .await?
        }
    };
    let view = RecordedAppointment {
        appointment_id,
        client_id: recorded.client.id,
        status: recorded.appointment.status.as_str().to_string(),
        outcome: match recorded.outcome {
            Upserted::Created => "created",
            Upserted::Updated => "updated",
            Upserted::Unchanged => "unchanged",
        },
        invitation: invitation.map(|i| InvitationView::new(&i, None)),
    };
    Ok(if recorded.outcome == Upserted::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    /// Only this client's appointments (Rapport's client id).
    #[param(value_type = Option<i64>)]
    client: Option<ClientId>,
    /// Only appointments starting at or after this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only appointments starting before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    /// With `external_id`: the appointment a practice system knows by this id.
    source: Option<String>,
    /// With `source`: the practice system's id for the appointment.
    external_id: Option<String>,
    /// Return appointments with an id greater than this (the previous page's `next_after`).
    #[param(value_type = Option<i64>)]
    after: Option<AppointmentId>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    pub appointments: Vec<AppointmentView>,
    /// Pass as `after` for the next page; null when this is the last.
    pub next_after: Option<AppointmentId>,
}

/// List appointments
///
/// In id order, each with its questionnaire's status.
#[utoipa::path(
    get,
    path = "/api/v1/appointments",
    operation_id = "listAppointments",
    tag = "appointments",
    params(AppointmentQuery),
    responses(
        (status = 200, description = "A page of appointments", body = AppointmentPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/appointments")]
async fn list(state: web::Data<Context>, caller: ApiCaller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let q: AppointmentQuery = query(&req)?;
    let filter = AppointmentFilter {
        client_id: q.client,
        since: q.since.as_deref().map(|t| parse_time("since", t)).transpose()?,
        until: q.until.as_deref().map(|t| parse_time("until", t)).transpose()?,
        source: q.source,
        external_id: q.external_id,
        after: q.after,
        limit: page_limit(q.limit)?,
    };
    let (now, key_id) = (state.now(), caller.key.id);
    let rows = state
        .db(move |conn| {
            let rows = listing::appointments(conn, &filter)?;
            audit_read(
                conn,
                key_id,
                AuditAction::ApiAppointmentsList,
                rows.iter().map(|(a, _)| a.client_id),
                None,
                now,
            )?;
            let mut views = vec![];
            for (a, inv) in &rows {
                let invitation = match inv {
                    Some(i) => Some(InvitationView::new(
                        i,
                        responses::for_invitation(conn, i.id)?.map(|r| r.id),
                    )),
                    None => None,
                };
                views.push(AppointmentView::new(a, invitation));
            }
            Ok((views, filter.limit))
        })
        .await?;
    let (appointments, limit) = rows;
    let next_after = (appointments.len() as i64 == limit)
        .then(|| appointments.last().map(|a| a.id))
        .flatten();
    Ok(HttpResponse::Ok().json(AppointmentPage {
        appointments,
        next_after,
    }))
}

/// Read an appointment
///
/// With its questionnaire (invitation) and where it stands.
#[utoipa::path(
    get,
    path = "/api/v1/appointments/{id}",
    operation_id = "getAppointment",
    tag = "appointments",
    params(("id" = i64, Path, description = "Rapport's appointment id")),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appointment", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/appointments/{id}")]
async fn read(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<AppointmentId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let view = state
        .db(move |conn| {
            let a = appointments::find(conn, id)?;
            audit_read(conn, key_id, AuditAction::ApiAppointmentRead, [a.client_id], None, now)?;
            let invitation = match invitations::for_appointment(conn, a.id)? {
                Some(i) => Some(InvitationView::new(
                    &i,
                    responses::for_invitation(conn, i.id)?.map(|r| r.id),
                )),
                None => None,
            };
            Ok(AppointmentView::new(&a, invitation))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_or_update).service(list).service(read);
}
