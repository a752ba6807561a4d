//! A seeded simulation of client series, to compare the rules (`rapport evaluate`).
//!
//! # The model
//!
//! Each simulated client answers the shipped alliance instrument (4 items,
//! 0–10, total 0–40) after each of 6–20 sessions.
//!
//! - **Personal baseline near the ceiling.** The client's latent total is
//!   44 − |N(0, 5.5)|, spread over the four items with small personal item
//!   offsets; it may lie above 40 because answers stop at 10 per item, which
//!   is what crowds real totals at the ceiling. Observed totals then have a
//!   median of 38, about a fifth of answers at 40 and a fifth below the
//!   cutoff of 36. The latent level rises a little over the first sessions
//!   (up to 1.5 points by session 5), as alliance often does.
//! - **Measurement noise from the instrument.** Each item gets independent
//!   normal noise with SD SEM/2, where SEM = SD·√(1 − r) from the settings
//!   (2.5 points of total for r .70, SD 4.5), so the total's noise is the
//!   standard error of measurement; answers are rounded to whole points and
//!   clipped to 0–10, which makes totals crowd the ceiling as real ones do.
//! - **Planted ruptures** in half the clients, at a session from 3 to two
//!   before the end, of four equally likely shapes:
//!   - *sudden V*: the total falls by 4–12 points at once; in 60% it is
//!     repaired over the next 1–2 sessions, otherwise it stays down by half
//!     to all of the fall;
//!   - *slow slide*: a fall of 4–10 points spread over 3–6 sessions, not repaired;
//!   - *going quiet*: a dip of 0–4 points, then 2–4 invitations that are
//!     answered only 10% of the time; 40% of these clients then stop
//!     answering altogether, the others come back at half the dip;
//!   - *bond strain*: the bond item alone falls by 2–5 points for 3–5
//!     sessions while the total barely moves.
//!
//!   Falls are spread over the items with the bond item taking 40%.
//!   Ruptures are mostly unspoken: during one, an answer ticks the screener
//!   with probability .25 and adds a comment with probability .3.
//! - **Background behaviour** for everyone: an invitation goes unanswered
//!   with probability .10 (.25 during a rupture), an appointment is missed
//!   with probability .03 (.08 during a rupture), the screener is ticked
//!   with probability .02 and a comment written with probability .08.
//!
//! # What is measured
//!
//! A rupture's *window* runs from its onset to one session after its effect
//! ends. A rupture is *detected* when an alert brings news in its window:
//! an alert opens, or an open alert gains a rule it did not have or rises
//! in severity (more signals of a rule already shown are not news). The
//! *delay* is the sessions from onset to that first news. A *false alert* is an alert opened outside
//! every rupture window. Single rules are run alone with any signal allowed
//! to open an alert; the engine runs with its settings; the plain rule
//! raises an alert at every total below the cutoff, as most products do.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::engine::{AlertEpisode, alerts, alerts_handled, combined_severity};
use super::history::{ClientHistory, SessionOutcome};
use super::signals::{EngineSettings, RuleId, Severity};

/// The shapes of planted rupture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuptureShape {
    SuddenV,
    SlowSlide,
    GoingQuiet,
    BondStrain,
}

impl RuptureShape {
    pub const ALL: [RuptureShape; 4] = [
        RuptureShape::SuddenV,
        RuptureShape::SlowSlide,
        RuptureShape::GoingQuiet,
        RuptureShape::BondStrain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuptureShape::SuddenV => "sudden V",
            RuptureShape::SlowSlide => "slow slide",
            RuptureShape::GoingQuiet => "going quiet",
            RuptureShape::BondStrain => "bond strain",
        }
    }
}

/// A rupture planted in a simulated client.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlantedRupture {
    pub shape: RuptureShape,
    /// First session affected.
    pub onset: u32,
    /// Last session of the detection window (effect end + 1).
    pub window_end: u32,
    /// Size of the planted fall in total points (bond strain: item points).
    pub depth: f64,
}

/// One simulated client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedClient {
    pub history: ClientHistory,
    pub rupture: Option<PlantedRupture>,
}

