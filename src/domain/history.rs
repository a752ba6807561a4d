//! One client's series of sessions with one clinician, as the rules see it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::instrument::{Answers, InstrumentDefinition, Scores};

/// A client's sessions with one clinician, in session order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientHistory {
    pub sessions: Vec<SessionRecord>,
}

/// What happened at one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// 1-based position in the client's series.
    pub session: u32,
    pub outcome: SessionOutcome,
}

/// The outcome of one session's feedback invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    /// The client answered. `items` holds keyed item values (reverse-scored
    /// where the instrument says so), so for every item higher is better when
    /// the instrument is higher-is-better.
    Answered {
        total: Option<f64>,
        items: BTreeMap<String, f64>,
        screener_uncomfortable: Option<bool>,
        comment_given: bool,
        /// The client's comment, for the words-of-risk rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// The invitation expired without an answer.
    Unanswered,
    /// The practice system reported the appointment as missed (no-show).
    Missed,
    /// The invitation is still open: neither answered nor expired. Rules ignore it.
    Pending,
}

impl SessionOutcome {
    /// An answered session with only a total.
    pub fn total_only(total: f64) -> Self {
        SessionOutcome::Answered {
            total: Some(total),
            items: BTreeMap::new(),
            screener_uncomfortable: None,
            comment_given: false,
            comment: None,
        }
    }

    /// Scores a response and records it as an answered session.
    pub fn from_response(instrument: &InstrumentDefinition, answers: &Answers) -> Self {
        let comment = instrument
            .item_with_role(crate::domain::instrument::ItemRole::Comment)
            .and_then(|item| match answers.0.get(&item.id) {
                Some(crate::domain::instrument::Answer::Text(t)) if !t.trim().is_empty() => Some(t.as_str()),
                _ => None,
            });
        Self::from_scores(instrument, &instrument.score(answers), comment)
    }

    /// An answered session from the scores stored with it (scored once,
    /// when the client answered) and the client's words, if any.
    pub fn from_scores(instrument: &InstrumentDefinition, scores: &Scores, comment: Option<&str>) -> Self {
        let items = instrument
            .scoring()
            .items
            .iter()
            .filter_map(|id| scores.keyed_items.get(id).map(|v| (id.clone(), *v)))
            .collect();
        SessionOutcome::Answered {
            total: scores.total,
            items,
            screener_uncomfortable: scores.screener_flagged,
            comment_given: scores.has_comment,
            comment: comment.map(str::to_string),
        }
    }

    /// The total, when the client answered and it could be scored.
    pub fn total(&self) -> Option<f64> {
        match self {
            SessionOutcome::Answered { total, .. } => *total,
            _ => None,
        }
    }

    /// True for an invitation that expired or an appointment that was missed.
    pub fn is_no_answer(&self) -> bool {
        matches!(self, SessionOutcome::Unanswered | SessionOutcome::Missed)
    }
}

impl ClientHistory {
    /// A history of totals only, numbered 1, 2, …; `None` is an unanswered invitation.
    pub fn from_totals(totals: &[Option<f64>]) -> Self {
        let sessions = totals
            .iter()
            .enumerate()
            .map(|(i, t)| SessionRecord {
                session: i as u32 + 1,
                outcome: match t {
                    Some(v) => SessionOutcome::total_only(*v),
                    None => SessionOutcome::Unanswered,
                },
            })
            .collect();
        ClientHistory { sessions }
    }

    /// Appends a session numbered after the last one.
    pub fn push(&mut self, outcome: SessionOutcome) {
        let session = self.sessions.last().map_or(1, |s| s.session.saturating_add(1));
        self.sessions.push(SessionRecord { session, outcome });
    }

    /// The totals of answered sessions, with their session numbers.
    pub fn answered_totals(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.sessions
            .iter()
            .filter_map(|s| s.outcome.total().map(|t| (s.session, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::{Answer, shipped_instruments};
    use proptest::prelude::*;

    proptest! {
        /// A session read back from the scores stored when the client
        /// answered (as JSON) is the session the answers themselves give.
        #[test]
        fn stored_scores_give_the_same_session_as_rescoring(
            bond in 0u8..=10, goals in 0u8..=10, approach in 0u8..=10, overall in proptest::option::of(0u8..=10),
            uncomfortable in proptest::option::of(any::<bool>()), comment in proptest::option::of("[a-z ]{0,12}"),
        ) {
            let instrument = shipped_instruments().remove(0);
            let mut answers = Answers::new()
                .with("bond", Answer::Number(bond.into()))
                .with("goals", Answer::Number(goals.into()))
                .with("approach", Answer::Number(approach.into()));
            if let Some(o) = overall {
                answers = answers.with("overall", Answer::Number(o.into()));
            }
            if let Some(u) = uncomfortable {
                answers = answers.with("uncomfortable", Answer::Bool(u));
            }
            if let Some(c) = &comment {
                answers = answers.with("note", Answer::Text(c.clone()));
            }
            let stored: Scores = serde_json::from_str(&serde_json::to_string(&instrument.score(&answers)).unwrap()).unwrap();
            let words = comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let from_stored = SessionOutcome::from_scores(&instrument, &stored, words);
            let rescored = SessionOutcome::from_response(&instrument, &answers);
            match (&from_stored, &rescored) {
                (SessionOutcome::Answered { comment: a, .. }, SessionOutcome::Answered { comment: b, .. }) => {
                    prop_assert_eq!(a.as_deref(), b.as_deref().map(str::trim));
                }
                _ => prop_assert!(false, "both are answered sessions"),
            }
            let strip = |o: SessionOutcome| match o {
                SessionOutcome::Answered { total, items, screener_uncomfortable, comment_given, .. } =>
                    (total, items, screener_uncomfortable, comment_given),
                _ => unreachable!(),
            };
            prop_assert_eq!(strip(from_stored), strip(rescored));
        }
    }
}
