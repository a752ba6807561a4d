//! A client's contact details — name, email, time zone, language — edited
//! by their clinician or an admin (a failed email's "correct the address"
//! link comes here). Opening the page and every change are audited; the
//! audit entry names the fields that changed, never their values. A
//! corrected address is used by every email still queued for the client.

use crate::store::ClientId;
use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::actions::{self, Actor};
use crate::context::Context;
use crate::domain::appointment::{check_email, check_language, check_time_zone};
use crate::store::audit::{self, AuditEntry};
use crate::store::clients::{self, Client, Details};
use crate::store::staff::Role;
use crate::web::auth::{ClinicianOrAdmin, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::layout::staff_page;
use crate::web::views::{self, html_page};

#[derive(Deserialize, Default)]
struct DetailsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    language: String,
}

impl DetailsForm {
    fn of(client: &Client) -> DetailsForm {
        DetailsForm {
            name: client.name.clone(),
            email: client.email.clone().unwrap_or_default(),
            time_zone: client.time_zone.clone().unwrap_or_default(),
            language: client.language.clone(),
        }
    }

    /// The details to store, or the sentence saying what to correct.
    fn parse(&self) -> Result<Details, String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err("Give the client's name (at most 200 characters).".into());
        }
        let email = self.email.trim();
        check_email(email).map_err(|e| format!("Email: {e}."))?;
        let time_zone = self.time_zone.trim();
        if !time_zone.is_empty() {
            check_time_zone(time_zone).map_err(|e| format!("Time zone: {e}, or leave it empty for the clinic's."))?;
        }
        let language = self.language.trim();
        check_language(language).map_err(|e| format!("Language: {e}."))?;
        Ok(Details {
            name: name.to_string(),
            email: (!email.is_empty()).then(|| email.to_string()),
            time_zone: (!time_zone.is_empty()).then(|| time_zone.to_string()),
            language: language.to_string(),
        })
    }
}

/// The client, if this member of staff may edit them: their clinician (or
/// team, when granted) or an admin; 404 otherwise and for an erased client.
/// The look is audited either way.
async fn load(
    state: &Context,
    staff: &Staff<ClinicianOrAdmin>,
    id: ClientId,
    action: AuditAction,
) -> Result<Client, AppError> {
    let (viewer, admin, staff_id, now) = (staff.viewer(), staff.role() == Role::Admin, staff.id(), state.now());
    let found = state
        .db(move |conn| {
            let found = if admin {
                clients::find(conn, id)
            } else {
                clients::find_visible(conn, &viewer, id)
            }
            .and_then(|c| {
                if c.erased_at.is_some() {
                    Err(crate::store::StoreError::NotFound)
                } else {
                    Ok(c)
                }
            });
            let (action, client_id, detail) = match &found {
                Ok(c) => (action, Some(c.id), Some("contact details".to_string())),
                Err(_) => (AuditAction::AccessDenied, None, Some(format!("client details #{id}"))),
            };
            audit::record(
                conn,
                &AuditEntry {
                    staff_id: Some(staff_id),
                    client_id,
                    detail: detail.as_deref(),
                    ..AuditEntry::new(action)
                },
                now,
            )?;
            Ok(found)
        })
        .await?;
    found.map_err(|_| AppError::NotFound)
}

fn page(
    state: &Context,
    staff: &Staff<ClinicianOrAdmin>,
    client: &Client,
    form: &DetailsForm,
    saved: bool,
    error: Option<&str>,
) -> HttpResponse {
    let fields = views::client_details::Fields {
        name: &form.name,
        email: &form.email,
        time_zone: &form.time_zone,
        language: &form.language,
    };
    let body = views::client_details::body(&staff.csrf, client, &fields, staff.role() == Role::Admin, saved, error);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    let current = if staff.role() == Role::Admin {
        "/admin/email"
    } else {
        "/clinician/clients"
    };
    html_page(
        status,
        staff_page(
            staff,
            &state.settings.clinic_name,
            current,
            &format!("Contact details: {}", client.name),
            body,
        ),
    )
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

#[get("/clients/{id}/details")]
async fn show(
    state: web::Data<Context>,
    staff: Staff<ClinicianOrAdmin>,
    path: web::Path<ClientId>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let client = load(&state, &staff, path.into_inner(), AuditAction::ClientView).await?;
    Ok(page(
        &state,
        &staff,
        &client,
        &DetailsForm::of(&client),
        query.saved.is_some(),
        None,
    ))
}

#[post("/clients/{id}/details")]
async fn save(
    state: web::Data<Context>,
    path: web::Path<ClientId>,
    form: StaffForm<ClinicianOrAdmin, DetailsForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let client = load(&state, &staff, path.into_inner(), AuditAction::ClientView).await?;
    let details = match form.parse() {
        Ok(d) => d,
        Err(message) => return Ok(page(&state, &staff, &client, &form, false, Some(&message))),
    };
    let (id, now, by) = (client.id, state.now(), Actor::Staff(staff.id()));
    state
        .db(move |conn| actions::clients::change_details(conn, by, id, &details, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/clients/{id}/details?saved=1")))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(save);
}