/// Parameters of the model (see the module docs); the defaults are the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulationModel {
    pub min_sessions: u32,
    pub max_sessions: u32,
    /// The latent baseline is `latent_top` − |N(0, `baseline_spread`)|.
    pub latent_top: f64,
    pub baseline_spread: f64,
    pub rupture_share: f64,
    pub p_unanswered: f64,
    pub p_unanswered_in_rupture: f64,
    pub p_missed: f64,
    pub p_missed_in_rupture: f64,
    pub p_screener_background: f64,
    pub p_screener_in_rupture: f64,
    pub p_comment_background: f64,
    pub p_comment_in_rupture: f64,
}

impl Default for SimulationModel {
    fn default() -> Self {
        SimulationModel {
            min_sessions: 6,
            max_sessions: 20,
            latent_top: 44.0,
            baseline_spread: 5.5,
            rupture_share: 0.5,
            p_unanswered: 0.10,
            p_unanswered_in_rupture: 0.25,
            p_missed: 0.03,
            p_missed_in_rupture: 0.08,
            p_screener_background: 0.02,
            p_screener_in_rupture: 0.25,
            p_comment_background: 0.08,
            p_comment_in_rupture: 0.30,
        }
    }
}

const ITEMS: [&str; 4] = ["bond", "goals", "approach", "overall"];
/// Share of a planted fall taken by each item (bond first).
const FALL_SHARE: [f64; 4] = [0.4, 0.2, 0.2, 0.2];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Per-session effect of a rupture: (fall of the total in points,
/// extra fall of the bond item, in the rupture spell?, answer probability override).
struct Effect {
    total_fall: f64,
    bond_fall: f64,
    active: bool,
    answer_probability: Option<f64>,
    dropped_out: bool,
}

struct Plan {
    rupture: PlantedRupture,
    repaired: bool,
    residual: f64,
    recovery: u32,
    length: u32,
    drop_out: bool,
}

impl Plan {
    fn effect(&self, session: u32) -> Effect {
        let r = &self.rupture;
        let mut e = Effect {
            total_fall: 0.0,
            bond_fall: 0.0,
            active: false,
            answer_probability: None,
            dropped_out: false,
        };
        if session < r.onset {
            return e;
        }
        let k = session - r.onset; // 0 at onset
        match r.shape {
            RuptureShape::SuddenV => {
                if self.repaired {
                    if k <= self.recovery {
                        let left = 1.0 - f64::from(k) / f64::from(self.recovery + 1);
                        e.total_fall = r.depth * left;
                        e.active = true;
                    }
                } else {
                    e.total_fall = if k == 0 { r.depth } else { r.depth * self.residual };
                    e.active = k <= 2;
                }
            }
            RuptureShape::SlowSlide => {
                let done = (f64::from(k + 1) / f64::from(self.length)).min(1.0);
                e.total_fall = r.depth * done;
                e.active = k < self.length + 1;
            }
            RuptureShape::GoingQuiet => {
                e.total_fall = if k < self.length { r.depth } else { r.depth / 2.0 };
                if k >= 1 && k <= self.length {
                    e.answer_probability = Some(0.10);
                    e.active = true;
                } else if k == 0 {
                    e.active = true;
                } else if self.drop_out {
                    e.dropped_out = true;
                }
            }
            RuptureShape::BondStrain => {
                if k < self.length {
                    e.bond_fall = r.depth;
                    e.active = true;
                }
            }
        }
        e
    }
}

fn plan_rupture(rng: &mut ChaCha8Rng, sessions: u32) -> Plan {
    let shape = RuptureShape::ALL[rng.random_range(0..4)];
    let onset = rng.random_range(3..=sessions.saturating_sub(2).max(3));
    let mut plan = Plan {
        rupture: PlantedRupture {
            shape,
            onset,
            window_end: onset,
            depth: 0.0,
        },
        repaired: false,
        residual: 1.0,
        recovery: 0,
        length: 0,
        drop_out: false,
    };
    match shape {
        RuptureShape::SuddenV => {
            plan.rupture.depth = uniform(rng, 4.0, 12.0);
            plan.repaired = rng.random_bool(0.6);
            plan.recovery = rng.random_range(1..=2);
            plan.residual = uniform(rng, 0.5, 1.0);
            let effect_end = if plan.repaired {
                onset + plan.recovery
            } else {
                onset + 2
            };
            plan.rupture.window_end = effect_end + 1;
        }
        RuptureShape::SlowSlide => {
            plan.rupture.depth = uniform(rng, 4.0, 10.0);
            plan.length = rng.random_range(3..=6);
            plan.rupture.window_end = onset + plan.length + 1;
        }
        RuptureShape::GoingQuiet => {
            plan.rupture.depth = uniform(rng, 0.0, 4.0);
            plan.length = rng.random_range(2..=4);
            plan.drop_out = rng.random_bool(0.4);
            plan.rupture.window_end = onset + plan.length + 1;
        }
        RuptureShape::BondStrain => {
            plan.rupture.depth = uniform(rng, 2.0, 5.0);
            plan.length = rng.random_range(3..=5);
            plan.rupture.window_end = onset + plan.length;
        }
    }
    plan
}

/// Simulates one client from its own random stream.
fn simulate_client(model: &SimulationModel, settings: &EngineSettings, seed: u64, index: u64) -> SimulatedClient {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let sessions = rng.random_range(model.min_sessions..=model.max_sessions.max(model.min_sessions));
    let baseline = model.latent_top - (normal(&mut rng) * model.baseline_spread).abs();
    let growth = uniform(&mut rng, 0.0, 1.5);
    let mut offsets: [f64; 4] = std::array::from_fn(|_| normal(&mut rng) * 0.5);
    let mean_offset = offsets.iter().sum::<f64>() / 4.0;
    for o in &mut offsets {
        *o -= mean_offset;
    }
    let item_noise = settings.standard_error_of_measurement() / 2.0;
    let plan = rng
        .random_bool(model.rupture_share)
        .then(|| plan_rupture(&mut rng, sessions));

    let mut history = ClientHistory::default();
    for session in 1..=sessions {
        let effect = plan.as_ref().map(|p| p.effect(session));
        let active = effect.as_ref().is_some_and(|e| e.active);
        if effect.as_ref().is_some_and(|e| e.dropped_out) {
            history.push(SessionOutcome::Unanswered);
            continue;
        }
        let p_missed = if active {
            model.p_missed_in_rupture
        } else {
            model.p_missed
        };
        if rng.random_bool(p_missed) {
            history.push(SessionOutcome::Missed);
            continue;
        }
        let p_answer = effect.as_ref().and_then(|e| e.answer_probability).unwrap_or(
            1.0 - if active {
                model.p_unanswered_in_rupture
            } else {
                model.p_unanswered
            },
        );
        if !rng.random_bool(p_answer.clamp(0.0, 1.0)) {
            history.push(SessionOutcome::Unanswered);
            continue;
        }
        let level = baseline + growth * (f64::from(session - 1) / 4.0).min(1.0);
        let (fall, bond_fall) = effect.as_ref().map_or((0.0, 0.0), |e| (e.total_fall, e.bond_fall));
        let mut items = BTreeMap::new();
        let mut total = 0.0;
        for (k, name) in ITEMS.iter().enumerate() {
            let mut truth = level / 4.0 + offsets[k] - fall * FALL_SHARE[k];
            if k == 0 {
                truth -= bond_fall;
            }
            let answer = (truth + normal(&mut rng) * item_noise).round().clamp(0.0, 10.0);
            total += answer;
            items.insert((*name).to_string(), answer);
        }
        let (p_screen, p_comment) = if active {
            (model.p_screener_in_rupture, model.p_comment_in_rupture)
        } else {
            (model.p_screener_background, model.p_comment_background)
        };
        let screener = rng.random_bool(p_screen);
        let comment = rng.random_bool(p_comment);
        history.push(SessionOutcome::Answered {
            total: Some(total),
            items,
            screener_uncomfortable: Some(screener),
            comment_given: comment,
            comment: None,
        });
    }
    SimulatedClient {
        history,
        rupture: plan.map(|p| p.rupture),
    }
}

/// Simulates `clients` clients; the same seed always gives the same clients.
pub fn simulate(model: &SimulationModel, settings: &EngineSettings, seed: u64, clients: usize) -> Vec<SimulatedClient> {
    (0..clients as u64)
        .map(|i| simulate_client(model, settings, seed, i))
        .collect()
}

/// Which model generates the clients: the default one above, or an
/// independent one built differently (see [`simulate_drift`]), so that a
/// rule tuned to one model's quirks shows it on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Independent item noise around a steady level near the ceiling (the module docs).
    #[default]
    Ceiling,
    /// An alliance that drifts from session to session, skipping that
    /// depends on how the client feels, and ruptures that start at random.
    Drift,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Ceiling => "ceiling",
            ModelKind::Drift => "drift",
        }
    }
}

