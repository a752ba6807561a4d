//! What clients read, in their own language: the questionnaire pages and
//! emails, from Project Fluent files (`src/i18n/locales/<tag>/client.ftl`,
//! built into the binary). Staff pages stay in the clinic's language.
//!
//! Imports nothing else of ours.
//!
//! A message missing from a language falls back to English for that
//! message alone (a test fails on any message missing from a shipped file).
//! Right-to-left languages get `dir="rtl"`; the clinic chooses Western
//! digits (the default) or the language's own for numbers clients read.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./src/i18n/locales",
        fallback_language: "en",
        // Bidi isolation is added where text is inserted (<bdi> in pages,
        // isolates in plain-text email), not around every placeable.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages clients can read Rapport in: tag and name in itself.
pub const SHIPPED: [(&str, &str); 6] = [
    ("en", "English"),
    ("cy", "Cymraeg"),
    ("pl", "Polski"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("ur", "اردو"),
];

/// Languages by their English names, for staff pages (clinics in the UK
/// see these most).
const ENGLISH_NAMES: [(&str, &str); 19] = [
    ("en", "English"),
    ("cy", "Welsh"),
    ("pl", "Polish"),
    ("es", "Spanish"),
    ("ar", "Arabic"),
    ("ur", "Urdu"),
    ("pa", "Punjabi"),
    ("gd", "Scottish Gaelic"),
    ("ga", "Irish"),
    ("fr", "French"),
    ("pt", "Portuguese"),
    ("ro", "Romanian"),
    ("bn", "Bengali"),
    ("so", "Somali"),
    ("tr", "Turkish"),
    ("zh", "Chinese"),
    ("fa", "Persian"),
    ("he", "Hebrew"),
    ("de", "German"),
];

/// Primary languages written right to left (beyond those shipped, so a
/// clinic's own questionnaire in Hebrew or Persian is laid out right).
const RIGHT_TO_LEFT: [&str; 10] = ["ar", "ur", "fa", "he", "ps", "sd", "ug", "yi", "dv", "ckb"];

/// Which digits clients read numbers in (a clinic setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Numerals {
    /// 0–9 in every language (the default: what most clients type and
    /// see on their phones).
    #[default]
    Western,
    /// The language's own digits where it has them (Arabic-Indic for
    /// Arabic, Extended Arabic-Indic for Urdu).
    Native,
}

impl Numerals {
    pub fn parse(text: &str) -> Option<Numerals> {
        match text.trim() {
            "western" => Some(Numerals::Western),
            "native" => Some(Numerals::Native),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Numerals::Western => "western",
            Numerals::Native => "native",
        }
    }
}

/// A language tag's own name, when Rapport ships it.
pub fn name_of(tag: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(t, _)| *t == primary(tag)).map(|(_, name)| *name)
}

/// A language as staff read it: its English name, else the tag.
pub fn english_name(tag: &str) -> String {
    ENGLISH_NAMES
        .iter()
        .find(|(t, _)| *t == primary(tag))
        .map_or_else(|| tag.to_string(), |(_, name)| name.to_string())
}

fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// One client's language, for looking up what they read.
#[derive(Debug, Clone)]
pub struct Lang {
    tag: String,
    id: LanguageIdentifier,
    numerals: Numerals,
}

impl Lang {
    /// A language by its BCP 47 tag; a tag that cannot be read is English.
    pub fn new(tag: &str, numerals: Numerals) -> Lang {
        let id: LanguageIdentifier = tag.parse().unwrap_or_else(|_| fallback_id());
        Lang {
            tag: id.to_string(),
            id,
            numerals,
        }
    }

    /// The language Rapport writes to a client in (pages without questions,
    /// emails): theirs when shipped, else the clinic's default when shipped,
    /// else English — so `lang` never claims a language the text is not in.
    pub fn for_client(client: Option<&str>, default: &str, numerals: Numerals) -> Lang {
        let shipped = |tag: &str| name_of(tag).is_some();
        let tag = match client {
            Some(tag) if shipped(tag) => tag,
            _ if shipped(default) => default,
            _ => "en",
        };
        Lang::new(tag, numerals)
    }

    /// The tag, as written in `lang` and `Content-Language`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The digits numbers are written in.
    pub fn numerals(&self) -> Numerals {
        self.numerals
    }

    pub fn is_rtl(&self) -> bool {
        RIGHT_TO_LEFT.contains(&self.id.language.as_str())
    }

