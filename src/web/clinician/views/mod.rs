//! What clinicians see, from what their handlers read: maud view
//! functions over plain view structs, no database access (the layer rules
//! test keeps `store` calls out of this folder).

pub mod alert;
pub mod appointment;
pub mod client;
pub mod inbox;
pub mod settings;

use maud::{Markup, html};

use crate::domain::history::SessionOutcome;
use crate::domain::signals::Severity;
use crate::store::alerts::{Alert, AlertStatus};
use crate::store::history::LoadedHistory;
use crate::web::views::chart::Point;

pub fn severity_badge(severity: Severity) -> Markup {
    let (class, text) = match severity {
        Severity::High => ("badge high", "High"),
        Severity::Medium => ("badge medium", "Medium"),
        Severity::Low => ("badge low", "Low"),
    };
    html! { span class=(class) { (text) } }
}

pub fn status_label(alert: &Alert) -> &'static str {
    match alert.status {
        AlertStatus::Open => "not yet acknowledged",
        AlertStatus::Acknowledged => "acknowledged",
        AlertStatus::Closed => "closed",
    }
}

/// The client's sessions as chart points: totals, and gaps for sessions
/// without an answer.
pub fn trajectory_points(loaded: &LoadedHistory, tz: chrono_tz::Tz) -> Vec<Point> {
    let date_of = |session: u32| {
        loaded
            .sessions
            .iter()
            .find(|s| s.session == session)
            .map(|s| s.appointment.starts_at.and_utc().with_timezone(&tz).date_naive())
    };
    loaded
        .history
        .sessions
        .iter()
        .filter(|s| !matches!(s.outcome, SessionOutcome::Pending))
        .map(|s| {
            let (total, gap) = match &s.outcome {
                SessionOutcome::Answered { total, .. } => {
                    (*total, total.is_none().then_some("answered, too few items to score"))
                }
                SessionOutcome::Missed => (None, Some("missed appointment")),
                _ => (None, Some("no answer")),
            };
            Point {
                session: s.session,
                date: date_of(s.session),
                total,
                gap,
            }
        })
        .collect()
}
