//! A member of staff's own account: changing their password. The change
//! ends every other session of theirs (a stolen cookie stops working);
//! this browser gets a new session.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::auth::{self, AnyRole, Staff, StaffForm};
use super::error::AppError;
use super::views::layout::staff_page;
use crate::actions::Actor;
use crate::context::Context;
use crate::security;
use crate::store::staff::AccountChange;
use crate::web::views::html_page;

const PATH: &str = "/account/password";

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

#[get("/account/password")]
async fn password_page(
    state: web::Data<Context>,
    staff: Staff<AnyRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    Ok(render(&state, &staff, flash.into_inner().done.as_deref(), None))
}

fn render(state: &Context, staff: &Staff<AnyRole>, done: Option<&str>, error: Option<&str>) -> HttpResponse {
    let body = super::views::password::body(&staff.csrf, &staff.member.email, done, error);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, PATH, "Your password", body),
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
}

#[post("/account/password")]
async fn change_password(
    state: web::Data<Context>,
    form: StaffForm<AnyRole, PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let member = staff.member.clone();
    let (current, hash) = (form.current.clone(), member.password_hash.clone());
    let ok = form.current.chars().count() <= security::MAX_PASSWORD_LEN
        && web::block(move || security::verify_password(&current, &hash)).await?;
    if !ok {
        return Ok(render(&state, &staff, None, Some("The current password is not right.")));
    }
    if let Err(e) = security::check_new_password(&form.new, &member.email, &member.name) {
        return Ok(render(
            &state,
            &staff,
            None,
            Some(&format!("Choose another password: {e}.")),
        ));
    }
    let new = form.new.clone();
    let hash = web::block(move || security::hash_password(&new))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (id, now) = (member.id, state.now());
    let changed = state
        .db(move |conn| {
            crate::actions::staff::change_account(conn, Actor::Staff(id), id, &AccountChange::Password(hash), now)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(auth::new_session_cookie(&state, &changed, now))
        .insert_header((
            "Location",
            format!("{PATH}?done=Your+password+is+changed.+Other+sessions+have+ended."),
        ))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(password_page).service(change_password);
}
