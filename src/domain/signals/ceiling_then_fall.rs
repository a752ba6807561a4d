//! Rule 9, ceiling then fall: a client who answered at the best possible
//! total for at least n answered sessions in a row (default 3) and then
//! drops at all. An early "perfect" alliance that slips is the pattern with
//! the worst outcomes in ACORN's data (about 14% of clients; effect size .6
//! against .78–.85). One signal per stretch at the ceiling.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points, fmt_sessions};
use crate::domain::instrument::Direction;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a client who answers just below the maximum (39 of 40 every \
time) never counts as at the ceiling, and their slip is left to the other \
rules. \
False alert: after many perfect answers any one-point wobble triggers it, \
although it may mean nothing. \
Mitigation: it is medium severity, fires once per stretch at the ceiling, \
and says plainly what it saw; the clinic can widen the ceiling with \
`tolerance` or ask for more sessions at the ceiling.";

/// Settings of the ceiling-then-fall rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CeilingThenFallSettings {
    /// n: answered sessions in a row at the ceiling before a fall counts.
    pub sessions_at_ceiling: u32,
    /// Points below the best total that still count as at the ceiling.
    pub tolerance: f64,
}

impl Default for CeilingThenFallSettings {
    fn default() -> Self {
        CeilingThenFallSettings {
            sessions_at_ceiling: 3,
            tolerance: 0.0,
        }
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let settings = &view.settings.ceiling_then_fall;
    let direction = view.direction();
    let best = match direction {
        Direction::HigherIsBetter => view.settings.total_max,
        Direction::LowerIsBetter => view.settings.total_min,
    };
    let at_ceiling = |x: f64| direction.worsening(best, x) <= settings.tolerance + 1e-9;
    let first = *view.candidates().start();
    // Walk answered sessions, tracking the stretch at the ceiling.
    let mut stretch: Vec<u32> = Vec::new();
    for i in 0..=view.upto {
        let Some(x) = view.series.totals[i] else {
            continue;
        };
        if at_ceiling(x) {
            stretch.push(view.series.session(i));
            continue;
        }
        if stretch.len() >= settings.sessions_at_ceiling as usize && i >= first {
            let (verb, word) = match direction {
                Direction::HigherIsBetter => ("highest", "dropped"),
                Direction::LowerIsBetter => ("lowest (best)", "rose"),
            };
            let explanation = format!(
                "The client gave the {verb} possible total ({}) at {}, then {word} to {} at session {}. \
An early 'perfect' alliance that slips is the pattern with the worst outcomes in ACORN's data.",
                fmt_points(best),
                fmt_sessions(&stretch),
                fmt_points(x),
                view.series.session(i),
            );
            let mut signal = view.signal(
                RuleId::CeilingThenFall,
                i,
                Severity::Medium,
                explanation,
                &[
                    ("ceiling", best),
                    ("sessions_at_ceiling", stretch.len() as f64),
                    ("total", x),
                ],
            );
            signal.from_session = stretch.last().copied();
            out.push(signal);
        }
        stretch.clear();
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::history::ClientHistory;
    use crate::domain::signals::{EngineSettings, RuleId, find_signals};

    #[test]
    fn three_perfect_answers_then_any_drop() {
        let h = ClientHistory::from_totals(&[Some(40.0), Some(40.0), None, Some(40.0), Some(39.0), Some(38.0)]);
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::CeilingThenFall));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 5);
        assert_eq!(
            s[0].explanation,
            "The client gave the highest possible total (40) at sessions 1, 2 and 4, then dropped to 39 at session 5. \
An early 'perfect' alliance that slips is the pattern with the worst outcomes in ACORN's data."
        );
    }

    #[test]
    fn two_perfect_answers_are_not_enough() {
        let h = ClientHistory::from_totals(&[Some(40.0), Some(40.0), Some(35.0)]);
        assert!(find_signals(&h, &EngineSettings::default().only(RuleId::CeilingThenFall)).is_empty());
    }
}
