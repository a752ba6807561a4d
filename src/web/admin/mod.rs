//! Administration: staff accounts, email delivery and the audit log.

mod accounts;
mod api_keys;
mod audit_page;
mod email;
mod import;
mod privacy;
mod safety;
mod views;
mod webhooks;

use crate::store::StaffId;
use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use self::views::staff::NewStaffForm;
use super::auth::{AdminRole, Staff, StaffForm};
use super::error::AppError;
use super::views::layout::staff_page;
use crate::actions::staff::NewMember;
use crate::actions::{self, Actor};
use crate::context::Context;
use crate::domain::email::EmailAddress;
use crate::security;
use crate::store::kv;
use crate::store::staff::{self as staff_store, Role};
use crate::web::views::html_page;

#[derive(Deserialize, Default)]
struct StaffQuery {
    added: Option<String>,
    saved: Option<String>,
}

#[get("/admin")]
async fn staff_list(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<StaffQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let message = match (query.added, query.saved.as_deref()) {
        (Some(e), _) => Some(format!("Added {e}.")),
        _ => None,
    };
    render_staff_page(&state, &staff, message, None, &NewStaffForm::default()).await
}

async fn render_staff_page(
    state: &Context,
    staff: &Staff<AdminRole>,
    message: Option<String>,
    error: Option<String>,
    form: &NewStaffForm,
) -> Result<HttpResponse, AppError> {
    let (members, teams, help_line) = state
        .db(|conn| {
            Ok((
                staff_store::list_staff(conn)?,
                staff_store::list_teams(conn)?,
                kv::get(conn, kv::HELP_LINE)?,
            ))
        })
        .await?;
    let page = views::staff::StaffPage {
        csrf: &staff.csrf,
        message: message.as_deref(),
        error: error.as_deref(),
        members: &members,
        teams: &teams,
        help_line_set: help_line.is_some(),
        form,
        tz: state.settings.time_zone,
    };
    let body = views::staff::body(&page);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, "/admin", "Staff", body),
    ))
}

#[post("/admin/staff")]
async fn add_staff(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, NewStaffForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let problem = validate_new_staff(&form);
    if let Some(problem) = problem {
        return render_staff_page(&state, &staff, None, Some(problem), &form).await;
    }
    let role: Role = form.role.parse().map_err(AppError::BadRequest)?;
    let email = EmailAddress::parse(&form.email).map_err(AppError::BadRequest)?;
    let password = form.password.clone();
    let hash = web::block(move || security::hash_password(&password))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.now();
    let (name, team) = (form.name.clone(), form.team.clone());
    let admin_id = staff.id();
    let created = state
        .db(move |conn| {
            let new = NewMember {
                email: &email,
                name: &name,
                role,
                team: Some(&team),
                password_hash: &hash,
            };
            actions::staff::add_member(conn, Actor::Staff(admin_id), &new, now)
        })
        .await;
    match created {
        Ok(member) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/admin?added={}", urlencode(&member.email))))
            .finish()),
        Err(crate::store::StoreError::Conflict(message) | crate::store::StoreError::Invalid(message)) => {
            render_staff_page(&state, &staff, None, Some(message), &form).await
        }
        Err(e) => Err(e.into()),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn validate_new_staff(form: &NewStaffForm) -> Option<String> {
    if form.name.trim().is_empty() {
        return Some("Enter the person's name.".into());
    }
    if EmailAddress::parse(&form.email).is_err() {
        return Some("Enter a valid email address, such as name@example.org.".into());
    }
    if let Err(e) = form.role.parse::<Role>() {
        return Some(format!("Choose a role: {e}."));
    }
    if let Err(e) = security::check_new_password(&form.password, &form.email, &form.name) {
        return Some(format!("Choose another password: {e}."));
    }
    None
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_list)
        .service(add_staff)
        .configure(audit_page::routes)
        .configure(accounts::routes)
        .configure(email::routes)
        .configure(import::routes)
        .configure(webhooks::routes)
        .configure(api_keys::routes)
        .configure(privacy::routes)
        .configure(safety::routes);
}

/// Writes a clinic setting and its audit entry in one transaction, then
/// sends the admin back to `back` (the page that shows the setting).
pub(crate) async fn save_setting(
    state: &Context,
    staff_id: StaffId,
    action: AuditAction,
    detail: Option<String>,
    back: String,
    write: impl FnOnce(&mut crate::store::DbConnection, chrono::NaiveDateTime) -> Result<(), crate::store::StoreError>
    + Send
    + 'static,
) -> Result<HttpResponse, AppError> {
    let (now, by) = (state.now(), Actor::Staff(staff_id));
    state
        .db(move |conn| actions::settings::change(conn, by, action, detail, now, write))
        .await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", back)).finish())
}
