//! The clinician's landing page: clients who wrote something, the alerts as
//! a table to triage (open first, by severity then age, or sorted by any
//! column; how old, overdue past the clinic's limit, the latest total, the
//! next appointment, a comment marker), the clients to follow up after a
//! "not repaired", and the coming appointments.

use actix_web::{HttpResponse, get, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::context::Context;
use crate::store::alerts::{self, AlertFilter, AlertStatus};
use crate::store::appointments;
use crate::web::auth::{ClinicianRole, Staff};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;
use crate::web::views::{local_date, local_time};

use super::{severity_badge, status_label};

#[derive(Deserialize, Default)]
struct InboxQuery {
    show: Option<String>,
    sort: Option<String>,
}

const FILTERS: [(&str, &str); 4] = [
    ("active", "Needing attention"),
    ("open", "Not yet acknowledged"),
    ("closed", "Closed"),
    ("all", "All"),
];

/// Columns the alerts table sorts by: (key, heading). "priority" (the
/// default) is open first, then severity, then the oldest.
const SORTS: [(&str, &str); 5] = [
    ("priority", "Alert"),
    ("client", "Client"),
    ("opened", "Opened"),
    ("total", "Latest total"),
    ("next", "Next appointment"),
];

/// The first sentence of an explanation, for the list; a full stop inside
/// a quotation (“…”, the client's own words) does not end it.
pub fn first_sentence(text: &str) -> &str {
    let mut quoted = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '“' => quoted += 1,
            '”' => quoted = quoted.saturating_sub(1),
            '.' if quoted == 0 && chars.peek().is_some_and(|(_, next)| *next == ' ') => return &text[..=i],
            _ => {}
        }
    }
    text
}

/// How far back the inbox lists clients who wrote a comment.
const COMMENT_DAYS: i64 = 14;

/// "today", "1 day ago", "5 days ago".
fn age(days: i64) -> String {
    match days {
        i64::MIN..=0 => "today".into(),
        1 => "1 day ago".into(),
        n => format!("{n} days ago"),
    }
}

/// One row of the alerts table, with what a clinician triages by.
struct Row {
    alert: alerts::Alert,
    client: crate::store::clients::Client,
    age_days: i64,
    overdue: bool,
    latest_total: Option<f64>,
    next: Option<chrono::NaiveDateTime>,
    wrote: bool,
}

