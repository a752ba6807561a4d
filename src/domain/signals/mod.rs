//! Signals that suggest a rupture (CLINICAL.md §2): one file per rule.
//!
//! Every rule is a pure function of one client's history. It returns zero
//! or more [`Signal`]s, each carrying the rule's id and version, a
//! severity, the numbers it used and one plain-English sentence built from
//! those numbers. Thresholds live in [`EngineSettings`], whose defaults come
//! from CLINICAL.md and the instrument.
//!
//! Rules are causal: a signal about session *s* uses only sessions up to
//! the one at which it is known (`known_at_session`), so the online engine
//! (`crate::domain::engine`) can replay a history session by session.

pub mod ceiling_then_fall;
pub mod client_said_so;
pub mod drop_from_last;
pub mod going_quiet;
pub mod gradual_decline;
pub mod item_drop;
pub mod low_score;
pub mod reliable_drop;
pub mod risk_words;
pub mod sudden_loss;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::history::{ClientHistory, SessionOutcome, SessionRecord};
use super::instrument::{Direction, InstrumentDefinition};

pub use ceiling_then_fall::CeilingThenFallSettings;
pub use client_said_so::ClientSaidSoSettings;
pub use drop_from_last::DropFromLastSettings;
pub use going_quiet::GoingQuietSettings;
pub use gradual_decline::{CusumSigma, GradualDeclineSettings};
pub use item_drop::ItemDropSettings;
pub use low_score::LowScoreSettings;
pub use reliable_drop::{ReliableDropSettings, reliable_change_threshold, standard_error_of_difference};
pub use sudden_loss::SuddenLossSettings;

/// How urgently a signal or an alert asks for the clinician's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            _ => Err(UnknownName {
                what: "severity",
                name: s.to_string(),
                expected: "low, medium, high".into(),
            }),
        }
    }
}

/// The rules of CLINICAL.md §2, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    LowScore,
    DropFromLast,
    ReliableDrop,
    SuddenLoss,
    GradualDecline,
    ItemDrop,
    ClientSaidSo,
    GoingQuiet,
    CeilingThenFall,
    RiskWords,
}

impl RuleId {
    pub const ALL: [RuleId; 10] = [
        RuleId::LowScore,
        RuleId::DropFromLast,
        RuleId::ReliableDrop,
        RuleId::SuddenLoss,
        RuleId::GradualDecline,
        RuleId::ItemDrop,
        RuleId::ClientSaidSo,
        RuleId::GoingQuiet,
        RuleId::CeilingThenFall,
        RuleId::RiskWords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::LowScore => "low_score",
            RuleId::DropFromLast => "drop_from_last",
            RuleId::ReliableDrop => "reliable_drop",
            RuleId::SuddenLoss => "sudden_loss",
            RuleId::GradualDecline => "gradual_decline",
            RuleId::ItemDrop => "item_drop",
            RuleId::ClientSaidSo => "client_said_so",
            RuleId::GoingQuiet => "going_quiet",
            RuleId::CeilingThenFall => "ceiling_then_fall",
            RuleId::RiskWords => "risk_words",
        }
    }

    /// The rule's name in the clinic's words.
    pub fn title(self) -> &'static str {
        match self {
            RuleId::LowScore => "Low score",
            RuleId::DropFromLast => "Drop from last",
            RuleId::ReliableDrop => "Reliable drop",
            RuleId::SuddenLoss => "Sudden loss",
            RuleId::GradualDecline => "Gradual decline",
            RuleId::ItemDrop => "Item drop",
            RuleId::ClientSaidSo => "Client said so",
            RuleId::GoingQuiet => "Going quiet",
            RuleId::CeilingThenFall => "Ceiling then fall",
            RuleId::RiskWords => "Words of risk",
        }
    }

    /// The current version of the rule's logic.
    pub fn version(self) -> u32 {
        match self {
            RuleId::LowScore => low_score::VERSION,
            RuleId::DropFromLast => drop_from_last::VERSION,
            RuleId::ReliableDrop => reliable_drop::VERSION,
            RuleId::SuddenLoss => sudden_loss::VERSION,
            RuleId::GradualDecline => gradual_decline::VERSION,
            RuleId::ItemDrop => item_drop::VERSION,
            RuleId::ClientSaidSo => client_said_so::VERSION,
            RuleId::GoingQuiet => going_quiet::VERSION,
            RuleId::CeilingThenFall => ceiling_then_fall::VERSION,
            RuleId::RiskWords => risk_words::VERSION,
        }
    }

    /// The hazard entry kept beside the rule's code (CLINICAL.md §5).
    pub fn hazard(self) -> &'static str {
        match self {
            RuleId::LowScore => low_score::HAZARD,
            RuleId::DropFromLast => drop_from_last::HAZARD,
            RuleId::ReliableDrop => reliable_drop::HAZARD,
            RuleId::SuddenLoss => sudden_loss::HAZARD,
            RuleId::GradualDecline => gradual_decline::HAZARD,
            RuleId::ItemDrop => item_drop::HAZARD,
            RuleId::ClientSaidSo => client_said_so::HAZARD,
            RuleId::GoingQuiet => going_quiet::HAZARD,
            RuleId::CeilingThenFall => ceiling_then_fall::HAZARD,
            RuleId::RiskWords => risk_words::HAZARD,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown {what} {name:?}; expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
    pub expected: String,
}

