//! The combiner: turns one client's signals into alert episodes, as the
//! server sees them session by session (CLINICAL.md §2, last paragraph, and §3).
//!
//! **Online.** At each session t only the history up to t is used. A signal
//! first known at t either joins the open episode (raising its severity) or,
//! with no episode open, may open one. So an alert opens at the first session
//! at which the engine could have known, and evaluating a longer history
//! never changes an earlier episode's `opened_at_session` nor removes its
//! signals. The same (rule, session) is reported once.
//!
//! A pending invitation (neither answered nor expired) is skipped. The
//! guarantee above is for sessions appended at the end: if a pending
//! invitation in the middle is later answered, the decisions after it are
//! made again with the answer and may differ.
//!
//! **When an episode opens.** Each signal has a severity (see the rules);
//! an episode opens when the signals waiting together reach
//! `alerts.opens_at` (default medium). Weaker signals (a one-point drop, a
//! small item fall) wait `alerts.hold_sessions` sessions for company and
//! join the episode if one opens; otherwise they remain only in the
//! retrospective list.
//!
//! **Severity accumulates** and never falls: the episode's severity is the
//! highest of
//! - the highest severity of its signals (reliable drop, sudden loss and a
//!   "yes" on the screener are high by themselves);
//! - medium when two or more different rules agree;
//! - high when going quiet comes with a low score or a reliable drop.
//!
//! **Measured recovery** (the V-shape of Stiles et al. 2004; CLINICAL.md §3):
//! an episode is recovered at a later answered session, after its lowest
//! point and within `alerts.recovery_within_sessions` answered sessions
//! (default 2) of it, whose total is back within the reliable-change band of
//! the baseline **and**, when the baseline was not below the cutoff, not
//! below the cutoff. The lowest point itself never counts; sessions without
//! an answer neither show recovery nor count; a slide that keeps making new
//! lowest points is never recovered; and a later answered session that no
//! longer meets the test clears the recovery.
//!
//! **When an episode ends.** When a clinician records an outcome
//! ([`ClosedEpisode`]), signals known after `closed_after_session` start a
//! new episode; after "not a rupture" the client's own level is the
//! reference for the level rules ([`Accepted`]). Without one (the CLI), an episode ends by itself once it has
//! recovered and `alerts.settled_after_sessions` answered sessions (default
//! 2) within the band have followed its last signal with no new signal.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::history::ClientHistory;
use super::signals::{
    EngineSettings, RuleId, Series, Severity, Signal, View, find_all, find_signals, reliable_change_threshold,
};

/// A clinician's recorded outcome on an alert: it closes the episode that
/// opened at `opened_at_session` after `closed_after_session` had been seen.
/// `not_a_rupture`: the clinician judged it a false alarm, so the client's
/// level at that point becomes the reference for the level rules the
/// episode held (see [`Accepted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedEpisode {
    pub opened_at_session: u32,
    pub closed_after_session: u32,
    #[serde(default)]
    pub not_a_rupture: bool,
}

/// Rules that compare the total with a fixed reference (the cutoff or the
/// baseline): for a client stably below it they fire at every session.
const LEVEL_RULES: [RuleId; 3] = [RuleId::LowScore, RuleId::ReliableDrop, RuleId::GradualDecline];
/// At most this many answered sessions, from the alert's opening to the
/// clinician's judgement, give the client's accepted level (their mean).
const ACCEPTED_LEVEL_SESSIONS: usize = 3;

/// After "not a rupture" on an alert that held a level rule: the client's
/// own recent level is the reference for the level rules. Their signals open nothing while
/// the total stays within the reliable-change band below that level; a
/// total reliably below it, or a sudden loss, ends the acceptance and the
/// rules speak again. Change rules (drops, sudden loss, the client's own
/// words, going quiet) are never silenced.
#[derive(Debug, Clone)]
struct Accepted {
    level: f64,
}

impl Accepted {
    fn after(ep: &AlertEpisode, series: &Series<'_>, closed_after: u32) -> Option<Accepted> {
        // A judgement on a level means every level rule: they measure the
        // same distance from the same baseline.
        let held_a_level_rule = ep.signals.iter().any(|s| LEVEL_RULES.contains(&s.rule));
        // The level since the alert opened (what the clinician judged), at
        // most the last few answers; never the sessions before the fall.
        let recent: Vec<f64> = (0..series.len())
            .rev()
            .filter(|&i| (ep.opened_at_session..=closed_after).contains(&series.session(i)))
            .filter_map(|i| series.totals[i])
            .take(ACCEPTED_LEVEL_SESSIONS)
            .collect();
        if !held_a_level_rule || recent.is_empty() {
            return None;
        }
        Some(Accepted {
            level: recent.iter().sum::<f64>() / recent.len() as f64,
        })
    }
}

