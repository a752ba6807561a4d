//! What to consider when an alert opens: short prompts for repairing a
//! rupture (CLINICAL.md §3 — curiosity rather than defensiveness), chosen
//! by the rules that fired. Prompts support judgement; they are not a script.

use super::signals::RuleId;

/// Said for every alert.
pub const ALWAYS: &[&str] = &[
    "Raise it early in the next session, openly and without defending: \"I noticed your answers last time were lower — I'd like to understand what wasn't working for you.\"",
    "Invite the client's view first and acknowledge your part in anything that went wrong.",
    "Agree together what to change in goals, tasks or the way you work, and check next time whether it helped.",
];

/// Prompts for the rules that fired, in rule order, without repeats.
pub fn prompts(rules: &[RuleId]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = vec![];
    for rule in rules {
        let prompt = match rule {
            RuleId::LowScore | RuleId::ReliableDrop | RuleId::SuddenLoss | RuleId::DropFromLast => {
                "Ask which part of the session felt less right — the relationship, the goals, or the way of working."
            }
            RuleId::GradualDecline => {
                "A slow slide is easy to miss: review whether the goals still match what the client wants now."
            }
            RuleId::ItemDrop => {
                "Look at the item that fell: it points to where the strain is (bond, goals or approach)."
            }
            RuleId::ClientSaidSo => {
                "The client told you something felt wrong: read their words and thank them for saying it."
            }
            RuleId::GoingQuiet => {
                "Silence can be withdrawal: consider a brief, warm check-in that makes it easy to say what isn't working."
            }
            RuleId::CeilingThenFall => {
                "Early \"perfect\" scores that slip often mean something was hard to say: make it safe to give critical feedback."
            }
            RuleId::RiskWords => {
                "The client wrote words of risk: contact them today, assess their safety, and follow the clinic's safeguarding procedure before any work on the alliance."
            }
        };
        if !out.contains(&prompt) {
            out.push(prompt);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_follow_the_rules_without_repeats() {
        let p = prompts(&[RuleId::LowScore, RuleId::ReliableDrop, RuleId::GoingQuiet]);
        assert_eq!(p.len(), 2);
        assert!(p[1].contains("Silence"));
        assert!(prompts(&[]).is_empty());
    }
}
