//! The clinic's words-of-risk lists, one per language (`risk_words.<tag>`
//! in settings, one phrase per line). English starts as the shipped list;
//! an admin edits it and adds lists for the languages clients write in.
//!
//! Every comment is matched against every language's list: a client may
//! write English on a Welsh survey, and a false match costs a clinician a
//! minute's reading where a missed one can cost far more.

use chrono::NaiveDateTime;

use super::{DbConnection, StoreError, kv};
use crate::domain::signals::risk_words::{DEFAULT_PHRASES, normalise};

const PREFIX: &str = "risk_words.";
/// The language whose list ships with Rapport.
pub const SHIPPED_LANGUAGE: &str = "en";
/// Most phrases in one language's list, and longest phrase.
pub const MAX_PHRASES: usize = 500;
pub const MAX_PHRASE_CHARS: usize = 80;

/// One language's list as the clinic keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskList {
    pub language: String,
    pub phrases: Vec<String>,
    /// False while the shipped English list is used unchanged.
    pub edited: bool,
}

fn shipped() -> Vec<String> {
    DEFAULT_PHRASES.iter().map(|p| p.to_string()).collect()
}

/// Every language's list, English first (the shipped one until edited).
pub fn lists(conn: &mut DbConnection) -> Result<Vec<RiskList>, StoreError> {
    let stored = kv::with_prefix(conn, PREFIX)?;
    let mut lists: Vec<RiskList> = stored
        .into_iter()
        .map(|(key, value)| RiskList {
            language: key[PREFIX.len()..].to_string(),
            phrases: value.lines().map(str::to_string).collect(),
            edited: true,
        })
        .collect();
    if !lists.iter().any(|l| l.language == SHIPPED_LANGUAGE) {
        lists.push(RiskList {
            language: SHIPPED_LANGUAGE.into(),
            phrases: shipped(),
            edited: false,
        });
    }
    lists.sort_by_key(|l| (l.language != SHIPPED_LANGUAGE, l.language.clone()));
    Ok(lists)
}

/// The phrases of every list, for matching.
pub fn phrases(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(lists(conn)?.into_iter().flat_map(|l| l.phrases).collect())
}

/// A language tag as BCP 47 shapes it: a 2–3 letter language, then
/// optional subtags ("cy", "pa-Guru", "es-419").
pub fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    first_ok && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The admin's text as a list: one phrase per line, blank lines and
/// repeats (after normalising) dropped. Refused with a sentence when a
/// phrase is too long, the list too long, or empty.
pub fn parse_list(text: &str) -> Result<Vec<String>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut phrases = vec![];
    for line in text.lines() {
        let phrase = line.trim();
        let words = normalise(phrase);
        if words.is_empty() {
            continue;
        }
        if phrase.chars().count() > MAX_PHRASE_CHARS {
            return Err(format!(
                "“{}…” is longer than {MAX_PHRASE_CHARS} characters; a phrase is a few words.",
                phrase.chars().take(30).collect::<String>()
            ));
        }
        if seen.insert(words) {
            phrases.push(phrase.to_string());
        }
    }
    if phrases.is_empty() {
        return Err("Keep at least one phrase: the list is a safety net.".into());
    }
    if phrases.len() > MAX_PHRASES {
        return Err(format!("At most {MAX_PHRASES} phrases in one language's list."));
    }
    Ok(phrases)
}

pub fn save(conn: &mut DbConnection, language: &str, phrases: &[String], now: NaiveDateTime) -> Result<(), StoreError> {
    kv::set(conn, &format!("{PREFIX}{language}"), &phrases.join("\n"), now)
}

/// Back to the shipped list (English) or no list (other languages).
pub fn reset(conn: &mut DbConnection, language: &str) -> Result<(), StoreError> {
    kv::remove(conn, &format!("{PREFIX}{language}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_cleaned_and_refused_with_reasons() {
        assert_eq!(
            parse_list("  self harm \n\nSelf-harm\nwalk into the sea\n").unwrap(),
            ["self harm", "walk into the sea"]
        );
        assert!(parse_list("\n  \n").unwrap_err().contains("at least one"));
        assert!(parse_list(&"word ".repeat(30)).unwrap_err().contains("80 characters"));
        let many: String = (0..501).map(|i| format!("phrase {i}\n")).collect();
        assert!(parse_list(&many).unwrap_err().contains("At most 500"));
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "cy", "pa-Guru", "es-419", "ur"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "E", "english", "en_GB", "en-", "ar-x-verylongsubtag", "%"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }
}