impl FromStr for RuleId {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| UnknownName {
                what: "rule",
                name: s.to_string(),
                expected: RuleId::ALL.map(RuleId::as_str).join(", "),
            })
    }
}

/// One finding of one rule about one client's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub rule: RuleId,
    pub rule_version: u32,
    /// The session whose answer (or missing answer) the signal concerns.
    pub session: u32,
    /// The earlier session the change is measured from, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_session: Option<u32>,
    /// The earliest session at which the online engine could know it.
    pub known_at_session: u32,
    pub severity: Severity,
    /// One plain-English sentence (or two) built from the inputs.
    pub explanation: String,
    /// The numbers and thresholds the rule used.
    pub inputs: BTreeMap<String, f64>,
}

/// Settings for combining signals into alerts (see `crate::domain::engine`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertSettings {
    /// An episode opens when its signals reach this severity (after the
    /// accumulation rules). Weaker signals are held for `hold_sessions`
    /// sessions and join the episode if one opens.
    pub opens_at: Severity,
    /// How many sessions a held weaker signal waits for company.
    pub hold_sessions: u32,
    /// Measured recovery: the total is back within the reliable-change band
    /// of the baseline within this many answered sessions after the episode's
    /// lowest point.
    pub recovery_within_sessions: u32,
    /// Without a clinician's outcome, an episode ends by itself after this
    /// many answered sessions within the band, with no new signal, once recovered.
    pub settled_after_sessions: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            opens_at: Severity::Medium,
            hold_sessions: 2,
            recovery_within_sessions: 2,
            settled_after_sessions: 2,
        }
    }
}

/// Every threshold of every rule, with CLINICAL.md's defaults.
///
/// Stored by the server as JSON per instrument; every field has a default
/// so a stored override need only name what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineSettings {
    pub direction: Direction,
    /// Lowest possible total.
    pub total_min: f64,
    /// Highest possible total.
    pub total_max: f64,
    /// Reliability r used for reliable change.
    pub reliability: f64,
    /// SD used for reliable change.
    pub sd: f64,
    /// Where the SD comes from, for the explanations (e.g. "this clinic's responses").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_source: Option<String>,
    /// Number of first answered sessions whose mean is the personal baseline.
    pub baseline_sessions: usize,
    /// The rules that run.
    pub rules: BTreeSet<RuleId>,
    pub low_score: LowScoreSettings,
    pub drop_from_last: DropFromLastSettings,
    pub reliable_drop: ReliableDropSettings,
    pub sudden_loss: SuddenLossSettings,
    pub gradual_decline: GradualDeclineSettings,
    pub item_drop: ItemDropSettings,
    pub client_said_so: ClientSaidSoSettings,
    pub going_quiet: GoingQuietSettings,
    pub ceiling_then_fall: CeilingThenFallSettings,
    #[serde(default)]
    pub risk_words: risk_words::RiskWordsSettings,
    pub alerts: AlertSettings,
}

