//! Rule 5, gradual decline: a one-sided lower CUSUM on the client's
//! standardised scores. z = (x − μ₀)/σ, S_t = max(0, S_{t−1} − z_t − k),
//! signal when S_t > h (defaults k = 0.5, h = 5). For a lower-is-better
//! instrument z is taken with the opposite sign, so S still sums worsening.
//!
//! μ₀ is the personal baseline (mean of the first 3 answered sessions); the
//! sum starts with the first answered session after the baseline, so it
//! never depends on sessions it has not seen. Unanswered sessions are
//! skipped. After a signal the sum restarts at 0, so a decline that goes on
//! signals again rather than once.
//!
//! σ is, by default, the standard error of measurement SD·√(1 − r): the
//! session-to-session noise of one client's total (S_diff/√2). The
//! instrument's SD (between clients) or a fixed number of points can be
//! chosen instead. (An EWMA chart with λ .2, L 3 first signals at the same
//! session on CLINICAL.md's worked series; CUSUM is used for its simpler
//! explanation.)

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_2dp, fmt_points, fmt_sessions};
use crate::domain::instrument::Direction;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a slide that is slower than k standard errors per session, or \
one that starts before the baseline is complete (so the baseline is already \
low), never accumulates. \
False alert: a client whose first sessions were unusually high (a 'polite' \
baseline) drifts back to their usual level and the sum grows; a σ that is \
too small makes noise accumulate. \
Mitigation: the signal is medium severity, names the sessions and the \
baseline it used so the clinician can judge; k, h and σ are settings; the \
managers' false-alarm figures per rule show whether they fit the clinic.";

/// Which noise scale standardises the scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CusumSigma {
    /// SD·√(1 − r), the noise of one client's total from session to session.
    StandardErrorOfMeasurement,
    /// The instrument's SD (between clients): more conservative.
    InstrumentSd,
    /// A fixed number of points.
    Points(f64),
}

/// Settings of the gradual-decline rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GradualDeclineSettings {
    /// Allowance per session, in σ units.
    pub k: f64,
    /// Alarm level, in σ units.
    pub h: f64,
    pub sigma: CusumSigma,
}

impl Default for GradualDeclineSettings {
    fn default() -> Self {
        GradualDeclineSettings {
            k: 0.5,
            h: 5.0,
            sigma: CusumSigma::StandardErrorOfMeasurement,
        }
    }
}

/// The CUSUM path S_1, S_2, … of a series against μ₀ (no restart).
pub fn cusum_path(values: &[f64], mu0: f64, sigma: f64, k: f64, direction: Direction) -> Vec<f64> {
    let mut s = 0.0;
    values
        .iter()
        .map(|&x| {
            let z = -direction.worsening(mu0, x) / sigma;
            s = f64::max(0.0, s - z - k);
            s
        })
        .collect()
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let settings = &view.settings.gradual_decline;
    let Some(start) = view.series.baseline_complete_at() else {
        return;
    };
    if start >= view.upto {
        return;
    }
    let Some(mu0) = view.series.baseline() else {
        return;
    };
    let sigma = match settings.sigma {
        CusumSigma::StandardErrorOfMeasurement => view.settings.standard_error_of_measurement(),
        CusumSigma::InstrumentSd => view.settings.sd,
        CusumSigma::Points(p) => p,
    };
    let sigma_name = match settings.sigma {
        CusumSigma::StandardErrorOfMeasurement => "the standard error of measurement",
        CusumSigma::InstrumentSd => "the instrument's SD",
        CusumSigma::Points(_) => "a set noise level",
    };
    let direction = view.direction();
    let mut s = 0.0;
    let mut run: Vec<u32> = Vec::new();
    for i in start + 1..=view.upto {
        let Some(x) = view.series.totals[i] else {
            continue;
        };
        let z = -direction.worsening(mu0, x) / sigma;
        s = f64::max(0.0, s - z - settings.k);
        if s > 0.0 {
            run.push(view.series.session(i));
        } else {
            run.clear();
        }
        if s > settings.h {
            if !view.latest_only || i == view.upto {
                let way = match direction {
                    Direction::HigherIsBetter => "below",
                    Direction::LowerIsBetter => "above",
                };
                let explanation = format!(
                    "Totals have stayed {way} the baseline of {} over {}: the running sum of shortfalls reached {} \
(in units of {sigma_name}, {} points), above the alarm level of {} (CUSUM, k = {}).",
                    fmt_points(mu0),
                    fmt_sessions(&run),
                    fmt_2dp(s),
                    fmt_2dp(sigma),
                    fmt_2dp(settings.h),
                    fmt_2dp(settings.k),
                );
                let mut signal = view.signal(
                    RuleId::GradualDecline,
                    i,
                    Severity::Medium,
                    explanation,
                    &[
                        ("baseline", mu0),
                        ("sigma", sigma),
                        ("k", settings.k),
                        ("h", settings.h),
                        ("cusum", s),
                        ("total", x),
                    ],
                );
                signal.from_session = run.first().copied();
                out.push(signal);
            }
            s = 0.0;
            run.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::ClientHistory;
    use crate::domain::signals::{EngineSettings, find_signals};

    const SERIES: [f64; 8] = [37.5, 36.8, 37.2, 35.0, 34.5, 34.0, 34.8, 34.2];

    #[test]
    fn worked_example_from_clinical_md() {
        let path = cusum_path(&SERIES, 37.0, 1.5, 0.5, Direction::HigherIsBetter);
        let expected = [0.0, 0.0, 0.0, 0.8333, 2.0, 3.5, 4.4667, 5.8333];
        for (got, want) in path.iter().zip(expected) {
            assert!((got - want).abs() < 5e-5, "{path:?}");
        }
        let first = path.iter().position(|&s| s > 5.0).unwrap();
        assert_eq!(first + 1, 8, "first signal at the 8th value");
    }

    #[test]
    fn the_rule_signals_at_the_eighth_value_after_the_baseline() {
        let mut totals = vec![Some(37.0); 3];
        totals.extend(SERIES.map(Some));
        let h = ClientHistory::from_totals(&totals);
        let mut settings = EngineSettings::default().only(RuleId::GradualDecline);
        settings.gradual_decline.sigma = CusumSigma::Points(1.5);
        let s = find_signals(&h, &settings);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 3 + 8);
        assert!((s[0].inputs["cusum"] - 5.8333).abs() < 5e-5);
        assert_eq!(
            s[0].explanation,
            "Totals have stayed below the baseline of 37 over sessions 7–11: the running sum of shortfalls reached 5.83 \
(in units of a set noise level, 1.5 points), above the alarm level of 5 (CUSUM, k = 0.5)."
        );
    }

    #[test]
    fn lower_is_better_sums_rises() {
        let path = cusum_path(&SERIES.map(|x| 74.0 - x), 37.0, 1.5, 0.5, Direction::LowerIsBetter);
        assert!((path[7] - 5.8333).abs() < 5e-5);
    }

    #[test]
    fn no_signal_before_the_baseline_is_complete() {
        let h = ClientHistory::from_totals(&[Some(40.0), Some(10.0)]);
        assert!(find_signals(&h, &EngineSettings::default().only(RuleId::GradualDecline)).is_empty());
    }
}