#[get("/clinician")]
async fn inbox(
    state: web::Data<Context>,
    staff: Staff<ClinicianRole>,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let show = query.show.unwrap_or_else(|| "active".into());
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
    let sort = query.sort.unwrap_or_else(|| "priority".into());
    if !SORTS.iter().any(|(key, _)| *key == sort) {
        return Err(AppError::BadRequest(format!(
            "unknown sort \"{sort}\": use priority, client, opened, total or next"
        )));
    }
    let viewer = staff.viewer();
    let now = state.now();
    let me = staff.id();
    let since = now - chrono::Duration::days(COMMENT_DAYS);
    let (rows, reasons, upcoming, comments, risk_list, watched, overdue_days) = state
        .db(move |conn| {
            // The viewer's clients, read once for the three lists below.
            let visible = crate::store::clients::list_visible(conn, &viewer, None)?;
            let listed = alerts::list_visible(conn, &visible, filter)?;
            let ids: Vec<i64> = listed.iter().map(|(a, _)| a.id).collect();
            let client_ids: Vec<i64> = listed.iter().map(|(_, c)| c.id).collect();
            let reasons = alerts::headline_signals(conn, &ids)?;
            let totals = crate::store::responses::latest_totals(conn, &client_ids)?;
            let next = appointments::next_for_clients(conn, &client_ids, now)?;
            let upcoming = appointments::upcoming_for_clinician(conn, me, now, 8)?;
            let comments = crate::store::responses::recent_comments(conn, &visible, since, 20)?;
            let risk_list = crate::store::risk_words::phrases(conn)?;
            let watched = alerts::under_watch(conn, &visible)?;
            let overdue_days = alerts::overdue_days(conn)?;
            let rows: Vec<Row> = listed
                .into_iter()
                .map(|(alert, client)| {
                    let age_days = (now - alert.opened_at).num_days();
                    Row {
                        overdue: alert.status == AlertStatus::Open && age_days >= overdue_days,
                        age_days,
                        latest_total: totals.get(&client.id).copied(),
                        next: next.get(&client.id).copied(),
                        wrote: comments.iter().any(|(c, _, _)| c.id == client.id),
                        alert,
                        client,
                    }
                })
                .collect();
            Ok((rows, reasons, upcoming, comments, risk_list, watched, overdue_days))
        })
        .await?;
    let mut rows = rows;
    match sort.as_str() {
        "client" => rows.sort_by_key(|r| r.client.name.to_lowercase()),
        "opened" => rows.sort_by_key(|r| (r.alert.opened_at, r.alert.id)),
        "total" => rows.sort_by(|a, b| {
            let key = |r: &Row| r.latest_total.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        "next" => rows.sort_by_key(|r| (r.next.is_none(), r.next)),
        _ => {} // list_visible's order: open first, severity, oldest
    }
    let tz = state.settings.time_zone;
    let overdue_count = rows.iter().filter(|r| r.overdue).count();
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
                @if overdue_count > 0 {
                    p.warning role="status" {
                        (overdue_count) " " (if overdue_count == 1 { "alert has" } else { "alerts have" })
                        " waited more than " (overdue_days) " " (if overdue_days == 1 { "day" } else { "days" }) " without being acknowledged."
                    }
                }
                div.table-wrap tabindex="0" role="region" aria-label="Alerts" { table.alerts {
                    caption.visually-hidden { "Alerts; choose a column heading to sort" }
                    thead { tr {
                        @for (key, label) in SORTS {
                            th scope="col" aria-sort=[(key == sort).then_some("ascending")] {
                                @if key == sort { (label) } @else { a href={ "/clinician?show=" (show) "&sort=" (key) } { (label) } }
                            }
                        }
                    } }
                    tbody {
                        @for r in &rows {
                            tr.alert-row {
                                td {
                                    (severity_badge(r.alert.severity))
                                    " " a.alert-link href={ "/clinician/alerts/" (r.alert.id) } { (status_label(&r.alert)) span.visually-hidden { " — alert for " (r.client.name) } }
                                    @if r.overdue { " " span.badge.high { "overdue" } }
                                    @if r.alert.recovered_at_session.is_some() { " " span.badge.ok { "back within usual range (measured)" } }
                                    @if let Some(signal) = reasons.get(&r.alert.id) {
                                        p.reason { (first_sentence(&signal.explanation)) }
                                    }
                                }
                                td {
                                    a href={ "/clinician/clients/" (r.client.id) } { (r.client.name) }
                                    @if r.wrote { " " span.badge { "wrote something" } }
                                }
                                td { (age(r.age_days)) span.muted { " (session " (r.alert.opened_at_session) ")" } }
                                td.num { @match r.latest_total { Some(t) => (crate::web::views::number(t)), None => span.muted { "—" } } }
                                td { @match r.next { Some(t) => (local_time(t, tz)), None => span.muted { "none booked" } } }
                            }
                        }
                    }
                } }
            }
        }
        @if !watched.is_empty() {
            section.watch {
                h2 { "Follow up at the next session" }
                p.hint { "Alerts you closed as not repaired. A client stays here until they answer again, and while their total is still worse than before." }
                ul {
                    @for (alert, client, watch) in &watched {
                        li {
                            a href={ "/clinician/clients/" (client.id) } { (client.name) }
                            " — " a href={ "/clinician/alerts/" (alert.id) } { "not repaired " (local_date(alert.updated_at, tz)) }
                            @if *watch == alerts::Watch::StillFalling { " " span.badge.high { "still falling" } }
                        }
                    }
                }
            }
        }
        (upcoming_section(&upcoming, tz))
        p { a href="/clinician/clients" { "All my clients" } " · " a href="/clinician/appointments/new" { "Record an appointment" } }
    };
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, "/clinician", "Alerts", body),
    ))
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

#[cfg(test)]
mod tests {
    use super::first_sentence;

    #[test]
    fn the_first_sentence_keeps_a_quotation_whole() {
        assert_eq!(
            first_sentence("Total fell from 38 to 30. A fall of 8."),
            "Total fell from 38 to 30."
        );
        assert_eq!(
            first_sentence("The client wrote: “Fine. But not safe.” These words match."),
            "The client wrote: “Fine. But not safe.” These words match."
        );
        assert_eq!(first_sentence("No full stop"), "No full stop");
    }
}