/// Defaults of the shipped alliance instrument (0–40, cutoff 36, r .70, SD 4.5).
impl Default for EngineSettings {
    fn default() -> Self {
        let mut item_drop = ItemDropSettings::default();
        item_drop.floors.insert("bond".into(), 8.0);
        EngineSettings {
            direction: Direction::HigherIsBetter,
            total_min: 0.0,
            total_max: 40.0,
            reliability: 0.70,
            sd: 4.5,
            sd_source: None,
            baseline_sessions: 3,
            rules: RuleId::ALL.into_iter().collect(),
            low_score: LowScoreSettings { cutoff: Some(36.0) },
            drop_from_last: DropFromLastSettings::default(),
            reliable_drop: ReliableDropSettings::default(),
            sudden_loss: SuddenLossSettings::default(),
            gradual_decline: GradualDeclineSettings::default(),
            item_drop,
            client_said_so: ClientSaidSoSettings::default(),
            going_quiet: GoingQuietSettings::default(),
            ceiling_then_fall: CeilingThenFallSettings::default(),
            risk_words: risk_words::RiskWordsSettings::default(),
            alerts: AlertSettings::default(),
        }
    }
}

/// A setting that cannot work, named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct SettingsError {
    pub setting: &'static str,
    pub problem: String,
}

impl EngineSettings {
    /// Defaults for an instrument: its direction, range, cutoff, norms and item floors.
    pub fn for_instrument(instrument: &InstrumentDefinition) -> Self {
        let (lo, hi) = instrument.total_range();
        let mut item_drop = ItemDropSettings {
            floors: BTreeMap::new(),
            ..ItemDropSettings::default()
        };
        let scored = &instrument.scoring().items;
        let mut ranges = Vec::new();
        for item in instrument.items() {
            if let Some(scale) = item.scale() {
                if !scored.contains(&item.id) {
                    continue;
                }
                ranges.push(scale.max - scale.min);
                if let Some(floor) = item.alert_below {
                    item_drop.floors.insert(item.id.clone(), floor);
                }
            }
        }
        // Item drop: 40% of the item's range (4 points on a 0–10 item),
        // chosen with `rapport evaluate` (see the engine notes).
        if let Some(widest) = ranges.iter().copied().reduce(f64::max) {
            item_drop.min_drop = (widest * 0.4).max(1.0);
        }
        EngineSettings {
            direction: instrument.direction(),
            total_min: lo,
            total_max: hi,
            reliability: instrument.norms().reliability,
            sd: instrument.norms().sd,
            low_score: LowScoreSettings {
                cutoff: instrument.cutoff(),
            },
            item_drop,
            ..EngineSettings::default()
        }
    }

