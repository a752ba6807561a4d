//! The dashboard's tables, built once from the stored cells and used by
//! both the page and the CSV export, so the two always agree.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::domain::signals::RuleId;
use crate::domain::trends::cells::MIN_CLINICIANS_FOR_SPREAD;
use crate::domain::trends::research::number;
use crate::domain::trends::{Breakdown, Cell, CellValue, Figure, Period, RuleFigure, Selection, Spread, Unit, spread};
use crate::store::trends::Dashboard;

/// One line of the charts and one column of the tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub id: i64,
    pub name: String,
}

/// A figure per period (rows) and group (columns), with the whole range
/// added up where that makes sense.
#[derive(Debug, Clone)]
pub struct FigureTable {
    pub figure: Figure,
    pub rows: Vec<(Period, Vec<CellValue>)>,
    /// None for medians, which cannot be added up from periods.
    pub total: Option<Vec<CellValue>>,
}

/// A per-rule figure over the whole range: rules (rows) by group (columns).
#[derive(Debug, Clone)]
pub struct RuleTable {
    pub figure: RuleFigure,
    /// (rule id, rule name, one value per series)
    pub rows: Vec<(String, String, Vec<CellValue>)>,
}

/// The spread of one figure across clinicians, per period.
#[derive(Debug, Clone)]
pub struct SpreadTable {
    pub figure: Figure,
    pub rows: Vec<(Period, Option<Spread>)>,
}

/// The name of a spread table (in the CSV and its links).
pub fn spread_slug(figure: Figure) -> String {
    format!("{}_spread_across_clinicians", figure.slug())
}

impl SpreadTable {
    pub fn slug(&self) -> String {
        spread_slug(self.figure)
    }

    pub fn title(&self) -> String {
        format!("{}: spread across clinicians", self.figure.title())
    }
}

/// Figures whose spread across clinicians is shown.
pub const SPREAD_FIGURES: [Figure; 3] = [
    Figure::ResponseRate,
    Figure::MeanAllianceCommon,
    Figure::AlertsPer100Sessions,
];

pub const SPREAD_DEFINITION: &str = "For each period, the lowest, middle and highest figure among the clinicians who each have at least 5 clients in it — no names, and only when at least 3 clinicians qualify.";

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Trends {
    pub selection: Selection,
    pub series: Vec<Series>,
    pub figures: Vec<FigureTable>,
    pub rules: Vec<RuleTable>,
    pub spreads: Vec<SpreadTable>,
    /// The whole clinic over the whole range.
    pub summary: Cell,
}

pub fn build(selection: &Selection, data: &Dashboard) -> Trends {
    let periods = selection.periods();
    let mut by_group: BTreeMap<i64, BTreeMap<Period, &Cell>> = BTreeMap::new();
    for (period, group, cell) in &data.cells {
        by_group.entry(*group).or_default().insert(*period, cell);
    }
    let series = series_for(selection.breakdown, by_group.keys().copied(), &data.names);
    let empty = Cell::default();
    let cell_at = |group: i64, period: &Period| by_group.get(&group).and_then(|m| m.get(period).copied());
    let group_total = |group: i64| Cell::total(by_group.get(&group).into_iter().flat_map(|m| m.values().copied()));
    let totals: Vec<Cell> = series.iter().map(|s| group_total(s.id)).collect();

    let figures = Figure::ALL
        .into_iter()
        .map(|figure| FigureTable {
            figure,
            rows: periods
                .iter()
                .map(|p| {
                    (
                        *p,
                        series
                            .iter()
                            .map(|s| cell_at(s.id, p).unwrap_or(&empty).value(figure))
                            .collect(),
                    )
                })
                .collect(),
            total: (figure != Figure::MedianHoursToAcknowledge)
                .then(|| totals.iter().map(|t| t.value(figure)).collect()),
        })
        .collect();

    let rule_ids = ordered_rules(totals.iter().flat_map(|t| t.rules.keys().cloned()));
    let rules = RuleFigure::ALL
        .into_iter()
        .map(|figure| RuleTable {
            figure,
            rows: rule_ids
                .iter()
                .map(|rule| {
                    let values = totals.iter().map(|t| t.rule_value(rule, figure)).collect();
                    (rule.clone(), rule_title(rule), values)
                })
                .collect(),
        })
        .collect();

    let mut clinicians_by_period: BTreeMap<Period, Vec<&Cell>> = BTreeMap::new();
    for (period, cell) in &data.clinicians {
        clinicians_by_period.entry(*period).or_default().push(cell);
    }
    let spreads = SPREAD_FIGURES
        .into_iter()
        .map(|figure| SpreadTable {
            figure,
            rows: periods
                .iter()
                .map(|p| {
                    let values: Vec<f64> = clinicians_by_period
                        .get(p)
                        .map(|cells| cells.iter().filter_map(|c| c.value(figure).number()).collect())
                        .unwrap_or_default();
                    (*p, spread(&values))
                })
                .collect(),
        })
        .collect();

    let summary = Cell::total(data.clinic.iter().map(|(_, c)| c));
    Trends {
        selection: *selection,
        series,
        figures,
        rules,
        spreads,
        summary,
    }
}

