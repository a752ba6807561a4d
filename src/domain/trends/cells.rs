//! Cells: what one period's facts add up to for each group, and the
//! figures a manager reads from them.
//!
//! A cell keeps counts, sums and the number of distinct clients behind each
//! figure. A figure is shown only when at least [`MIN_CLIENTS`] distinct
//! clients stand behind it (CLINICAL.md §4); with fewer it is suppressed,
//! and with none there is simply no data.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::period::Breakdown;

/// Cells with fewer distinct clients than this are not shown.
pub const MIN_CLIENTS: i64 = 5;

/// The spread across clinicians is shown only when at least this many
/// clinicians each have enough clients: with fewer, the lowest and highest
/// would point at people.
pub const MIN_CLINICIANS_FOR_SPREAD: usize = 3;

/// The group id of the whole clinic, and of clinicians without a team.
pub const WHOLE_CLINIC: i64 = 0;
pub const NO_TEAM: i64 = 0;

/// One group a figure is given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub breakdown: Breakdown,
    pub id: i64,
}

/// Whose a fact is: the client, the clinician who saw them, the clinician's
/// team, and the questionnaire (when there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribution {
    pub client: i64,
    pub clinician: i64,
    pub team: Option<i64>,
    pub instrument: Option<i64>,
}

impl Attribution {
    /// Every group the fact counts in: the clinic, its team, its
    /// questionnaire (if any) and its clinician.
    fn groups(&self) -> impl Iterator<Item = GroupKey> {
        [
            Some(GroupKey {
                breakdown: Breakdown::Clinic,
                id: WHOLE_CLINIC,
            }),
            Some(GroupKey {
                breakdown: Breakdown::Team,
                id: self.team.unwrap_or(NO_TEAM),
            }),
            self.instrument.map(|id| GroupKey {
                breakdown: Breakdown::Instrument,
                id,
            }),
            Some(GroupKey {
                breakdown: Breakdown::Clinician,
                id: self.clinician,
            }),
        ]
        .into_iter()
        .flatten()
    }
}

/// An attended session (appointment) in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFact {
    pub who: Attribution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Answered,
    Expired,
    /// Still open, or cancelled after it was sent: not closed either way.
    Open,
}

/// An invitation sent in the period, and how it has ended so far.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationFact {
    pub who: Attribution,
    pub state: InvitationState,
}

/// An answer submitted in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFact {
    pub who: Attribution,
    pub total: Option<f64>,
    pub common: Option<f64>,
    /// Whether the total is on the at-risk side of the instrument's cutoff;
    /// None when there is no total or the instrument has no cutoff.
    pub low: Option<bool>,
}

/// The clinician's judgement of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Repaired,
    NotRepaired,
    NotARupture,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "repaired" => Some(Outcome::Repaired),
            "not_repaired" => Some(Outcome::NotRepaired),
            "not_a_rupture" => Some(Outcome::NotARupture),
            _ => None,
        }
    }
}

/// An alert opened in the period, with what happened to it since.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFact {
    pub who: Attribution,
    /// The rules of its signals, each once.
    pub rules: Vec<String>,
    /// From opening to the first acknowledgement, if acknowledged.
    pub hours_to_acknowledge: Option<f64>,
    pub outcome: Option<Outcome>,
    /// Measured recovery: the scores came back (the V-shape).
    pub recovered: bool,
}

/// Everything that happened in one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodFacts {
    pub sessions: Vec<SessionFact>,
    pub invitations: Vec<InvitationFact>,
    pub responses: Vec<ResponseFact>,
    pub alerts: Vec<AlertFact>,
}

/// One group's figures for one period (or, added up, for a range).
/// `*_clients` fields count distinct clients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub invitations_sent: i64,
    pub invitation_clients: i64,
    pub invitations_closed: i64,
    pub invitations_answered: i64,
    pub closed_clients: i64,
    pub scored: i64,
    pub scored_clients: i64,
    pub total_sum: f64,
    pub common_sum: f64,
    /// The one instrument every scored answer used; None when mixed (or none).
    pub native_instrument: Option<i64>,
    pub cutoff_scored: i64,
    pub low_scores: i64,
    pub cutoff_clients: i64,
    pub sessions: i64,
    pub session_clients: i64,
    pub alerts: i64,
    pub alert_clients: i64,
    pub recovered: i64,
    pub acknowledged: i64,
    pub acknowledged_clients: i64,
    pub median_hours_to_acknowledge: Option<f64>,
    pub with_outcome: i64,
    pub repaired: i64,
    pub outcome_clients: i64,
    /// Per rule (`alert_signals.rule`).
    pub rules: BTreeMap<String, RuleCell>,
}

