//! Rule 1, low score: the total is below the instrument's cutoff
//! (SRS convention: below 36 of 40; OpenFIT flags `SRS < cutoff`).
//! For a lower-is-better instrument: above the cutoff.
//!
//! Every answered session past the cutoff gives a signal; the combiner keeps
//! them in one alert per episode.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points};
use crate::domain::instrument::Direction;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a client whose alliance is weak from the start, or slips just \
above the cutoff, may disengage without the clinician noticing; the cutoff is \
a population convention and fits some clients badly. \
False alert: a client who always answers a little below the cutoff \
(a personal style of answering) keeps an alert open; the clinician may learn \
to ignore alerts. \
Mitigation: the personal-change rules (drop from last, reliable drop, \
gradual decline, ceiling then fall) watch change against the client's own \
baseline; low scores of one episode share one alert; the clinic can set the \
cutoff per instrument and the managers' false-alarm figures show its noise.";

/// Settings of the low-score rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LowScoreSettings {
    /// The total below which (above which, for lower-is-better) the alliance
    /// is at risk. None switches the rule off.
    pub cutoff: Option<f64>,
}

impl Default for LowScoreSettings {
    fn default() -> Self {
        LowScoreSettings { cutoff: Some(36.0) }
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let Some(cutoff) = view.settings.low_score.cutoff else {
        return;
    };
    let direction = view.direction();
    for i in view.candidates() {
        let Some(total) = view.series.totals[i] else {
            continue;
        };
        if !direction.is_past_cutoff(total, cutoff) {
            continue;
        }
        let (side, line) = match direction {
            Direction::HigherIsBetter => ("below", "below which"),
            Direction::LowerIsBetter => ("above", "above which"),
        };
        let explanation = format!(
            "Total {} is {side} the cutoff of {} for this instrument, the line {line} the working alliance is considered at risk.",
            fmt_points(total),
            fmt_points(cutoff),
        );
        out.push(view.signal(
            RuleId::LowScore,
            i,
            Severity::Medium,
            explanation,
            &[("total", total), ("cutoff", cutoff)],
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::history::ClientHistory;
    use crate::domain::instrument::Direction;
    use crate::domain::signals::{EngineSettings, RuleId, find_signals};

    #[test]
    fn flags_each_total_below_the_cutoff() {
        let h = ClientHistory::from_totals(&[Some(38.0), Some(35.0), None, Some(36.0), Some(31.5)]);
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::LowScore));
        let sessions: Vec<u32> = s.iter().map(|s| s.session).collect();
        assert_eq!(sessions, vec![2, 5]);
        assert_eq!(
            s[0].explanation,
            "Total 35 is below the cutoff of 36 for this instrument, the line below which the working alliance is considered at risk."
        );
        assert!(s[1].explanation.starts_with("Total 31.5 is below"));
        assert_eq!(s[0].inputs["cutoff"], 36.0);
    }

    #[test]
    fn lower_is_better_flags_totals_above_the_cutoff() {
        let mut settings = EngineSettings::default().only(RuleId::LowScore);
        settings.direction = Direction::LowerIsBetter;
        settings.low_score.cutoff = Some(20.0);
        let h = ClientHistory::from_totals(&[Some(18.0), Some(21.0)]);
        let s = find_signals(&h, &settings);
        assert_eq!(s.len(), 1);
        assert!(s[0].explanation.contains("above the cutoff of 20"));
        assert!(s[0].explanation.contains("line above which"));
    }

    #[test]
    fn no_cutoff_no_signal() {
        let mut settings = EngineSettings::default().only(RuleId::LowScore);
        settings.low_score.cutoff = None;
        let h = ClientHistory::from_totals(&[Some(1.0)]);
        assert!(find_signals(&h, &settings).is_empty());
    }
}
