//! Rule 4, sudden loss: the Tang & DeRubeis (1999) sudden-gain criteria,
//! exactly as the reference R package `suddengains` (Wiedemann, Thew, Stott
//! & Ehlers) formulates them, applied to a change in the *bad* direction
//! between consecutive sessions n−1 → n (a fall of a higher-is-better
//! score, a rise of a lower-is-better one):
//!
//! 1. size: the change is at least `cutoff` points;
//! 2. proportion: the change is at least `proportion` · x[n−1];
//! 3. stability: with the pre window x[n−3..n−1] and the post window
//!    x[n..n+2] (up to 3 values each, missing values dropped; fewer than 2
//!    on either side → *undetermined*, which is neither flagged nor
//!    cleared), mean(pre) − mean(post) > t_crit · s_pooled (oriented to the
//!    bad direction), with s_pooled = √(((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2))
//!    and t_crit the two-sided Student t quantile at `alpha` with n₁+n₂−2
//!    degrees of freedom ("missing data adjustment": 2.776 for 3+3 values,
//!    3.182 for 5, 4.303 for 4 at α = .05). Without the adjustment the 3+3
//!    value (df 4) is used for every interval.
//!
//! As in the reference, x[n−1] and x[n] must both be present (an interval
//! across a missing session is not examined), and the windows are fixed
//! session positions: they do not reach back or forward past a missing
//! value. The package's `identify_sl` mirrors criterion 2 in a way that is
//! always met by a rise; here the mirrored criterion asks for a rise of at
//! least `proportion` · x[n−1]. On the reference data both give the same
//! three rises.
//!
//! Criterion 3 needs sessions after the change, so the signal concerns
//! session n (`from_session` n−1) but is known only when the post window
//! first holds two values and passes: `known_at_session` is later than
//! `session`. This rule confirms an episode after the fact; it is the
//! reference for research exports and for validating the engine.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{RuleId, Series, Severity, Signal, View, fmt_2dp, fmt_points, fmt_sessions};
use crate::domain::instrument::Direction;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: the rule needs two sessions after the fall before it can say \
anything, and near the ceiling the 25% proportion criterion asks for a very \
large fall (9.5 points from 38), so most alliance ruptures are never \
confirmed by it; relying on it alone would alert late or not at all. \
False alert: rare; a client who answers carelessly for two sessions can \
look like a stable loss. \
Mitigation: the engine never relies on this rule for early warning (low \
score, drop from last, reliable drop and the client's own words come \
first); it adds a confirmed, high-severity reason to an alert already open, \
and it is validated against the reference package on its example data.";

/// Settings of the sudden-loss rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuddenLossSettings {
    /// Criterion 1, in points. None: the instrument's reliable-change
    /// threshold (the suggestion of the reference package's
    /// `define_crit1_cutoff`).
    pub cutoff: Option<f64>,
    /// Criterion 2: the share of the earlier total the change must reach.
    pub proportion: f64,
    /// Criterion 3: two-sided significance level of the t test.
    pub alpha: f64,
    /// Criterion 3: degrees of freedom from the values actually present.
    pub missing_adjust: bool,
}

impl Default for SuddenLossSettings {
    fn default() -> Self {
        SuddenLossSettings {
            cutoff: None,
            proportion: 0.25,
            alpha: 0.05,
            missing_adjust: true,
        }
    }
}

/// Mean, SD and count of the present values of one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    pub n: usize,
    pub mean: f64,
    /// Sample SD (n − 1 denominator); 0 for a single value.
    pub sd: f64,
}

impl WindowStats {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return WindowStats {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        WindowStats { n, mean, sd }
    }
}

/// The three criteria for one interval n−1 → n.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalCheck {
    /// The change in the bad direction, x[n−1] → x[n], in points.
    pub size: f64,
    pub cutoff: f64,
    pub size_met: bool,
    pub proportion_met: bool,
    pub pre: WindowStats,
    pub post: WindowStats,
    pub t_critical: Option<f64>,
    pub pooled_sd: Option<f64>,
    /// Criterion 3: None when undetermined (fewer than 2 values on a side).
    pub stable: Option<bool>,
}

impl IntervalCheck {
    /// All three criteria are met.
    pub fn is_sudden_loss(&self) -> bool {
        self.size_met && self.proportion_met && self.stable == Some(true)
    }
}

/// The two-sided critical value of Student's t at `alpha` with `df` degrees of freedom.
pub fn critical_t(alpha: f64, df: usize) -> Option<f64> {
    if !(alpha > 0.0 && alpha < 1.0) || df == 0 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(t.inverse_cdf(1.0 - alpha / 2.0))
}

