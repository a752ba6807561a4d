//! How a clinician hears about alerts.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::views;
use crate::context::Context;
use crate::store::staff::Notify;
use crate::web::auth::{ClinicianRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct Saved {
    saved: Option<String>,
}

#[get("/clinician/settings")]
async fn show(
    state: web::Data<Context>,
    me: Staff<ClinicianRole>,
    saved: web::Query<Saved>,
) -> Result<HttpResponse, AppError> {
    let body = views::settings::body(
        &me.csrf,
        saved.saved.is_some(),
        me.member.notify_high,
        me.member.notify_other,
    );
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(
            &me,
            &state.settings.clinic_name,
            "/clinician/settings",
            "Alert emails",
            body,
        ),
    ))
}

#[derive(Deserialize)]
struct NotifyForm {
    #[serde(default)]
    notify_high: String,
    #[serde(default)]
    notify_other: String,
}

#[post("/clinician/settings")]
async fn save(state: web::Data<Context>, form: StaffForm<ClinicianRole, NotifyForm>) -> Result<HttpResponse, AppError> {
    let StaffForm { staff: me, form } = form;
    let (Some(high), Some(other)) = (Notify::parse(&form.notify_high), Notify::parse(&form.notify_other)) else {
        return Err(AppError::BadRequest(
            "Choose how to hear about high alerts and about other alerts.".into(),
        ));
    };
    let (id, now) = (me.id(), state.now());
    state
        .db_mailing(move |conn, mailing| crate::actions::staff::set_alert_emails(conn, id, high, other, mailing, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/clinician/settings?saved=1"))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(save);
}