/// One rule's alerts in a cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCell {
    pub alerts: i64,
    pub alert_clients: i64,
    pub with_outcome: i64,
    pub not_a_rupture: i64,
    pub outcome_clients: i64,
}

/// A figure as shown: a number, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellValue {
    Value(f64),
    /// Fewer than [`MIN_CLIENTS`] clients: not shown.
    Suppressed,
    NoData,
    /// Native totals of different questionnaires cannot be averaged.
    Mixed,
}

impl CellValue {
    pub fn number(self) -> Option<f64> {
        match self {
            CellValue::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// How a figure is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// A proportion in [0, 1], written as a percentage.
    Share,
    /// A score on the common 0–100 scale.
    Score100,
    /// A total in the questionnaire's own points.
    Points,
    Per100Sessions,
    Hours,
}

/// The figures of CLINICAL.md §4, each per period and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    InvitationsSent,
    ResponseRate,
    MeanAllianceCommon,
    MeanAllianceNative,
    LowScoreShare,
    AlertsPer100Sessions,
    MedianHoursToAcknowledge,
    RepairRecorded,
    RepairMeasured,
}

impl Figure {
    pub const ALL: [Figure; 9] = [
        Figure::InvitationsSent,
        Figure::ResponseRate,
        Figure::MeanAllianceCommon,
        Figure::MeanAllianceNative,
        Figure::LowScoreShare,
        Figure::AlertsPer100Sessions,
        Figure::MedianHoursToAcknowledge,
        Figure::RepairRecorded,
        Figure::RepairMeasured,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Figure::InvitationsSent => "invitations_sent",
            Figure::ResponseRate => "response_rate",
            Figure::MeanAllianceCommon => "mean_alliance_0_100",
            Figure::MeanAllianceNative => "mean_alliance_native",
            Figure::LowScoreShare => "low_score_share",
            Figure::AlertsPer100Sessions => "alerts_per_100_sessions",
            Figure::MedianHoursToAcknowledge => "median_hours_to_acknowledge",
            Figure::RepairRecorded => "repair_rate_recorded",
            Figure::RepairMeasured => "repair_rate_measured",
        }
    }

    pub fn parse(slug: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Figure::InvitationsSent => "Invitations sent",
            Figure::ResponseRate => "Response rate",
            Figure::MeanAllianceCommon => "Mean alliance (0–100)",
            Figure::MeanAllianceNative => "Mean alliance (questionnaire points)",
            Figure::LowScoreShare => "Share of low scores",
            Figure::AlertsPer100Sessions => "Alerts per 100 sessions",
            Figure::MedianHoursToAcknowledge => "Median time to acknowledge",
            Figure::RepairRecorded => "Repair rate (clinician recorded)",
            Figure::RepairMeasured => "Repair rate (measured recovery)",
        }
    }

    /// The one-line definition shown beside the figure.
    pub fn definition(self) -> &'static str {
        match self {
            Figure::InvitationsSent => "Questionnaire links emailed to clients, counted in the period they were sent.",
            Figure::ResponseRate => {
                "Of the links sent in the period that have closed, the share answered (links still open are left out)."
            }
            Figure::MeanAllianceCommon => {
                "Average total of the answers submitted in the period, on a 0–100 scale where 100 is the best possible total."
            }
            Figure::MeanAllianceNative => {
                "Average total in the questionnaire's own points; shown only where every answer used the same questionnaire."
            }
            Figure::LowScoreShare => {
                "Share of the answers submitted in the period whose total was below the questionnaire's cutoff (questionnaires without a cutoff are left out)."
            }
            Figure::AlertsPer100Sessions => {
                "Alerts opened in the period for every 100 attended sessions in the period."
            }
            Figure::MedianHoursToAcknowledge => {
                "For alerts opened in the period and acknowledged, the middle time from opening to the clinician's first acknowledgement, in hours."
            }
            Figure::RepairRecorded => {
                "Of the alerts opened in the period that have an outcome, the share the clinician recorded as repaired."
            }
            Figure::RepairMeasured => {
                "Of the alerts opened in the period, the share whose scores came back within the reliable-change band of the client's baseline."
            }
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Figure::InvitationsSent => Unit::Count,
            Figure::ResponseRate | Figure::LowScoreShare | Figure::RepairRecorded | Figure::RepairMeasured => {
                Unit::Share
            }
            Figure::MeanAllianceCommon => Unit::Score100,
            Figure::MeanAllianceNative => Unit::Points,
            Figure::AlertsPer100Sessions => Unit::Per100Sessions,
            Figure::MedianHoursToAcknowledge => Unit::Hours,
        }
    }
}