    /// The `dir` attribute of a page in this language.
    pub fn dir(&self) -> &'static str {
        if self.is_rtl() { "rtl" } else { "ltr" }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The message `key` with its arguments (numbers choose plural forms).
    pub fn t_with(&self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.clone())).collect();
        self.lookup(key, Some(&args))
    }

    fn lookup(&self, key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        // Falls back along the language's chain to English; English has
        // every message (tested), so the key itself is never shown.
        let text = LOCALES.try_lookup_complete(&self.id, key, args).unwrap_or_default();
        self.digits(&text)
    }

    /// A number (or text with numbers) in the clinic's chosen digits.
    pub fn digits(&self, text: &str) -> String {
        let zero = match (self.numerals, self.id.language.as_str()) {
            (Numerals::Native, "ar") => '\u{0660}',
            (Numerals::Native, "ur" | "fa") => '\u{06F0}',
            _ => return text.to_string(),
        };
        text.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => char::from_u32(zero as u32 + d).unwrap_or(c),
                _ => c,
            })
            .collect()
    }

    /// Text inserted into plain text of this language (an email), isolated
    /// so a left-to-right clinic name or date cannot reorder the sentence
    /// around it (Unicode first-strong isolate … pop directional isolate).
    pub fn isolate(&self, text: &str) -> String {
        format!("\u{2068}{text}\u{2069}")
    }

    /// chrono's locale for dates written in this language.
    pub fn date_locale(&self) -> chrono::Locale {
        match self.id.language.as_str() {
            "cy" => chrono::Locale::cy_GB,
            "pl" => chrono::Locale::pl_PL,
            "es" => chrono::Locale::es_ES,
            // Egyptian Arabic names the Gregorian months (Saudi uses the
            // Hijri names, which would not match the dates).
            "ar" => chrono::Locale::ar_EG,
            "ur" => chrono::Locale::ur_PK,
            _ => chrono::Locale::en_GB,
        }
    }
}

fn fallback_id() -> LanguageIdentifier {
    "en".parse().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message of the English file, by its id.
    fn english_keys() -> Vec<String> {
        include_str!("locales/en/client.ftl")
            .lines()
            .filter_map(|line| {
                let (key, _) = line.split_once(" =")?;
                (!key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '-')).then(|| key.to_string())
            })
            .collect()
    }

    #[test]
    fn every_shipped_language_has_every_message() {
        let keys = english_keys();
        assert!(keys.len() > 50, "read {} keys", keys.len());
        for (tag, _) in SHIPPED {
            let id: LanguageIdentifier = tag.parse().unwrap();
            // Every variable any message takes, so none fails to resolve.
            let args: HashMap<&str, FluentValue> = [
                ("step", FluentValue::from(2)),
                ("total", FluentValue::from(5)),
                ("count", FluentValue::from(5)),
                ("clinic", FluentValue::from("Riverside Clinic")),
                ("until", FluentValue::from("Friday 6 March")),
            ]
            .into_iter()
            .collect();
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| {
                    LOCALES
                        .lookup_single_language(&id, k, Some(&args))
                        .map_or(true, |t| t.trim().is_empty())
                })
                .collect();
            assert!(missing.is_empty(), "{tag} lacks {missing:?}");
        }
    }

    #[test]
    fn a_language_without_a_file_reads_english() {
        let lang = Lang::new("de", Numerals::Western);
        assert_eq!(lang.t("survey-send"), "Send my answers");
        let nonsense = Lang::new("!!", Numerals::Western);
        assert_eq!(nonsense.tag(), "en");
        assert_eq!(nonsense.t("easy-next"), "Next");
        // A key nobody has is empty, never the key itself.
        assert_eq!(lang.t("no-such-message"), "");
    }

    #[test]
    fn plural_forms_follow_the_language() {
        let count = |tag: &str, n: i64| {
            Lang::new(tag, Numerals::Western).t_with("easy-review-done", &[("count", FluentValue::from(n))])
        };
        assert_eq!(count("en", 1), "The question is done");
        assert_eq!(count("en", 5), "All 5 questions done");
        assert_eq!(count("cy", 2), "Mae'r ddau gwestiwn wedi'u gwneud");
        assert_eq!(count("pl", 3), "Gotowe 3 pytania");
        assert_eq!(count("pl", 5), "Gotowe 5 pytań");
        assert_eq!(count("ar", 2), "تمت الإجابة عن السؤالين");
        assert_eq!(count("ar", 5), "تمت الإجابة عن 5 أسئلة");
    }

    #[test]
    fn right_to_left_and_digits() {
        let ar = Lang::new("ar", Numerals::Western);
        assert!(ar.is_rtl() && ar.dir() == "rtl");
        assert_eq!(ar.digits("10"), "10", "Western digits by default");
        let native = Lang::new("ar", Numerals::Native);
        assert_eq!(native.digits("Question 10"), "Question ١٠");
        assert_eq!(Lang::new("ur", Numerals::Native).digits("7"), "۷");
        assert_eq!(Lang::new("cy", Numerals::Native).digits("7"), "7");
        assert!(!Lang::new("cy", Numerals::Western).is_rtl());
        assert_eq!(Lang::new("ar-EG", Numerals::Western).dir(), "rtl");
        assert_eq!(name_of("ar-EG"), Some("العربية"));
        let western = Numerals::Western;
        assert_eq!(Lang::for_client(Some("ar-EG"), "en", western).tag(), "ar-EG");
        assert_eq!(
            Lang::for_client(Some("de"), "cy", western).tag(),
            "cy",
            "no German text: the default"
        );
        assert_eq!(
            Lang::for_client(None, "de", western).tag(),
            "en",
            "nor a default without text"
        );
    }
}
