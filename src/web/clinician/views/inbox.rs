//! The clinician's inbox, from what its handler read (no database here).

use crate::store::AlertId;
use std::collections::HashMap;

use maud::{Markup, html};

use super::{severity_badge, status_label};
use crate::store::alerts::{self, Alert, AlertSignal, Watch};
use crate::store::appointments;
use crate::store::clients::Client;
use crate::web::views::{local_date, local_time};

/// How far back the inbox lists clients who wrote a comment.
pub const COMMENT_DAYS: i64 = 14;

const FILTERS: [(&str, &str); 4] = [
    ("active", "Needing attention"),
    ("open", "Not yet acknowledged"),
    ("closed", "Closed"),
    ("all", "All"),
];

/// Columns the alerts table sorts by: (key, heading). "priority" (the
/// default) is open first, then severity, then the oldest.
pub const SORTS: [(&str, &str); 5] = [
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

/// "today", "1 day ago", "5 days ago".
fn age(days: i64) -> String {
    match days {
        i64::MIN..=0 => "today".into(),
        1 => "1 day ago".into(),
        n => format!("{n} days ago"),
    }
}

/// One row of the alerts table, with what a clinician triages by.
pub struct Row {
    pub alert: alerts::Alert,
    pub client: crate::store::clients::Client,
    pub age_days: i64,
    pub overdue: bool,
    pub latest_total: Option<f64>,
    pub next: Option<chrono::NaiveDateTime>,
    pub wrote: bool,
}

/// What the inbox shows.
pub struct InboxPage<'a> {
    pub rows: &'a [Row],
    /// Each listed alert's headline signal, by alert id.
    pub reasons: &'a HashMap<AlertId, AlertSignal>,
    /// The clinician's next appointments, with their clients' names.
    pub upcoming: &'a [(appointments::Appointment, String)],
    /// Clients who wrote a comment lately: client, when, what.
    pub comments: &'a [(Client, chrono::NaiveDateTime, String)],
    /// The clinic's words of risk, to flag a comment that holds one.
    pub risk_list: &'a [String],
    /// Closed "not repaired" alerts still under watch.
    pub watched: &'a [(Alert, Client, Watch)],
    pub overdue_days: i64,
    /// The filter and the sort chosen (already checked).
    pub show: &'a str,
    pub sort: &'a str,
    pub tz: chrono_tz::Tz,
}

/// The inbox's content: clients who wrote lately, the alerts table with
/// its filters and sorting, alerts under watch, and the next appointments.
pub fn body(page: &InboxPage) -> Markup {
    let InboxPage {
        rows,
        reasons,
        upcoming,
        comments,
        risk_list,
        watched,
        overdue_days,
        show,
        sort,
        tz,
    } = *page;
    let overdue_count = rows.iter().filter(|r| r.overdue).count();
    html! {
        @if !comments.is_empty() {
            section.wrote {
                h2 { "Clients who wrote something (last " (COMMENT_DAYS) " days)" }
                p.hint { "Read their words on the client's page. Comments are shown here whether or not an alert opened." }
                ul {
                    @for (client, at, comment) in comments {
                        li {
                            a href={ "/clinician/clients/" (client.id) } { (client.name) }
                            " — " (local_time(*at, tz))
                            @if crate::domain::signals::risk_words::matching_phrase(comment, risk_list).is_some() {
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
                        @for r in rows {
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
                    @for (alert, client, watch) in watched {
                        li {
                            a href={ "/clinician/clients/" (client.id) } { (client.name) }
                            " — " a href={ "/clinician/alerts/" (alert.id) } { "not repaired " (local_date(alert.updated_at, tz)) }
                            @if *watch == alerts::Watch::StillFalling { " " span.badge.high { "still falling" } }
                        }
                    }
                }
            }
        }
        (upcoming_section(upcoming, tz))
        p { a href="/clinician/clients" { "All my clients" } " · " a href="/clinician/appointments/new" { "Record an appointment" } }
    }
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
