//! Admin → Integrations: API keys (see `api_keys.rs`) and webhook
//! endpoints: add one (its signing secret is shown once), disable one, and
//! see recent deliveries (on their own page, apart from email).

use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::actions::{Actor, integrations};
use crate::context::Context;
use crate::store::webhooks::{self, Endpoint, EventType};
use crate::store::{StoreError, kv, outbox};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{form_error, notice, staff_page};
use crate::web::views::local_time;

const PATH: &str = "/admin/webhooks";
pub(super) const DELIVERIES_PATH: &str = "/admin/webhooks/deliveries";

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct NewEndpointForm {
    #[serde(default)]
    url: String,
    alert_opened: Option<String>,
    alert_changed: Option<String>,
    response_received: Option<String>,
}

impl NewEndpointForm {
    fn events(&self) -> Vec<EventType> {
        [
            (EventType::AlertOpened, &self.alert_opened),
            (EventType::AlertChanged, &self.alert_changed),
            (EventType::ResponseReceived, &self.response_received),
        ]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(e, _)| e)
        .collect()
    }

    fn checked(&self, event: EventType) -> bool {
        self.events().contains(&event) || (self.url.is_empty() && self.events().is_empty())
    }
}

fn field_name(event: EventType) -> &'static str {
    match event {
        EventType::AlertOpened => "alert_opened",
        EventType::AlertChanged => "alert_changed",
        EventType::ResponseReceived => "response_received",
    }
}

fn event_meaning(event: EventType) -> &'static str {
    match event {
        EventType::AlertOpened => "the engine opened an alert",
        EventType::AlertChanged => {
            "an alert's severity rose, or it was acknowledged, discussed or closed with an outcome"
        }
        EventType::ResponseReceived => "a client answered a questionnaire",
    }
}

fn add_form(csrf: &str, form: &NewEndpointForm, error: Option<&str>) -> Markup {
    html! {
        section {
            h2 #add { "Add an endpoint" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action=(PATH) {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="url" { "Address (https)" }
                    input #url type="url" name="url" value=(form.url) required autocomplete="off" aria-describedby="url-hint";
                    p.hint #url-hint { "Rapport POSTs signed JSON here. Bodies hold ids and figures only, never names, email addresses or free text." }
                }
                fieldset {
                    legend { "Events" }
                    @for event in EventType::ALL {
                        div.check {
                            input type="checkbox" id=(field_name(event)) name=(field_name(event)) checked[form.checked(event)];
                            label for=(field_name(event)) { code { (event.as_str()) } " — " (event_meaning(event)) }
                        }
                    }
                }
                button.primary type="submit" { "Add endpoint" }
            }
        }
    }
}

fn private_networks_form(csrf: &str, allowed: bool) -> Markup {
    html! {
        section {
            h2 #private-networks { "Receivers on the clinic's own network" }
            p { "Webhooks go to internet addresses only, so a mistyped or hostile address cannot make Rapport reach \
                 inside its own network. Link-local and cloud metadata addresses are always refused. "
                @if allowed { strong { "Private networks are allowed now." } } @else { "Private networks are not allowed now." } }
            form method="post" action={ (PATH) "/private-networks" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="allow" value=(if allowed { "off" } else { "on" });
                button type="submit" {
                    @if allowed { "Refuse private-network receivers" } @else { "Allow private-network receivers (on-premises)" }
                }
            }
        }
    }
}