/// Checks one interval: `before` = x[n−1], `after` = x[n], `pre` and `post`
/// the present values of the two windows.
pub fn check_interval(
    before: f64,
    after: f64,
    pre: &[f64],
    post: &[f64],
    cutoff: f64,
    settings: &SuddenLossSettings,
    direction: Direction,
) -> IntervalCheck {
    check_interval_with(before, after, pre, post, cutoff, settings, direction, &|df| {
        critical_t(settings.alpha, df)
    })
}

/// [`check_interval`] with the critical values supplied (so a caller can cache them).
#[allow(clippy::too_many_arguments)]
fn check_interval_with(
    before: f64,
    after: f64,
    pre: &[f64],
    post: &[f64],
    cutoff: f64,
    settings: &SuddenLossSettings,
    direction: Direction,
    t_for: &dyn Fn(usize) -> Option<f64>,
) -> IntervalCheck {
    let size = direction.worsening(before, after);
    let size_met = size >= cutoff - 1e-9;
    let proportion_met = size >= settings.proportion * before - 1e-9;
    let pre_stats = WindowStats::of(pre);
    let post_stats = WindowStats::of(post);
    let (mut t_critical, mut pooled_sd, mut stable) = (None, None, None);
    if pre_stats.n >= 2 && post_stats.n >= 2 {
        let df = pre_stats.n + post_stats.n - 2;
        let t = t_for(if settings.missing_adjust { df } else { 4 });
        let pooled = (((pre_stats.n - 1) as f64 * pre_stats.sd.powi(2)
            + (post_stats.n - 1) as f64 * post_stats.sd.powi(2))
            / df as f64)
            .sqrt();
        let difference = direction.worsening(pre_stats.mean, post_stats.mean);
        pooled_sd = Some(pooled);
        t_critical = t;
        stable = t.map(|t| difference > t * pooled);
    }
    IntervalCheck {
        size,
        cutoff,
        size_met,
        proportion_met,
        pre: pre_stats,
        post: post_stats,
        t_critical,
        pooled_sd,
        stable,
    }
}

/// The size criterion in force: the setting, or the reliable-change threshold.
fn effective_cutoff(view: &View<'_, '_>) -> f64 {
    view.settings
        .sudden_loss
        .cutoff
        .unwrap_or_else(|| view.settings.reliable_change())
}

/// Present values of indices `from..=to` (clipped to the series).
fn window(series: &Series<'_>, from: isize, to: isize) -> (Vec<f64>, Vec<u32>) {
    let mut values = Vec::with_capacity(3);
    let mut sessions = Vec::with_capacity(3);
    for j in from.max(0)..=to {
        let j = j as usize;
        if j >= series.len() {
            break;
        }
        if let Some(v) = series.totals[j] {
            values.push(v);
            sessions.push(series.session(j));
        }
    }
    (values, sessions)
}

/// Checks the interval ending at index `n` with data up to index `upto`.
fn check_at(view: &View<'_, '_>, n: usize, upto: usize) -> Option<(IntervalCheck, Vec<u32>, Vec<u32>)> {
    if n == 0 || n > upto {
        return None;
    }
    let before = view.series.totals[n - 1]?;
    let after = view.series.totals[n]?;
    let n = n as isize;
    let (pre, pre_sessions) = window(view.series, n - 3, n - 1);
    let (post, post_sessions) = window(view.series, n, (n + 2).min(upto as isize));
    let check = check_interval_with(
        before,
        after,
        &pre,
        &post,
        effective_cutoff(view),
        &view.settings.sudden_loss,
        view.direction(),
        &|df| view.series.critical_t(df),
    );
    Some((check, pre_sessions, post_sessions))
}

/// Criteria 1 and 2 for the interval ending at index `n` (cheap; checked first).
fn size_and_proportion_met(view: &View<'_, '_>, n: usize) -> bool {
    let (Some(before), Some(after)) = (view.series.totals[n - 1], view.series.totals[n]) else {
        return false;
    };
    let size = view.direction().worsening(before, after);
    size >= effective_cutoff(view) - 1e-9 && size >= view.settings.sudden_loss.proportion * before - 1e-9
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let upto = view.upto;
    if view.latest_only {
        // Intervals whose post window gained its newest value at `upto`.
        for n in upto.saturating_sub(2).max(1)..=upto {
            if !size_and_proportion_met(view, n) {
                continue;
            }
            if let Some((check, pre, post)) = check_at(view, n, upto)
                && check.is_sudden_loss()
            {
                out.push(make_signal(view, n, upto, &check, &pre, &post));
            }
        }
        return;
    }
    for n in 1..=upto {
        if !size_and_proportion_met(view, n) {
            continue;
        }
        let Some((check, pre, post)) = check_at(view, n, upto) else {
            continue;
        };
        if !check.is_sudden_loss() {
            continue;
        }
        // The first session at which the data then available flagged it.
        let known = (n..=(n + 2).min(upto))
            .find(|&t| check_at(view, n, t).is_some_and(|(c, _, _)| c.is_sudden_loss()))
            .unwrap_or(upto);
        out.push(make_signal(view, n, known, &check, &pre, &post));
    }
}

