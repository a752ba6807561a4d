//! The clinician's clients: the list with each client's figures, and one
//! client's page, from what the handlers read (no database here).

use maud::{Markup, html};

use super::{severity_badge, status_label, trajectory_points};
use crate::domain::engine::{self, Trend};
use crate::domain::history::SessionOutcome;
use crate::domain::instrument::ItemKind;
use crate::store::alerts::{self, Alert};
use crate::store::appointments::{self, Appointment};
use crate::store::clients::{Client, InvitationChoice};
use crate::store::history::LoadedHistory;
use crate::store::invitations::{self, Invitation, InvitationStatus};
use crate::web::views::chart::{self, Marker, MarkerKind, Trajectory};
use crate::web::views::layout::{form_error, notice};
use crate::web::views::number;
use crate::web::views::{local_date, local_time};

/// The figures of one row of the clients list.
pub struct Summary {
    pub last_total: Option<(f64, chrono::NaiveDateTime)>,
    /// None with fewer than 3 answers.
    pub trend: Option<Trend>,
    /// Answered among sessions whose invitation has closed (answered or expired).
    pub response_rate: Option<f64>,
}

pub fn summarise(loaded: &LoadedHistory) -> Summary {
    let last_total = loaded.sessions.iter().rev().find_map(|s| {
        let total = s.response.as_ref()?.total?;
        Some((total, s.appointment.starts_at))
    });
    let answered = loaded
        .history
        .sessions
        .iter()
        .filter(|s| matches!(s.outcome, SessionOutcome::Answered { .. }))
        .count();
    let unanswered = loaded
        .history
        .sessions
        .iter()
        .filter(|s| matches!(s.outcome, SessionOutcome::Unanswered))
        .count();
    let closed = answered + unanswered;
    Summary {
        last_total,
        trend: engine::trend(&loaded.history, &loaded.settings),
        response_rate: (closed > 0).then(|| answered as f64 / closed as f64),
    }
}

/// The trend in words; "—" with too few answers to tell.
pub fn trend_text(trend: Option<Trend>) -> &'static str {
    match trend {
        Some(Trend::Up) => "↑ improving",
        Some(Trend::Flat) => "→ steady",
        Some(Trend::Down) => "↓ falling",
        None => "—",
    }
}

/// One row of the clients list: the client, their figures (none before
/// their first questionnaire) and how many of their alerts are open.
pub type ClientRow = (Client, Option<Summary>, i64);

/// The clients list with its search box: each client with their figures
/// and open alerts.
pub fn list_body(search: &str, rows: &[ClientRow], tz: chrono_tz::Tz) -> Markup {
    html! {
        form.row role="search" method="get" action="/clinician/clients" {
            div.field {
                label for="q" { "Search by name" }
                input #q type="search" name="q" value=(search);
            }
            button type="submit" { "Search" }
        }
        section {
            @if rows.is_empty() {
                p { "No clients found." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="My clients" { table {
                    caption.visually-hidden { "My clients" }
                    thead { tr {
                        th scope="col" { "Client" } th scope="col" { "Last total" } th scope="col" { "Trend" }
                        th scope="col" { "Response rate" } th scope="col" { "Alerts" }
                    } }
                    tbody {
                        @for (client, summary, open) in rows {
                            tr {
                                td { a href={ "/clinician/clients/" (client.id) } { (client.name) }
                                    @match client.invitation_choice() {
                                        InvitationChoice::Paused => { " " span.badge { "paused" } }
                                        InvitationChoice::Stopped => { " " span.badge { "no emails" } }
                                        InvitationChoice::Active => {}
                                    }
                                }
                                td { @match summary.as_ref().and_then(|s| s.last_total) {
                                    Some((t, at)) => { (number(t)) span.muted { " (" (local_date(at, tz)) ")" } }
                                    None => span.muted { "—" },
                                } }
                                td { @match summary { Some(s) => (trend_text(s.trend)), None => span.muted { "—" } } }
                                td.num { @match summary.as_ref().and_then(|s| s.response_rate) { Some(r) => { (format!("{:.0}%", r * 100.0)) }, None => span.muted { "—" } } }
                                td { @if *open > 0 { span.badge.high { (open) " open" } } }
                            }
                        }
                    }
                } }
            }
        }
        p { a href="/clinician/appointments/new" { "Record an appointment" } }
    }
}

/// What a client's page shows.
pub struct ClientPage<'a> {
    pub csrf: &'a str,
    pub client: &'a Client,
    pub loaded: Option<&'a LoadedHistory>,
    pub invites: &'a [Invitation],
    pub appts: &'a [Appointment],
    pub client_alerts: &'a [Alert],
    pub tz: chrono_tz::Tz,
    /// What was just saved, shown at the top.
    pub done: Option<&'a str>,
    /// A form's problem, shown at the top.
    pub error: Option<&'a str>,
}

