//! Rule 3, reliable drop (Jacobson & Truax 1991): the total has fallen from
//! the client's personal baseline by more than measurement noise explains.
//!
//! SE = SD·√(1 − r); S_diff = √(2·SE²); a drop is reliable when
//! (baseline − now) > 1.96·S_diff.
//!
//! Baseline: the mean of the client's first 3 answered sessions. Until three
//! answers are in, the mean of those already answered is used as an early
//! baseline, so a rupture in the first sessions (when dropout is most
//! likely) is not missed; sessions are never compared with a reference that
//! includes themselves. Once set, the baseline never moves, so a signal once
//! raised stays raised when more sessions arrive.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, describe_reference, fmt_points, noise_sentence};

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: with test–retest r of only .54–.70 the reliable-change band is \
wide (about 7 points of 40 for the shipped instrument), so a real but smaller \
drop near the ceiling is not called reliable; a wrong (too large) SD widens \
the band further. \
False alert: a too small SD, or a baseline inflated by early 'polite' \
ceiling answers, makes ordinary variation look reliable. \
Mitigation: the explanation names r and SD so the clinician can judge; the \
SD can be replaced by the clinic's own estimate once there are enough \
responses; smaller falls are covered by drop from last, ceiling then fall \
and gradual decline.";

/// Settings of the reliable-drop rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReliableDropSettings {
    /// The z value for reliable change (1.96 for 95%).
    pub z: f64,
}

impl Default for ReliableDropSettings {
    fn default() -> Self {
        ReliableDropSettings { z: 1.96 }
    }
}

/// S_diff = √(2·SE²) with SE = SD·√(1 − r).
pub fn standard_error_of_difference(sd: f64, reliability: f64) -> f64 {
    let se = sd * (1.0 - reliability).sqrt();
    (2.0 * se * se).sqrt()
}

/// The smallest change, in points, that is reliable at 95%: 1.96·S_diff.
pub fn reliable_change_threshold(sd: f64, reliability: f64) -> f64 {
    1.96 * standard_error_of_difference(sd, reliability)
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let threshold = view.settings.reliable_change();
    let direction = view.direction();
    for i in view.candidates() {
        let Some(now) = view.series.totals[i] else {
            continue;
        };
        let Some(value) = view.series.reference_value_before(i) else {
            continue;
        };
        let fall = direction.worsening(value, now);
        if fall <= threshold {
            continue;
        }
        let Some(reference) = view.series.reference_before(i) else {
            continue;
        };
        let explanation = format!(
            "Total {} from {} to {}, measured from {}: a {} of {} points. {}",
            direction.worse_verb(),
            fmt_points(reference.value),
            fmt_points(now),
            describe_reference(&reference),
            direction.worse_noun(),
            fmt_points(fall),
            noise_sentence(view.settings),
        );
        out.push(view.signal(
            RuleId::ReliableDrop,
            i,
            Severity::High,
            explanation,
            &[
                ("baseline", reference.value),
                ("total", now),
                ("fall", fall),
                ("threshold", threshold),
                ("reliability", view.settings.reliability),
                ("sd", view.settings.sd),
            ],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::ClientHistory;
    use crate::domain::signals::{EngineSettings, find_signals};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn jacobson_truax_worked_values() {
        assert!(close(standard_error_of_difference(10.5, 0.961), 2.93249));
        assert!(close(reliable_change_threshold(10.5, 0.961), 5.747681));
        assert!(close(standard_error_of_difference(5.0, 0.80), 3.162278));
        let t = reliable_change_threshold(5.0, 0.80);
        assert!(8.0 > t, "a change of 8 is reliable");
        assert!(4.0 < t, "a change of 4 is not");
    }

    #[test]
    fn flags_a_fall_beyond_the_band_from_the_baseline() {
        let mut settings = EngineSettings::default().only(RuleId::ReliableDrop);
        settings.sd = 5.0;
        settings.reliability = 0.80;
        // Baseline 38 (sessions 1–3); 30 is 8 below (reliable), 34 is 4 below (not).
        let h = ClientHistory::from_totals(&[Some(38.0), Some(37.0), Some(39.0), Some(34.0), Some(30.0)]);
        let s = find_signals(&h, &settings);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 5);
        assert_eq!(
            s[0].explanation,
            "Total fell from 38 to 30, measured from the baseline (mean of sessions 1–3): a fall of 8 points. \
A fall of more than 6.2 points is beyond measurement noise for this instrument (reliable change, r = .80, SD = 5)."
        );
        assert!(close(s[0].inputs["threshold"], 6.198064));
    }

    #[test]
    fn early_sessions_use_the_answers_so_far() {
        let h = ClientHistory::from_totals(&[Some(40.0), Some(31.0)]);
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::ReliableDrop));
        assert_eq!(s.len(), 1);
        assert!(s[0].explanation.contains("measured from the first answer (session 1)"));
        assert!(s[0].explanation.contains("r = .70, SD = 4.5"));
    }

    #[test]
    fn a_named_local_sd_is_said() {
        let mut settings = EngineSettings::default().only(RuleId::ReliableDrop);
        settings.sd_source = Some("estimated from this clinic's responses".into());
        let h = ClientHistory::from_totals(&[Some(40.0), Some(31.0)]);
        let s = find_signals(&h, &settings);
        assert!(
            s[0].explanation
                .ends_with("SD = 4.5, estimated from this clinic's responses).")
        );
    }
}
