//! The clinician's landing page: alerts, open first, by severity then age,
//! each with its client, when, and the first line of its reason.

use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::store::alerts::{self, AlertFilter, AlertStatus};
use crate::store::appointments;
use crate::web::auth::{ClinicianRole, Staff};
use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::views::layout::staff_page;
use crate::web::views::{local_date, local_time};

use super::{severity_badge, status_label};

#[derive(Deserialize, Default)]
struct InboxQuery {
    show: Option<String>,
}

const FILTERS: [(&str, &str); 4] = [
    ("active", "Needing attention"),
    ("open", "Not yet acknowledged"),
    ("closed", "Closed"),
    ("all", "All"),
];

/// The first sentence of an explanation, for the list.
pub fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// How far back the inbox lists clients who wrote a comment.
const COMMENT_DAYS: i64 = 14;

#[get("/clinician")]
async fn inbox(
    state: web::Data<AppState>,
    staff: Staff<ClinicianRole>,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let show = query.into_inner().show.unwrap_or_else(|| "active".into());
    let filter = match show.as_str() {
        "active" => AlertFilter::Active,
        "open" => AlertFilter::Status(AlertStatus::Open),
        "closed" => AlertFilter::Status(AlertStatus::Closed),
        "all" => AlertFilter::All,
        other => {
            return Err(AppError::BadRequest(format!(
                "unknown filter \"{other}\": use active, open, closed or all"
            )));
        }
    };
    let viewer = staff.viewer();
    let now = state.now();
    let me = staff.id();
    let since = now - chrono::Duration::days(COMMENT_DAYS);
    let (rows, reasons, upcoming, comments, risk_list, watched) = state
        .db(move |conn| {
            let rows = alerts::list_visible(conn, &viewer, filter)?;
            let ids: Vec<i64> = rows.iter().map(|(a, _)| a.id).collect();
            let reasons = alerts::headline_signals(conn, &ids)?;
            let upcoming = appointments::upcoming_for_clinician(conn, me, now, 8)?;
            let comments = crate::store::responses::recent_comments(conn, &viewer, since, 20)?;
            let risk_list = crate::store::risk_words::phrases(conn)?;
            let watched = alerts::under_watch(conn, &viewer)?;
            Ok((rows, reasons, upcoming, comments, risk_list, watched))
        })
        .await?;
    let tz = state.settings.time_zone;
    let body = html! {
        @if !comments.is_empty() {
            section.wrote {
                h2 { "Clients who wrote something (last " (COMMENT_DAYS) " days)" }
                p.hint { "Read their words on the client's page. Comments are shown here whether or not an alert opened." }
                ul {
                    @for (client, at, comment) in &comments {
                        li {
                            a href={ "/clinician/clients/" (client.id) } { (client.name) }
                            " — " (local_time(*at, tz))
                            @if crate::domain::signals::risk_words::matching_phrase(comment, &risk_list).is_some() {
                                " " span.badge.high { "words of risk" }
                            }
                        }
                    }
                }
            }
        }
        nav.filters aria-label="Which alerts" {
            ul {
                @for (key, label) in FILTERS {
                    li { @if key == show { a href={ "/clinician?show=" (key) } aria-current="page" { (label) } } @else { a href={ "/clinician?show=" (key) } { (label) } } }
                }
            }
        }
        @if rows.is_empty() {
            section { p { "No alerts here. " @if show == "active" { "Nothing needs your attention now." } } }
        } @else {
            section {
                h2.visually-hidden { "Alerts" }
                ol.alerts {
                    @for (alert, client) in &rows {
                        li.alert-row {
                            (severity_badge(alert.severity()))
                            " "
                            a.alert-link href={ "/clinician/alerts/" (alert.id) } { (client.name) }
                            span.muted { " · opened " (local_date(alert.opened_at, tz)) " (session " (alert.opened_at_session) ") · " (status_label(alert)) }
                            @if alert.recovered_at_session.is_some() { " " span.badge.ok { "back within usual range (measured)" } }
                            @if let Some(signal) = reasons.get(&alert.id) {
                                p.reason { (first_sentence(&signal.explanation)) }
                            }
                        }
                    }
                }
            }
        }
        @if !watched.is_empty() {
            section.watch {
                h2 { "Follow up at the next session" }
                p.hint { "Alerts you closed as not repaired. Each client stays here until they answer again." }
                ul {
                    @for (alert, client) in &watched {
                        li {
                            a href={ "/clinician/clients/" (client.id) } { (client.name) }
                            " — " a href={ "/clinician/alerts/" (alert.id) } { "not repaired " (local_date(alert.updated_at, tz)) }
                        }
                    }
                }
            }
        }
        (upcoming_section(&upcoming, tz))
        p { a href="/clinician/clients" { "All my clients" } " · " a href="/clinician/appointments/new" { "Record an appointment" } }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(staff_page(&staff, &state.settings.clinic_name, "/clinician", "Alerts", body).into_string()))
}

fn upcoming_section(upcoming: &[(appointments::Appointment, String)], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Upcoming appointments" }
            @if upcoming.is_empty() {
                p.muted { "No booked appointments." }
            } @else {
                ul {
                    @for (appointment, name) in upcoming {
                        li { (local_time(appointment.starts_at, tz)) " — " a href={ "/clinician/clients/" (appointment.client_id) } { (name) } }
                    }
                }
            }
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox);
}