    /// These settings with overrides applied: a JSON object naming only
    /// what changes, merged field by field (JSON merge patch, RFC 7386: a
    /// `null` puts a field back to its default). This is how the server
    /// should apply a clinic's stored overrides to an instrument's defaults,
    /// so that, say, `{"item_drop": {"min_drop": 4}}` keeps the item floors.
    pub fn with_overrides(&self, overrides: &serde_json::Value) -> Result<Self, SettingsError> {
        if !overrides.is_object() {
            return Err(SettingsError {
                setting: "overrides",
                problem: "must be a JSON object".into(),
            });
        }
        let mut merged = serde_json::to_value(self).map_err(|e| SettingsError {
            setting: "overrides",
            problem: e.to_string(),
        })?;
        merge_patch(&mut merged, overrides);
        let settings: EngineSettings = serde_json::from_value(merged).map_err(|e| SettingsError {
            setting: "overrides",
            problem: e.to_string(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The settings with only `rule` running.
    pub fn only(&self, rule: RuleId) -> Self {
        let mut s = self.clone();
        s.rules = BTreeSet::from([rule]);
        s
    }

    pub fn is_enabled(&self, rule: RuleId) -> bool {
        self.rules.contains(&rule)
    }

    /// The reliable-change threshold of these settings, in points.
    pub fn reliable_change(&self) -> f64 {
        self.reliable_drop.z * standard_error_of_difference(self.sd, self.reliability)
    }

    /// The standard error of measurement, SD·√(1 − r).
    pub fn standard_error_of_measurement(&self) -> f64 {
        self.sd * (1.0 - self.reliability).sqrt()
    }

    /// Checks that every setting can work; the first problem is named.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |setting, problem: &str| {
            Err(SettingsError {
                setting,
                problem: problem.to_string(),
            })
        };
        if !(self.total_min.is_finite() && self.total_max.is_finite()) || self.total_min >= self.total_max {
            return bad("total_min/total_max", "the lowest total must be below the highest");
        }
        if !(self.reliability > 0.0 && self.reliability < 1.0) {
            return bad("reliability", "must be above 0 and below 1");
        }
        if !(self.sd > 0.0 && self.sd.is_finite()) {
            return bad("sd", "must be a positive number");
        }
        if self.baseline_sessions == 0 {
            return bad("baseline_sessions", "must be at least 1");
        }
        if let Some(c) = self.low_score.cutoff
            && !c.is_finite()
        {
            return bad("low_score.cutoff", "must be a number");
        }
        let sl = &self.sudden_loss;
        if !(sl.alpha > 0.0 && sl.alpha < 1.0) {
            return bad("sudden_loss.alpha", "must be above 0 and below 1");
        }
        if !(sl.proportion >= 0.0 && sl.proportion.is_finite()) {
            return bad("sudden_loss.proportion", "must be 0 or more");
        }
        if sl.cutoff.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
            return bad("sudden_loss.cutoff", "must be 0 or more");
        }
        let gd = &self.gradual_decline;
        if !(gd.k >= 0.0 && gd.k.is_finite()) {
            return bad("gradual_decline.k", "must be 0 or more");
        }
        if !(gd.h > 0.0 && gd.h.is_finite()) {
            return bad("gradual_decline.h", "must be above 0");
        }
        if let CusumSigma::Points(p) = gd.sigma
            && !(p > 0.0 && p.is_finite())
        {
            return bad("gradual_decline.sigma", "must be above 0 points");
        }
        if !(self.drop_from_last.min_drop > 0.0 && self.drop_from_last.min_drop.is_finite()) {
            return bad("drop_from_last.min_drop", "must be above 0");
        }
        if !(self.item_drop.min_drop > 0.0 && self.item_drop.min_drop.is_finite()) {
            return bad("item_drop.min_drop", "must be above 0");
        }
        if !(self.reliable_drop.z > 0.0 && self.reliable_drop.z.is_finite()) {
            return bad("reliable_drop.z", "must be above 0");
        }
        if self.going_quiet.consecutive_unanswered == 0 {
            return bad("going_quiet.consecutive_unanswered", "must be at least 1");
        }
        if self.ceiling_then_fall.sessions_at_ceiling == 0 {
            return bad("ceiling_then_fall.sessions_at_ceiling", "must be at least 1");
        }
        Ok(())
    }
}

fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (key, value) in p {
                if value.is_null() {
                    t.remove(key);
                } else {
                    merge_patch(t.entry(key.clone()).or_insert(serde_json::Value::Null), value);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

// ---------------------------------------------------------------------------
// What the rules share: a prepared view of the series.

/// The personal reference a session is compared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reference {
    pub value: f64,
    /// Sessions whose mean it is.
    pub sessions: Vec<u32>,
    /// True once all the baseline sessions are in.
    pub established: bool,
}

/// One client's history prepared for the rules.
pub(crate) struct Series<'a> {
    pub records: &'a [SessionRecord],
    pub totals: Vec<Option<f64>>,
    /// Indices of the first `baseline_sessions` answered sessions.
    pub baseline_members: Vec<usize>,
    /// Running sums of the baseline members' totals (`[0]` = 0).
    baseline_sums: Vec<f64>,
    pub baseline_sessions: usize,
    alpha: f64,
    /// Critical t values by degrees of freedom, computed once per evaluation.
    t_critical: [std::cell::OnceCell<Option<f64>>; 8],
}

impl<'a> Series<'a> {
    pub fn new(history: &'a ClientHistory, settings: &EngineSettings) -> Self {
        let records = history.sessions.as_slice();
        let totals: Vec<Option<f64>> = records
            .iter()
            .map(|r| r.outcome.total().filter(|t| t.is_finite()))
            .collect();
        let baseline_members: Vec<usize> = totals
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .map(|(i, _)| i)
            .take(settings.baseline_sessions)
            .collect();
        let mut baseline_sums = vec![0.0];
        for &j in &baseline_members {
            let last = baseline_sums[baseline_sums.len() - 1];
            baseline_sums.push(last + totals[j].unwrap_or(0.0));
        }
        Series {
            records,
            totals,
            baseline_members,
            baseline_sums,
            baseline_sessions: settings.baseline_sessions,
            alpha: settings.sudden_loss.alpha,
            t_critical: Default::default(),
        }
    }

