//! How a clinician hears about alerts.

use actix_web::{HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;

use crate::context::Context;
use crate::store::staff::Notify;
use crate::web::auth::{ClinicianRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{notice, staff_page};

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
    let choice = |name: &str, current: Notify| {
        html! {
            ul.choices {
                @for choice in Notify::ALL {
                    li { label { input type="radio" name=(name) value=(choice.as_str()) checked[current == choice]; " " (choice.label()) } }
                }
            }
        }
    };
    let body = html! {
        @if saved.saved.is_some() { (notice("Saved.")) }
        section {
            p { "Alert emails never name the client or say anything clinical: they only say there is something to look at." }
            form method="post" action="/clinician/settings" {
                input type="hidden" name="csrf" value=(me.csrf);
                fieldset { legend { "High alerts" } (choice("notify_high", me.member.notify_high)) }
                fieldset { legend { "Other alerts" } (choice("notify_other", me.member.notify_other)) }
                button.primary type="submit" { "Save" }
            }
        }
    };
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