/// The figures given per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleFigure {
    AlertsPer100Sessions,
    FalseAlarmRate,
}

impl RuleFigure {
    pub const ALL: [RuleFigure; 2] = [RuleFigure::AlertsPer100Sessions, RuleFigure::FalseAlarmRate];

    pub fn slug(self) -> &'static str {
        match self {
            RuleFigure::AlertsPer100Sessions => "alerts_per_100_sessions_by_rule",
            RuleFigure::FalseAlarmRate => "false_alarm_rate_by_rule",
        }
    }

    pub fn parse(slug: &str) -> Option<RuleFigure> {
        RuleFigure::ALL.into_iter().find(|f| f.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            RuleFigure::AlertsPer100Sessions => "Alerts per 100 sessions, by rule",
            RuleFigure::FalseAlarmRate => "False-alarm rate, by rule",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            RuleFigure::AlertsPer100Sessions => {
                "Alerts opened in the range with a signal from the rule, per 100 attended sessions (an alert with signals from two rules counts for both)."
            }
            RuleFigure::FalseAlarmRate => {
                "Of the alerts opened in the range that have an outcome and a signal from the rule, the share recorded as not a rupture."
            }
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            RuleFigure::AlertsPer100Sessions => Unit::Per100Sessions,
            RuleFigure::FalseAlarmRate => Unit::Share,
        }
    }
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A figure behind `clients` distinct clients: none, too few, or shown.
fn gate(clients: i64, value: Option<f64>) -> CellValue {
    if clients <= 0 {
        CellValue::NoData
    } else if clients < MIN_CLIENTS {
        CellValue::Suppressed
    } else {
        value.map_or(CellValue::NoData, CellValue::Value)
    }
}

impl Cell {
    /// The figure, or why it is not shown.
    pub fn value(&self, figure: Figure) -> CellValue {
        match figure {
            Figure::InvitationsSent => gate(self.invitation_clients, Some(self.invitations_sent as f64)),
            Figure::ResponseRate => gate(
                self.closed_clients,
                ratio(self.invitations_answered, self.invitations_closed),
            ),
            Figure::MeanAllianceCommon => gate(
                self.scored_clients,
                (self.scored > 0).then(|| self.common_sum / self.scored as f64),
            ),
            Figure::MeanAllianceNative => match gate(self.scored_clients, Some(0.0)) {
                CellValue::Value(_) if self.native_instrument.is_none() => CellValue::Mixed,
                CellValue::Value(_) => CellValue::Value(self.total_sum / self.scored as f64),
                other => other,
            },
            Figure::LowScoreShare => gate(self.cutoff_clients, ratio(self.low_scores, self.cutoff_scored)),
            Figure::AlertsPer100Sessions => gate(
                self.session_clients,
                ratio(self.alerts, self.sessions).map(|r| r * 100.0),
            ),
            Figure::MedianHoursToAcknowledge => gate(self.acknowledged_clients, self.median_hours_to_acknowledge),
            Figure::RepairRecorded => gate(self.outcome_clients, ratio(self.repaired, self.with_outcome)),
            Figure::RepairMeasured => gate(self.alert_clients, ratio(self.recovered, self.alerts)),
        }
    }

    /// A per-rule figure, or why it is not shown.
    pub fn rule_value(&self, rule: &str, figure: RuleFigure) -> CellValue {
        let r = self.rules.get(rule).cloned().unwrap_or_default();
        match figure {
            RuleFigure::AlertsPer100Sessions => {
                gate(self.session_clients, ratio(r.alerts, self.sessions).map(|v| v * 100.0))
            }
            RuleFigure::FalseAlarmRate => gate(r.outcome_clients, ratio(r.not_a_rupture, r.with_outcome)),
        }
    }