/// Simulates `clients` clients with the chosen model.
pub fn simulate_with(kind: ModelKind, settings: &EngineSettings, seed: u64, clients: usize) -> Vec<SimulatedClient> {
    match kind {
        ModelKind::Ceiling => simulate(&SimulationModel::default(), settings, seed, clients),
        ModelKind::Drift => (0..clients as u64).map(|i| simulate_drift(settings, seed, i)).collect(),
    }
}

/// Student's t with 4 degrees of freedom, scaled to unit variance: answers
/// with an occasional odd one, as real questionnaires have.
fn heavy_tailed(rng: &mut ChaCha8Rng) -> f64 {
    let z = normal(rng);
    let chi2: f64 = (0..4).map(|_| normal(rng).powi(2)).sum();
    z / (chi2 / 4.0).sqrt() / 2f64.sqrt()
}

/// The independent model (`rapport evaluate --model drift`), built on
/// different assumptions from the default one at every step:
///
/// - 5–24 sessions; a personal level 9.6 − |N(0, 1.2)| per item, so
///   totals have a median near 35 with a tail into the twenties: a clinic
///   whose clients score lower, half of them below the cutoff of 36;
/// - the alliance is not steady: a true session-to-session drift, AR(1)
///   with φ = .6 and a stationary SD of 1.2 points of total, that is no
///   rupture but moves every total;
/// - answers add heavy-tailed (t, 4 df) noise with the instrument's SEM,
///   rounded and clipped to 0–10;
/// - a rupture starts at random (hazard .07 per session from session 3,
///   so longer series have more), one per client, as a step of 3–10
///   points that recovers by a random share (0–70%) per session, a linear
///   slide of 4–9 points over 3–6 sessions, a stop of answering for 2–4
///   invitations (half never come back), or a fall of 3–6 points in one
///   item chosen at random (not always the bond);
/// - skipping depends on the present state: an invitation goes
///   unanswered with probability .08 + .05 per point of total below the
///   client's own level; the screener is ticked with probability .015 +
///   .04 per point below, a comment written with .06 + .03 per point.
///
/// The windows and the shapes reported are those of the default model:
/// step → sudden V, slide → slow slide, stop → going quiet, one item →
/// bond strain.
pub fn simulate_drift(settings: &EngineSettings, seed: u64, index: u64) -> SimulatedClient {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_d41f_7000_0001);
    rng.set_stream(index);
    let sessions: u32 = rng.random_range(5..=24);
    let level = (9.6 - (normal(&mut rng) * 1.2).abs()).clamp(3.0, 10.0);
    let offsets: [f64; 4] = std::array::from_fn(|_| normal(&mut rng) * 0.4);
    let phi: f64 = 0.6;
    let drift_sd = 1.2 / 4.0 * (1.0 - phi * phi).sqrt();
    let item_noise = settings.standard_error_of_measurement() / 2.0;

    // When and what kind of rupture, if any.
    let onset = (3..=sessions.saturating_sub(1)).find(|_| rng.random_bool(0.07));
    let shape = RuptureShape::ALL[rng.random_range(0..4)];
    let depth = match shape {
        RuptureShape::SuddenV => uniform(&mut rng, 3.0, 10.0),
        RuptureShape::SlowSlide => uniform(&mut rng, 4.0, 9.0),
        RuptureShape::GoingQuiet => 0.0,
        RuptureShape::BondStrain => uniform(&mut rng, 3.0, 6.0),
    };
    let recovery = uniform(&mut rng, 0.0, 0.7);
    let length: u32 = match shape {
        RuptureShape::SlowSlide => rng.random_range(3..=6),
        RuptureShape::GoingQuiet => rng.random_range(2..=4),
        _ => rng.random_range(3..=5),
    };
    let never_back = rng.random_bool(0.5);
    let strained_item = rng.random_range(0..4);
    // (fall of the total, fall of one item, answering stopped) at session s.
    let effect = |s: u32| -> (f64, f64, bool) {
        let Some(onset) = onset.filter(|&o| s >= o) else {
            return (0.0, 0.0, false);
        };
        let k = s - onset;
        match shape {
            RuptureShape::SuddenV => (depth * (1.0 - recovery).powi(k as i32), 0.0, false),
            RuptureShape::SlowSlide => (depth * (f64::from(k + 1) / f64::from(length)).min(1.0), 0.0, false),
            RuptureShape::GoingQuiet => (0.0, 0.0, k < length || never_back),
            RuptureShape::BondStrain => (0.0, if k < length { depth } else { 0.0 }, false),
        }
    };
    let rupture = onset.map(|onset| {
        let end = match shape {
            // Until the fall is under a point, at most eight sessions on.
            RuptureShape::SuddenV => (0..8).find(|&k| depth * (1.0 - recovery).powi(k) < 1.0).unwrap_or(8) as u32,
            RuptureShape::SlowSlide => length,
            RuptureShape::GoingQuiet | RuptureShape::BondStrain => length - 1,
        };
        PlantedRupture {
            shape,
            onset,
            window_end: onset + end + 1,
            depth,
        }
    });

    let mut history = ClientHistory::default();
    let mut drift = normal(&mut rng) * 1.2 / 4.0;
    for session in 1..=sessions {
        drift = phi * drift + normal(&mut rng) * drift_sd;
        let (fall, item_fall, stopped) = effect(session);
        if stopped {
            history.push(SessionOutcome::Unanswered);
            continue;
        }
        let below = fall + item_fall - drift * 4.0;
        if rng.random_bool(0.03) {
            history.push(SessionOutcome::Missed);
            continue;
        }
        if rng.random_bool((0.08 + 0.05 * below.max(0.0)).min(0.9)) {
            history.push(SessionOutcome::Unanswered);
            continue;
        }
        let mut items = BTreeMap::new();
        let mut total = 0.0;
        for (k, name) in ITEMS.iter().enumerate() {
            let mut truth = level + offsets[k] + drift - fall / 4.0;
            if k == strained_item {
                truth -= item_fall;
            }
            let answer = (truth + heavy_tailed(&mut rng) * item_noise).round().clamp(0.0, 10.0);
            total += answer;
            items.insert((*name).to_string(), answer);
        }
        let screener = rng.random_bool((0.015 + 0.04 * below.max(0.0)).min(0.9));
        let comment = rng.random_bool((0.06 + 0.03 * below.max(0.0)).min(0.9));
        history.push(SessionOutcome::Answered {
            total: Some(total),
            items,
            screener_uncomfortable: Some(screener),
            comment_given: comment,
            comment: None,
        });
    }
    SimulatedClient { history, rupture }
}

