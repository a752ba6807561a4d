//! Rule 2, drop from last: any fall from the previous answered total
//! (OpenFIT: a fall of 1 point or more is red). Near the ceiling this is the
//! most sensitive early sign (Meier & Feeley 2022); its severity is low
//! unless other signals join it.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points};

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a fall smaller than the setting, or a slide spread over many \
sessions in steps below it, passes unnoticed by this rule. \
False alert: one-point falls are often measurement noise (test–retest r of \
such measures is only .54–.70), so on its own the rule would alert often and \
wear out the clinician's attention. \
Mitigation: the signal is low severity and by default does not open an alert \
alone; it is held and joins an alert when another rule agrees; slides are \
caught by gradual decline (CUSUM).";

/// Settings of the drop-from-last rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DropFromLastSettings {
    /// The smallest fall, in points, that counts.
    pub min_drop: f64,
}

impl Default for DropFromLastSettings {
    fn default() -> Self {
        DropFromLastSettings { min_drop: 1.0 }
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let min_drop = view.settings.drop_from_last.min_drop;
    let direction = view.direction();
    for i in view.candidates() {
        let Some(now) = view.series.totals[i] else {
            continue;
        };
        let Some(p) = view.series.previous_answered(i) else {
            continue;
        };
        let before = view.series.totals[p].expect("previous answered has a total");
        let fall = direction.worsening(before, now);
        if fall < min_drop - 1e-9 {
            continue;
        }
        let session = view.series.session(i);
        let from = view.series.session(p);
        let when = if from.checked_add(1) == Some(session) {
            "previous session".to_string()
        } else {
            format!("last answer, session {from}")
        };
        let explanation = format!(
            "Total {} from {} to {} ({when}).",
            direction.worse_verb(),
            fmt_points(before),
            fmt_points(now),
        );
        let mut signal = view.signal(
            RuleId::DropFromLast,
            i,
            Severity::Low,
            explanation,
            &[
                ("previous_total", before),
                ("total", now),
                ("fall", fall),
                ("min_drop", min_drop),
            ],
        );
        signal.from_session = Some(from);
        out.push(signal);
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::history::ClientHistory;
    use crate::domain::signals::{EngineSettings, RuleId, Severity, find_signals};

    #[test]
    fn any_fall_of_a_point_or_more() {
        let h = ClientHistory::from_totals(&[Some(38.0), Some(37.0), Some(37.5), None, Some(31.0)]);
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::DropFromLast));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].explanation, "Total fell from 38 to 37 (previous session).");
        assert_eq!(s[0].severity, Severity::Low);
        assert_eq!(s[1].explanation, "Total fell from 37.5 to 31 (last answer, session 3).");
        assert_eq!((s[1].session, s[1].from_session), (5, Some(3)));
    }

    #[test]
    fn half_point_wobble_is_not_a_drop() {
        let h = ClientHistory::from_totals(&[Some(38.0), Some(37.5)]);
        assert!(find_signals(&h, &EngineSettings::default().only(RuleId::DropFromLast)).is_empty());
    }
}
