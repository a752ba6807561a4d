//! Rule 6, item drop: one item falls by at least a set amount from the
//! client's previous answer, or lies below its item floor (e.g. below 8 of
//! 10 on the bond item), while the total still looks fine (not past the
//! cutoff). Item values are keyed, so reverse-keyed items count the right
//! way; for a lower-is-better instrument a floor is a line not to rise above.
//!
//! One signal per session names every item concerned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points};
use crate::domain::history::SessionOutcome;
use crate::domain::instrument::Direction;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a strain in one part of the relationship (often the bond) is \
hidden by high answers elsewhere and the total stays above the cutoff; \
items without a floor and falls smaller than the setting pass unnoticed. \
False alert: single items are noisier than totals, so a 4-point wobble on \
one item can still be chance. \
Mitigation: by default a fall alone is low severity and needs company to \
open an alert; only a breached floor (set per item in the instrument file, \
bond below 8 for the shipped instrument) is medium; the explanation names \
the item and both answers.";

/// Settings of the item-drop rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemDropSettings {
    /// The smallest fall of one item from the previous answer, in points.
    pub min_drop: f64,
    /// Item floors: item id → the keyed value below which it is flagged.
    pub floors: BTreeMap<String, f64>,
    /// Only look at items when the total is not past the cutoff (the
    /// low-score rule already speaks for the others).
    pub only_when_total_looks_fine: bool,
}

impl Default for ItemDropSettings {
    fn default() -> Self {
        ItemDropSettings {
            min_drop: 4.0,
            floors: BTreeMap::new(),
            only_when_total_looks_fine: true,
        }
    }
}

fn items_of(outcome: &SessionOutcome) -> Option<&BTreeMap<String, f64>> {
    match outcome {
        SessionOutcome::Answered { items, .. } if !items.is_empty() => Some(items),
        _ => None,
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let settings = &view.settings.item_drop;
    let direction = view.direction();
    let cutoff = view.settings.low_score.cutoff;
    for i in view.candidates() {
        let Some(items) = items_of(view.series.outcome(i)) else {
            continue;
        };
        let total = view.series.totals[i];
        if settings.only_when_total_looks_fine {
            match (total, cutoff) {
                (None, _) => continue,
                (Some(t), Some(c)) if direction.is_past_cutoff(t, c) => continue,
                _ => {}
            }
        }
        let previous = (0..i)
            .rev()
            .find_map(|j| items_of(view.series.outcome(j)).map(|it| (j, it)));
        let mut parts = Vec::new();
        let mut inputs: Vec<(String, f64)> = Vec::new();
        let mut floor_breached = false;
        for (item, &now) in items {
            let mut said = false;
            if let Some((j, before_items)) = previous
                && let Some(&before) = before_items.get(item)
            {
                let fall = direction.worsening(before, now);
                if fall >= settings.min_drop - 1e-9 {
                    let when = if view.series.session(j).checked_add(1) == Some(view.series.session(i)) {
                        "previous session".to_string()
                    } else {
                        format!("session {}", view.series.session(j))
                    };
                    parts.push(format!(
                        "the {item} item {} from {} to {} ({when})",
                        direction.worse_verb(),
                        fmt_points(before),
                        fmt_points(now)
                    ));
                    inputs.push((format!("{item}_before"), before));
                    said = true;
                }
            }
            if let Some(&floor) = settings.floors.get(item)
                && direction.is_past_cutoff(now, floor)
            {
                let side = match direction {
                    Direction::HigherIsBetter => "below",
                    Direction::LowerIsBetter => "above",
                };
                if said {
                    let last = parts.last_mut().expect("just pushed");
                    last.push_str(&format!(", {side} its floor of {}", fmt_points(floor)));
                } else {
                    parts.push(format!(
                        "the {item} item is {}, {side} its floor of {}",
                        fmt_points(now),
                        fmt_points(floor)
                    ));
                }
                inputs.push((format!("{item}_floor"), floor));
                floor_breached = true;
                said = true;
            }
            if said {
                inputs.push((format!("{item}_now"), now));
            }
        }
        if parts.is_empty() {
            continue;
        }
        let mut sentence = join_parts(&parts);
        if let Some(first) = sentence.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let tail = match (total, cutoff) {
            (Some(t), Some(c)) if !direction.is_past_cutoff(t, c) => format!(
                " The total, {}, still looks fine against the cutoff of {}.",
                fmt_points(t),
                fmt_points(c)
            ),
            (Some(t), _) => format!(" The total is {}.", fmt_points(t)),
            _ => String::new(),
        };
        let explanation = format!("{sentence}.{tail}");
        if let Some(t) = total {
            inputs.push(("total".into(), t));
        }
        inputs.push(("min_drop".into(), settings.min_drop));
        let refs: Vec<(&str, f64)> = inputs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let severity = if floor_breached {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut signal = view.signal(RuleId::ItemDrop, i, severity, explanation, &refs);
        signal.from_session = previous.map(|(j, _)| view.series.session(j));
        out.push(signal);
    }
}

fn join_parts(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (last, rest) = parts.split_last().expect("two or more");
            format!("{}; and {last}", rest.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::domain::history::{ClientHistory, SessionOutcome};
    use crate::domain::signals::{EngineSettings, RuleId, Severity, find_signals};

    fn answered(items: &[(&str, f64)]) -> SessionOutcome {
        let items: BTreeMap<String, f64> = items.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        SessionOutcome::Answered {
            total: Some(items.values().sum()),
            items,
            screener_uncomfortable: None,
            comment_given: false,
            comment: None,
        }
    }

    #[test]
    fn a_bond_fall_hidden_by_a_fine_total() {
        let mut h = ClientHistory::default();
        h.push(answered(&[
            ("bond", 10.0),
            ("goals", 9.0),
            ("approach", 9.0),
            ("overall", 10.0),
        ]));
        h.push(answered(&[
            ("bond", 6.0),
            ("goals", 10.0),
            ("approach", 10.0),
            ("overall", 10.0),
        ]));
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::ItemDrop));
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].explanation,
            "The bond item fell from 10 to 6 (previous session), below its floor of 8. The total, 36, still looks fine against the cutoff of 36."
        );
        assert_eq!(s[0].severity, Severity::Medium);
        assert_eq!(s[0].inputs["bond_before"], 10.0);
    }

    #[test]
    fn a_fall_without_a_floor_is_low_and_a_low_total_is_left_to_low_score() {
        let mut h = ClientHistory::default();
        h.push(answered(&[
            ("bond", 10.0),
            ("goals", 10.0),
            ("approach", 9.0),
            ("overall", 10.0),
        ]));
        h.push(answered(&[
            ("bond", 10.0),
            ("goals", 6.0),
            ("approach", 10.0),
            ("overall", 10.0),
        ]));
        h.push(answered(&[
            ("bond", 5.0),
            ("goals", 6.0),
            ("approach", 10.0),
            ("overall", 10.0),
        ]));
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::ItemDrop));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 2);
        assert_eq!(s[0].severity, Severity::Low);
        assert!(s[0].explanation.starts_with("The goals item fell from 10 to 6"));
    }
}
