//! Admin → Privacy: looking up a client (their record, erasure), the
//! retention period and who may read free text, from what the handler read.

use maud::{Markup, html};

use crate::store::clients::Client;
use crate::store::erasure::RetentionDue;
use crate::web::views::layout::{form_error, notice};
use crate::web::views::{local_date, local_time};

pub const PATH: &str = "/admin/privacy";

/// What the retention form needs to say after a save was not done: an
/// error, or how many clients a new period would erase (to confirm).
pub enum RetentionAsk {
    Error(String),
    Confirm { days: i64, would_erase: usize },
}

/// What the Privacy page shows.
pub struct PrivacyPage<'a> {
    pub csrf: &'a str,
    pub done: Option<&'a str>,
    /// What the admin looked up, and whom it found (with their number of
    /// answers).
    pub term: &'a str,
    pub found: Option<&'a Client>,
    pub responses: usize,
    pub erase_error: Option<&'a str>,
    /// The retention period in days (none: kept until erased by hand), and
    /// the clients it would erase at the next run.
    pub days: Option<i64>,
    pub due: &'a [RetentionDue],
    pub retention: Option<&'a RetentionAsk>,
    /// Whether others than the clinician may read free-text answers.
    pub free_text: bool,
    pub tz: chrono_tz::Tz,
}

/// The page's content.
pub fn body(page: &PrivacyPage) -> Markup {
    let PrivacyPage {
        csrf,
        done,
        term,
        found,
        responses,
        erase_error,
        days,
        due,
        retention,
        free_text,
        tz,
    } = *page;
    html! {
        @if let Some(d) = done { (notice(d)) }
        (lookup_section(term, found, responses, tz, csrf, erase_error))
        (retention_section(days, due, tz, csrf, retention))
        (free_text_section(csrf, free_text))
    }
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