    /// The two-sided critical t value at the settings' alpha.
    pub fn critical_t(&self, df: usize) -> Option<f64> {
        match self.t_critical.get(df) {
            Some(cell) => *cell.get_or_init(|| sudden_loss::critical_t(self.alpha, df)),
            None => sudden_loss::critical_t(self.alpha, df),
        }
    }

    /// The value of [`Self::reference_before`] without the session list.
    pub fn reference_value_before(&self, i: usize) -> Option<f64> {
        let count = self.baseline_members.partition_point(|&j| j < i);
        (count > 0).then(|| self.baseline_sums[count] / count as f64)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn session(&self, i: usize) -> u32 {
        self.records[i].session
    }

    pub fn outcome(&self, i: usize) -> &SessionOutcome {
        &self.records[i].outcome
    }

    /// The last answered session before index `i`.
    pub fn previous_answered(&self, i: usize) -> Option<usize> {
        (0..i).rev().find(|&j| self.totals[j].is_some())
    }

    /// The baseline as known before index `i`: the mean of the first
    /// `baseline_sessions` answered sessions, or of as many of them as had
    /// been answered before `i` (a provisional reference, so that a rupture
    /// in the first sessions is not missed).
    pub fn reference_before(&self, i: usize) -> Option<Reference> {
        let members: Vec<usize> = self.baseline_members.iter().copied().filter(|&j| j < i).collect();
        if members.is_empty() {
            return None;
        }
        let value = members.iter().filter_map(|&j| self.totals[j]).sum::<f64>() / members.len() as f64;
        Some(Reference {
            value,
            sessions: members.iter().map(|&j| self.session(j)).collect(),
            established: members.len() == self.baseline_sessions,
        })
    }

    /// The index of the last baseline session, once the baseline is complete.
    pub fn baseline_complete_at(&self) -> Option<usize> {
        if self.baseline_members.len() == self.baseline_sessions {
            self.baseline_members.last().copied()
        } else {
            None
        }
    }

    /// The established baseline (all baseline sessions answered).
    pub fn baseline(&self) -> Option<f64> {
        self.baseline_complete_at()?;
        self.reference_before(self.len()).map(|r| r.value)
    }
}

/// What a rule may look at: the series up to `upto`.
pub(crate) struct View<'a, 'b> {
    pub series: &'b Series<'a>,
    pub settings: &'b EngineSettings,
    /// Index of the last session the rule may see.
    pub upto: usize,
    /// When true, the rule reports only signals first known at `upto`.
    pub latest_only: bool,
}

impl View<'_, '_> {
    /// The indices whose own signals the rule should look for.
    pub fn candidates(&self) -> std::ops::RangeInclusive<usize> {
        if self.latest_only {
            self.upto..=self.upto
        } else {
            0..=self.upto
        }
    }

    pub fn direction(&self) -> Direction {
        self.settings.direction
    }