/// The client's page: figures, answers, chart, alerts, questionnaires,
/// appointments and the choice of questionnaire emails.
pub fn body(page: &ClientPage) -> Markup {
    let ClientPage {
        csrf,
        client,
        loaded,
        invites,
        appts,
        client_alerts,
        tz,
        done,
        error,
    } = *page;
    let summary = loaded.map(summarise);
    html! {
        @if let Some(d) = done { (notice(d)) }
        @if let Some(e) = error { (form_error(e)) }
        dl.stats {
            div { dt { "Last total" } dd { @match summary.as_ref().and_then(|s| s.last_total) { Some((t, _)) => (number(t)), None => "—" } } }
            div { dt { "Trend" } dd { @match &summary { Some(s) => (trend_text(s.trend)), None => "—" } } }
            div { dt { "Response rate" } dd { @match summary.as_ref().and_then(|s| s.response_rate) { Some(r) => (format!("{:.0}%", r * 100.0)), None => "—" } } }
            div { dt { "Open alerts" } dd { (client_alerts.iter().filter(|a| a.status != alerts::AlertStatus::Closed).count()) } }
        }
        p { a href={ "/clients/" (client.id) "/details" } { "Contact details (email, time zone, language)" } }
        @if let Some(loaded) = loaded {
            (answered_in(loaded, 1))
            (comments_section(loaded, tz))
            (trajectory_section(loaded, client_alerts, tz))
            (items_section(loaded))
        } @else {
            section { p.muted { "No questionnaires yet." } }
        }
        (alerts_section(client_alerts, tz))
        (invitations_section(invites, tz))
        (appointments_section(appts, tz))
        (choice_section(csrf, client))
    }
}

fn trajectory_section(loaded: &LoadedHistory, client_alerts: &[alerts::Alert], tz: chrono_tz::Tz) -> Markup {
    let points = trajectory_points(loaded, tz);
    let (min, max) = loaded.instrument.total_range();
    let mut markers: Vec<Marker> = client_alerts
        .iter()
        .map(|a| Marker {
            session: a.opened_at_session as u32,
            kind: MarkerKind::Alert,
            label: format!("Alert opened ({})", a.severity),
        })
        .collect();
    markers.extend(client_alerts.iter().filter_map(|a| {
        let outcome = a.outcome?;
        Some(Marker {
            session: a.closed_after_session? as u32,
            kind: MarkerKind::Repair,
            label: format!("Outcome recorded: {}", outcome.label()),
        })
    }));
    let baseline = engine::baseline(&loaded.history, &loaded.settings);
    let band = engine::reliable_change_band(&loaded.history, &loaded.settings);
    html! {
        section {
            h2 { "Trajectory" }
            @if points.is_empty() {
                p.muted { "No sessions yet." }
            } @else {
                figure.chart {
                    (chart::trajectory(&Trajectory {
                        points: &points, min, max, cutoff: loaded.instrument.cutoff(), band, baseline,
                        markers: &markers, id: "trajectory", title: "Totals over sessions",
                    }))
                    figcaption {
                        "Totals over sessions. Dashed red line: cutoff"
                        @if let Some(c) = loaded.instrument.cutoff() { " (" (number(c)) ")" }
                        ". Shaded band: reliable change around the client's baseline"
                        @if let Some(b) = baseline { " (" (number(b)) ")" }
                        ". Red triangles: alerts. Green dots: outcomes recorded. Hollow circles: no answer. "
                        (chart::axis_note(&Trajectory {
                            points: &points, min, max, cutoff: loaded.instrument.cutoff(), band, baseline,
                            markers: &markers, id: "trajectory", title: "Totals over sessions",
                        }))
                    }
                }
                details {
                    summary { "The figures as a table" }
                    table {
                        caption.visually-hidden { "Totals over sessions" }
                        thead { tr { th scope="col" { "Session" } th scope="col" { "Total" } } }
                        tbody { @for p in &points { tr { td { (p.session) } td { @match p.total { Some(t) => (number(t)), None => (p.gap.unwrap_or("no answer")) } } } } }
                    }
                }
            }
        }
    }
}