/// Why an episode no longer takes signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeEnd {
    /// A clinician recorded an outcome.
    ClinicianOutcome,
    /// Recovered and settled with no new signal (no clinician outcome needed).
    Settled,
}

/// One alert: a client episode with every signal attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEpisode {
    /// The session at which the alert opened (the server's key with the client).
    pub opened_at_session: u32,
    pub severity: Severity,
    /// Every signal attached, in the order they became known.
    pub signals: Vec<Signal>,
    /// The session with the worst total during the episode.
    pub lowest_session: Option<u32>,
    /// Measured recovery: the session at which the total was back within the
    /// reliable-change band of the baseline, within N sessions of the lowest point.
    pub recovered_at_session: Option<u32>,
    /// True once the episode takes no more signals.
    pub closed: bool,
    /// The last session the episode covered, once closed.
    pub closed_after_session: Option<u32>,
    pub ended_by: Option<EpisodeEnd>,
}

impl AlertEpisode {
    /// The distinct rules of the attached signals, in rule order.
    pub fn rules(&self) -> Vec<RuleId> {
        self.signals
            .iter()
            .map(|s| s.rule)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The full evaluation of one client's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Retrospective: every rule over the whole history.
    pub signals: Vec<Signal>,
    /// Online: the alerts the server would have opened, session by session.
    pub alerts: Vec<AlertEpisode>,
}

/// Evaluates a history: every signal (retrospective) and the alerts (online).
pub fn evaluate(history: &ClientHistory, settings: &EngineSettings, closed: &[ClosedEpisode]) -> Evaluation {
    Evaluation {
        signals: find_signals(history, settings),
        alerts: alerts(history, settings, closed),
    }
}

/// The severity a set of signals reaches together (see the module docs).
pub fn combined_severity(signals: &[Signal]) -> Option<Severity> {
    let highest = signals.iter().map(|s| s.severity).max()?;
    let rules: BTreeSet<RuleId> = signals.iter().map(|s| s.rule).collect();
    let mut severity = highest;
    if rules.len() >= 2 {
        severity = severity.max(Severity::Medium);
    }
    let quiet = rules.contains(&RuleId::GoingQuiet);
    let low = rules.contains(&RuleId::LowScore) || rules.contains(&RuleId::ReliableDrop);
    if quiet && low {
        severity = Severity::High;
    }
    Some(severity)
}

struct OpenEpisode {
    episode: AlertEpisode,
    /// Index of the earliest session a signal concerns.
    span_start: usize,
    /// Index of the session at which the last signal became known.
    last_signal_at: usize,
}

/// The online alerts of a history (see the module docs).
pub fn alerts(history: &ClientHistory, settings: &EngineSettings, closed: &[ClosedEpisode]) -> Vec<AlertEpisode> {
    let series = Series::new(history, settings);
    let band = settings.reliable_change();
    let mut seen: BTreeSet<(RuleId, u32)> = BTreeSet::new();
    let mut held: Vec<Signal> = Vec::new();
    let mut open: Option<OpenEpisode> = None;
    let mut done: Vec<AlertEpisode> = Vec::new();
    let mut found: Vec<Signal> = Vec::new();
    let mut accepted: Option<Accepted> = None;

    for t in 0..series.len() {
        let now = series.session(t);
        if let Some(ep) = &open
            && let Some(c) = closure_for(closed, ep.episode.opened_at_session)
            && c.closed_after_session < now
        {
            if c.not_a_rupture {
                accepted = Accepted::after(&ep.episode, &series, c.closed_after_session);
            }
            done.push(finish(
                open.take().expect("checked"),
                c.closed_after_session,
                EpisodeEnd::ClinicianOutcome,
            ));
        }

        found.clear();
        let view = View {
            series: &series,
            settings,
            upto: t,
            latest_only: true,
        };
        find_all(&view, &mut found);
        let mut new: Vec<Signal> = found
            .drain(..)
            .filter(|s| s.known_at_session == now && seen.insert((s.rule, s.session)))
            .collect();
        new.sort_by_key(|s| (s.rule, s.session));
        if let Some(a) = &accepted {
            let reliably_below = series.totals[t].is_some_and(|x| settings.direction.worsening(a.level, x) > band);
            if reliably_below || new.iter().any(|s| s.rule == RuleId::SuddenLoss) {
                accepted = None;
            } else if open.is_none() {
                new.retain(|s| !LEVEL_RULES.contains(&s.rule));
            }
        }
        let had_new = !new.is_empty();

        match &mut open {
            Some(ep) => {
                for s in new {
                    ep.span_start = ep.span_start.min(index_of(&series, s.session));
                    ep.episode.signals.push(s);
                }
                if had_new {
                    ep.last_signal_at = t;
                    let sev = combined_severity(&ep.episode.signals).unwrap_or(Severity::Low);
                    ep.episode.severity = ep.episode.severity.max(sev);
                }
            }
            None => {
                held.retain(|s| now.saturating_sub(s.known_at_session) <= settings.alerts.hold_sessions);
                held.extend(new);
                if let Some(sev) = combined_severity(&held)
                    && sev >= settings.alerts.opens_at
                {
                    let signals = std::mem::take(&mut held);
                    let span_start = signals.iter().map(|s| index_of(&series, s.session)).min().unwrap_or(t);
                    open = Some(OpenEpisode {
                        episode: AlertEpisode {
                            opened_at_session: now,
                            severity: sev,
                            signals,
                            lowest_session: None,
                            recovered_at_session: None,
                            closed: false,
                            closed_after_session: None,
                            ended_by: None,
                        },
                        span_start,
                        last_signal_at: t,
                    });
                }
            }
        }

        if let Some(ep) = &mut open {
            track_recovery(ep, &series, t, band, settings);
            if !had_new && settled(ep, &series, t, band, settings) {
                done.push(finish(open.take().expect("checked"), now, EpisodeEnd::Settled));
            }
        }
    }

    if let Some(ep) = open {
        match closure_for(closed, ep.episode.opened_at_session) {
            Some(c) => done.push(finish(ep, c.closed_after_session, EpisodeEnd::ClinicianOutcome)),
            None => done.push(ep.episode),
        }
    }
    done
}

/// The alerts as they would be with a clinician who records an outcome
/// `after` sessions after each alert opens (alerts opened fewer than `after`
/// sessions before the end stay open); `not_a_rupture(opened_at)` says which
/// outcome. Each outcome changes what follows, so episodes are re-derived
/// after each one, in order.
pub fn alerts_handled(
    history: &ClientHistory,
    settings: &EngineSettings,
    after: u32,
    not_a_rupture: impl Fn(u32) -> bool,
) -> Vec<AlertEpisode> {
    let last = history.sessions.iter().map(|s| s.session).max().unwrap_or(0);
    let mut closed: Vec<ClosedEpisode> = Vec::new();
    loop {
        let episodes = alerts(history, settings, &closed);
        let next = episodes.iter().find(|e| {
            !e.closed
                && e.opened_at_session + after <= last
                && !closed.iter().any(|c| c.opened_at_session == e.opened_at_session)
        });
        match next {
            Some(e) => closed.push(ClosedEpisode {
                opened_at_session: e.opened_at_session,
                closed_after_session: e.opened_at_session + after,
                not_a_rupture: not_a_rupture(e.opened_at_session),
            }),
            None => return episodes,
        }
    }
}

fn closure_for(closed: &[ClosedEpisode], opened_at: u32) -> Option<ClosedEpisode> {
    closed
        .iter()
        .filter(|c| c.opened_at_session == opened_at)
        .min_by_key(|c| c.closed_after_session)
        .copied()
}

fn finish(ep: OpenEpisode, after: u32, why: EpisodeEnd) -> AlertEpisode {
    let mut episode = ep.episode;
    episode.closed = true;
    episode.closed_after_session = Some(after);
    episode.ended_by = Some(why);
    episode
}

/// The index of a session number (sessions are in order); the nearest
/// earlier index when the number is not present.
fn index_of(series: &Series<'_>, session: u32) -> usize {
    match series.records.binary_search_by_key(&session, |r| r.session) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    }
}

