//! The alert page's content, from what the handler read (no database
//! here): the story first — a three-line summary (what changed, the latest
//! total against the client's baseline and the cutoff, the client's own
//! words), the next appointment and the repair actions; then one line per
//! rule with the statistics behind a disclosure, the recent scores, what
//! the client said, what to consider, and the log.

use crate::store::AlertId;
use maud::{Markup, html};

use super::inbox::first_sentence;
use super::{severity_badge, status_label, trajectory_points};
use crate::domain::history::SessionOutcome;
use crate::domain::repair;
use crate::domain::signals::RuleId;
use crate::store::alerts::{self, Alert, AlertEvent, AlertSignal, AlertStatus, RepairOutcome};
use crate::store::appointments;
use crate::store::appointments::Appointment;
use crate::store::clients::Client;
use crate::store::history::{self, LoadedHistory};
use crate::web::views::chart::{self, Marker, MarkerKind, Trajectory};
use crate::web::views::layout::form_error;
use crate::web::views::number;
use crate::web::views::{local_date, local_time};

/// What the alert page shows.
pub struct AlertPage<'a> {
    pub csrf: &'a str,
    pub alert: &'a Alert,
    pub client: &'a Client,
    pub signals: &'a [AlertSignal],
    /// The log, each event with who recorded it.
    pub events: &'a [(AlertEvent, Option<String>)],
    pub loaded: Option<&'a LoadedHistory>,
    /// All of the client's alerts (markers on the chart).
    pub client_alerts: &'a [Alert],
    pub next: Option<&'a Appointment>,
    pub tz: chrono_tz::Tz,
    /// A repair form's problem, shown above the forms.
    pub error: Option<&'a str>,
}

/// Sessions shown in the alert's small chart.
const RECENT: usize = 12;

fn event_label(kind: &str, outcome: Option<RepairOutcome>) -> String {
    match (kind, outcome) {
        ("opened", _) => "Alert opened by Rapport".into(),
        ("severity_raised", _) => "Severity raised by Rapport (more signals)".into(),
        ("acknowledged", _) => "Acknowledged".into(),
        ("discussed", _) => "Discussed with the client".into(),
        ("outcome", Some(o)) => format!("Outcome: {}", o.label()),
        (other, _) => other.to_string(),
    }
}

/// The page's content, below its title.
pub fn body(page: &AlertPage) -> Markup {
    let AlertPage {
        csrf,
        alert,
        client,
        signals,
        events,
        loaded,
        client_alerts,
        next,
        tz,
        error,
    } = *page;
    let groups = signal_groups(signals);
    let rules: Vec<RuleId> = groups.iter().filter_map(|g| g.rule).collect();
    let closed = alert.status == AlertStatus::Closed;
    html! {
        p {
            (severity_badge(alert.severity)) " "
            "Client: " a href={ "/clinician/clients/" (client.id) } { (client.name) }
            span.muted { " · opened " (local_time(alert.opened_at, tz)) " at session " (alert.opened_at_session) " · " (status_label(alert)) }
        }
        (summary(alert, &groups, loaded, next, tz))
        section #repair aria-labelledby="repair-title" {
            h2 #repair-title { "Repair" }
            @if let Some(e) = error { (form_error(e)) }
            @if !closed {
                (repair_forms(csrf, alert.id, alert.status))
            } @else {
                p {
                    @match alert.outcome {
                        Some(o) => { "Your judgement: " strong { (o.label()) } ". " }
                        None => {}
                    }
                    "This alert is closed; its log cannot change. New signals for this client open a new alert."
                }
                @if alert.outcome == Some(RepairOutcome::NotRepaired) {
                    p.warning role="status" { (under_watch(alert, next, tz)) }
                }
            }
        }
        section {
            h2 { "Why Rapport raised this" }
            ul.signals {
                @for g in &groups {
                    li {
                        strong { (g.title) }
                        " — " (sessions_text(&g.sessions)) " — " (first_sentence(&g.strongest.explanation))
                    }
                }
            }
            details {
                summary { "Every signal with its numbers (" (signals.len()) ")" }
                ol.signals reversed {
                    @for s in signals.iter().rev() {
                        li {
                            strong { (s.rule.parse::<RuleId>().map(|r| r.title()).unwrap_or("Signal")) }
                            " (session " (s.session) ", " (s.severity) ") — "
                            (s.explanation)
                        }
                    }
                }
            }
            p.hint { "Alerts support clinical judgement; they never replace it." }
        }
        @if let Some(loaded) = loaded {
            (recent_scores(loaded, client_alerts, alert.opened_at_session, tz))
            (what_the_client_said(loaded, alert.opened_at_session, tz))
        }
        section {
            h2 { "What to consider next" }
            ul { @for p in repair::ALWAYS { li { (p) } } @for p in repair::prompts(&rules) { li { (p) } } }
        }
        section #log {
            h2 { "Log" }
            ol.log {
                @for (event, who) in events {
                    li {
                        strong { (event_label(&event.kind, event.outcome)) }
                        span.muted { " · " (local_time(event.created_at, tz)) @if let Some(w) = who { " · " (w) } }
                        @if let Some(note) = &event.note { p.note { (note) } }
                    }
                }
            }
        }
    }
}