    pub fn signal(
        &self,
        rule: RuleId,
        index: usize,
        severity: Severity,
        explanation: String,
        inputs: &[(&str, f64)],
    ) -> Signal {
        let session = self.series.session(index);
        Signal {
            rule,
            rule_version: rule.version(),
            session,
            from_session: None,
            known_at_session: session,
            severity,
            explanation,
            inputs: inputs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
        }
    }
}

/// Runs every enabled rule over the view.
pub(crate) fn find_all(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let s = view.settings;
    if s.is_enabled(RuleId::LowScore) {
        low_score::find(view, out);
    }
    if s.is_enabled(RuleId::DropFromLast) {
        drop_from_last::find(view, out);
    }
    if s.is_enabled(RuleId::ReliableDrop) {
        reliable_drop::find(view, out);
    }
    if s.is_enabled(RuleId::SuddenLoss) {
        sudden_loss::find(view, out);
    }
    if s.is_enabled(RuleId::GradualDecline) {
        gradual_decline::find(view, out);
    }
    if s.is_enabled(RuleId::ItemDrop) {
        item_drop::find(view, out);
    }
    if s.is_enabled(RuleId::ClientSaidSo) {
        client_said_so::find(view, out);
    }
    if s.is_enabled(RuleId::GoingQuiet) {
        going_quiet::find(view, out);
    }
    if s.is_enabled(RuleId::CeilingThenFall) {
        ceiling_then_fall::find(view, out);
    }
    if s.is_enabled(RuleId::RiskWords) {
        risk_words::find(view, out);
    }
}

/// Every signal of every enabled rule over the whole history (retrospective).
pub fn find_signals(history: &ClientHistory, settings: &EngineSettings) -> Vec<Signal> {
    let series = Series::new(history, settings);
    let mut out = Vec::new();
    if series.len() == 0 {
        return out;
    }
    let view = View {
        series: &series,
        settings,
        upto: series.len() - 1,
        latest_only: false,
    };
    find_all(&view, &mut out);
    sort_signals(&mut out);
    out
}

/// Orders signals by session, then rule, then when they became known.
pub(crate) fn sort_signals(signals: &mut [Signal]) {
    signals.sort_by_key(|s| (s.session, s.rule, s.known_at_session));
}

// ---------------------------------------------------------------------------
// Wording helpers shared by the explanations.

/// A number of points as people write it: 38, 37.5, 5.7.
pub fn fmt_points(x: f64) -> String {
    if (x - x.round()).abs() < 0.05 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

/// A number to two decimals without trailing zeros: 0.83, 2, 4.47.
pub fn fmt_2dp(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A reliability as it is printed in papers: .70, .961.
pub fn fmt_r(r: f64) -> String {
    let s = if (r * 100.0 - (r * 100.0).round()).abs() < 1e-9 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    };
    s.trim_start_matches('0').to_string()
}

/// "session 3", "sessions 1–3", "sessions 1, 2 and 5".
pub fn fmt_sessions(sessions: &[u32]) -> String {
    match sessions {
        [] => "no sessions".into(),
        [one] => format!("session {one}"),
        _ => {
            let consecutive = sessions.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]));
            if consecutive {
                format!("sessions {}–{}", sessions[0], sessions[sessions.len() - 1])
            } else {
                let (last, rest) = sessions.split_last().expect("two or more");
                let rest: Vec<String> = rest.iter().map(u32::to_string).collect();
                format!("sessions {} and {last}", rest.join(", "))
            }
        }
    }
}

/// "the baseline (mean of sessions 1–3)" or "the first answer (session 1)".
pub(crate) fn describe_reference(r: &Reference) -> String {
    if r.sessions.len() == 1 {
        format!("the first answer ({})", fmt_sessions(&r.sessions))
    } else if r.established {
        format!("the baseline (mean of {})", fmt_sessions(&r.sessions))
    } else {
        format!("the early baseline (mean of {})", fmt_sessions(&r.sessions))
    }
}

