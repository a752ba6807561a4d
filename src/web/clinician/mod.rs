//! The clinician's workspace.

use actix_web::{HttpResponse, get, web};
use maud::html;

use super::auth::{ClinicianRole, Staff};
use super::error::AppError;
use super::state::AppState;
use super::views::layout::staff_page;
use super::views::local_time;
use crate::store::{appointments, clients};

#[get("/clinician")]
async fn home(state: web::Data<AppState>, staff: Staff<ClinicianRole>) -> Result<HttpResponse, AppError> {
    let viewer = staff.viewer();
    let now = state.now();
    let id = staff.id();
    let (clients, upcoming) = state
        .db(move |conn| {
            Ok((
                clients::list_visible(conn, &viewer, None)?,
                appointments::upcoming_for_clinician(conn, id, now, 20)?,
            ))
        })
        .await?;
    let tz = state.settings.time_zone;
    let body = html! {
        section {
            h2 { "Upcoming appointments" }
            @if upcoming.is_empty() {
                p.muted { "No booked appointments." }
            } @else {
                table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Client" } } }
                    tbody {
                        @for (appointment, name) in &upcoming {
                            tr { td { (local_time(appointment.starts_at, tz)) } td { (name) } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "My clients (" (clients.len()) ")" }
            @if clients.is_empty() {
                p.muted { "You have no clients yet." }
            } @else {
                ul.columns {
                    @for c in &clients { li { (c.name) } }
                }
            }
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(staff_page(&staff, &state.settings.clinic_name, "/clinician", "My clients", body).into_string()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}