/// Is the total at `i` within the reliable-change band of the baseline?
fn within_band(series: &Series<'_>, i: usize, band: f64, settings: &EngineSettings) -> Option<bool> {
    let total = series.totals[i]?;
    let reference = series.reference_value_before(i)?;
    Some(settings.direction.worsening(reference, total) <= band)
}

fn track_recovery(ep: &mut OpenEpisode, series: &Series<'_>, t: usize, band: f64, settings: &EngineSettings) {
    let direction = settings.direction;
    let mut lowest: Option<usize> = None;
    for i in ep.span_start..=t {
        if let Some(x) = series.totals[i] {
            let worse = match lowest.and_then(|l| series.totals[l]) {
                None => true,
                Some(y) => direction.worsening(y, x) > 0.0,
            };
            if worse {
                lowest = Some(i);
            }
        }
    }
    let Some(low) = lowest else {
        return;
    };
    ep.episode.lowest_session = Some(series.session(low));
    let within = settings.alerts.recovery_within_sessions as usize;
    let answered_after: Vec<usize> = (low + 1..=t).filter(|&i| series.totals[i].is_some()).collect();
    let recovered_at = answered_after
        .iter()
        .take(within)
        .copied()
        .find(|&i| back_to_usual(series, i, band, settings));
    // A later answered session that fails the test again clears it, and so
    // does any signal about a later session than the rebound (a fall after
    // a recovery, whichever rule saw it, or a signal that opened the alert
    // after the scores had come back): the alert is not recovered while
    // something newer than the rebound is wrong.
    let last_signal = ep.episode.signals.iter().map(|s| s.session).max();
    ep.episode.recovered_at_session = recovered_at
        .filter(|&r| {
            answered_after
                .iter()
                .filter(|&&i| i > r)
                .all(|&i| back_to_usual(series, i, band, settings))
        })
        .map(|i| series.session(i))
        .filter(|&r| last_signal.is_none_or(|last| last < r));
}

