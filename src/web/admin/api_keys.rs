//! API keys in the browser, on Admin → Integrations: create one with its
//! scopes (the key is shown once, on the page that created it, never in a
//! URL), see every key with when it was last used, revoke one. Audited, as
//! the `rapport apikey` commands are.

use actix_web::{HttpResponse, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::webhooks::{NewEndpointForm, render};
use crate::actions::Actor;
use crate::actions::integrations::{self, KEY_NAME_MAX};
use crate::context::Context;
use crate::store::StoreError;
use crate::store::api_keys::{ApiKey, Scope};
use crate::web::auth::{AdminRole, StaffForm};
use crate::web::error::AppError;
use crate::web::views::layout::form_error;
use crate::web::views::local_time;

/// The keys and the form to create one; `error` above the form.
pub(super) fn section(csrf: &str, keys: &[ApiKey], tz: chrono_tz::Tz, error: Option<&str>) -> Markup {
    html! {
        section #api-keys {
            h2 { "API keys" }
            p { "A practice system sends appointments with a key (" code { "Authorization: Bearer …" } "). See the " a href="/api/docs" { "API reference" } "." }
            @if keys.is_empty() {
                p.muted { "No keys yet." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="API keys" { table {
                    thead { tr {
                        th scope="col" { "Key" } th scope="col" { "May" } th scope="col" { "Created" }
                        th scope="col" { "Last used" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for k in keys {
                            tr {
                                td { "#" (k.id) " " (k.name) @if k.revoked_at.is_some() { " " span.badge { "revoked" } } }
                                td { (scopes_label(&k.scopes)) }
                                td { (local_time(k.created_at, tz)) }
                                td { (k.last_used_at.map(|t| local_time(t, tz)).unwrap_or_else(|| "never".into())) }
                                td {
                                    @if k.revoked_at.is_none() {
                                        form method="post" action={ "/admin/api-keys/" (k.id) "/revoke" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Revoke" span.visually-hidden { " key #" (k.id) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            h3 #new-key { "Create a key" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action="/admin/api-keys" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="key-name" { "Who uses it" }
                    input #key-name name="name" required maxlength=(KEY_NAME_MAX) autocomplete="off" aria-describedby="key-name-hint";
                    p.hint #key-name-hint { "For example the practice system's name." }
                }
                fieldset {
                    legend { "It may" }
                    ul.choices {
                        li { label { input type="checkbox" name="read" value="on" checked; " read (clients, alerts, answers)" } }
                        li { label { input type="checkbox" name="write" value="on" checked; " write (appointments, clients)" } }
                    }
                }
                button.primary type="submit" { "Create the key" }
            }
        }
    }
}

fn scopes_label(scopes: &str) -> &'static str {
    match (scopes.contains("read"), scopes.contains("write")) {
        (true, true) => "read and write",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "nothing",
    }
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn scopes_in_words() {
        assert_eq!(super::scopes_label("read,write"), "read and write");
        assert_eq!(super::scopes_label("read"), "read");
    }
}