/// The sentence that says how big a change is beyond measurement noise.
pub(crate) fn noise_sentence(settings: &EngineSettings) -> String {
    let source = settings
        .sd_source
        .as_deref()
        .map(|s| format!(", {s}"))
        .unwrap_or_default();
    format!(
        "A {} of more than {} points is beyond measurement noise for this instrument (reliable change, r = {}, SD = {}{}).",
        settings.direction.worse_noun(),
        fmt_points(settings.reliable_change()),
        fmt_r(settings.reliability),
        fmt_points(settings.sd),
        source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip_through_their_names() {
        for rule in RuleId::ALL {
            assert_eq!(rule.as_str().parse::<RuleId>().unwrap(), rule);
            assert_eq!(serde_json::to_string(&rule).unwrap(), format!("\"{}\"", rule.as_str()));
            assert!(
                rule.hazard().contains("Missed"),
                "{rule} hazard names the missed-alert harm"
            );
            assert!(
                rule.hazard().contains("False"),
                "{rule} hazard names the false-alert harm"
            );
            assert!(
                rule.hazard().contains("Mitigation"),
                "{rule} hazard names the mitigation"
            );
        }
        assert!("sudden-loss".parse::<RuleId>().is_ok());
        let err = "nonsense".parse::<RuleId>().unwrap_err().to_string();
        assert!(err.contains("low_score"));
    }

    #[test]
    fn severity_orders_and_serialises_lowercase() {
        assert!(Severity::Low < Severity::Medium && Severity::Medium < Severity::High);
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
    }

    #[test]
    fn settings_default_equals_the_shipped_instrument() {
        let shipped = crate::domain::instrument::shipped_instruments().remove(0);
        assert_eq!(EngineSettings::for_instrument(&shipped), EngineSettings::default());
        assert_eq!(EngineSettings::default().validate(), Ok(()));
    }

    #[test]
    fn settings_accept_partial_json_overrides() {
        let s: EngineSettings = serde_json::from_str(r#"{"sd": 6.0, "gradual_decline": {"h": 4.0}}"#).unwrap();
        assert_eq!(s.sd, 6.0);
        assert_eq!(s.gradual_decline.h, 4.0);
        assert_eq!(s.gradual_decline.k, 0.5);
        assert_eq!(s.low_score.cutoff, Some(36.0));
        let back: EngineSettings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn overrides_merge_into_the_instrument_defaults() {
        let base = EngineSettings::default();
        let s = base
            .with_overrides(
                &serde_json::json!({"item_drop": {"min_drop": 4}, "gradual_decline": {"sigma": {"points": 1.5}}}),
            )
            .unwrap();
        assert_eq!(s.item_drop.min_drop, 4.0);
        assert_eq!(s.item_drop.floors["bond"], 8.0, "floors kept");
        assert_eq!(s.gradual_decline.sigma, CusumSigma::Points(1.5));
        let back = s
            .with_overrides(&serde_json::json!({"gradual_decline": {"sigma": null}}))
            .unwrap();
        assert_eq!(back.gradual_decline.sigma, CusumSigma::StandardErrorOfMeasurement);
        let err = base
            .with_overrides(&serde_json::json!({"sudden_loss": {"alpha": 2}}))
            .unwrap_err();
        assert_eq!(err.setting, "sudden_loss.alpha");
        assert!(base.with_overrides(&serde_json::json!({"sd": "wide"})).is_err());
        assert!(base.with_overrides(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn wording_helpers() {
        assert_eq!(fmt_points(38.0), "38");
        assert_eq!(fmt_points(5.747681), "5.7");
        assert_eq!(fmt_r(0.7), ".70");
        assert_eq!(fmt_r(0.961), ".961");
        assert_eq!(fmt_sessions(&[1, 2, 3]), "sessions 1–3");
        assert_eq!(fmt_sessions(&[1, 2, 5]), "sessions 1, 2 and 5");
        assert_eq!(fmt_2dp(0.8333333), "0.83");
        assert_eq!(fmt_2dp(2.0), "2");
    }

    #[test]
    fn provisional_reference_before_the_baseline_is_established() {
        let h = ClientHistory::from_totals(&[Some(38.0), None, Some(36.0), Some(40.0), Some(30.0)]);
        let settings = EngineSettings::default();
        let s = Series::new(&h, &settings);
        assert_eq!(s.reference_before(0), None);
        let r = s.reference_before(2).unwrap();
        assert_eq!((r.value, r.established), (38.0, false));
        let r = s.reference_before(4).unwrap();
        assert_eq!(
            (r.value, r.established, r.sessions.clone()),
            (38.0, true, vec![1, 3, 4])
        );
        assert_eq!(s.baseline(), Some(38.0));
        for i in 0..=h.sessions.len() {
            assert_eq!(s.reference_value_before(i), s.reference_before(i).map(|r| r.value));
        }
    }
}
