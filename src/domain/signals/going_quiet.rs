//! Rule 8, going quiet: disengagement is a rupture marker, and non-response
//! is not random (non-responders improve far less). Signals:
//!
//! - k consecutive invitations without an answer (default 2), once per run;
//! - one unanswered invitation right after a lower score (a total past the
//!   cutoff, or a fall of 2 points or more from the answer before:
//!   `min_fall`, chosen with `rapport evaluate`);
//! - a missed appointment, when the practice system reports one.
//!
//! Missed appointments count towards a run of sessions without an answer.
//! Pending invitations (still open) are skipped: they neither count nor
//! break a run.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points, fmt_sessions};
use crate::domain::history::SessionOutcome;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a client who quietly stops coming may have no invitations \
left to ignore, and a practice system that does not report no-shows hides \
them; the alliance rules see nothing because there are no answers. \
False alert: invitations go unanswered for ordinary reasons (a full inbox, \
a holiday, an email filter), and the client may be doing well. \
Mitigation: one unanswered invitation only counts after a lower score; \
otherwise two in a row are needed; the explanation names the sessions so \
the clinician can check attendance before acting; missed appointments \
come from the practice system, not from guesses.";

/// Settings of the going-quiet rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoingQuietSettings {
    /// k: invitations in a row without an answer.
    pub consecutive_unanswered: u32,
    /// One unanswered invitation right after a lower score is enough.
    pub after_lower_score: bool,
    /// A missed appointment reported by the practice system raises a signal.
    pub missed_appointments: bool,
    /// A "lower score" is a total past the cutoff or a fall of at least this
    /// many points from the answer before.
    pub min_fall: f64,
}

impl Default for GoingQuietSettings {
    fn default() -> Self {
        GoingQuietSettings {
            consecutive_unanswered: 2,
            after_lower_score: true,
            missed_appointments: true,
            min_fall: 2.0,
        }
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let settings = &view.settings.going_quiet;
    for i in view.candidates() {
        let outcome = view.series.outcome(i);
        if !outcome.is_no_answer() {
            continue;
        }
        // The run of sessions without an answer that ends here.
        let mut run = Vec::new();
        let mut before_run = None;
        for j in (0..=i).rev() {
            match view.series.outcome(j) {
                SessionOutcome::Pending => continue,
                o if o.is_no_answer() => run.push(view.series.session(j)),
                _ => {
                    before_run = Some(j);
                    break;
                }
            }
        }
        run.reverse();
        let session = view.series.session(i);
        let mut sentences = Vec::new();
        let missed = matches!(outcome, SessionOutcome::Missed);
        if missed && settings.missed_appointments {
            sentences.push(format!("The practice system reported session {session} as missed."));
        }
        let k = settings.consecutive_unanswered as usize;
        if run.len() == k || (missed && settings.missed_appointments && run.len() > k) {
            sentences.push(format!(
                "There has been no answer for {} sessions in a row ({}).",
                run.len(),
                fmt_sessions(&run)
            ));
        }
        let mut lower_total = None;
        if run.len() == 1
            && settings.after_lower_score
            && !missed
            && let Some(j) = before_run
            && let Some(reason) = lower_score(view, j)
        {
            sentences.push(format!(
                "The invitation after session {} went unanswered, and that session had a lower score ({}).",
                view.series.session(j),
                reason
            ));
            lower_total = view.series.totals[j];
        }
        if sentences.is_empty() {
            continue;
        }
        let mut inputs = vec![
            ("sessions_without_answer", run.len() as f64),
            ("k", k as f64),
            ("missed", f64::from(u8::from(missed))),
        ];
        if let Some(t) = lower_total {
            inputs.push(("previous_total", t));
        }
        let mut signal = view.signal(RuleId::GoingQuiet, i, Severity::Medium, sentences.join(" "), &inputs);
        signal.from_session = run.first().copied().filter(|&s| s != session);
        out.push(signal);
    }
}

/// Why an answered session counts as lower, in words.
fn lower_score(view: &View<'_, '_>, j: usize) -> Option<String> {
    let total = view.series.totals[j]?;
    let direction = view.direction();
    if let Some(c) = view.settings.low_score.cutoff
        && direction.is_past_cutoff(total, c)
    {
        return Some(format!(
            "total {}, past the cutoff of {}",
            fmt_points(total),
            fmt_points(c)
        ));
    }
    let p = view.series.previous_answered(j)?;
    let before = view.series.totals[p]?;
    if direction.worsening(before, total) >= view.settings.going_quiet.min_fall - 1e-9 {
        return Some(format!(
            "total {} from {} to {}",
            direction.worse_verb(),
            fmt_points(before),
            fmt_points(total)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::domain::history::{ClientHistory, SessionOutcome};
    use crate::domain::signals::{EngineSettings, RuleId, find_signals};

    fn rule() -> EngineSettings {
        EngineSettings::default().only(RuleId::GoingQuiet)
    }

    #[test]
    fn two_unanswered_in_a_row_once_per_run() {
        let h = ClientHistory::from_totals(&[Some(39.0), Some(39.0), None, None, None, Some(38.0)]);
        let s = find_signals(&h, &rule());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 4);
        assert_eq!(
            s[0].explanation,
            "There has been no answer for 2 sessions in a row (sessions 3–4)."
        );
    }

    #[test]
    fn one_unanswered_after_a_fall() {
        let h = ClientHistory::from_totals(&[Some(39.0), Some(37.0), None]);
        let s = find_signals(&h, &rule());
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].explanation,
            "The invitation after session 2 went unanswered, and that session had a lower score (total fell from 39 to 37)."
        );
    }

    #[test]
    fn one_unanswered_after_a_steady_score_is_not_a_signal() {
        let h = ClientHistory::from_totals(&[Some(39.0), Some(39.0), None, Some(39.0), None]);
        assert!(find_signals(&h, &rule()).is_empty());
    }

    #[test]
    fn missed_appointments_and_pending_invitations() {
        let mut h = ClientHistory::from_totals(&[Some(39.0)]);
        h.push(SessionOutcome::Missed);
        h.push(SessionOutcome::Pending);
        h.push(SessionOutcome::Unanswered);
        let s = find_signals(&h, &rule());
        let sessions: Vec<u32> = s.iter().map(|s| s.session).collect();
        assert_eq!(sessions, vec![2, 4]);
        assert_eq!(s[0].explanation, "The practice system reported session 2 as missed.");
        assert_eq!(
            s[1].explanation,
            "There has been no answer for 2 sessions in a row (sessions 2 and 4)."
        );
    }
}
