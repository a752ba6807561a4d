//! Privacy for admins: a client's full record as JSON (subject access
//! request), erasing a client (the admin types the client's number to
//! confirm), and what the retention period would erase now (a dry run).

use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;
use maud::{Markup, html};
use serde::Deserialize;

use crate::actions::{self, Actor, settings};
use crate::context::Context;
use crate::json::ClientRecordView;
use crate::store::audit::{self, AuditEntry};
use crate::store::clients::{self, Client};
use crate::store::erasure::{self, RetentionDue};
use crate::store::schema::clients as clients_table;
use crate::store::{DbConnection, StoreError, kv};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{form_error, staff_page};
use crate::web::views::{local_date, local_time};

const PATH: &str = "/admin/privacy";

#[derive(Deserialize, Default)]
struct Lookup {
    client: Option<String>,
    erased: Option<String>,
}

/// A client by number, or by exact email address.
fn find_client(conn: &mut DbConnection, term: &str) -> Result<Option<Client>, StoreError> {
    let term = term.trim().trim_start_matches('#');
    if let Ok(id) = term.parse::<i64>() {
        return match clients::find(conn, id) {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    Ok(clients_table::table
        .filter(clients_table::email.eq(term))
        .order(clients_table::id)
        .select(Client::as_select())
        .first(conn)
        .optional()?)
}

fn lookup_section(
    term: &str,
    found: Option<&Client>,
    responses: usize,
    tz: chrono_tz::Tz,
    csrf: &str,
    erase_error: Option<&str>,
) -> Markup {
    html! {
        section {
            h2 { "A client's record (subject access request)" }
            form.stack method="get" action=(PATH) {
                div.field {
                    label for="client" { "Client number or email address" }
                    input #client name="client" value=(term) required autocomplete="off";
                }
                button.primary type="submit" { "Find" }
            }
            @if !term.is_empty() {
                @match found {
                    None => { (form_error(&format!("No client has the number or email address \"{}\".", term.trim()))) }
                    Some(c) => {
                        dl.record-summary {
                            div { dt { "Client" } dd { "#" (c.id) " " (c.name) } }
                            div { dt { "Added" } dd { (local_date(c.created_at, tz)) } }
                            div { dt { "Responses" } dd { (responses) } }
                            @if let Some(at) = c.erased_at { div { dt { "Erased" } dd { (local_time(at, tz)) } } }
                        }
                        p {
                            a.button href={ "/admin/clients/" (c.id) "/record.json" } download { "Download the full record (JSON)" }
                        }
                        p.hint {
                            "The file holds the client's details, appointments, questionnaires, answers (with their "
                            "free text if the clinic allows, below), alerts with their reasons and repair log, and the audit entries about them. "
                            "Each download is written to the audit log."
                        }
                        h3 #erase { "Erasure" }
                        @if c.erased_at.is_some() {
                            p { "This client's identifying data is erased; anonymous scores are kept." }
                        } @else {
                            p {
                                "Erasing removes the client's name, email, time zone, external ids, free-text answers and notes, "
                                "cancels their queued emails and links, and keeps their scores without identity. It cannot be undone. "
                                "(The same as " code { "rapport client erase " (c.id) } ".)"
                            }
                            @if let Some(e) = erase_error { (form_error(e)) }
                            form.stack method="post" action={ "/admin/clients/" (c.id) "/erase" } {
                                input type="hidden" name="csrf" value=(csrf);
                                div.field {
                                    label for="confirm-erase" { "To confirm, type the client's number, " (c.id) }
                                    input #confirm-erase name="confirm" inputmode="numeric" autocomplete="off" required;
                                }
                                button.danger type="submit" { "Erase client #" (c.id) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn retention_section(
    days: Option<i64>,
    due: &[RetentionDue],
    tz: chrono_tz::Tz,
    csrf: &str,
    ask: Option<&RetentionAsk>,
) -> Markup {
    html! {
        section #retention {
            h2 { "Retention" }
            @match days {
                None => {
                    p { "Retention is off: identifying data is kept until a client is erased by hand." }
                    p.hint { "Set a period below (30 days or more) to erase it that many days after a client's last appointment." }
                }
                Some(d) => {
                    p { "Identifying data is erased " (d) " days after a client's last appointment, once a day by the job loop. Anonymous scores are kept." }
                    h3 { "Dry run: what would be erased now" }
                    @if due.is_empty() {
                        p.muted { "No client is due." }
                    } @else {
                        p { (due.len()) " client(s) would be erased at the next daily run:" }
                        div.table-wrap { table {
                            thead { tr { th scope="col" { "Client" } th scope="col" { "Last appointment" } th scope="col" { "Responses (scores kept)" } } }
                            tbody {
                                @for c in due.iter().take(500) {
                                    tr {
                                        td { "#" (c.client_id) }
                                        td { (c.last_appointment.map(|t| local_date(t, tz)).unwrap_or_else(|| "none".into())) }
                                        td.num { (c.responses) }
                                    }
                                }
                            }
                        } }
                    }
                }
            }
            @match ask {
                Some(RetentionAsk::Error(e)) => { (form_error(e)) }
                Some(RetentionAsk::Confirm { days, would_erase }) => {
                    div.warning role="alert" {
                        p { "With " (days) " days, " strong { (would_erase) " client(s)" } " would have their identifying data erased at the next daily run. This cannot be undone." }
                        form method="post" action="/admin/privacy/retention" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="days" value=(days);
                            input type="hidden" name="confirmed" value="yes";
                            button.danger type="submit" { "Set " (days) " days and erase them" }
                        }
                    }
                }
                None => {}
            }
            form.row method="post" action="/admin/privacy/retention" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="retention-days" { "Keep identifying data for (days after the last appointment)" }
                    input #retention-days name="days" value=(days.map(|d| d.to_string()).unwrap_or_else(|| "off".into())) required aria-describedby="retention-hint";
                    p.hint #retention-hint { "30 to 36500, or off. Audited." }
                }
                button type="submit" { "Save" }
            }
        }
    }
}

#[get("/admin/privacy")]
async fn privacy_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let notice_text = query
        .erased
        .as_ref()
        .map(|_| "Erased. The client's identifying data is gone; anonymous scores are kept.");
    render(&state, &staff, query.client.unwrap_or_default(), notice_text, None).await
}

/// What the retention form needs to say after a save was not done: an
/// error, or how many clients a new period would erase (to confirm).
enum RetentionAsk {
    Error(String),
    Confirm { days: i64, would_erase: usize },
}

async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    term: String,
    done: Option<&str>,
    erase_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    render_with(state, staff, term, done, erase_error, None).await
}

async fn render_with(
    state: &Context,
    staff: &Staff<AdminRole>,
    term: String,
    done: Option<&str>,
    erase_error: Option<&str>,
    retention: Option<RetentionAsk>,
) -> Result<HttpResponse, AppError> {
    let retention = retention.as_ref();
    let (now, admin, server_days) = (state.now(), staff.id(), state.settings.retention_days);
    let lookup = term.clone();
    let (found, responses, due, free_text, days) = state
        .db(move |conn| {
            let found = if lookup.trim().is_empty() {
                None
            } else {
                find_client(conn, &lookup)?
            };
            let mut responses = 0;
            if let Some(c) = &found {
                responses = crate::store::responses::for_client(conn, c.id)?.len();
                audit::record(
                    conn,
                    &AuditEntry {
                        staff_id: Some(admin),
                        client_id: Some(c.id),
                        ..AuditEntry::new(AuditAction::ClientLookup)
                    },
                    now,
                )?;
            }
            let days = erasure::retention_days(conn, server_days)?;
            let due = match days {
                Some(d) => erasure::retention_due(conn, d, now)?,
                None => vec![],
            };
            Ok((found, responses, due, kv::flag(conn, kv::STAFF_READ_FREE_TEXT)?, days))
        })
        .await?;
    let tz = state.settings.time_zone;
    let body = html! {
        @if let Some(d) = done { (crate::web::views::layout::notice(d)) }
        (lookup_section(&term, found.as_ref(), responses, tz, &staff.csrf, erase_error))
        (retention_section(days, &due, tz, &staff.csrf, retention))
        (free_text_section(&staff.csrf, free_text))
    };
    let status = if !term.trim().is_empty() && found.is_none() {
        actix_web::http::StatusCode::NOT_FOUND
    } else if erase_error.is_some() || matches!(retention, Some(RetentionAsk::Error(_))) {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, PATH, "Privacy", body),
    ))
}

#[derive(Deserialize)]
struct RetentionForm {
    #[serde(default)]
    days: String,
    confirmed: Option<String>,
}

/// Sets the retention period. A period that would erase clients at the
/// next daily run is only saved once the admin confirms that number.
#[post("/admin/privacy/retention")]
async fn save_retention(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, RetentionForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let days = match crate::config::parse_retention_days(&form.days) {
        Ok(d) => d,
        Err(e) => {
            let ask = RetentionAsk::Error(format!("Retention {e}."));
            return render_with(&state, &staff, String::new(), None, None, Some(ask)).await;
        }
    };
    let now = state.now();
    if let Some(d) = days
        && form.confirmed.as_deref() != Some("yes")
    {
        let would_erase = state
            .db(move |conn| Ok(erasure::retention_due(conn, d, now)?.len()))
            .await?;
        if would_erase > 0 {
            let ask = RetentionAsk::Confirm { days: d, would_erase };
            return render_with(&state, &staff, String::new(), None, None, Some(ask)).await;
        }
    }
    let by = Actor::Staff(staff.id());
    state
        .db(move |conn| settings::set_retention(conn, by, days, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/privacy#retention"))
        .finish())
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// Erases a client once the admin has typed their number.
#[post("/admin/clients/{id}/erase")]
async fn erase(
    state: web::Data<Context>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, EraseForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let id = path.into_inner();
    if form.confirm.trim().trim_start_matches('#') != id.to_string() {
        let message = format!("Nothing was erased: type the client's number, {id}, to confirm.");
        return render(&state, &staff, id.to_string(), None, Some(&message)).await;
    }
    let (now, admin) = (state.now(), staff.id());
    let erased = state
        .db(
            move |conn| match actions::clients::erase(conn, Actor::Staff(admin), id, "Admin → Privacy", now) {
                Ok(_) => Ok(true),
                Err(StoreError::NotFound) => Ok(false),
                Err(e) => Err(e),
            },
        )
        .await?;
    if !erased {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/admin/privacy?client={id}&erased=1#erase")))
        .finish())
}

fn free_text_section(csrf: &str, allowed: bool) -> Markup {
    html! {
        section #free-text {
            h2 { "Clients' free-text answers" }
            p {
                "What clients write for their clinician is read by that clinician. "
                @if allowed { "Managers, administrators and the practice system may also read it (in a client's record, downloaded here, from the API or by the rapport command)." }
                @else { "No one else may: it is left out of a client's record wherever it is taken (downloaded here, from the API or by the rapport command) and of the answers the API gives." }
            }
            form method="post" action="/admin/privacy/free-text" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="allow" value=(if allowed { "off" } else { "on" });
                button type="submit" {
                    @if allowed { "Stop managers and administrators reading free text" } @else { "Let managers and administrators read free text" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct FreeTextForm {
    allow: String,
}

#[post("/admin/privacy/free-text")]
async fn set_free_text(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, FreeTextForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let allow = match form.allow.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("choose on or off".into())),
    };
    let (now, by) = (state.now(), Actor::Staff(staff.id()));
    state
        .db(move |conn| settings::let_staff_read_free_text(conn, by, allow, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}#free-text")))
        .finish())
}

#[get("/admin/clients/{id}/record.json")]
async fn record_download(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, now, admin) = (id.into_inner(), state.now(), staff.id());
    let view = state
        .db(move |conn| {
            let record = actions::clients::read_record(conn, Actor::Staff(admin), id, now)?;
            Ok(ClientRecordView::new(&record, now))
        })
        .await?;
    let body = serde_json::to_string_pretty(&view).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"client-{id}-record.json\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(privacy_page)
        .service(erase)
        .service(save_retention)
        .service(record_download)
        .service(set_free_text);
}