/// What raises alerts in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Detector {
    /// One rule alone; any of its signals may open an alert.
    Rule(RuleId),
    /// The combined engine with the given settings.
    Engine {
        name: String,
        settings: Box<EngineSettings>,
    },
    /// An alert at every total below the cutoff (what most products do).
    PlainCutoff,
}

impl Detector {
    pub fn name(&self) -> String {
        match self {
            Detector::Rule(r) => r.as_str().to_string(),
            Detector::Engine { name, .. } => name.clone(),
            Detector::PlainCutoff => "plain: total below cutoff".to_string(),
        }
    }
}

/// How one detector did on the simulated clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorResult {
    pub detector: String,
    pub ruptures: usize,
    pub detected: usize,
    /// Detected share of planted ruptures.
    pub sensitivity: f64,
    pub false_alerts: usize,
    pub sessions: usize,
    pub false_alerts_per_100_sessions: f64,
    /// Median sessions from rupture onset to the first signal in an alert.
    pub median_delay: Option<f64>,
    /// Shape → (detected, planted).
    pub by_shape: BTreeMap<RuptureShape, (usize, usize)>,
}

/// Alert events of one client: (opened_at sessions, sessions at which an
/// alert gained a signal). With `handled_after`, a clinician records an
/// outcome that many sessions after each alert opens: "not a rupture" when
/// the alert opened outside every rupture window, "repaired" otherwise.
fn events(
    detector: &Detector,
    client: &SimulatedClient,
    settings: &EngineSettings,
    handled_after: Option<u32>,
) -> (Vec<u32>, Vec<u32>) {
    match detector {
        Detector::PlainCutoff => {
            let cutoff = settings.low_score.cutoff.unwrap_or(f64::NEG_INFINITY);
            let below = client
                .history
                .answered_totals()
                .filter(|(_, t)| settings.direction.is_past_cutoff(*t, cutoff))
                .map(|(s, _)| s);
            let at: Vec<u32> = match handled_after {
                // An alert at every total below the cutoff.
                None => below.collect(),
                // One alert open at a time, closed `after` sessions on.
                Some(after) => {
                    let mut open_until: Option<u32> = None;
                    below
                        .filter(|&s| {
                            let opens = open_until.is_none_or(|u| s > u);
                            if opens {
                                open_until = Some(s + after);
                            }
                            opens
                        })
                        .collect()
                }
            };
            (at.clone(), at)
        }
        Detector::Rule(rule) => {
            let mut s = settings.only(*rule);
            s.alerts.opens_at = Severity::Low;
            alert_events(&episodes(client, &s, handled_after))
        }
        Detector::Engine { settings, .. } => alert_events(&episodes(client, settings, handled_after)),
    }
}

