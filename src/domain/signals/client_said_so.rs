//! Rule 7, client said so: the screener says something felt uncomfortable
//! or not right, or the client wrote a comment with a lower score (a total
//! past the cutoff, or a fall of 2 points or more from their last answer:
//! `min_fall`, chosen with `rapport evaluate` because one-point wobbles are
//! mostly noise). Free text is never
//! parsed for meaning: the signal only says that there is a comment to read.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View, fmt_points};
use crate::domain::history::SessionOutcome;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: most ruptures are unspoken, and a client may skip the \
screener or write a worrying comment with a high score; the rule only sees \
comments that come with a lower score. \
False alert: a 'yes' can mean discomfort that belongs to good therapeutic \
work (a hard topic), not a strained relationship. \
Mitigation: the screener's 'yes' is high severity because the client asked \
to be heard; the alert shows the client's own words to the clinician, who \
judges; comments are never scored or parsed, so no meaning is invented.";

/// Settings of the client-said-so rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSaidSoSettings {
    /// A "yes" on the screener raises a signal.
    pub screener: bool,
    /// A comment together with a lower score raises a signal.
    pub comment_after_lower_score: bool,
    /// A "lower score" is a total past the cutoff or a fall of at least this
    /// many points from the answer before.
    pub min_fall: f64,
}

impl Default for ClientSaidSoSettings {
    fn default() -> Self {
        ClientSaidSoSettings {
            screener: true,
            comment_after_lower_score: true,
            min_fall: 2.0,
        }
    }
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let settings = &view.settings.client_said_so;
    for i in view.candidates() {
        let SessionOutcome::Answered {
            total,
            screener_uncomfortable,
            comment_given,
            ..
        } = view.series.outcome(i)
        else {
            continue;
        };
        let said_yes = settings.screener && *screener_uncomfortable == Some(true);
        let lower = lower_score(view, i, *total);
        let comment = settings.comment_after_lower_score && *comment_given && lower.is_some();
        if !said_yes && !comment {
            continue;
        }
        let mut sentences = Vec::new();
        if said_yes {
            sentences.push(
                "The client answered yes when asked whether anything in the session felt uncomfortable or not right."
                    .to_string(),
            );
        }
        if comment {
            sentences.push(format!(
                "The client left a comment with a lower score ({}); read it in their own words.",
                lower.unwrap_or_default()
            ));
        }
        let mut inputs = vec![
            ("screener_uncomfortable", f64::from(u8::from(said_yes))),
            ("comment_given", f64::from(u8::from(*comment_given))),
        ];
        if let Some(t) = total {
            inputs.push(("total", *t));
        }
        out.push(view.signal(
            RuleId::ClientSaidSo,
            i,
            if said_yes { Severity::High } else { Severity::Medium },
            sentences.join(" "),
            &inputs,
        ));
    }
}

/// Why the score at `i` counts as lower, in words, if it does.
fn lower_score(view: &View<'_, '_>, i: usize, total: Option<f64>) -> Option<String> {
    let total = total?;
    let direction = view.direction();
    if let Some(c) = view.settings.low_score.cutoff
        && direction.is_past_cutoff(total, c)
    {
        return Some(format!(
            "total {}, past the cutoff of {}",
            fmt_points(total),
            fmt_points(c)
        ));
    }
    let p = view.series.previous_answered(i)?;
    let before = view.series.totals[p]?;
    if direction.worsening(before, total) >= view.settings.client_said_so.min_fall - 1e-9 {
        return Some(format!(
            "total {} from {} to {}",
            direction.worse_verb(),
            fmt_points(before),
            fmt_points(total)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::domain::history::{ClientHistory, SessionOutcome};
    use crate::domain::signals::{EngineSettings, RuleId, Severity, find_signals};

    fn answered(total: f64, screener: Option<bool>, comment: bool) -> SessionOutcome {
        SessionOutcome::Answered {
            total: Some(total),
            items: BTreeMap::new(),
            screener_uncomfortable: screener,
            comment_given: comment,
            comment: None,
        }
    }

    #[test]
    fn a_yes_on_the_screener_is_high_even_with_a_top_score() {
        let mut h = ClientHistory::default();
        h.push(answered(40.0, Some(true), false));
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::ClientSaidSo));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].severity, Severity::High);
        assert!(s[0].explanation.contains("answered yes"));
    }

    #[test]
    fn a_comment_counts_only_with_a_lower_score() {
        let mut h = ClientHistory::default();
        h.push(answered(39.0, Some(false), true));
        h.push(answered(37.0, None, true));
        h.push(answered(38.0, None, true));
        let s = find_signals(&h, &EngineSettings::default().only(RuleId::ClientSaidSo));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session, 2);
        assert_eq!(s[0].severity, Severity::Medium);
        assert_eq!(
            s[0].explanation,
            "The client left a comment with a lower score (total fell from 39 to 37); read it in their own words."
        );
    }
}