/// Is the total at `i` back to the client's usual: within the band of the
/// baseline and, if the baseline was not below the cutoff, not below it?
fn back_to_usual(series: &Series<'_>, i: usize, band: f64, settings: &EngineSettings) -> bool {
    if within_band(series, i, band, settings) != Some(true) {
        return false;
    }
    let (Some(cutoff), Some(total), Some(baseline)) = (
        settings.low_score.cutoff,
        series.totals[i],
        series.reference_value_before(i),
    ) else {
        return true;
    };
    let worse_than_cutoff = |x: f64| settings.direction.worsening(cutoff, x) > 0.0;
    worse_than_cutoff(baseline) || !worse_than_cutoff(total)
}

fn settled(ep: &OpenEpisode, series: &Series<'_>, t: usize, band: f64, settings: &EngineSettings) -> bool {
    if ep.episode.recovered_at_session.is_none() {
        return false;
    }
    let needed = settings.alerts.settled_after_sessions as usize;
    let mut calm = 0usize;
    for i in ep.last_signal_at + 1..=t {
        match within_band(series, i, band, settings) {
            Some(true) => calm += 1,
            Some(false) => return false,
            None => {}
        }
    }
    needed > 0 && calm >= needed
}

/// Which way a client's recent totals are heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// Getting better (higher for a higher-is-better instrument).
    Up,
    Flat,
    /// Getting worse.
    Down,
}

/// How many of the latest answered totals the trend looks at.
pub const TREND_WINDOW: usize = 4;
/// Fewest answered totals for a trend.
pub const TREND_MIN_ANSWERS: usize = 3;