/// In which languages the client answered from session `from` on, and
/// which of those wordings are translations not yet validated (whose
/// answers may not score like the original's).
pub fn answered_in(loaded: &LoadedHistory, from: u32) -> Markup {
    let mut languages: Vec<(String, usize)> = vec![];
    for s in loaded.sessions.iter().filter(|s| s.session >= from) {
        let Some(response) = &s.response else { continue };
        // Answers stored before languages were recorded were English.
        let tag = response.language.clone().unwrap_or_else(|| "en".into());
        match languages.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, n)) => *n += 1,
            None => languages.push((tag, 1)),
        }
    }
    let unvalidated: Vec<&(String, usize)> = languages
        .iter()
        .filter(|(t, _)| !loaded.instrument.is_validated(t))
        .collect();
    html! {
        @if !languages.is_empty() {
            p.answered-in {
                strong { "Answered in: " }
                @for (i, (tag, n)) in languages.iter().enumerate() {
                    @if i > 0 { ", " }
                    (crate::i18n::english_name(tag)) " (" (n) ")"
                }
                "."
                @for (tag, _) in &unvalidated {
                    " " span.badge.medium { "unvalidated translation" }
                    " The " (crate::i18n::english_name(tag)) " wording has not been validated against the original: its answers may not score like the original's, so read the cutoff and changes with care."
                }
            }
        }
    }
}

/// Item answers of the most recent sessions.
/// Everything the client wrote, newest first, alert or not (CLINICAL.md §3:
/// any comment is shown to the client's clinician). Words of risk are marked.
fn comments_section(loaded: &LoadedHistory, tz: chrono_tz::Tz) -> Markup {
    let phrases = &loaded.settings.risk_words.phrases;
    let comments: Vec<(u32, chrono::NaiveDateTime, &str, Option<&str>)> = loaded
        .sessions
        .iter()
        .rev()
        .filter_map(|s| {
            let response = s.response.as_ref()?;
            let comment = response.comment.as_deref().filter(|c| !c.trim().is_empty())?;
            Some((s.session, response.submitted_at, comment, response.language.as_deref()))
        })
        .collect();
    html! {
        section.comments {
            h2 { "What the client wrote" }
            @if comments.is_empty() {
                p.muted { "No comments yet." }
            } @else {
                ul.comments {
                    @for (session, at, comment, language) in &comments {
                        @let risk = crate::domain::signals::risk_words::matching_phrase(comment, phrases);
                        li {
                            p.meta {
                                "Session " (session) ", " (local_time(*at, tz))
                                @if let Some(tag) = language.filter(|t| *t != "en") { ", in " (crate::i18n::english_name(tag)) }
                                @if risk.is_some() { " " span.badge.high { "words of risk" } }
                            }
                            blockquote { (comment) }
                        }
                    }
                }
            }
        }
    }
}

fn items_section(loaded: &LoadedHistory) -> Markup {
    const COLUMNS: usize = 8;
    let answered: Vec<_> = loaded.sessions.iter().filter(|s| s.response.is_some()).collect();
    let recent = &answered[answered.len().saturating_sub(COLUMNS)..];
    let items: Vec<_> = loaded
        .instrument
        .items()
        .iter()
        .filter(|i| !matches!(i.kind, ItemKind::Text { .. }))
        .collect();
    html! {
        section {
            h2 { "Answers by question" }
            @if recent.is_empty() {
                p.muted { "No answers yet." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Answers by question" { table {
                    caption { "The last " (recent.len()) " answered sessions" }
                    thead { tr { th scope="col" { "Question" } @for s in recent { th scope="col" { "S" (s.session) } } } }
                    tbody {
                        @for item in &items {
                            tr {
                                th scope="row" { (item.text_in("en", true).unwrap_or(&item.id)) }
                                @for s in recent {
                                    @let answers = s.response.as_ref().map(|r| r.answers()).unwrap_or_default();
                                    td.num { @match answers.get(&item.id) {
                                        Some(crate::domain::instrument::Answer::Number(n)) => (number(*n)),
                                        Some(crate::domain::instrument::Answer::Bool(b)) => (if *b { "yes" } else { "no" }),
                                        Some(crate::domain::instrument::Answer::Choice(c)) => (c),
                                        _ => "—",
                                    } }
                                }
                            }
                        }
                        tr {
                            th scope="row" { "Total" }
                            @for s in recent { td.num { (s.response.as_ref().and_then(|r| r.total).map(number).unwrap_or_else(|| "—".into())) } }
                        }
                    }
                } }
            }
        }
    }
}