/// The signals of one rule: the sessions it fired at and its strongest
/// signal (most severe, then latest), for one line on the page.
struct SignalGroup<'a> {
    rule: Option<RuleId>,
    title: &'static str,
    sessions: Vec<i32>,
    strongest: &'a alerts::AlertSignal,
}

/// Signals grouped per rule, the group with the strongest signal first.
fn signal_groups(signals: &[alerts::AlertSignal]) -> Vec<SignalGroup<'_>> {
    let mut groups: Vec<SignalGroup> = vec![];
    for s in signals {
        let rule = s.rule.parse::<RuleId>().ok();
        match groups.iter_mut().find(|g| g.rule == rule) {
            Some(g) => {
                if !g.sessions.contains(&s.session) {
                    g.sessions.push(s.session);
                }
                if (s.severity, s.session) >= (g.strongest.severity, g.strongest.session) {
                    g.strongest = s;
                }
            }
            None => groups.push(SignalGroup {
                rule,
                title: rule.map(|r| r.title()).unwrap_or("Signal"),
                sessions: vec![s.session],
                strongest: s,
            }),
        }
    }
    for g in &mut groups {
        g.sessions.sort_unstable();
    }
    groups.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.strongest.severity),
            std::cmp::Reverse(g.strongest.session),
        )
    });
    groups
}

/// "session 4" or "sessions 3, 5 and 6".
fn sessions_text(sessions: &[i32]) -> String {
    match sessions {
        [one] => format!("session {one}"),
        [init @ .., last] => format!(
            "sessions {} and {last}",
            init.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
        ),
        [] => String::new(),
    }
}

/// The three lines a clinician reads first: what changed, where the client
/// is now against their own baseline and the cutoff, and their own words;
/// then the next appointment and measured recovery.
fn summary(
    alert: &alerts::Alert,
    groups: &[SignalGroup],
    loaded: Option<&history::LoadedHistory>,
    next: Option<&appointments::Appointment>,
    tz: chrono_tz::Tz,
) -> Markup {
    let latest = loaded.and_then(|l| {
        l.history.sessions.iter().rev().find_map(|s| match &s.outcome {
            SessionOutcome::Answered { total: Some(t), .. } => Some((s.session, *t)),
            _ => None,
        })
    });
    let baseline = loaded.and_then(|l| crate::domain::engine::baseline(&l.history, &l.settings));
    let cutoff = loaded.and_then(|l| l.instrument.cutoff());
    let from = (alert.opened_at_session - 2).max(1) as u32;
    let words = loaded.and_then(|l| {
        l.sessions.iter().rev().filter(|s| s.session >= from).find_map(|s| {
            s.response
                .as_ref()
                .and_then(|r| r.comment.clone())
                .map(|c| (s.session, c))
        })
    });
    let changed: Vec<&str> = groups.iter().map(|g| g.title).collect();
    html! {
        section.summary aria-labelledby="summary-title" {
            h2 #summary-title { "In short" }
            ul {
                li { strong { "What changed: " } (changed.join("; ")) " (from session " (alert.opened_at_session) ")." }
                li {
                    strong { "Latest total: " }
                    @match latest {
                        Some((session, total)) => {
                            (number(total)) " at session " (session)
                            @if let Some(b) = baseline { " · the client's baseline " (number(b)) }
                            @if let Some(c) = cutoff {
                                " · cutoff " (number(c))
                                @if total < c { " (below)" }
                            }
                            "."
                        }
                        None => { "no scored answer yet." }
                    }
                }
                @if let Some(l) = loaded { li { (super::client::answered_in(l, from)) } }
                li {
                    strong { "The client wrote: " }
                    @match &words {
                        Some((session, comment)) => { "“" (comment.trim()) "” (session " (session) ")" }
                        None => { "nothing in this episode." }
                    }
                }
            }
            p {
                strong { "Next appointment: " }
                @match next {
                    Some(a) => { (local_time(a.starts_at, tz)) "." }
                    None => { "none booked." }
                }
                " "
                @match alert.recovered_at_session {
                    Some(s) => { "Measured: back within the client's usual range from session " (s) "." }
                    None => { "Measured: not back within the client's usual range yet." }
                }
            }
        }
    }
}

/// After "not repaired": the client stays under watch until their next
/// answer, when Rapport looks at the pattern again.
fn under_watch(alert: &alerts::Alert, next: Option<&appointments::Appointment>, tz: chrono_tz::Tz) -> String {
    let after = alert.closed_after_session.unwrap_or(alert.opened_at_session);
    let when = match next {
        Some(a) => format!(" (next appointment {})", local_time(a.starts_at, tz)),
        None => " (no appointment booked yet)".to_string(),
    };
    format!(
        "Not repaired: the client stays under watch. Follow up at the next session, session {}{when}; \
         the client is listed under “Follow up at the next session” on your alerts page until they answer again.",
        after + 1
    )
}