fn make_signal(
    view: &View<'_, '_>,
    n: usize,
    known: usize,
    check: &IntervalCheck,
    pre_sessions: &[u32],
    post_sessions: &[u32],
) -> Signal {
    let direction = view.direction();
    let settings = &view.settings.sudden_loss;
    let before = view.series.totals[n - 1].unwrap_or(f64::NAN);
    let after = view.series.totals[n].unwrap_or(f64::NAN);
    let from = view.series.session(n - 1);
    let to = view.series.session(n);
    let t = check.t_critical.unwrap_or(f64::NAN);
    let pooled = check.pooled_sd.unwrap_or(f64::NAN);
    let stayed = match direction {
        Direction::HigherIsBetter => "stayed down",
        Direction::LowerIsBetter => "stayed up",
    };
    let explanation = format!(
        "Total {verb} from {before} to {after} between sessions {from} and {to} and {stayed}: \
mean {pre_mean} over {pre_s}, then {post_mean} over {post_s}. \
This meets all three sudden-loss criteria (Tang & DeRubeis 1999): a {noun} of at least {cutoff} points, \
at least {pct}% of the earlier total, and a difference of means above {limit} (t = {t} × pooled SD {pooled}).",
        verb = direction.worse_verb(),
        noun = direction.worse_noun(),
        before = fmt_points(before),
        after = fmt_points(after),
        pre_mean = fmt_points(check.pre.mean),
        post_mean = fmt_points(check.post.mean),
        pre_s = fmt_sessions(pre_sessions),
        post_s = fmt_sessions(post_sessions),
        cutoff = fmt_points(check.cutoff),
        pct = fmt_points(settings.proportion * 100.0),
        limit = fmt_2dp(t * pooled),
        t = fmt_2dp(t),
        pooled = fmt_2dp(pooled),
    );
    let mut signal = view.signal(
        RuleId::SuddenLoss,
        n,
        Severity::High,
        explanation,
        &[
            ("before", before),
            ("after", after),
            ("size", check.size),
            ("cutoff", check.cutoff),
            ("proportion", settings.proportion),
            ("pre_mean", check.pre.mean),
            ("post_mean", check.post.mean),
            ("pre_n", check.pre.n as f64),
            ("post_n", check.post.n as f64),
            ("pre_sd", check.pre.sd),
            ("post_sd", check.post.sd),
            ("pooled_sd", pooled),
            ("t_critical", t),
            ("alpha", settings.alpha),
        ],
    );
    signal.from_session = Some(from);
    signal.known_at_session = view.series.session(known);
    signal
}

/// One examined interval of a history, for research exports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalReport {
    pub from_session: u32,
    pub session: u32,
    pub check: IntervalCheck,
}