fn episodes(client: &SimulatedClient, settings: &EngineSettings, handled_after: Option<u32>) -> Vec<AlertEpisode> {
    match handled_after {
        None => alerts(&client.history, settings, &[]),
        Some(after) => alerts_handled(&client.history, settings, after, |opened| {
            !client
                .rupture
                .is_some_and(|r| opened >= r.onset && opened <= r.window_end)
        }),
    }
}

/// Opened sessions, and the sessions at which an alert brought news: it
/// opened, or an open alert gained a rule it did not have or rose in severity.
/// (A new signal of a rule already in the alert is not news to the clinician.)
fn alert_events(episodes: &[AlertEpisode]) -> (Vec<u32>, Vec<u32>) {
    let opened = episodes.iter().map(|a| a.opened_at_session).collect();
    let mut news = Vec::new();
    for a in episodes {
        news.push(a.opened_at_session);
        let mut rules = BTreeSet::new();
        let mut severity = None;
        for (k, s) in a.signals.iter().enumerate() {
            let now = combined_severity(&a.signals[..=k]);
            let at = s.known_at_session.max(a.opened_at_session);
            if (rules.insert(s.rule) || now > severity) && at > a.opened_at_session {
                news.push(at);
            }
            severity = severity.max(now);
        }
    }
    news.sort_unstable();
    news.dedup();
    (opened, news)
}