    /// Adds another period's cell of the same group, for a figure over a
    /// whole range. Counts and sums add up; distinct clients do not (the
    /// same client comes back month after month), so each client count
    /// becomes the largest of the parts — a lower bound of the true number,
    /// which can only suppress more, never less. A median cannot be added
    /// up and is dropped.
    pub fn absorb(&mut self, other: &Cell, first: bool) {
        let native = if first {
            other.native_instrument
        } else if other.scored == 0 {
            self.native_instrument
        } else if self.scored == 0 || self.native_instrument == other.native_instrument {
            other.native_instrument
        } else {
            None
        };
        self.invitations_sent += other.invitations_sent;
        self.invitation_clients = self.invitation_clients.max(other.invitation_clients);
        self.invitations_closed += other.invitations_closed;
        self.invitations_answered += other.invitations_answered;
        self.closed_clients = self.closed_clients.max(other.closed_clients);
        self.scored += other.scored;
        self.scored_clients = self.scored_clients.max(other.scored_clients);
        self.total_sum += other.total_sum;
        self.common_sum += other.common_sum;
        self.native_instrument = native;
        self.cutoff_scored += other.cutoff_scored;
        self.low_scores += other.low_scores;
        self.cutoff_clients = self.cutoff_clients.max(other.cutoff_clients);
        self.sessions += other.sessions;
        self.session_clients = self.session_clients.max(other.session_clients);
        self.alerts += other.alerts;
        self.alert_clients = self.alert_clients.max(other.alert_clients);
        self.recovered += other.recovered;
        self.acknowledged += other.acknowledged;
        self.acknowledged_clients = self.acknowledged_clients.max(other.acknowledged_clients);
        self.median_hours_to_acknowledge = None;
        self.with_outcome += other.with_outcome;
        self.repaired += other.repaired;
        self.outcome_clients = self.outcome_clients.max(other.outcome_clients);
        for (rule, r) in &other.rules {
            let mine = self.rules.entry(rule.clone()).or_default();
            mine.alerts += r.alerts;
            mine.alert_clients = mine.alert_clients.max(r.alert_clients);
            mine.with_outcome += r.with_outcome;
            mine.not_a_rupture += r.not_a_rupture;
            mine.outcome_clients = mine.outcome_clients.max(r.outcome_clients);
        }
    }

    /// The cells of a range added up (see [`Cell::absorb`]).
    pub fn total<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> Cell {
        let mut total = Cell::default();
        for (i, cell) in cells.into_iter().enumerate() {
            total.absorb(cell, i == 0);
        }
        total
    }
}

/// Distinct clients and the lists a cell is finished from.
#[derive(Default)]
struct Tally {
    cell: Cell,
    invitation_clients: HashSet<i64>,
    closed_clients: HashSet<i64>,
    scored_clients: HashSet<i64>,
    cutoff_clients: HashSet<i64>,
    session_clients: HashSet<i64>,
    alert_clients: HashSet<i64>,
    acknowledged_clients: HashSet<i64>,
    outcome_clients: HashSet<i64>,
    instruments: BTreeSet<i64>,
    hours_to_acknowledge: Vec<f64>,
    rule_clients: BTreeMap<String, (HashSet<i64>, HashSet<i64>)>,
}

impl Tally {
    fn finish(self) -> Cell {
        let count = |s: &HashSet<i64>| s.len() as i64;
        let mut cell = self.cell;
        cell.invitation_clients = count(&self.invitation_clients);
        cell.closed_clients = count(&self.closed_clients);
        cell.scored_clients = count(&self.scored_clients);
        cell.cutoff_clients = count(&self.cutoff_clients);
        cell.session_clients = count(&self.session_clients);
        cell.alert_clients = count(&self.alert_clients);
        cell.acknowledged_clients = count(&self.acknowledged_clients);
        cell.outcome_clients = count(&self.outcome_clients);
        cell.native_instrument = if self.instruments.len() == 1 {
            self.instruments.iter().next().copied()
        } else {
            None
        };
        cell.median_hours_to_acknowledge = median(&self.hours_to_acknowledge);
        for (rule, (alerted, judged)) in &self.rule_clients {
            let r = cell.rules.entry(rule.clone()).or_default();
            r.alert_clients = count(alerted);
            r.outcome_clients = count(judged);
        }
        cell
    }
}

