//! A manager may let a clinician see the clients of their whole team (for
//! cover during leave, or a team that shares its caseload). Off by default:
//! a clinician sees only their own clients.

use crate::store::StaffId;
use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;

use crate::context::Context;
use crate::store::audit::{self, AuditEntry};
use crate::store::staff::{self, Role};
use crate::web::auth::{ManagerRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

const PATH: &str = "/manager/team-access";

#[get("/manager/team-access")]
pub async fn team_access(state: web::Data<Context>, manager: Staff<ManagerRole>) -> Result<HttpResponse, AppError> {
    let members = state.db(staff::list_staff).await?;
    let clinicians: Vec<_> = members
        .iter()
        .filter(|(m, _)| m.role() == Role::Clinician && m.active)
        .collect();
    let body = html! {
        section {
            p {
                "Clinicians see only their own clients. Here you can let a clinician also see every client of their team, "
                "for example to cover during leave. Every view of a client's page is in the audit log."
            }
            div.table-wrap tabindex="0" role="region" aria-label="Team access" { table {
                thead { tr { th scope="col" { "Clinician" } th scope="col" { "Team" } th scope="col" { "Sees" } th scope="col" { span.visually-hidden { "Change" } } } }
                tbody {
                    @for (member, team) in &clinicians {
                        tr {
                            td { (member.name) }
                            td { (team.as_deref().unwrap_or("no team")) }
                            td { @if member.sees_team { "their team's clients" } @else { "their own clients" } }
                            td {
                                @if team.is_some() {
                                    form method="post" action={ (PATH) "/" (member.id) } {
                                        input type="hidden" name="csrf" value=(manager.csrf);
                                        input type="hidden" name="sees_team" value=(if member.sees_team { "no" } else { "yes" });
                                        button type="submit" {
                                            @if member.sees_team { "Own clients only" } @else { "Let them see the team's clients" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&manager, &state.settings.clinic_name, PATH, "Team access", body),
    ))
}

#[derive(Deserialize)]
pub struct AccessForm {
    sees_team: String,
}

#[post("/manager/team-access/{staff_id}")]
pub async fn set_team_access(
    state: web::Data<Context>,
    path: web::Path<StaffId>,
    form: StaffForm<ManagerRole, AccessForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff: manager, form } = form;
    let sees_team = match form.sees_team.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(AppError::BadRequest("choose yes or no".into())),
    };
    let (id, now, manager_id) = (path.into_inner(), state.now(), manager.id());
    state
        .db(move |conn| {
            let member = staff::find(conn, id)?;
            if member.role() != Role::Clinician || member.team_id.is_none() {
                return Err(crate::store::StoreError::NotFound);
            }
            conn.write_transaction(|conn| {
                staff::set_sees_team(conn, id, sees_team)?;
                let detail = format!(
                    "staff #{id} {}",
                    if sees_team {
                        "sees their team's clients"
                    } else {
                        "sees own clients only"
                    }
                );
                audit::record(
                    conn,
                    &AuditEntry {
                        staff_id: Some(manager_id),
                        detail: Some(&detail),
                        ..AuditEntry::new(AuditAction::StaffTeamAccess)
                    },
                    now,
                )
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", PATH)).finish())
}
