//! One staff account for an admin: deactivate or reactivate it, set a new
//! password, change its role or team. Every change goes through
//! `actions::staff::change_account`, which audits it (as `rapport user` does), and
//! deactivation or a new password ends the person's sessions at once.

use crate::store::StaffId;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::views;
use crate::actions::Actor;
use crate::context::Context;
use crate::security;
use crate::store::staff::{self as staff_store, AccountChange};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

#[get("/admin/staff/{id}")]
async fn account_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    path: web::Path<StaffId>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    render(&state, &staff, path.into_inner(), flash.into_inner().done, None).await
}

async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    id: StaffId,
    done: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (member, teams) = state
        .db(move |conn| Ok((staff_store::find(conn, id)?, staff_store::list_teams(conn)?)))
        .await?;
    let page = views::account::AccountPage {
        csrf: &staff.csrf,
        member: &member,
        teams: &teams,
        done: done.as_deref(),
        error: error.as_deref(),
        tz: state.settings.time_zone,
    };
    let body = views::account::body(&page);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, "/admin", &member.name, body),
    ))
}

#[derive(Deserialize)]
struct ChangeForm {
    change: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    password: String,
}

#[post("/admin/staff/{id}")]
async fn change_account(
    state: web::Data<Context>,
    path: web::Path<StaffId>,
    form: StaffForm<AdminRole, ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let id = path.into_inner();
    let member = state.db(move |conn| staff_store::find(conn, id)).await?;
    let change = match form.change.as_str() {
        "deactivate" => AccountChange::Deactivate,
        "reactivate" => AccountChange::Reactivate,
        "role" => AccountChange::Role(form.role.parse().map_err(AppError::BadRequest)?),
        "team" => AccountChange::Team(Some(form.team.trim().to_string()).filter(|t| !t.is_empty())),
        "password" => {
            if let Err(e) = security::check_new_password(&form.password, &member.email, &member.name) {
                return render(&state, &staff, id, None, Some(format!("Choose another password: {e}."))).await;
            }
            let password = form.password.clone();
            let hash = web::block(move || security::hash_password(&password))
                .await?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            AccountChange::Password(hash)
        }
        other => return Err(AppError::BadRequest(format!("unknown change \"{other}\""))),
    };
    let done = match &change {
        AccountChange::Deactivate => "Deactivated; their sessions have ended.",
        AccountChange::Reactivate => "Reactivated: they can sign in again.",
        AccountChange::Password(_) => "New password set; their sessions have ended.",
        AccountChange::Role(_) => "Role saved.",
        AccountChange::Team(_) => "Team saved.",
    };
    let (now, admin) = (state.now(), staff.id());
    let changed = state
        .db(move |conn| crate::actions::staff::change_account(conn, Actor::Staff(admin), id, &change, now))
        .await;
    match changed {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                format!(
                    "/admin/staff/{id}?done={}",
                    url::form_urlencoded::byte_serialize(done.as_bytes()).collect::<String>()
                ),
            ))
            .finish()),
        Err(crate::store::StoreError::Conflict(message) | crate::store::StoreError::Invalid(message)) => {
            render(&state, &staff, id, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(account_page).service(change_account);
}
