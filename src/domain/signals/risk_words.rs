//! Rule 10, words of risk (CLINICAL.md §3): a comment that matches the
//! clinic's risk list — suicide, self-harm, harm to others, safeguarding —
//! opens an immediate high alert whose explanation quotes the client's
//! words, whatever the scores say.
//!
//! Matching is on normalised text (lower case, accents and punctuation
//! dropped, spaces collapsed), word by word, so "self-harm", "Self harm"
//! and "SELF  HARM!" are the same. A phrase preceded closely by a negation
//! ("I'm not suicidal", "never wanted to end it all") does not match; a
//! phrase that itself says "not" ("not safe at home") does.

use serde::{Deserialize, Serialize};

use super::{RuleId, Severity, Signal, View};
use crate::domain::history::SessionOutcome;

/// Version of this rule's logic; bump when its behaviour changes.
pub const VERSION: u32 = 1;

/// Hazard entry (CLINICAL.md §5).
pub const HAZARD: &str = "\
Missed alert: a statement of risk in words the list does not hold (a \
euphemism, a misspelling, another language), or one the negation check \
wrongly discounts. \
False alert: a listed phrase used about someone else or the past (\"my \
friend's suicide\"), which still deserves a clinician's reading. \
Mitigation: every comment is shown to the client's clinician whether or not \
it matches; the alert quotes the words so the clinician judges; the clinic \
can add phrases; the survey tells clients that comments are not read \
straight away and where to get help now.";

/// The phrases of the shipped list, in English. Each is matched as whole
/// words on normalised text.
pub const DEFAULT_PHRASES: &[&str] = &[
    // Suicide
    "suicide",
    "suicidal",
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "end it all",
    "ending it all",
    "take my own life",
    "taking my own life",
    "better off dead",
    "want to die",
    "wanted to die",
    "wish i was dead",
    "wish i were dead",
    "no reason to live",
    "not worth living",
    "cant go on",
    "can not go on",
    "cannot go on",
    "overdose",
    // Self-harm
    "self harm",
    "self harming",
    "harm myself",
    "harming myself",
    "hurt myself",
    "hurting myself",
    "cut myself",
    "cutting myself",
    // Harm to others
    "kill him",
    "kill her",
    "kill them",
    "kill someone",
    "hurt someone",
    "harm someone",
    "hurt my child",
    "hurt my children",
    "hurt the children",
    "hurt the baby",
    // Safeguarding
    "not safe at home",
    "unsafe at home",
    "scared to go home",
    "afraid to go home",
    "hits me",
    "hit me",
    "beats me",
    "abusing me",
    "abused",
];

/// Words that, shortly before a phrase, mean the client is saying it is not so.
const NEGATIONS: &[&str] = &[
    "not", "never", "no", "dont", "isnt", "wasnt", "wont", "wouldnt", "arent", "nor",
];
/// How many words before a phrase a negation counts.
const NEGATION_REACH: usize = 3;

/// Settings of the words-of-risk rule: the clinic's phrases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskWordsSettings {
    pub phrases: Vec<String>,
}

impl Default for RiskWordsSettings {
    fn default() -> Self {
        RiskWordsSettings {
            phrases: DEFAULT_PHRASES.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// Text as words: lower case, accents and apostrophes dropped, every other
/// non-alphanumeric character a space.
pub fn normalise(text: &str) -> Vec<String> {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '\'' | '’' | '‘' | '`' => None,
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => Some('a'),
            'è' | 'é' | 'ê' | 'ë' => Some('e'),
            'ì' | 'í' | 'î' | 'ï' => Some('i'),
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => Some('o'),
            'ù' | 'ú' | 'û' | 'ü' | 'ŵ' => Some(if c == 'ŵ' { 'w' } else { 'u' }),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            'ŷ' | 'ÿ' => Some('y'),
            c if c.is_alphanumeric() => Some(c),
            _ => Some(' '),
        })
        .collect();
    folded.split_whitespace().map(str::to_string).collect()
}

/// The first listed phrase the text holds, not negated: the phrase as
/// listed.
pub fn matching_phrase<'a>(text: &str, phrases: &'a [String]) -> Option<&'a str> {
    let words = normalise(text);
    phrases.iter().map(String::as_str).find(|phrase| {
        let wanted = normalise(phrase);
        if wanted.is_empty() || wanted.len() > words.len() {
            return false;
        }
        (0..=words.len() - wanted.len()).any(|start| {
            words[start..start + wanted.len()] == wanted[..]
                && !words[start.saturating_sub(NEGATION_REACH)..start]
                    .iter()
                    .any(|w| NEGATIONS.contains(&w.as_str()))
        })
    })
}

pub(crate) fn find(view: &View<'_, '_>, out: &mut Vec<Signal>) {
    let phrases = &view.settings.risk_words.phrases;
    for i in view.candidates() {
        let SessionOutcome::Answered {
            comment: Some(comment), ..
        } = view.series.outcome(i)
        else {
            continue;
        };
        let Some(phrase) = matching_phrase(comment, phrases) else {
            continue;
        };
        out.push(view.signal(
            RuleId::RiskWords,
            i,
            Severity::High,
            format!(
                "The client wrote: “{}” These words match the clinic's risk list (“{phrase}”). \
                 Contact the client today and follow the clinic's safeguarding procedure.",
                comment.trim()
            ),
            &[],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str) -> Option<String> {
        matching_phrase(text, &RiskWordsSettings::default().phrases).map(str::to_string)
    }

    #[test]
    fn real_statements_of_risk_match() {
        for (text, phrase) in [
            ("I have been thinking about ending it all.", "ending it all"),
            (
                "Sometimes I think everyone would be better off if I was gone, better off dead",
                "better off dead",
            ),
            ("I've started self-harming again", "self harming"),
            ("i want to kill myself", "kill myself"),
            ("Honestly I feel SUICIDAL most days", "suicidal"),
            ("I don’t feel safe — I'm not safe at home.", "not safe at home"),
            ("My partner hits me when he drinks", "hits me"),
            ("I'm scared I'll hurt my children", "hurt my children"),
            ("Meddwl am suicide weithiau", "suicide"),
        ] {
            assert_eq!(hit(text).as_deref(), Some(phrase), "{text}");
        }
    }

    #[test]
    fn ordinary_and_negated_comments_do_not() {
        for text in [
            "I'm not thinking of ending therapy, just moving it to Tuesdays.",
            "It felt a bit rushed today.",
            "I am not suicidal, just tired.",
            "I have never wanted to end it all, don't worry.",
            "The session ended early and it was all fine.",
            "She gave me homework about self-care and hitting my targets.",
            "",
        ] {
            assert_eq!(hit(text), None, "{text}");
        }
    }

    #[test]
    fn text_is_normalised() {
        assert_eq!(normalise("Self-Harm!!  Isn’t it"), ["self", "harm", "isnt", "it"]);
        assert_eq!(normalise("Héllo,wörld"), ["hello", "world"]);
    }

    #[test]
    fn the_clinic_adds_its_own_phrases() {
        let phrases = vec!["gweld dim pwynt".to_string()];
        assert_eq!(
            matching_phrase("Dw i'n gweld dim pwynt", &phrases),
            Some("gweld dim pwynt")
        );
    }
}
