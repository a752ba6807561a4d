//! Admin → Email delivery: what is waiting and why, what failed, the test
//! email and the delivery rules, from what the handler read.

use crate::store::ClientId;
use crate::store::InvitationId;
use std::collections::HashMap;

use maud::{Markup, html};

use crate::config::quiet_hours_setting;
use crate::domain::schedule::{DeliveryRules, Waiting, why_waiting};
use crate::store::outbox::OutboxRow;
use crate::web::views::layout::{form_error, notice};
use crate::web::views::local_time;

/// Emails listed as waiting, soonest first.
pub const WAITING_SHOWN: i64 = 25;

/// A kind of message in the clinic's words.
fn kind_label(kind: &str) -> &str {
    match kind {
        "invitation" => "questionnaire",
        "reminder" => "reminder",
        "alert_notice" => "alert email (staff)",
        "alert_digest" => "daily summary (staff)",
        other => other,
    }
}

/// What the Email delivery page shows.
pub struct EmailPage<'a> {
    pub csrf: &'a str,
    /// The admin's own address, where the test email goes.
    pub admin_email: &'a str,
    pub done: Option<&'a str>,
    /// Why the test email was not sent.
    pub failed: Option<&'a str>,
    /// Messages per state (pending, sent, failed, cancelled).
    pub counts: &'a [(String, i64)],
    /// The first messages waiting, each with its client's time zone.
    pub waiting: &'a [(OutboxRow, Option<chrono_tz::Tz>)],
    pub problems: &'a [OutboxRow],
    /// The client of each invitation listed, by invitation id.
    pub client_of: &'a HashMap<InvitationId, ClientId>,
    pub rules: &'a DeliveryRules,
    pub now: chrono::NaiveDateTime,
    pub tz: chrono_tz::Tz,
}

/// The page's content.
pub fn body(page: &EmailPage) -> Markup {
    let EmailPage {
        csrf,
        admin_email,
        done,
        failed,
        counts,
        waiting,
        problems,
        client_of,
        rules,
        now,
        tz,
    } = *page;
    let count = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    html! {
        @if let Some(done) = done { (notice(done)) }
        @if let Some(failed) = failed { (form_error(failed)) }
        dl.stats {
            div { dt { "Waiting to send" } dd { (count("pending")) } }
            div { dt { "Sent" } dd { (count("sent")) } }
            div { dt { "Failed" } dd { (count("failed")) } }
            div { dt { "Not needed" } dd { (count("cancelled")) } }
        }
        section #waiting {
            h2 { "Waiting to send" }
            @if waiting.is_empty() {
                p.muted { "Nothing is waiting." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Emails waiting to send" { table {
                    thead { tr { th scope="col" { "Goes at" } th scope="col" { "Email" } th scope="col" { "To" } th scope="col" { "Why it is waiting" } } }
                    tbody {
                        @for (row, zone) in waiting {
                            @let why = why_waiting(&row.kind, row.next_attempt_at, row.attempts, now, rules, zone.unwrap_or(tz));
                            tr {
                                td { (local_time(row.next_attempt_at, tz)) }
                                td { (kind_label(&row.kind)) }
                                td { (row.recipient) }
                                td {
                                    (why.describe())
                                    @if why == Waiting::Retrying { @if let Some(e) = &row.last_error { ": " (e) } }
                                }
                            }
                        }
                    }
                } }
                @if count("pending") > WAITING_SHOWN {
                    p.hint { "The first " (WAITING_SHOWN) " of " (count("pending")) " are listed." }
                }
            }
        }
        section {
            h2 { "Problems" }
            @if problems.is_empty() {
                p.muted { "No failed or retrying messages." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Problem messages" { table {
                    thead { tr {
                        th scope="col" { "Queued" } th scope="col" { "Kind" } th scope="col" { "To" }
                        th scope="col" { "State" } th scope="col" { "Attempts" } th scope="col" { "Reason given" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for row in problems {
                            tr {
                                td { (local_time(row.created_at, tz)) }
                                td { (row.kind) }
                                td {
                                    (row.recipient)
                                    @if let Some(client) = row.invitation_id.and_then(|i| client_of.get(&i)) {
                                        br; a href={ "/clients/" (client) "/details" } { "Correct the address" }
                                    }
                                }
                                td { @if row.status == "failed" { span.badge.high { "failed" } } @else { span.badge.medium { "retrying " (local_time(row.next_attempt_at, tz)) } } }
                                td.num { (row.attempts) }
                                td { (row.last_error.as_deref().unwrap_or("")) }
                                td {
                                    @if row.status == "failed" {
                                        form method="post" action={ "/admin/email/" (row.id) "/retry" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Retry" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
                p.hint { "Failed messages are not retried by themselves: a server refusal (5xx) usually means a wrong address. Correct the client's email address, then retry." }
            }
        }
        section #test-email {
            h2 { "Send a test email" }
            p { "Sends a short test email to you (" (admin_email) ") now, through the clinic's mail settings, and says here whether the mail server accepted it." }
            form method="post" action="/admin/email/test" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Send me a test email" }
            }
        }
        (delivery_form(csrf, rules, None))
    }
}

/// The delivery rules form; `error` above it.
pub fn delivery_form(csrf: &str, rules: &DeliveryRules, error: Option<&str>) -> Markup {
    html! {
        section {
            h2 #delivery { "When questionnaires are sent" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action="/admin/email/delivery" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="delay" { "Minutes after the session ends" }
                    input #delay type="number" name="invite_delay_minutes" min="0" max="10080" value=(rules.delay.num_minutes()) required;
                }
                div.field {
                    label for="quiet" { "Quiet hours (no client email), in the client's time zone" }
                    input #quiet name="quiet_hours" value=(quiet_hours_setting(rules.quiet_hours)) aria-describedby="quiet-hint" required;
                    p.hint #quiet-hint { "For example 21:00-08:00, or off." }
                }
                div.field {
                    label for="reminder" { "Send one reminder after (hours)" }
                    input #reminder type="number" name="reminder_after_hours" min="1" max="720" value=(rules.reminder_after.num_hours()) required;
                }
                div.field {
                    label for="expiry" { "Links close after (days)" }
                    input #expiry type="number" name="expiry_days" min="1" max="60" value=(rules.expires_after.num_days()) required;
                }
                button.primary type="submit" { "Save" }
                p.hint { "Changes apply to invitations created from now on." }
            }
        }
    }
}