fn recent_scores(
    loaded: &history::LoadedHistory,
    client_alerts: &[alerts::Alert],
    opened_at: i32,
    tz: chrono_tz::Tz,
) -> Markup {
    let points = trajectory_points(loaded, tz);
    let start = points.len().saturating_sub(RECENT);
    let recent = &points[start..];
    let (min, max) = loaded.instrument.total_range();
    let band = crate::domain::engine::reliable_change_band(&loaded.history, &loaded.settings);
    let markers: Vec<Marker> = client_alerts
        .iter()
        .filter(|a| a.opened_at_session == opened_at)
        .map(|a| Marker {
            session: a.opened_at_session as u32,
            kind: MarkerKind::Alert,
            label: "This alert opened".into(),
        })
        .filter(|m| recent.first().is_some_and(|p| m.session >= p.session))
        .collect();
    html! {
        section {
            h2 { "Recent scores" }
            @if recent.is_empty() {
                p.muted { "No answers yet." }
            } @else {
                @let trajectory = Trajectory {
                    points: recent,
                    min,
                    max,
                    cutoff: loaded.instrument.cutoff(),
                    band,
                    baseline: crate::domain::engine::baseline(&loaded.history, &loaded.settings),
                    markers: &markers,
                    id: "recent",
                    title: "Recent totals",
                };
                figure.chart {
                    (chart::trajectory(&trajectory))
                    figcaption { "Totals of the last " (recent.len()) " sessions. Dashed line: cutoff. Shaded: the reliable-change band around the client's baseline. Hollow circles: no answer. " (chart::axis_note(&trajectory)) }
                }
                details {
                    summary { "The totals as a table" }
                    table {
                        caption.visually-hidden { "Recent totals" }
                        thead { tr { th scope="col" { "Session" } th scope="col" { "Total" } } }
                        tbody {
                            @for p in recent {
                                tr { td { (p.session) } td { @match p.total { Some(t) => (number(t)), None => (p.gap.unwrap_or("no answer")) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The screener answers and free text from the sessions of this episode:
/// each session where the client wrote something, said something felt
/// uncomfortable or left that question, and one line for the rest.
fn what_the_client_said(loaded: &history::LoadedHistory, opened_at: i32, tz: chrono_tz::Tz) -> Markup {
    let from = (opened_at - 2).max(1) as u32;
    let answered: Vec<_> = loaded
        .sessions
        .iter()
        .filter(|s| s.session >= from)
        .filter_map(|s| s.response.as_ref().map(|r| (s, r)))
        .collect();
    let (said, quiet): (Vec<_>, Vec<_>) = answered
        .iter()
        .partition(|(_, r)| r.comment.is_some() || r.screener_uncomfortable != Some(false));
    html! {
        section {
            h2 { "What the client said" }
            @if answered.is_empty() {
                p.muted { "No answers since shortly before this alert." }
            } @else {
                @if !said.is_empty() {
                    ul {
                        @for (session, response) in &said {
                            li {
                                "Session " (session.session) " (" (local_date(session.appointment.starts_at, tz)) "): "
                                @match response.screener_uncomfortable {
                                    Some(true) => strong { "said something felt uncomfortable or not right." },
                                    Some(false) => "said nothing felt uncomfortable.",
                                    None => "did not answer the comfort question.",
                                }
                                @if let Some(comment) = &response.comment {
                                    blockquote { (comment) }
                                }
                            }
                        }
                    }
                }
                @if !quiet.is_empty() {
                    p {
                        @if said.is_empty() { "At every answered session since session " (from) } @else { "At the other " (quiet.len()) " answered sessions since session " (from) }
                        " (" (sessions_text(&quiet.iter().map(|(s, _)| s.session as i32).collect::<Vec<_>>())) "): no comment, and nothing felt uncomfortable."
                    }
                }
            }
        }
    }
}

fn repair_forms(csrf: &str, alert_id: AlertId, status: AlertStatus) -> Markup {
    html! {
        @if status == AlertStatus::Open {
            form method="post" action={ "/clinician/alerts/" (alert_id) "/acknowledge" } {
                input type="hidden" name="csrf" value=(csrf);
                button.primary type="submit" { "Acknowledge" }
                span.hint { " I have seen this and will consider it." }
            }
        }
        form method="post" action={ "/clinician/alerts/" (alert_id) "/discussed" } {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="discussed-note" { "Discussed with the client — what happened" }
                textarea #discussed-note name="note" rows="3" required {}
            }
            button type="submit" { "Record the discussion" }
        }
        form method="post" action={ "/clinician/alerts/" (alert_id) "/outcome" } {
            input type="hidden" name="csrf" value=(csrf);
            fieldset {
                legend { "Outcome" }
                ul.choices {
                    @for o in RepairOutcome::ALL {
                        li { label { input type="radio" name="outcome" value=(o.as_str()) required; " " (o.label()) } }
                    }
                }
            }
            div.field {
                label for="outcome-note" { "Note (optional)" }
                textarea #outcome-note name="note" rows="2" {}
            }
            button type="submit" { "Record the outcome and close the alert" }
        }
    }
}