fn endpoints_table(csrf: &str, endpoints: &[Endpoint], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Endpoints (" (endpoints.len()) ")" }
            @if endpoints.is_empty() {
                p.muted { "No endpoint yet: integrations are not told about anything." }
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Address" } th scope="col" { "Events" }
                        th scope="col" { "Added" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for e in endpoints {
                            tr {
                                td.num { (e.id) }
                                td.webhook-url { (e.url) }
                                td { @for ev in e.event_types() { code { (ev.as_str()) } " " } }
                                td { (local_time(e.created_at, tz)) }
                                td { @if e.active { "active" } @else { span.badge { "disabled" } } }
                                td {
                                    @if e.active {
                                        form method="post" action={ (PATH) "/" (e.id) "/disable" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Disable" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// Where the deliveries stand, in one line, with the way to the page.
fn deliveries_summary(rows: &[outbox::OutboxRow]) -> Markup {
    let count = |status: &str| rows.iter().filter(|r| r.status == status).count();
    let retrying = rows
        .iter()
        .filter(|r| r.status == "pending" && r.last_error.is_some())
        .count();
    html! {
        section aria-labelledby="h-deliveries" {
            h2 #h-deliveries { "Deliveries" }
            @if rows.is_empty() {
                p.muted { "No event has been sent yet." }
            } @else {
                p {
                    "Of the last " (rows.len()) " events sent: " (count("sent")) " delivered, " (retrying) " retrying, " (count("failed")) " failed. "
                    a href=(DELIVERIES_PATH) { "See the deliveries" }
                }
            }
        }
    }
}

fn deliveries_table(rows: &[outbox::OutboxRow], tz: chrono_tz::Tz, csrf: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "Nothing sent yet." }
        } @else {
            p.hint { "Failed deliveries are not retried by themselves: fix the endpoint, then retry. Email problems are on " a href="/admin/email" { "Email" } "." }
            div.table-wrap tabindex="0" role="region" aria-label="Webhook deliveries" { table.cards {
                thead { tr {
                    th scope="col" { "Queued" } th scope="col" { "To" } th scope="col" { "State" }
                    th scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { span.visually-hidden { "Action" } }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td data-label="Queued" { (local_time(r.created_at, tz)) }
                            td.webhook-url data-label="To" { (r.recipient) }
                            td data-label="State" {
                                @match r.status.as_str() {
                                    "failed" => span.badge.high { "failed" },
                                    "sent" => "delivered",
                                    "pending" if r.last_error.is_some() => span.badge.medium { "retrying " (local_time(r.next_attempt_at, tz)) },
                                    other => (other),
                                }
                            }
                            td.num data-label="Attempts" { (r.attempts) }
                            td data-label="Last answer" { (r.last_error.as_deref().unwrap_or("")) }
                            td {
                                @if r.status == "failed" {
                                    form method="post" action={ "/admin/email/" (r.id) "/retry" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { "Retry" span.visually-hidden { " the delivery to " (r.recipient) } }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The webhook deliveries: what went, what is retrying, what failed.
#[get("/admin/webhooks/deliveries")]
async fn deliveries_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    let rows = state.db(|conn| webhooks::recent_deliveries(conn, 200)).await?;
    let tz = state.settings.time_zone;
    let body = html! {
        @if let Some(done) = &flash.done { (notice(done)) }
        p { a href=(PATH) { "Back to Integrations" } }
        (deliveries_table(&rows, tz, &staff.csrf))
    };
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, PATH, "Webhook deliveries", body),
    ))
}

/// The page; `error` above the webhook form, `key_error` above the API key
/// form.
pub(super) async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    top: Option<Markup>,
    form: &NewEndpointForm,
    error: Option<&str>,
    key_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let (endpoints, deliveries, allow_private, keys) = state
        .db(|conn| {
            Ok((
                webhooks::list(conn)?,
                webhooks::recent_deliveries(conn, 50)?,
                kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS)?,
                crate::store::api_keys::list(conn)?,
            ))
        })
        .await?;
    let tz = state.settings.time_zone;
    let body = html! {
        @if let Some(t) = top { (t) }
        (super::api_keys::section(&staff.csrf, &keys, tz, key_error))
        h2 #webhooks { "Webhooks" }
        p { "Endpoints receive signed events as they happen, with retries. How to check the signature: "
            a href="/api/docs#webhooks" { "API reference" } "." }
        (endpoints_table(&staff.csrf, &endpoints, tz))
        (add_form(&staff.csrf, form, error))
        (private_networks_form(&staff.csrf, allow_private))
        (deliveries_summary(&deliveries))
    };
    let status = if error.is_some() || key_error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, PATH, "Integrations", body),
    ))
}

#[get("/admin/webhooks")]
async fn webhooks_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    let top = flash.into_inner().done.map(|d| notice(&d));
    render(&state, &staff, top, &NewEndpointForm::default(), None, None).await
}

#[post("/admin/webhooks")]
async fn add_endpoint(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, NewEndpointForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let events = form.events();
    let allow_private = state
        .db(|conn| kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS))
        .await?;
    let problem = match webhooks::check_url(&form.url) {
        Ok(url) if !events.is_empty() => crate::mail::webhook::resolve_target(&url, allow_private)
            .await
            .err()
            .map(|e| format!("Address: {e}.")),
        // add_webhook words the other problems itself.
        _ => None,
    };
    if let Some(problem) = problem {
        return render(&state, &staff, None, &form, Some(&problem), None).await;
    }
    let (now, by, sealer, url) = (
        state.now(),
        Actor::Staff(staff.id()),
        state.sealer.clone(),
        form.url.clone(),
    );
    let added = state
        .db(move |conn| integrations::add_webhook(conn, by, &url, &events, &sealer, now))
        .await;
    let (endpoint, secret) = match added {
        Ok(added) => added,
        Err(StoreError::Invalid(problem)) => return render(&state, &staff, None, &form, Some(&problem), None).await,
        Err(e) => return Err(e.into()),
    };
    // Shown on this response only: it is never displayed again.
    let top = html! {
        div.notice.webhook-secret role="status" {
            p { "Endpoint #" (endpoint.id) " added. Its signing secret, shown only now:" }
            p { code { (secret) } }
            p { "Store it in the receiving system; it checks each event's " code { "Rapport-Signature" } " with it." }
        }
    };
    render(&state, &staff, Some(top), &NewEndpointForm::default(), None, None).await
}

#[derive(Deserialize)]
struct NoFields {}

#[post("/admin/webhooks/{id}/disable")]
async fn disable_endpoint(
    state: web::Data<Context>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    let (id, now, by) = (path.into_inner(), state.now(), Actor::Staff(form.staff.id()));
    let disabled = state
        .db(move |conn| integrations::disable_webhook(conn, by, id, now))
        .await?;
    let message = if disabled {
        "Endpoint+disabled."
    } else {
        "That+endpoint+was+already+disabled."
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}?done={message}")))
        .finish())
}

#[derive(Deserialize)]
struct PrivateNetworksForm {
    allow: String,
}

#[post("/admin/webhooks/private-networks")]
async fn set_private_networks(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, PrivateNetworksForm>,
) -> Result<HttpResponse, AppError> {
    let allow = match form.form.allow.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(AppError::BadRequest(format!(
                "allow must be on or off, not \"{other}\""
            )));
        }
    };
    let (now, by) = (state.now(), Actor::Staff(form.staff.id()));
    state
        .db(move |conn| integrations::allow_private_networks(conn, by, allow, now))
        .await?;
    let message = if allow {
        "Receivers+on+private+networks+are+allowed."
    } else {
        "Receivers+on+private+networks+are+refused."
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}?done={message}")))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(set_private_networks)
        .service(deliveries_page)
        .service(webhooks_page)
        .service(add_endpoint)
        .service(disable_endpoint);
}
