//! One alert: its page (read here, shown by `views::alert`) and the
//! clinician's repair steps (acknowledge, discussed, outcome).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::access::AlertAccess;
use super::views;
use crate::actions::{self, Actor};
use crate::context::Context;
use crate::store::alerts::{self, RepairOutcome, RepairStep};
use crate::store::{appointments, history};
use crate::web::auth::{ClinicianRole, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[get("/clinician/alerts/{alert_id}")]
async fn show(state: web::Data<Context>, access: AlertAccess) -> Result<HttpResponse, AppError> {
    render(&state, access, None).await
}

async fn render(state: &Context, access: AlertAccess, error: Option<&str>) -> Result<HttpResponse, AppError> {
    let AlertAccess { staff, alert, client } = access;
    let (alert_id, client_id, now) = (alert.id, client.id, state.now());
    let (signals, events, loaded, client_alerts, next) = state
        .db(move |conn| {
            Ok((
                alerts::signals(conn, alert_id)?,
                alerts::events(conn, alert_id)?,
                history::load(conn, client_id)?,
                alerts::for_client(conn, client_id)?,
                appointments::next_for_client(conn, client_id, now)?,
            ))
        })
        .await?;
    let page = views::alert::AlertPage {
        csrf: &staff.csrf,
        alert: &alert,
        client: &client,
        signals: &signals,
        events: &events,
        loaded: loaded.as_ref(),
        client_alerts: &client_alerts,
        next: next.as_ref(),
        tz: state.settings.time_zone,
        error,
    };
    let body = views::alert::body(&page);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/clinician",
            &format!("Alert for {}", client.name),
            body,
        ),
    ))
}

#[derive(Deserialize)]
struct NoFields {}

#[derive(Deserialize)]
struct NoteForm {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
struct OutcomeForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

/// Longest note kept in the log.
const NOTE_LIMIT: usize = 4000;

async fn record(
    state: web::Data<Context>,
    access: AlertAccess,
    step: Result<RepairStep, &'static str>,
) -> Result<HttpResponse, AppError> {
    let step = match step {
        Ok(s) => s,
        Err(message) => return render(&state, access, Some(message)).await,
    };
    let (alert_id, staff_id, now) = (access.alert.id, access.staff.id(), state.now());
    state
        .db_mailing(move |conn, mailing| {
            actions::alerts::record_repair_step(conn, Actor::Staff(staff_id), alert_id, &step, mailing, now)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/clinician/alerts/{alert_id}#repair-title")))
        .finish())
}

#[post("/clinician/alerts/{alert_id}/acknowledge")]
async fn record_acknowledgement(
    state: web::Data<Context>,
    access: AlertAccess,
    _form: StaffForm<ClinicianRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    record(state, access, Ok(RepairStep::Acknowledge)).await
}

#[post("/clinician/alerts/{alert_id}/discussed")]
async fn record_discussion(
    state: web::Data<Context>,
    access: AlertAccess,
    form: StaffForm<ClinicianRole, NoteForm>,
) -> Result<HttpResponse, AppError> {
    let note = form.form.note.trim().to_string();
    let step = if note.is_empty() {
        Err("Write a short note about the discussion.")
    } else if note.chars().count() > NOTE_LIMIT {
        Err("The note is too long (at most 4,000 characters).")
    } else {
        Ok(RepairStep::Discussed { note })
    };
    record(state, access, step).await
}

#[post("/clinician/alerts/{alert_id}/outcome")]
async fn record_outcome(
    state: web::Data<Context>,
    access: AlertAccess,
    form: StaffForm<ClinicianRole, OutcomeForm>,
) -> Result<HttpResponse, AppError> {
    let note = form.form.note.trim().to_string();
    let step = match RepairOutcome::parse(&form.form.outcome) {
        None => Err("Choose an outcome: repaired, not repaired, or not a rupture."),
        Some(_) if note.chars().count() > NOTE_LIMIT => Err("The note is too long (at most 4,000 characters)."),
        Some(outcome) => Ok(RepairStep::Outcome {
            outcome,
            note: (!note.is_empty()).then_some(note),
        }),
    };
    record(state, access, step).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(record_acknowledgement)
        .service(record_discussion)
        .service(record_outcome);
}