fn alerts_section(client_alerts: &[alerts::Alert], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Alerts" }
            @if client_alerts.is_empty() {
                p.muted { "No alerts for this client." }
            } @else {
                ul {
                    @for a in client_alerts.iter().rev() {
                        li {
                            (severity_badge(a.severity)) " "
                            a href={ "/clinician/alerts/" (a.id) } { "Opened " (local_date(a.opened_at, tz)) " at session " (a.opened_at_session) }
                            span.muted { " · " (status_label(a)) }
                        }
                    }
                }
            }
        }
    }
}

fn invitations_section(invites: &[invitations::Invitation], tz: chrono_tz::Tz) -> Markup {
    let when = |t: Option<chrono::NaiveDateTime>| t.map(|t| local_time(t, tz)).unwrap_or_else(|| "—".into());
    html! {
        section {
            h2 { "Questionnaires sent" }
            @if invites.is_empty() {
                p.muted { "None yet." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Questionnaires sent" { table {
                    thead { tr { th scope="col" { "Sent" } th scope="col" { "Reminded" } th scope="col" { "Answered" } th scope="col" { "Status" } } }
                    tbody {
                        @for i in invites.iter().rev() {
                            tr {
                                td { @if i.sent_at.is_some() { (when(i.sent_at)) } @else { span.muted { "planned " (local_time(i.send_at, tz)) } } }
                                td { (when(i.reminded_at)) }
                                td { (when(i.answered_at)) }
                                td { (match i.status {
                                    InvitationStatus::Scheduled => "scheduled",
                                    InvitationStatus::Sent => "waiting for an answer",
                                    InvitationStatus::Answered => "answered",
                                    InvitationStatus::Expired => if i.sent_at.is_some() { "expired unanswered" } else { "expired (not delivered)" },
                                    InvitationStatus::Cancelled => "cancelled",
                                }) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn appointments_section(appts: &[appointments::Appointment], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Appointments" }
            @if appts.is_empty() {
                p.muted { "None recorded." }
            } @else {
                ul.columns { @for a in appts { li { (local_time(a.starts_at, tz)) " — " (a.status.label()) } } }
            }
        }
    }
}

fn choice_section(csrf: &str, client: &Client) -> Markup {
    let current = client.invitation_choice();
    html! {
        section #invitations {
            h2 { "Questionnaires for this client" }
            p {
                @match current {
                    InvitationChoice::Active => "They receive a questionnaire after each attended session.",
                    InvitationChoice::Paused => { "Paused. Reason: " (client.pause_reason.as_deref().unwrap_or("—")) }
                    InvitationChoice::Stopped => { "Stopped: no questionnaires are sent. " (client.pause_reason.as_deref().map(|r| format!("Reason: {r}")).unwrap_or_else(|| "The client unsubscribed.".into())) }
                }
            }
            form method="post" action={ "/clinician/clients/" (client.id) "/invitations" } {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { "Change" }
                    ul.choices {
                        li { label { input type="radio" name="choice" value="active" checked[current == InvitationChoice::Active]; " Send after each session" } }
                        li { label { input type="radio" name="choice" value="paused" checked[current == InvitationChoice::Paused]; " Pause for now" } }
                        li { label { input type="radio" name="choice" value="stopped" checked[current == InvitationChoice::Stopped]; " Stop (the client asked)" } }
                    }
                }
                div.field {
                    label for="reason" { "Reason (needed to pause or stop)" }
                    input #reason name="reason" maxlength="300" value=(client.pause_reason.clone().unwrap_or_default());
                }
                button type="submit" { "Save" }
            }
        }
    }
}