/// Runs each detector over the clients.
pub fn compare(
    clients: &[SimulatedClient],
    settings: &EngineSettings,
    detectors: &[Detector],
    handled_after: Option<u32>,
) -> Vec<DetectorResult> {
    let sessions: usize = clients.iter().map(|c| c.history.sessions.len()).sum();
    detectors
        .iter()
        .map(|d| {
            let mut result = DetectorResult {
                detector: d.name(),
                ruptures: 0,
                detected: 0,
                sensitivity: 0.0,
                false_alerts: 0,
                sessions,
                false_alerts_per_100_sessions: 0.0,
                median_delay: None,
                by_shape: RuptureShape::ALL.iter().map(|s| (*s, (0, 0))).collect(),
            };
            let mut delays = Vec::new();
            for client in clients {
                let (opened, gained) = events(d, client, settings, handled_after);
                let in_window = |s: u32| client.rupture.is_some_and(|r| s >= r.onset && s <= r.window_end);
                result.false_alerts += opened.iter().filter(|&&s| !in_window(s)).count();
                if let Some(r) = client.rupture {
                    result.ruptures += 1;
                    let entry = result.by_shape.entry(r.shape).or_default();
                    entry.1 += 1;
                    if let Some(first) = gained.iter().copied().find(|&s| in_window(s)) {
                        result.detected += 1;
                        entry.0 += 1;
                        delays.push(f64::from(first - r.onset));
                    }
                }
            }
            result.sensitivity = if result.ruptures > 0 {
                result.detected as f64 / result.ruptures as f64
            } else {
                0.0
            };
            result.false_alerts_per_100_sessions = if sessions > 0 {
                100.0 * result.false_alerts as f64 / sessions as f64
            } else {
                0.0
            };
            result.median_delay = median(&mut delays);
            result
        })
        .collect()
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The standard comparison: every rule alone, the engine as configured,
/// the engine letting any signal open an alert, and the plain cutoff rule.
pub fn standard_detectors(settings: &EngineSettings) -> Vec<Detector> {
    let mut detectors: Vec<Detector> = RuleId::ALL.into_iter().map(Detector::Rule).collect();
    detectors.push(Detector::Engine {
        name: "engine (combined)".into(),
        settings: Box::new(settings.clone()),
    });
    let mut eager = settings.clone();
    eager.alerts.opens_at = Severity::Low;
    detectors.push(Detector::Engine {
        name: "engine, any signal opens".into(),
        settings: Box::new(eager),
    });
    detectors.push(Detector::PlainCutoff);
    detectors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_clients_and_different_seed_different_clients() {
        let model = SimulationModel::default();
        let settings = EngineSettings::default();
        let a = simulate(&model, &settings, 7, 50);
        let b = simulate(&model, &settings, 7, 50);
        let c = simulate(&model, &settings, 8, 50);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // A client does not depend on how many were asked for.
        assert_eq!(simulate(&model, &settings, 7, 10)[..], a[..10]);
    }

    #[test]
    fn clients_look_like_alliance_data() {
        let clients = simulate(&SimulationModel::default(), &EngineSettings::default(), 1, 400);
        let (mean, planted) = mean_total_and_planted(&clients);
        assert!((35.0..=39.5).contains(&mean), "mean {mean}");
        assert!((150..=250).contains(&planted), "{planted}");
    }

    /// The mean answered total of clients without a rupture (checking every
    /// total is on the scale), and how many clients have one.
    fn mean_total_and_planted(clients: &[SimulatedClient]) -> (f64, usize) {
        let totals: Vec<f64> = clients
            .iter()
            .filter(|c| c.rupture.is_none())
            .flat_map(|c| c.history.answered_totals().map(|(_, t)| t))
            .collect();
        assert!(totals.iter().all(|t| (0.0..=40.0).contains(t)));
        let planted = clients.iter().filter(|c| c.rupture.is_some()).count();
        (totals.iter().sum::<f64>() / totals.len() as f64, planted)
    }

    #[test]
    fn the_drift_model_is_seeded_and_differs_from_the_default() {
        let settings = EngineSettings::default();
        let a = simulate_with(ModelKind::Drift, &settings, 5, 400);
        assert_eq!(a, simulate_with(ModelKind::Drift, &settings, 5, 400));
        assert_ne!(a, simulate_with(ModelKind::Drift, &settings, 6, 400));
        assert_ne!(a[..50], simulate_with(ModelKind::Ceiling, &settings, 5, 50)[..]);
        let (mean, planted) = mean_total_and_planted(&a);
        assert!((33.0..=39.5).contains(&mean), "mean {mean}");
        assert!((100..=350).contains(&planted), "{planted}");
        for c in a.iter().filter_map(|c| c.rupture) {
            assert!(c.window_end > c.onset, "{c:?}");
        }
    }

    #[test]
    fn comparison_counts_are_consistent() {
        let settings = EngineSettings::default();
        let clients = simulate(&SimulationModel::default(), &settings, 3, 200);
        for r in compare(&clients, &settings, &standard_detectors(&settings), None) {
            assert!(r.detected <= r.ruptures);
            assert!((0.0..=1.0).contains(&r.sensitivity));
            let by_shape: usize = r.by_shape.values().map(|v| v.0).sum();
            assert_eq!(by_shape, r.detected, "{}", r.detector);
        }
    }
}