/// The trend for the clients list: the least-squares slope of the last 4
/// answered totals (by session number), times the sessions they span, is
/// the fitted change. It is Up or Down when that change is at least half the
/// reliable-change threshold in the better or worse direction (a fitted line
/// through 4 points is less noisy than one difference, so half the band is
/// used), otherwise Flat. Fewer than 3 answered totals: no trend (None),
/// not "steady": two answers say nothing about a direction.
pub fn trend(history: &ClientHistory, settings: &EngineSettings) -> Option<Trend> {
    let points: Vec<(f64, f64)> = history.answered_totals().map(|(s, t)| (f64::from(s), t)).collect();
    let points = &points[points.len().saturating_sub(TREND_WINDOW)..];
    if points.len() < TREND_MIN_ANSWERS {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return Some(Trend::Flat);
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let change = sxy / sxx * (points[points.len() - 1].0 - points[0].0);
    let worsening = settings.direction.worsening(0.0, change);
    let limit = settings.reliable_change() / 2.0;
    Some(if worsening >= limit {
        Trend::Down
    } else if -worsening >= limit {
        Trend::Up
    } else {
        Trend::Flat
    })
}

/// The client's personal baseline: the mean of their first 3 answered
/// sessions (`baseline_sessions`); None until that many are answered.
pub fn baseline(history: &ClientHistory, settings: &EngineSettings) -> Option<f64> {
    Series::new(history, settings).baseline()
}

/// The reliable-change band around the baseline, (low, high), for charts.
pub fn reliable_change_band(history: &ClientHistory, settings: &EngineSettings) -> Option<(f64, f64)> {
    let b = baseline(history, settings)?;
    let w = settings.reliable_change();
    Some((b - w, b + w))
}

/// The reliable-change threshold for an SD and reliability (1.96·S_diff).
pub fn reliable_change(sd: f64, reliability: f64) -> f64 {
    reliable_change_threshold(sd, reliability)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::SessionOutcome;
    use proptest::prelude::*;

    fn h(totals: &[Option<f64>]) -> ClientHistory {
        ClientHistory::from_totals(totals)
    }

    #[test]
    fn a_reliable_drop_opens_one_high_alert_that_gathers_the_rest() {
        let history = h(&[Some(39.0), Some(38.0), Some(39.0), Some(31.0), Some(30.0)]);
        let e = evaluate(&history, &EngineSettings::default(), &[]);
        assert_eq!(e.alerts.len(), 1);
        let a = &e.alerts[0];
        assert_eq!(a.opened_at_session, 4);
        assert_eq!(a.severity, Severity::High);
        assert!(a.rules().contains(&RuleId::ReliableDrop));
        assert!(a.rules().contains(&RuleId::LowScore));
        let keys: BTreeSet<(RuleId, u32)> = a.signals.iter().map(|s| (s.rule, s.session)).collect();
        assert_eq!(keys.len(), a.signals.len(), "no duplicates");
        assert!(!a.closed);
        assert_eq!(a.lowest_session, Some(5));
        assert_eq!(a.recovered_at_session, None);
    }

    #[test]
    fn a_lone_one_point_drop_waits_for_company() {
        let history = h(&[Some(39.0), Some(39.0), Some(39.0), Some(38.0), Some(39.0)]);
        let e = evaluate(&history, &EngineSettings::default(), &[]);
        assert_eq!(e.signals.len(), 1);
        assert!(e.alerts.is_empty());
        let mut eager = EngineSettings::default();
        eager.alerts.opens_at = Severity::Low;
        assert_eq!(evaluate(&history, &eager, &[]).alerts.len(), 1);
    }

    #[test]
    fn a_v_shape_recovers_and_settles_by_itself() {
        let history = h(&[
            Some(38.0),
            Some(38.0),
            Some(38.0),
            Some(28.0),
            Some(37.0),
            Some(38.0),
            Some(38.0),
            Some(30.0),
        ]);
        let e = evaluate(&history, &EngineSettings::default(), &[]);
        assert_eq!(e.alerts.len(), 2, "{:#?}", e.alerts);
        let first = &e.alerts[0];
        assert_eq!(first.opened_at_session, 4);
        assert_eq!(first.lowest_session, Some(4));
        assert_eq!(first.recovered_at_session, Some(5));
        assert!(first.closed);
        assert_eq!(first.ended_by, Some(EpisodeEnd::Settled));
        assert_eq!(first.closed_after_session, Some(6));
        assert_eq!(e.alerts[1].opened_at_session, 8);
    }

    fn recovery_of(totals: &[f64]) -> Option<u32> {
        let history = h(&totals.iter().map(|t| Some(*t)).collect::<Vec<_>>());
        let mut settings = EngineSettings::default();
        // Keep the episode open to read its recovery as it stands.
        settings.alerts.settled_after_sessions = 0;
        let e = evaluate(&history, &settings, &[]);
        assert_eq!(e.alerts.len(), 1, "one episode: {:#?}", e.alerts);
        e.alerts[0].recovered_at_session
    }

    /// CLINICAL.md §3, worked: baseline 36.3, band ±6.8, cutoff 36.
    #[test]
    fn a_slow_slide_never_recovers() {
        assert_eq!(
            recovery_of(&[38.0, 36.0, 35.0, 34.0, 34.0, 32.0, 31.0, 30.0, 28.0, 27.0]),
            None
        );
        // At each point of the slide too, not only at its end.
        for end in 5..=10 {
            let slide = [38.0, 36.0, 35.0, 34.0, 34.0, 32.0, 31.0, 30.0, 28.0, 27.0];
            let history = h(&slide[..end].iter().map(|t| Some(*t)).collect::<Vec<_>>());
            for alert in evaluate(&history, &EngineSettings::default(), &[]).alerts {
                assert_eq!(alert.recovered_at_session, None, "after session {end}");
            }
        }
    }

    /// The demo clinic's client #14: flat scores (38, 37, 37, 38, 37, 39,
    /// 37, 39, 37), a small fall held at 7, and at 9 the client says
    /// something felt wrong, which opens the alert. The rebound at 8 came
    /// before what opened it: not recovered.
    #[test]
    fn a_rebound_before_the_signal_that_opened_the_alert_is_no_recovery() {
        let totals = [38.0, 37.0, 37.0, 38.0, 37.0, 39.0, 37.0, 39.0, 37.0];
        let mut history = h(&totals.iter().map(|t| Some(*t)).collect::<Vec<_>>());
        history.sessions[8].outcome = SessionOutcome::Answered {
            total: Some(37.0),
            items: Default::default(),
            screener_uncomfortable: Some(true),
            comment_given: true,
            comment: None,
        };
        let e = evaluate(&history, &EngineSettings::default(), &[]);
        let alert = e.alerts.last().expect("the client's words open an alert");
        assert_eq!(alert.opened_at_session, 9, "{alert:#?}");
        assert_eq!(alert.recovered_at_session, None, "{alert:#?}");
    }

    #[test]
    fn a_v_recovers_at_the_rebound() {
        assert_eq!(recovery_of(&[38.0, 39.0, 38.0, 30.0, 37.0]), Some(5));
    }

    #[test]
    fn the_lowest_point_never_counts_and_a_new_fall_clears_recovery() {
        // Back within the band but below the cutoff: not recovered.
        assert_eq!(recovery_of(&[38.0, 39.0, 38.0, 30.0, 34.0]), None);
        // Recovered at 5, then a fall (still above the lowest point) clears it.
        assert_eq!(recovery_of(&[38.0, 39.0, 38.0, 30.0, 37.0, 33.0]), None);
        // Recovery must come within two answered sessions of the lowest point.
        assert_eq!(recovery_of(&[38.0, 39.0, 38.0, 30.0, 31.0, 31.0, 37.0]), None);
        // A skipped session is not counted.
        let history = h(&[
            Some(38.0),
            Some(39.0),
            Some(38.0),
            Some(30.0),
            None,
            Some(31.0),
            Some(37.0),
        ]);
        let mut settings = EngineSettings::default();
        settings.alerts.settled_after_sessions = 0;
        assert_eq!(
            evaluate(&history, &settings, &[]).alerts[0].recovered_at_session,
            Some(7)
        );
    }

    #[test]
    fn a_clinician_outcome_closes_the_episode() {
        let history = h(&[Some(38.0), Some(38.0), Some(38.0), Some(30.0), Some(30.0), Some(29.0)]);
        let settings = EngineSettings::default();
        let before = evaluate(&history, &settings, &[]);
        assert_eq!(before.alerts.len(), 1);
        let closed = [ClosedEpisode {
            opened_at_session: 4,
            closed_after_session: 4,
            not_a_rupture: false,
        }];
        let after = evaluate(&history, &settings, &closed);
        assert_eq!(after.alerts.len(), 2);
        assert_eq!(after.alerts[0].ended_by, Some(EpisodeEnd::ClinicianOutcome));
        assert_eq!(after.alerts[0].closed_after_session, Some(4));
        assert_eq!(after.alerts[1].opened_at_session, 5);
        let closed_now = [ClosedEpisode {
            opened_at_session: 4,
            closed_after_session: 6,
            not_a_rupture: false,
        }];
        let e = evaluate(&history, &settings, &closed_now);
        assert_eq!(e.alerts.len(), 1);
        assert!(e.alerts[0].closed);
    }

    #[test]
    fn not_a_rupture_makes_the_clients_own_level_the_reference() {
        // Fell from 38 to about 30 and stays there.
        let steady: Vec<Option<f64>> = [38.0, 38.0, 38.0, 30.0, 30.0, 31.0, 30.0, 29.0, 30.0, 31.0]
            .into_iter()
            .map(Some)
            .collect();
        let settings = EngineSettings::default();
        let first = evaluate(&h(&steady), &settings, &[]);
        assert_eq!(first.alerts.len(), 1);
        assert_eq!(first.alerts[0].opened_at_session, 4);
        let judged = |not_a_rupture| {
            [ClosedEpisode {
                opened_at_session: 4,
                closed_after_session: 4,
                not_a_rupture,
            }]
        };
        // Repaired or not repaired: the low level opens a new alert at once.
        let repaired = evaluate(&h(&steady), &settings, &judged(false));
        assert_eq!(repaired.alerts.len(), 2);
        assert_eq!(repaired.alerts[1].opened_at_session, 5);
        // Not a rupture: 30 is this client's level now; nothing new while
        // they stay near it.
        let accepted = evaluate(&h(&steady), &settings, &judged(true));
        assert_eq!(accepted.alerts.len(), 1, "{:?}", accepted.alerts);
        // A reliable fall from that level speaks again.
        let mut falling = steady.clone();
        falling.push(Some(21.0));
        let fell = evaluate(&h(&falling), &settings, &judged(true));
        assert_eq!(fell.alerts.len(), 2, "{:?}", fell.alerts);
        assert_eq!(fell.alerts[1].opened_at_session, 11);
    }

    #[test]
    fn going_quiet_after_a_low_score_is_high() {
        let history = h(&[Some(38.0), Some(38.0), Some(38.0), Some(35.0), None]);
        let e = evaluate(&history, &EngineSettings::default(), &[]);
        assert_eq!(e.alerts.len(), 1);
        assert_eq!(e.alerts[0].opened_at_session, 4);
        assert_eq!(e.alerts[0].severity, Severity::High);
        assert!(e.alerts[0].rules().contains(&RuleId::GoingQuiet));
    }

    #[test]
    fn sudden_loss_is_known_later_and_joins_the_open_alert() {
        let mut settings = EngineSettings::default();
        settings.sudden_loss.cutoff = Some(7.0);
        let history = h(&[Some(38.0), Some(39.0), Some(38.0), Some(26.0), Some(27.0), Some(26.0)]);
        let e = evaluate(&history, &settings, &[]);
        assert_eq!(e.alerts.len(), 1);
        let sl: Vec<&Signal> = e.alerts[0]
            .signals
            .iter()
            .filter(|s| s.rule == RuleId::SuddenLoss)
            .collect();
        assert_eq!(sl.len(), 1);
        assert_eq!((sl[0].session, sl[0].known_at_session), (4, 5));
    }

    #[test]
    fn trend_and_baseline() {
        let s = EngineSettings::default();
        assert_eq!(
            trend(&h(&[Some(38.0), Some(37.0), Some(35.0), Some(33.0)]), &s),
            Some(Trend::Down)
        );
        assert_eq!(
            trend(&h(&[Some(33.0), Some(35.0), Some(37.0), Some(38.0)]), &s),
            Some(Trend::Up)
        );
        assert_eq!(
            trend(&h(&[Some(38.0), Some(37.0), Some(38.0), Some(38.0)]), &s),
            Some(Trend::Flat)
        );
        assert_eq!(trend(&h(&[Some(38.0)]), &s), None);
        assert_eq!(
            trend(&h(&[Some(38.0), Some(30.0)]), &s),
            None,
            "two answers are no trend"
        );
        assert_eq!(baseline(&h(&[Some(38.0), None, Some(36.0)]), &s), None);
        assert_eq!(
            baseline(&h(&[Some(38.0), None, Some(36.0), Some(40.0), Some(1.0)]), &s),
            Some(38.0)
        );
        let (lo, hi) = reliable_change_band(&h(&[Some(38.0), Some(38.0), Some(38.0)]), &s).unwrap();
        assert!((hi - lo - 2.0 * reliable_change(4.5, 0.7)).abs() < 1e-9);
    }

    fn outcome_strategy() -> impl Strategy<Value = SessionOutcome> {
        prop_oneof![
            6 => (20u8..=40, proptest::option::of(any::<bool>()), any::<bool>(), proptest::collection::vec(4u8..=10, 4))
                .prop_map(|(t, screener, comment, items)| {
                    let names = ["bond", "goals", "approach", "overall"];
                    SessionOutcome::Answered {
                        total: Some(f64::from(t)),
                        items: names.iter().zip(items).map(|(n, v)| (n.to_string(), f64::from(v))).collect(),
                        screener_uncomfortable: screener.filter(|_| t % 7 == 0),
                        comment_given: comment,
                        comment: None,
                    }
                }),
            1 => Just(SessionOutcome::Unanswered),
            1 => Just(SessionOutcome::Missed),
        ]
    }

    fn settings_strategy() -> impl Strategy<Value = EngineSettings> {
        (any::<bool>(), 0u8..3).prop_map(|(eager, which)| {
            let mut s = EngineSettings::default();
            if eager {
                s.alerts.opens_at = Severity::Low;
            }
            s.sudden_loss.cutoff = Some([4.0, 7.0, 10.0][which as usize]);
            s
        })
    }

    fn history_of(outcomes: Vec<SessionOutcome>) -> ClientHistory {
        let mut h = ClientHistory::default();
        for o in outcomes {
            h.push(o);
        }
        h
    }

    fn keys(a: &AlertEpisode) -> Vec<(RuleId, u32, u32)> {
        a.signals
            .iter()
            .map(|s| (s.rule, s.session, s.known_at_session))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn odd_session_numbers_never_panic(
            records in proptest::collection::vec((any::<u32>(), outcome_strategy()), 0..20),
            settings in settings_strategy(),
        ) {
            let history = ClientHistory {
                sessions: records
                    .into_iter()
                    .map(|(session, outcome)| crate::domain::history::SessionRecord { session, outcome })
                    .collect(),
            };
            let e = evaluate(&history, &settings, &[]);
            let _ = trend(&history, &settings);
            let _ = serde_json::to_string(&e).unwrap();
        }

        #[test]
        fn evaluation_is_idempotent(outcomes in proptest::collection::vec(outcome_strategy(), 0..30), settings in settings_strategy()) {
            let history = history_of(outcomes);
            let a = evaluate(&history, &settings, &[]);
            let b = evaluate(&history, &settings, &[]);
            prop_assert_eq!(&a, &b);
        }

        #[test]
        fn appending_sessions_never_rewrites_earlier_episodes(
            outcomes in proptest::collection::vec(outcome_strategy(), 1..30),
            cut in 0usize..30,
            close_first in any::<bool>(),
            settings in settings_strategy(),
        ) {
            let full = history_of(outcomes);
            let cut = cut.min(full.sessions.len());
            let prefix = ClientHistory { sessions: full.sessions[..cut].to_vec() };
            let last = prefix.sessions.last().map_or(0, |s| s.session);
            // Optionally a clinician closed the first alert of the prefix at its last session.
            let first = alerts(&prefix, &settings, &[]);
            let closed: Vec<ClosedEpisode> = if close_first {
                first.first().map(|a| ClosedEpisode { opened_at_session: a.opened_at_session, closed_after_session: last, not_a_rupture: false }).into_iter().collect()
            } else {
                Vec::new()
            };
            let short = alerts(&prefix, &settings, &closed);
            let long = alerts(&full, &settings, &closed);
            prop_assert!(long.len() >= short.len());
            for (s, l) in short.iter().zip(long.iter()) {
                prop_assert_eq!(s.opened_at_session, l.opened_at_session);
                let known: Vec<_> = keys(l).into_iter().filter(|k| k.2 <= last).collect();
                prop_assert_eq!(keys(s), known);
                prop_assert!(l.severity >= s.severity);
                if s.closed {
                    prop_assert_eq!(s, l);
                }
            }
            for l in &long[short.len()..] {
                prop_assert!(l.opened_at_session > last);
            }
            // The same (rule, session) is never reported twice across alerts.
            let mut all = BTreeSet::new();
            for a in &long {
                for s in &a.signals {
                    prop_assert!(all.insert((s.rule, s.session)));
                }
            }
        }

        #[test]
        fn online_rules_see_what_the_whole_prefix_sees(outcomes in proptest::collection::vec(outcome_strategy(), 1..25)) {
            // Every signal the rules report over a prefix was reported by the
            // online pass at or before that prefix's last session.
            let settings = EngineSettings::default();
            let history = history_of(outcomes);
            let mut eager = settings.clone();
            eager.alerts.opens_at = Severity::Low;
            eager.alerts.settled_after_sessions = u32::MAX;
            let online: BTreeSet<(RuleId, u32)> = alerts(&history, &eager, &[])
                .iter()
                .flat_map(|a| a.signals.iter().map(|s| (s.rule, s.session)))
                .collect();
            for cut in 1..=history.sessions.len() {
                let prefix = ClientHistory { sessions: history.sessions[..cut].to_vec() };
                for s in find_signals(&prefix, &settings) {
                    prop_assert!(online.contains(&(s.rule, s.session)), "{:?} at {} missing online", s.rule, s.session);
                }
            }
        }
    }
}
