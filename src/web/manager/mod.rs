//! What managers see: the service as a whole, never individual clients.

use actix_web::{HttpResponse, get, web};
use maud::html;

use super::auth::{ManagerRole, Staff};
use super::error::AppError;
use super::state::AppState;
use super::views::layout::staff_page;
use crate::store::{appointments, clients, staff as staff_store};

#[get("/manager")]
async fn home(state: web::Data<AppState>, staff: Staff<ManagerRole>) -> Result<HttpResponse, AppError> {
    let (teams, members, per_clinician, total_clients, total_appointments) = state
        .db(|conn| {
            Ok((
                staff_store::list_teams(conn)?,
                staff_store::list_staff(conn)?,
                clients::count_by_clinician(conn)?,
                clients::count(conn)?,
                appointments::count(conn)?,
            ))
        })
        .await?;
    let clients_of = |id: i64| per_clinician.iter().find(|(c, _)| *c == id).map_or(0, |(_, n)| *n);
    let body = html! {
        dl.stats {
            div { dt { "Teams" } dd { (teams.len()) } }
            div { dt { "Clinicians" } dd { (members.iter().filter(|(m, _)| m.role() == staff_store::Role::Clinician).count()) } }
            div { dt { "Clients" } dd { (total_clients) } }
            div { dt { "Appointments" } dd { (total_appointments) } }
        }
        section {
            h2 { "Teams" }
            table {
                thead { tr { th scope="col" { "Team" } th scope="col" { "Clinicians" } th scope="col" { "Clients" } } }
                tbody {
                    @for team in &teams {
                        @let clinicians: Vec<_> = members.iter().filter(|(m, _)| m.team_id == Some(team.id) && m.role() == staff_store::Role::Clinician).collect();
                        tr {
                            td { (team.name) }
                            td { (clinicians.len()) }
                            td { (clinicians.iter().map(|(m, _)| clients_of(m.id)).sum::<i64>()) }
                        }
                    }
                }
            }
        }
    };
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/manager",
            "Service overview",
            body,
        )
        .into_string(),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}