/// Every interval n−1 → n with both totals present, with its criteria
/// (undetermined ones included), over the whole history.
pub fn intervals(
    history: &crate::domain::history::ClientHistory,
    settings: &super::EngineSettings,
) -> Vec<IntervalReport> {
    let series = Series::new(history, settings);
    if series.len() < 2 {
        return Vec::new();
    }
    let view = View {
        series: &series,
        settings,
        upto: series.len() - 1,
        latest_only: false,
    };
    (1..series.len())
        .filter_map(|n| {
            check_at(&view, n, view.upto).map(|(check, _, _)| IntervalReport {
                from_session: series.session(n - 1),
                session: series.session(n),
                check,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::ClientHistory;
    use crate::domain::signals::{EngineSettings, find_signals};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    fn reference_settings(direction: Direction) -> EngineSettings {
        let mut s = EngineSettings::default().only(RuleId::SuddenLoss);
        s.direction = direction;
        s.sudden_loss.cutoff = Some(7.0);
        s
    }

    #[test]
    fn critical_values_come_from_the_t_distribution() {
        assert!(close(critical_t(0.05, 4).unwrap(), 2.776));
        assert!(close(critical_t(0.05, 3).unwrap(), 3.182));
        assert!(close(critical_t(0.05, 2).unwrap(), 4.303));
        assert!(close(critical_t(0.01, 4).unwrap(), 4.604));
        assert!(close(critical_t(0.01, 2).unwrap(), 9.925));
        assert_eq!(critical_t(0.0, 4), None);
        assert_eq!(critical_t(1.5, 4), None);
    }

    #[test]
    fn reference_package_check_interval_examples() {
        let s = SuddenLossSettings::default();
        // Falls of a lower-is-better score (the package's "sudden gains").
        let c = check_interval(
            33.0,
            5.0,
            &[32.0, 31.0, 33.0],
            &[5.0, 6.0, 7.0],
            7.0,
            &s,
            Direction::HigherIsBetter,
        );
        assert!(c.is_sudden_loss());
        assert_eq!((c.pre.mean, c.post.mean, c.pre.sd, c.post.sd), (32.0, 6.0, 1.0, 1.0));
        assert!(close(c.t_critical.unwrap(), 2.776));
        // Missing values: one on each side → df 2.
        let c = check_interval(
            33.0,
            5.0,
            &[31.0, 33.0],
            &[5.0, 7.0],
            7.0,
            &s,
            Direction::HigherIsBetter,
        );
        assert!(close(c.t_critical.unwrap(), 4.303));
        assert!(close(c.pre.sd, 1.414));
        // A rise, checked with the mirrored criteria: pre 5, NA, 7; post 16, 12, 14.
        let c = check_interval(
            7.0,
            16.0,
            &[5.0, 7.0],
            &[16.0, 12.0, 14.0],
            7.0,
            &s,
            Direction::LowerIsBetter,
        );
        assert!(c.is_sudden_loss());
        assert!(close(c.t_critical.unwrap(), 3.182));
        assert_eq!((c.pre.mean, c.post.mean, c.post.sd), (6.0, 14.0, 2.0));
    }

    #[test]
    fn fewer_than_two_on_a_side_is_undetermined() {
        let s = SuddenLossSettings::default();
        let c = check_interval(
            38.0,
            20.0,
            &[38.0],
            &[20.0, 21.0, 19.0],
            7.0,
            &s,
            Direction::HigherIsBetter,
        );
        assert_eq!(c.stable, None);
        assert!(!c.is_sudden_loss());
    }

    #[test]
    fn no_missing_adjust_uses_the_three_plus_three_value() {
        let s = SuddenLossSettings {
            missing_adjust: false,
            ..SuddenLossSettings::default()
        };
        let c = check_interval(
            33.0,
            5.0,
            &[31.0, 33.0],
            &[5.0, 7.0],
            7.0,
            &s,
            Direction::HigherIsBetter,
        );
        assert!(close(c.t_critical.unwrap(), 2.776));
    }

    #[test]
    fn reference_case_1_falls_at_3_to_4_and_7_to_8() {
        // Case 1 of the reference data, sessions 1–12.
        let x = [35.0, 37.0, 34.0, 23.0, 24.0, 21.0, 29.0, 17.0, 11.0, 11.0, 10.0, 7.0];
        let h = ClientHistory::from_totals(&x.map(Some));
        let s = find_signals(&h, &reference_settings(Direction::HigherIsBetter));
        let found: Vec<(Option<u32>, u32, u32)> = s
            .iter()
            .map(|s| (s.from_session, s.session, s.known_at_session))
            .collect();
        // 7 → 8 needs all three later values (17, 11, 11) to pass criterion 3.
        assert_eq!(found, vec![(Some(3), 4, 5), (Some(7), 8, 10)]);
        assert_eq!(s[0].inputs["size"], 11.0);
        assert!(s[0].explanation.starts_with(
            "Total fell from 34 to 23 between sessions 3 and 4 and stayed down: mean 35.3 over sessions 1–3, then 22.7 over sessions 4–6."
        ));
        assert!(s[0].explanation.contains("(t = 2.78 × pooled SD 1.53)"));
    }

    #[test]
    fn an_interval_across_a_missing_session_is_not_examined() {
        // Case 2 of the reference data: 26, –, 26, –, 27, 17, 19, 11, 10, 3, –, 7.
        let x = [
            Some(26.0),
            None,
            Some(26.0),
            None,
            Some(27.0),
            Some(17.0),
            Some(19.0),
            Some(11.0),
            Some(10.0),
            Some(3.0),
            None,
            Some(7.0),
        ];
        let h = ClientHistory::from_totals(&x);
        let s = find_signals(&h, &reference_settings(Direction::HigherIsBetter));
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn known_only_once_two_later_sessions_are_in() {
        let mut h = ClientHistory::from_totals(&[Some(38.0), Some(39.0), Some(38.0), Some(24.0)]);
        let settings = reference_settings(Direction::HigherIsBetter);
        assert!(
            find_signals(&h, &settings).is_empty(),
            "one value after the fall: undetermined"
        );
        h.push(crate::domain::history::SessionOutcome::total_only(25.0));
        let s = find_signals(&h, &settings);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].session, s[0].known_at_session), (4, 5));
    }
}
