//! API keys in the browser, on Admin → Integrations: create one with its
//! scopes (the key is shown once, on the page that created it, never in a
//! URL), see every key with when it was last used, revoke one. Audited, as
//! the `rapport apikey` commands are.

use actix_web::{HttpResponse, post, web};
use maud::html;
use serde::Deserialize;

use super::views::integrations::NewEndpointForm;
use super::webhooks::render;
use crate::actions::Actor;
use crate::actions::integrations;
use crate::context::Context;
use crate::store::StoreError;
use crate::store::api_keys::Scope;
use crate::web::auth::{AdminRole, StaffForm};
use crate::web::error::AppError;

#[derive(Deserialize)]
struct NewKeyForm {
    #[serde(default)]
    name: String,
    read: Option<String>,
    write: Option<String>,
}

#[post("/admin/api-keys")]
async fn create(state: web::Data<Context>, form: StaffForm<AdminRole, NewKeyForm>) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let mut scopes = vec![];
    if form.read.is_some() {
        scopes.push(Scope::Read);
    }
    if form.write.is_some() {
        scopes.push(Scope::Write);
    }
    let (now, by, name) = (state.now(), Actor::Staff(staff.id()), form.name.clone());
    let created = state
        .db(move |conn| integrations::create_api_key(conn, by, &name, &scopes, now))
        .await;
    let (key, secret) = match created {
        Ok(created) => created,
        Err(StoreError::Invalid(problem)) => {
            return render(&state, &staff, None, &NewEndpointForm::default(), None, Some(&problem)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let shown = html! {
        div.notice role="status" {
            p { "API key #" (key.id) " “" (key.name) "” is created. Copy it now into the practice system: it is shown only this once." }
            p { code.secret { (secret) } }
        }
    };
    render(&state, &staff, Some(shown), &NewEndpointForm::default(), None, None).await
}

#[derive(Deserialize)]
struct NoFields {}

#[post("/admin/api-keys/{id}/revoke")]
async fn revoke(
    state: web::Data<Context>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    let (id, now, by) = (path.into_inner(), state.now(), Actor::Staff(form.staff.id()));
    let revoked = state
        .db(move |conn| integrations::revoke_api_key(conn, by, id, now))
        .await?;
    if !revoked {
        return Err(AppError::Conflict(
            "That key is already revoked or does not exist.".into(),
        ));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!("/admin/webhooks?done=API+key+%23{id}+revoked%3A+requests+with+it+are+refused+from+now+on."),
        ))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create).service(revoke);
}