/// Groups in a fixed, neutral order: alphabetical by name — never ranked
/// by any figure. "No team" comes last.
fn series_for(breakdown: Breakdown, ids: impl Iterator<Item = i64>, names: &BTreeMap<i64, String>) -> Vec<Series> {
    if breakdown == Breakdown::Clinic {
        return vec![Series {
            id: 0,
            name: "Whole clinic".into(),
        }];
    }
    let mut series: Vec<Series> = ids
        .map(|id| Series {
            id,
            name: names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("{} {id} (removed)", breakdown_noun(breakdown))),
        })
        .collect();
    let no_team = |s: &Series| breakdown == Breakdown::Team && s.id == 0;
    series.sort_by(|a, b| {
        no_team(a)
            .cmp(&no_team(b))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then(a.id.cmp(&b.id))
    });
    series
}

fn breakdown_noun(breakdown: Breakdown) -> &'static str {
    match breakdown {
        Breakdown::Clinic => "Clinic",
        Breakdown::Team => "Team",
        Breakdown::Instrument => "Questionnaire",
        Breakdown::Clinician => "Clinician",
    }
}

/// Known rules in the engine's order, then any others by id.
fn ordered_rules(rules: impl Iterator<Item = String>) -> Vec<String> {
    let present: BTreeSet<String> = rules.collect();
    let mut out: Vec<String> = RuleId::ALL
        .iter()
        .map(|r| r.as_str().to_string())
        .filter(|r| present.contains(r))
        .collect();
    out.extend(present.into_iter().filter(|r| RuleId::from_str(r).is_err()));
    out
}

pub fn rule_title(rule: &str) -> String {
    RuleId::from_str(rule)
        .map(|r| r.title().to_string())
        .unwrap_or_else(|_| rule.replace('_', " "))
}

/// Why a cell shows no number, in the words on the page and in the CSV.
pub const SUPPRESSED: &str = "fewer than 5 clients";
pub const NO_DATA: &str = "no data";
pub const MIXED: &str = "mixed questionnaires";

/// A value as the page writes it.
pub fn display(value: CellValue, unit: Unit) -> String {
    match value {
        CellValue::Value(v) => match unit {
            Unit::Count => format!("{v:.0}"),
            Unit::Share => format!("{:.1}%", v * 100.0),
            Unit::Score100 | Unit::Points | Unit::Per100Sessions => format!("{v:.1}"),
            Unit::Hours => format!("{v:.1} h"),
        },
        CellValue::Suppressed => SUPPRESSED.into(),
        CellValue::NoData => NO_DATA.into(),
        CellValue::Mixed => MIXED.into(),
    }
}

/// A value as the CSV writes it: (number, unit, note).
pub fn csv_cells(value: CellValue, unit: Unit) -> (String, &'static str, &'static str) {
    let unit_name = unit_name(unit);
    match value {
        CellValue::Value(v) => {
            let shown = if unit == Unit::Share { v * 100.0 } else { v };
            (number(shown), unit_name, "")
        }
        CellValue::Suppressed => (String::new(), unit_name, SUPPRESSED),
        CellValue::NoData => (String::new(), unit_name, NO_DATA),
        CellValue::Mixed => (String::new(), unit_name, MIXED),
    }
}

pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "count",
        Unit::Share => "percent",
        Unit::Score100 => "score 0-100",
        Unit::Points => "questionnaire points",
        Unit::Per100Sessions => "per 100 sessions",
        Unit::Hours => "hours",
    }
}

/// Enough clinicians to show a spread at all (for the page's wording).
pub fn spread_minimum() -> usize {
    MIN_CLINICIANS_FOR_SPREAD
}