/// One period's facts as cells: one per group of every breakdown.
pub fn aggregate(facts: &PeriodFacts) -> BTreeMap<GroupKey, Cell> {
    let mut tallies: BTreeMap<GroupKey, Tally> = BTreeMap::new();
    let mut each = |who: &Attribution, f: &mut dyn FnMut(&mut Tally)| {
        for key in who.groups() {
            f(tallies.entry(key).or_default());
        }
    };
    for s in &facts.sessions {
        each(&s.who, &mut |t| {
            t.cell.sessions += 1;
            t.session_clients.insert(s.who.client);
        });
    }
    for i in &facts.invitations {
        each(&i.who, &mut |t| {
            t.cell.invitations_sent += 1;
            t.invitation_clients.insert(i.who.client);
            if i.state != InvitationState::Open {
                t.cell.invitations_closed += 1;
                t.closed_clients.insert(i.who.client);
            }
            if i.state == InvitationState::Answered {
                t.cell.invitations_answered += 1;
            }
        });
    }
    for r in &facts.responses {
        let Some(total) = r.total else { continue };
        each(&r.who, &mut |t| {
            t.cell.scored += 1;
            t.cell.total_sum += total;
            t.cell.common_sum += r.common.unwrap_or(0.0);
            t.scored_clients.insert(r.who.client);
            if let Some(id) = r.who.instrument {
                t.instruments.insert(id);
            }
            if let Some(low) = r.low {
                t.cell.cutoff_scored += 1;
                t.cutoff_clients.insert(r.who.client);
                if low {
                    t.cell.low_scores += 1;
                }
            }
        });
    }
    for a in &facts.alerts {
        each(&a.who, &mut |t| {
            let client = a.who.client;
            t.cell.alerts += 1;
            t.alert_clients.insert(client);
            if a.recovered {
                t.cell.recovered += 1;
            }
            if let Some(hours) = a.hours_to_acknowledge {
                t.cell.acknowledged += 1;
                t.acknowledged_clients.insert(client);
                t.hours_to_acknowledge.push(hours);
            }
            if let Some(outcome) = a.outcome {
                t.cell.with_outcome += 1;
                t.outcome_clients.insert(client);
                if outcome == Outcome::Repaired {
                    t.cell.repaired += 1;
                }
            }
            let rules: BTreeSet<&String> = a.rules.iter().collect();
            for rule in rules {
                let r = t.cell.rules.entry(rule.clone()).or_default();
                r.alerts += 1;
                let (alerted, judged) = t.rule_clients.entry(rule.clone()).or_default();
                alerted.insert(client);
                if let Some(outcome) = a.outcome {
                    r.with_outcome += 1;
                    judged.insert(client);
                    if outcome == Outcome::NotARupture {
                        r.not_a_rupture += 1;
                    }
                }
            }
        });
    }
    tallies.into_iter().map(|(key, tally)| (key, tally.finish())).collect()
}

/// The middle value (the mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// How a figure varies across clinicians, without saying who is where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub clinicians: usize,
    pub lowest: f64,
    pub median: f64,
    pub highest: f64,
}

