//! A clinician records an appointment by hand (when no practice system
//! sends them): for one of their clients or a new one.

use crate::actions::{self, Actor};
use crate::store::ClientId;
use actix_web::{HttpResponse, get, post, web};
use maud::html;

use super::views;
use super::views::appointment::AppointmentForm;
use crate::context::Context;
use crate::domain::appointment::{AppointmentIn, AppointmentStatus, ClientDetails};
use crate::domain::dates;
use crate::store::clients::{self, Client};
use crate::store::intake::IntakeError;
use crate::store::invitations;
use crate::web::auth::{ClinicianRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{form_error, staff_page};

/// Appointments entered here carry this source; clients created here get a
/// random external id under it.
pub const SOURCE: &str = "rapport";

async fn render(
    state: &Context,
    staff: &Staff<ClinicianRole>,
    form: &AppointmentForm,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let viewer = staff.viewer();
    let mine = state.db(move |conn| clients::list_visible(conn, &viewer, None)).await?;
    let mine: Vec<Client> = mine.into_iter().filter(|c| c.clinician_id == viewer.staff_id).collect();
    let body =
        html! { @if let Some(e) = error { (form_error(e)) } (views::appointment::form_page(&staff.csrf, &mine, form)) };
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(
            staff,
            &state.settings.clinic_name,
            "/clinician/clients",
            "Record an appointment",
            body,
        ),
    ))
}

#[get("/clinician/appointments/new")]
async fn new_form(state: web::Data<Context>, staff: Staff<ClinicianRole>) -> Result<HttpResponse, AppError> {
    // Today, in the clinic's time zone: most appointments are recorded the
    // day they happen.
    let today = state
        .now()
        .and_utc()
        .with_timezone(&state.settings.time_zone)
        .date_naive();
    let form = AppointmentForm {
        date: today.format("%Y-%m-%d").to_string(),
        ..AppointmentForm::default()
    };
    render(&state, &staff, &form, None).await
}

/// Builds the appointment from the form, or says what to fix.
fn read_form(
    form: &AppointmentForm,
    staff_email: &str,
    existing: Option<&Client>,
    tz: chrono_tz::Tz,
) -> Result<AppointmentIn, String> {
    let starts_at = dates::parse_local_time(
        &format!("{} {}", form.date.trim(), form.time.trim()),
        tz,
        dates::DateOrder::YearFirst,
    )
    .map_err(|e| {
        if form.date.trim().is_empty() || form.time.trim().is_empty() {
            "Enter the date and start time.".to_string()
        } else {
            format!("Check the date and start time: {e}.")
        }
    })?;
    let minutes: i64 = form
        .minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| (5..=480).contains(m))
        .ok_or("The length must be 5 to 480 minutes.")?;
    let status: AppointmentStatus = form.status.parse()?;
    let client = match existing {
        Some(c) => ClientDetails {
            external_id: c.external_id.clone().unwrap_or_default(),
            name: c.name.clone(),
            email: c.email.clone(),
            language: Some(c.language.clone()),
            time_zone: c.time_zone.clone(),
        },
        None => {
            if form.new_name.trim().is_empty() {
                return Err("Choose a client, or enter the new client's name.".into());
            }
            ClientDetails {
                external_id: crate::security::new_token(),
                name: form.new_name.trim().into(),
                email: Some(form.new_email.trim().to_string()).filter(|e| !e.is_empty()),
                language: Some(form.new_language.trim().to_string()).filter(|l| !l.is_empty()),
                time_zone: None,
            }
        }
    };
    let appointment = AppointmentIn {
        source: SOURCE.into(),
        external_id: crate::security::new_token(),
        clinician_email: staff_email.into(),
        client,
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(minutes),
        status,
    };
    appointment
        .validate()
        .map_err(|e| e.replace("client.email", "The email"))?;
    Ok(appointment)
}

#[post("/clinician/appointments")]
async fn create(
    state: web::Data<Context>,
    form: StaffForm<ClinicianRole, AppointmentForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let viewer = staff.viewer();
    let existing = match form.client.parse::<ClientId>() {
        Ok(id) => match state.db(move |conn| clients::find_visible(conn, &viewer, id)).await {
            Ok(c) if c.clinician_id == viewer.staff_id && c.source.as_deref() == Some(SOURCE) => Some(c),
            Ok(_) => {
                return render(
                    &state,
                    &staff,
                    &form,
                    Some("Appointments for clients from the practice system are recorded there."),
                )
                .await;
            }
            Err(crate::store::StoreError::NotFound) => {
                return render(&state, &staff, &form, Some("Choose one of your clients.")).await;
            }
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let appointment = match read_form(&form, &staff.member.email, existing.as_ref(), state.settings.time_zone) {
        Ok(a) => a,
        Err(message) => return render(&state, &staff, &form, Some(&message)).await,
    };
    let now = state.now();
    let settings = state.settings.clone();
    let clinician = staff.id();
    let recorded = state
        .db_mailing(move |conn, mailing| {
            let rules = invitations::delivery_rules(conn, &settings)?;
            Ok(actions::appointments::record(
                conn,
                Actor::Staff(clinician),
                &appointment,
                &rules,
                mailing,
                now,
            ))
        })
        .await?;
    match recorded {
        Ok(r) => {
            // Say when the questionnaire goes, and why then.
            let tz = state.settings.time_zone;
            let settings = state.settings.clone();
            let rules = state
                .db(move |conn| invitations::delivery_rules(conn, &settings))
                .await?;
            let done = match &r.invitation {
                Some(inv) if inv.status == invitations::InvitationStatus::Scheduled => {
                    let zone = r.client.time_zone.as_deref().and_then(|z| z.parse().ok()).unwrap_or(tz);
                    let why = crate::domain::schedule::why_waiting("invitation", inv.send_at, 0, now, &rules, zone);
                    format!(
                        "Appointment saved. The questionnaire goes {} ({}).",
                        crate::web::views::local_time(inv.send_at, tz),
                        why.describe()
                    )
                }
                _ => "Appointment saved.".to_string(),
            };
            let query = serde_urlencoded::to_string([("done", done.as_str())]).unwrap_or_default();
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", format!("/clinician/clients/{}?{query}", r.client.id)))
                .finish())
        }
        Err(IntakeError::Invalid(message)) => render(&state, &staff, &form, Some(&message)).await,
        Err(IntakeError::Store(e)) => Err(e.into()),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(new_form).service(create);
}