/// The spread of clinicians' values, when enough clinicians have one.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < MIN_CLINICIANS_FOR_SPREAD {
        return None;
    }
    Some(Spread {
        clinicians: finite.len(),
        lowest: finite.iter().copied().fold(f64::INFINITY, f64::min),
        median: median(&finite)?,
        highest: finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn who(client: i64, clinician: i64, team: Option<i64>) -> Attribution {
        Attribution {
            client,
            clinician,
            team,
            instrument: Some(1),
        }
    }

    fn clinic(cells: &BTreeMap<GroupKey, Cell>) -> &Cell {
        &cells[&GroupKey {
            breakdown: Breakdown::Clinic,
            id: WHOLE_CLINIC,
        }]
    }

    #[test]
    fn five_clients_show_a_figure_four_do_not() {
        let mut facts = PeriodFacts::default();
        for client in 1..=4 {
            facts.invitations.push(InvitationFact {
                who: who(client, 10, Some(1)),
                state: InvitationState::Answered,
            });
        }
        let cells = aggregate(&facts);
        assert_eq!(clinic(&cells).value(Figure::InvitationsSent), CellValue::Suppressed);
        assert_eq!(clinic(&cells).value(Figure::ResponseRate), CellValue::Suppressed);
        // A second invitation for the same client is not a fifth client.
        facts.invitations.push(InvitationFact {
            who: who(4, 10, Some(1)),
            state: InvitationState::Open,
        });
        assert_eq!(
            aggregate(&facts)[&GroupKey {
                breakdown: Breakdown::Clinic,
                id: 0
            }]
                .invitation_clients,
            4
        );
        facts.invitations.push(InvitationFact {
            who: who(5, 10, Some(1)),
            state: InvitationState::Expired,
        });
        let cells = aggregate(&facts);
        assert_eq!(clinic(&cells).value(Figure::InvitationsSent), CellValue::Value(6.0));
        // 4 answered of 5 closed; the open one is left out.
        assert_eq!(clinic(&cells).value(Figure::ResponseRate), CellValue::Value(0.8));
        // Nothing at all is "no data", not "suppressed".
        assert_eq!(clinic(&cells).value(Figure::AlertsPer100Sessions), CellValue::NoData);
    }

    #[test]
    fn facts_count_in_their_clinic_team_instrument_and_clinician() {
        let facts = PeriodFacts {
            sessions: vec![
                SessionFact {
                    who: who(1, 10, Some(7)),
                },
                SessionFact {
                    who: Attribution {
                        client: 2,
                        clinician: 11,
                        team: None,
                        instrument: None,
                    },
                },
            ],
            ..PeriodFacts::default()
        };
        let cells = aggregate(&facts);
        let key = |breakdown, id| GroupKey { breakdown, id };
        assert_eq!(cells[&key(Breakdown::Clinic, 0)].sessions, 2);
        assert_eq!(cells[&key(Breakdown::Team, 7)].sessions, 1);
        assert_eq!(cells[&key(Breakdown::Team, NO_TEAM)].sessions, 1);
        assert_eq!(cells[&key(Breakdown::Instrument, 1)].sessions, 1);
        assert_eq!(cells[&key(Breakdown::Clinician, 11)].sessions, 1);
        assert_eq!(cells.len(), 6);
    }

    fn alert(client: i64, rules: &[&str], hours: Option<f64>, outcome: Option<Outcome>, recovered: bool) -> AlertFact {
        AlertFact {
            who: who(client, 10, Some(1)),
            rules: rules.iter().map(|r| r.to_string()).collect(),
            hours_to_acknowledge: hours,
            outcome,
            recovered,
        }
    }

    #[test]
    fn alert_figures_by_hand() {
        let mut facts = PeriodFacts::default();
        for client in 1..=10 {
            facts.sessions.push(SessionFact {
                who: who(client, 10, Some(1)),
            });
            facts.sessions.push(SessionFact {
                who: who(client, 10, Some(1)),
            });
        }
        facts.alerts = vec![
            alert(
                1,
                &["low_score", "reliable_drop"],
                Some(2.0),
                Some(Outcome::Repaired),
                true,
            ),
            alert(2, &["low_score"], Some(4.0), Some(Outcome::NotARupture), false),
            alert(
                3,
                &["low_score", "low_score"],
                Some(30.0),
                Some(Outcome::NotRepaired),
                false,
            ),
            alert(4, &["going_quiet"], Some(1.0), Some(Outcome::Repaired), true),
            alert(5, &["low_score"], None, None, false),
            alert(6, &["low_score"], Some(10.0), Some(Outcome::NotARupture), false),
        ];
        let cells = aggregate(&facts);
        let c = clinic(&cells);
        // 6 alerts over 20 sessions.
        assert_eq!(c.value(Figure::AlertsPer100Sessions), CellValue::Value(30.0));
        // Hours 1, 2, 4, 10, 30: the middle one is 4.
        assert_eq!(c.value(Figure::MedianHoursToAcknowledge), CellValue::Value(4.0));
        // 2 repaired of 5 with an outcome; 2 recovered of 6.
        assert_eq!(c.value(Figure::RepairRecorded), CellValue::Value(0.4));
        assert_eq!(c.value(Figure::RepairMeasured), CellValue::Value(2.0 / 6.0));
        // Low score: 5 alerts (the doubled signal counts once) over 20 sessions.
        assert_eq!(
            c.rule_value("low_score", RuleFigure::AlertsPer100Sessions),
            CellValue::Value(25.0)
        );
        // Low score with an outcome: clients 1, 2, 3, 6 — only four, so suppressed.
        assert_eq!(
            c.rule_value("low_score", RuleFigure::FalseAlarmRate),
            CellValue::Suppressed
        );
        assert_eq!(c.rules["low_score"].not_a_rupture, 2);
        assert_eq!(
            c.rule_value("sudden_loss", RuleFigure::FalseAlarmRate),
            CellValue::NoData
        );
    }

    #[test]
    fn native_means_only_within_one_questionnaire() {
        let answer = |client, instrument, total: f64| ResponseFact {
            who: Attribution {
                client,
                clinician: 10,
                team: None,
                instrument: Some(instrument),
            },
            total: Some(total),
            common: Some(total * 2.5),
            low: Some(total < 36.0),
        };
        let facts = PeriodFacts {
            responses: (1..=5).map(|c| answer(c, 1, 30.0 + c as f64)).collect(),
            ..Default::default()
        };
        let cells = aggregate(&facts);
        assert_eq!(clinic(&cells).value(Figure::MeanAllianceNative), CellValue::Value(33.0));
        assert_eq!(clinic(&cells).value(Figure::MeanAllianceCommon), CellValue::Value(82.5));
        assert_eq!(clinic(&cells).value(Figure::LowScoreShare), CellValue::Value(1.0));
        let mut mixed = facts.clone();
        mixed.responses.push(answer(6, 2, 20.0));
        let cells = aggregate(&mixed);
        assert_eq!(clinic(&cells).value(Figure::MeanAllianceNative), CellValue::Mixed);
        assert!(matches!(
            clinic(&cells).value(Figure::MeanAllianceCommon),
            CellValue::Value(_)
        ));
    }

    #[test]
    fn answers_without_a_total_or_cutoff_are_left_out_of_their_figures() {
        let facts = PeriodFacts {
            responses: (1..=6)
                .map(|c| ResponseFact {
                    who: who(c, 10, None),
                    total: (c != 6).then_some(38.0),
                    common: (c != 6).then_some(95.0),
                    low: None,
                })
                .collect(),
            ..Default::default()
        };
        let c = aggregate(&facts)[&GroupKey {
            breakdown: Breakdown::Clinic,
            id: 0,
        }]
            .clone();
        assert_eq!((c.scored, c.scored_clients), (5, 5));
        assert_eq!(c.value(Figure::LowScoreShare), CellValue::NoData);
    }

    #[test]
    fn range_totals_add_counts_and_keep_a_lower_bound_of_clients() {
        let a = Cell {
            sessions: 10,
            session_clients: 3,
            alerts: 1,
            alert_clients: 1,
            ..Cell::default()
        };
        let b = Cell {
            sessions: 30,
            session_clients: 4,
            alerts: 3,
            alert_clients: 2,
            ..Cell::default()
        };
        let total = Cell::total([&a, &b]);
        assert_eq!(total.sessions, 40);
        assert_eq!(total.session_clients, 4, "never more than proven");
        assert_eq!(total.value(Figure::AlertsPer100Sessions), CellValue::Suppressed);
        let c = Cell {
            sessions: 60,
            session_clients: 5,
            ..Cell::default()
        };
        assert_eq!(
            Cell::total([&a, &b, &c]).value(Figure::AlertsPer100Sessions),
            CellValue::Value(4.0)
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[5.0, f64::NAN, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn spread_needs_three_clinicians() {
        assert_eq!(spread(&[70.0, 80.0]), None);
        let s = spread(&[90.0, 70.0, 80.0, 75.0]).unwrap();
        assert_eq!((s.clinicians, s.lowest, s.median, s.highest), (4, 70.0, 77.5, 90.0));
    }

    fn arb_facts() -> impl Strategy<Value = PeriodFacts> {
        let attribution = (
            1i64..30,
            1i64..5,
            proptest::option::of(1i64..3),
            proptest::option::of(1i64..3),
        )
            .prop_map(|(client, clinician, team, instrument)| Attribution {
                client,
                clinician,
                team,
                instrument,
            });
        let state = prop_oneof![
            Just(InvitationState::Answered),
            Just(InvitationState::Expired),
            Just(InvitationState::Open)
        ];
        let outcome = proptest::option::of(prop_oneof![
            Just(Outcome::Repaired),
            Just(Outcome::NotRepaired),
            Just(Outcome::NotARupture)
        ]);
        let rule = prop_oneof![Just("low_score".to_string()), Just("going_quiet".to_string())];
        (
            proptest::collection::vec(attribution.clone().prop_map(|who| SessionFact { who }), 0..60),
            proptest::collection::vec(
                (attribution.clone(), state).prop_map(|(who, state)| InvitationFact { who, state }),
                0..60,
            ),
            proptest::collection::vec(
                (
                    attribution.clone(),
                    proptest::option::of(0.0f64..40.0),
                    proptest::option::of(any::<bool>()),
                )
                    .prop_map(|(who, total, low)| ResponseFact {
                        who,
                        total,
                        common: total.map(|t| t * 2.5),
                        low,
                    }),
                0..60,
            ),
            proptest::collection::vec(
                (
                    attribution,
                    proptest::collection::vec(rule, 0..3),
                    proptest::option::of(0.0f64..500.0),
                    outcome,
                    any::<bool>(),
                )
                    .prop_map(|(who, rules, hours_to_acknowledge, outcome, recovered)| AlertFact {
                        who,
                        rules,
                        hours_to_acknowledge,
                        outcome,
                        recovered,
                    }),
                0..20,
            ),
        )
            .prop_map(|(sessions, invitations, responses, alerts)| PeriodFacts {
                sessions,
                invitations,
                responses,
                alerts,
            })
    }

    proptest! {
        #[test]
        fn rates_are_shares_and_small_cells_never_show(facts in arb_facts()) {
            let cells = aggregate(&facts);
            for cell in cells.values() {
                for figure in Figure::ALL {
                    let value = cell.value(figure);
                    if let CellValue::Value(v) = value {
                        prop_assert!(v.is_finite() && v >= 0.0);
                        if figure.unit() == Unit::Share {
                            prop_assert!(v <= 1.0, "{figure:?} = {v}");
                        }
                        if figure.unit() == Unit::Score100 {
                            prop_assert!(v <= 100.0);
                        }
                    }
                }
                let gated = [
                    (Figure::InvitationsSent, cell.invitation_clients),
                    (Figure::ResponseRate, cell.closed_clients),
                    (Figure::MeanAllianceCommon, cell.scored_clients),
                    (Figure::LowScoreShare, cell.cutoff_clients),
                    (Figure::AlertsPer100Sessions, cell.session_clients),
                    (Figure::MedianHoursToAcknowledge, cell.acknowledged_clients),
                    (Figure::RepairRecorded, cell.outcome_clients),
                    (Figure::RepairMeasured, cell.alert_clients),
                ];
                for (figure, clients) in gated {
                    if clients < MIN_CLIENTS {
                        prop_assert!(cell.value(figure).number().is_none(), "{figure:?} shown for {clients} clients");
                    }
                }
                for rule in cell.rules.keys() {
                    if let CellValue::Value(v) = cell.rule_value(rule, RuleFigure::FalseAlarmRate) {
                        prop_assert!((0.0..=1.0).contains(&v));
                        prop_assert!(cell.rules[rule].outcome_clients >= MIN_CLIENTS);
                    }
                }
                // Distinct clients never exceed the rows behind them.
                prop_assert!(cell.invitation_clients <= cell.invitations_sent);
                prop_assert!(cell.session_clients <= cell.sessions);
                prop_assert!(cell.alert_clients <= cell.alerts);
                prop_assert!(cell.invitations_answered <= cell.invitations_closed);
                prop_assert!(cell.invitations_closed <= cell.invitations_sent);
            }
        }

        #[test]
        fn the_clinic_adds_up_its_teams(facts in arb_facts()) {
            let cells = aggregate(&facts);
            let clinic = cells.get(&GroupKey { breakdown: Breakdown::Clinic, id: 0 }).cloned().unwrap_or_default();
            let teams: Vec<&Cell> = cells.iter().filter(|(k, _)| k.breakdown == Breakdown::Team).map(|(_, c)| c).collect();
            prop_assert_eq!(clinic.sessions, teams.iter().map(|c| c.sessions).sum::<i64>());
            prop_assert_eq!(clinic.invitations_sent, teams.iter().map(|c| c.invitations_sent).sum::<i64>());
            prop_assert_eq!(clinic.alerts, teams.iter().map(|c| c.alerts).sum::<i64>());
            // Clients can be in several teams, so the clinic has at most their sum.
            prop_assert!(clinic.session_clients <= teams.iter().map(|c| c.session_clients).sum::<i64>());
        }

        #[test]
        fn a_median_lies_between_the_extremes(values in proptest::collection::vec(-1e6f64..1e6, 1..50)) {
            let m = median(&values).unwrap();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(lo <= m && m <= hi);
            let below = values.iter().filter(|v| **v < m).count();
            let above = values.iter().filter(|v| **v > m).count();
            prop_assert!(below <= values.len() / 2 && above <= values.len() / 2);
        }
    }
}
