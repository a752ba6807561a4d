//! Instrument definitions: versioned data files (TOML), validated on load,
//! and the scoring of one client's answers (CLINICAL.md §1).
//!
//! A definition is parsed into a raw form first and then checked as a whole;
//! an [`InstrumentDefinition`] can therefore only hold a valid instrument.
//! It serialises back to the same raw shape, so the server can store it as
//! JSON and read it again through the same checks.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Which way is good for an instrument's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Alliance measures: a higher total is a stronger alliance.
    #[default]
    HigherIsBetter,
    /// Symptom measures (and the reference data set): a lower total is better.
    LowerIsBetter,
}

impl Direction {
    /// How much worse `now` is than `before`, in points (positive = worse).
    pub fn worsening(self, before: f64, now: f64) -> f64 {
        match self {
            Direction::HigherIsBetter => before - now,
            Direction::LowerIsBetter => now - before,
        }
    }

    /// True when `value` is on the at-risk side of `cutoff`.
    pub fn is_past_cutoff(self, value: f64, cutoff: f64) -> bool {
        match self {
            Direction::HigherIsBetter => value < cutoff,
            Direction::LowerIsBetter => value > cutoff,
        }
    }

    /// The word for a change in the bad direction ("fell" / "rose").
    pub fn worse_verb(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "fell",
            Direction::LowerIsBetter => "rose",
        }
    }

    /// The noun for a change in the bad direction ("fall" / "rise").
    pub fn worse_noun(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "fall",
            Direction::LowerIsBetter => "rise",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
    }
}

/// Text in each of the instrument's languages (language code → text).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalText(pub BTreeMap<String, String>);

impl LocalText {
    /// The text in `language`, if the definition has it.
    pub fn get(&self, language: &str) -> Option<&str> {
        self.0.get(language).map(String::as_str)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Labels for the two ends of a scale item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchors {
    pub min: LocalText,
    pub max: LocalText,
}

/// The shape of a scale item.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSpec {
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub anchors: Option<Anchors>,
}

impl ScaleSpec {
    /// Every value a client can pick, lowest first.
    pub fn points(&self) -> Vec<f64> {
        let n = ((self.max - self.min) / self.step).round() as usize;
        (0..=n).map(|i| self.min + i as f64 * self.step).collect()
    }

    fn contains(&self, value: f64) -> bool {
        value >= self.min - 1e-9 && value <= self.max + 1e-9
    }

    fn on_step(&self, value: f64) -> bool {
        let k = (value - self.min) / self.step;
        (k - k.round()).abs() < 1e-6
    }

    /// The scale point a value (already checked to be on a step) stands
    /// for, exactly: `7.0000001` is stored and scored as `7`.
    pub fn snap(&self, value: f64) -> f64 {
        let k = ((value - self.min) / self.step).round();
        let point = self.min + k * self.step;
        // Keep the decimal places of min and step only (0.1 steps give 0.3, not 0.30000000000000004).
        (point * 1e6).round() / 1e6
    }

    /// The value with its scale turned round (min ↔ max).
    pub fn reversed(&self, value: f64) -> f64 {
        self.min + self.max - value
    }
}

/// One option of a choice item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub text: LocalText,
}

/// What kind of answer an item takes.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Scale(ScaleSpec),
    Choice { options: Vec<ChoiceOption> },
    YesNo,
    Text { max_length: usize },
}

impl ItemKind {
    pub fn name(&self) -> &'static str {
        match self {
            ItemKind::Scale(_) => "scale",
            ItemKind::Choice { .. } => "choice",
            ItemKind::YesNo => "yes_no",
            ItemKind::Text { .. } => "text",
        }
    }
}

/// The special part an item plays beyond being scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRole {
    /// The yes/no "something felt uncomfortable" item; "yes" raises a signal.
    Screener,
    /// The optional free-text "anything you'd like your clinician to know".
    Comment,
}

/// One question of an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub text: LocalText,
    /// Plain-words wording for the easy-read mode (may be empty).
    pub easy_text: LocalText,
    pub reverse: bool,
    pub subscale: Option<String>,
    pub required: bool,
    pub role: Option<ItemRole>,
    /// Item floor for the item-drop rule: a keyed answer below it is flagged.
    pub alert_below: Option<f64>,
}

impl Item {
    /// The question in `language`, easy-read wording when asked and present.
    pub fn text_in(&self, language: &str, easy_read: bool) -> Option<&str> {
        if easy_read && let Some(t) = self.easy_text.get(language) {
            return Some(t);
        }
        self.text.get(language)
    }

    pub fn scale(&self) -> Option<&ScaleSpec> {
        match &self.kind {
            ItemKind::Scale(s) => Some(s),
            _ => None,
        }
    }
}

/// How items combine into a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringMethod {
    #[default]
    Sum,
    Mean,
}

/// Scoring rules of an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    pub method: ScoringMethod,
    /// Scale items that make up the total, in order.
    pub items: Vec<String>,
    /// How many scored items may be missing and still be prorated.
    pub max_missing: usize,
}

/// A subscale: a named group of scale items scored like the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscale {
    pub id: String,
    pub title: LocalText,
    pub items: Vec<String>,
    pub max_missing: usize,
}

/// Published figures used for reliable change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Norms {
    /// Reliability r (test–retest preferred).
    pub reliability: f64,
    /// Population standard deviation of the total.
    pub sd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Where the figures come from.
    pub source: String,
}

/// A validated instrument definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawInstrument", into = "RawInstrument")]
pub struct InstrumentDefinition {
    id: String,
    version: u32,
    languages: Vec<String>,
    title: LocalText,
    direction: Direction,
    cutoff: Option<f64>,
    norms: Norms,
    scoring: Scoring,
    subscales: Vec<Subscale>,
    items: Vec<Item>,
    /// Languages whose wording has not been validated (a translation no
    /// clinician has checked against the original); absent means validated.
    translations: BTreeMap<String, TranslationStatus>,
}

/// Whether a language's wording of an instrument has been validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationStatus {
    pub validated: bool,
}

/// Why a definition file was refused. Each message names the field or item.
/// A TOML error on one line: where, and what.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            format!("line {line}: {}", error.message().trim())
        }
        None => error.message().trim().to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InstrumentError {
    #[error("the definition is not valid TOML: {0}")]
    Syntax(String),
    #[error("the definition is not valid JSON: {0}")]
    Json(String),
    #[error("instrument id {0:?} must be a slug: lowercase letters, digits and single hyphens")]
    BadId(String),
    #[error("instrument version must be 1 or more")]
    BadVersion,
    #[error("`languages` must list at least one language")]
    NoLanguages,
    #[error("language {0:?} is listed twice in `languages`")]
    DuplicateLanguage(String),
    #[error("{field} has no text for declared language {language:?}")]
    MissingText { field: String, language: String },
    #[error("{field} has text for {language:?}, which is not in `languages`")]
    UndeclaredLanguage { field: String, language: String },
    #[error("the instrument has no items")]
    NoItems,
    #[error("item id {0:?} is used more than once")]
    DuplicateItem(String),
    #[error("item id {0:?} must be a slug: lowercase letters, digits, '-' or '_'")]
    BadItemId(String),
    #[error("item {item:?}: `{field}` is needed for a {kind} item")]
    MissingField {
        item: String,
        field: &'static str,
        kind: &'static str,
    },
    #[error("item {item:?}: `{field}` does not apply to a {kind} item")]
    FieldNotAllowed {
        item: String,
        field: &'static str,
        kind: &'static str,
    },
    #[error("item {item:?}: min ({min}) must be below max ({max})")]
    MinNotBelowMax { item: String, min: f64, max: f64 },
    #[error("item {item:?}: step {step} must be positive and divide the range {min}–{max} into whole steps")]
    BadStep {
        item: String,
        min: f64,
        max: f64,
        step: f64,
    },
    #[error("item {item:?}: a {kind} item cannot be reverse keyed; only scale items can")]
    ReverseOnNonScale { item: String, kind: &'static str },
    #[error("item {item:?} belongs to subscale {subscale:?}, which is not declared under [[subscales]]")]
    UnknownSubscale { item: String, subscale: String },
    #[error("item {item:?}: only scale items can belong to a subscale")]
    SubscaleOnNonScale { item: String },
    #[error("subscale {0:?} is declared more than once")]
    DuplicateSubscale(String),
    #[error("subscale {0:?} has no items")]
    EmptySubscale(String),
    #[error("subscale {subscale:?}: max_missing {max_missing} must be below its {items} items")]
    SubscaleProrateTooHigh {
        subscale: String,
        max_missing: usize,
        items: usize,
    },
    #[error("item {item:?}: a choice item needs at least two options")]
    TooFewOptions { item: String },
    #[error("item {item:?}: option value {value:?} is used more than once")]
    DuplicateOption { item: String, value: String },
    #[error("item {item:?}: role {role} needs a {needed} item, not {kind}")]
    RoleOnWrongKind {
        item: String,
        role: &'static str,
        needed: &'static str,
        kind: &'static str,
    },
    #[error("more than one item has role {0}")]
    DuplicateRole(&'static str),
    #[error("item {item:?}: alert_below {value} is outside its scale {min}–{max}")]
    FloorOutsideScale {
        item: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("scoring lists item {0:?}, which is not an item of this instrument")]
    ScoringUnknownItem(String),
    #[error("scoring lists item {item:?}, a {kind} item; only scale items can be scored")]
    ScoringNonScaleItem { item: String, kind: &'static str },
    #[error("scoring lists item {0:?} more than once")]
    ScoringDuplicateItem(String),
    #[error("scoring has no items: list at least one scale item in scoring.items")]
    NothingToScore,
    #[error("scoring.max_missing is {max_missing}, but it must be below the {items} scored items")]
    ProrateTooHigh { max_missing: usize, items: usize },
    #[error("cutoff {cutoff} is outside the total's range {min}–{max}")]
    CutoffOutsideRange { cutoff: f64, min: f64, max: f64 },
    #[error("norms.reliability {0} must be above 0 and below 1")]
    BadReliability(f64),
    #[error("norms.sd {0} must be a positive number")]
    BadSd(f64),
    #[error("norms.mean {mean} is outside the total's range {min}–{max}")]
    MeanOutsideRange { mean: f64, min: f64, max: f64 },
    #[error("norms.source must cite where the reliability and SD come from")]
    NoNormsSource,
    #[error("{0} must be a finite number")]
    NotFinite(String),
}

/// An answer to one item, as the survey form or the API records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Number(f64),
    Bool(bool),
    Choice(String),
    Text(String),
}

impl Answer {
    fn kind_name(&self) -> &'static str {
        match self {
            Answer::Number(_) => "a number",
            Answer::Bool(_) => "yes or no",
            Answer::Choice(_) => "a choice",
            Answer::Text(_) => "text",
        }
    }
}

/// One client's answers to one invitation: item id → answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, item: &str, answer: Answer) -> Self {
        self.0.insert(item.to_string(), answer);
        self
    }

    pub fn get(&self, item: &str) -> Option<&Answer> {
        self.0.get(item)
    }
}

/// Why one answer was refused by the survey form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("there is no question {0:?} in this questionnaire")]
    UnknownItem(String),
    #[error("question {0:?} needs an answer")]
    RequiredMissing(String),
    #[error("question {item:?} takes {expected}, not {got}")]
    WrongKind {
        item: String,
        expected: &'static str,
        got: &'static str,
    },
    #[error("question {item:?}: {value} is outside {min}–{max}")]
    OutOfRange {
        item: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("question {item:?}: {value} is not one of the points on the scale (steps of {step} from {min})")]
    OffStep {
        item: String,
        value: f64,
        min: f64,
        step: f64,
    },
    #[error("question {item:?}: {value:?} is not one of the options")]
    UnknownOption { item: String, value: String },
    #[error("question {item:?}: the text is longer than {max_length} characters")]
    TooLong { item: String, max_length: usize },
}

/// The scores of one response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    /// The total, prorated if some scored items were missing within the limit.
    pub total: Option<f64>,
    /// Subscale id → score (None when too many of its items are missing).
    pub subscales: BTreeMap<String, Option<f64>>,
    /// True when the total was prorated from fewer items than scored.
    pub prorated: bool,
    /// Scored items without an answer.
    pub missing: Vec<String>,
    /// Why there is no total, in one sentence.
    pub reason_no_total: Option<String>,
    /// The total on a common 0–100 scale where 100 is best.
    pub common_0_100: Option<f64>,
    /// The screener's answer: Some(true) when the client said something felt wrong.
    pub screener_flagged: Option<bool>,
    /// True when the comment item holds non-blank text.
    pub has_comment: bool,
    /// Keyed (reverse-scored where marked) values of the answered scale items.
    pub keyed_items: BTreeMap<String, f64>,
}

/// Default maximum length of a free-text answer, in characters.
pub const DEFAULT_TEXT_MAX_LENGTH: usize = 4000;

impl InstrumentDefinition {
    /// Parses and validates a TOML definition.
    pub fn from_toml_str(text: &str) -> Result<Self, InstrumentError> {
        let raw: RawInstrument = toml::from_str(text).map_err(|e| InstrumentError::Syntax(toml_error(text, &e)))?;
        Self::try_from(raw)
    }

    /// Parses and validates a definition stored as JSON (the server's copy).
    pub fn from_json_str(text: &str) -> Result<Self, InstrumentError> {
        let raw: RawInstrument = serde_json::from_str(text).map_err(|e| InstrumentError::Json(e.to_string()))?;
        Self::try_from(raw)
    }

    /// The definition as JSON, for storage; reads back with [`Self::from_json_str`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a definition always serialises")
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Whether the wording in `language` has been validated (the original
    /// languages are; a translation shipped unchecked is not).
    pub fn is_validated(&self, language: &str) -> bool {
        self.translations.get(language).is_none_or(|t| t.validated)
    }

    /// The languages whose wording is not validated.
    pub fn unvalidated_languages(&self) -> Vec<&str> {
        self.languages
            .iter()
            .filter(|l| !self.is_validated(l))
            .map(String::as_str)
            .collect()
    }

    /// The definition with the wording of `pack` added for each language it
    /// has that the definition lacks. Scoring, items and version are
    /// untouched: a translation does not make a new questionnaire, so
    /// clients' histories and baselines carry on. A pack for another
    /// instrument or version, or missing any text, is refused.
    pub fn with_translations(mut self, pack: &TranslationPack) -> Result<Self, InstrumentError> {
        if pack.instrument != self.id || pack.version != self.version {
            return Err(InstrumentError::Json(format!(
                "the translations are for {} v{}, not {} v{}",
                pack.instrument, pack.version, self.id, self.version
            )));
        }
        for (language, wording) in &pack.languages {
            if self.languages.contains(language) {
                continue;
            }
            let missing = |field: &str| InstrumentError::MissingText {
                field: field.to_string(),
                language: language.clone(),
            };
            let mut items = self.items.clone();
            for item in &mut items {
                let Some(text) = wording.items.get(&item.id) else {
                    return Err(missing(&format!("item {}", item.id)));
                };
                item.text.0.insert(language.clone(), text.text.clone());
                if !item.easy_text.is_empty() {
                    let easy = text
                        .easy_text
                        .as_ref()
                        .ok_or_else(|| missing(&format!("item {} easy_text", item.id)))?;
                    item.easy_text.0.insert(language.clone(), easy.clone());
                }
                match &mut item.kind {
                    ItemKind::Scale(ScaleSpec { anchors: Some(a), .. }) => {
                        let (Some(min), Some(max)) = (&text.anchor_min, &text.anchor_max) else {
                            return Err(missing(&format!("item {} anchors", item.id)));
                        };
                        a.min.0.insert(language.clone(), min.clone());
                        a.max.0.insert(language.clone(), max.clone());
                    }
                    ItemKind::Choice { options } => {
                        for option in options {
                            let label = text
                                .options
                                .get(&option.value)
                                .ok_or_else(|| missing(&format!("item {} option {}", item.id, option.value)))?;
                            option.text.0.insert(language.clone(), label.clone());
                        }
                    }
                    _ => {}
                }
            }
            for subscale in &mut self.subscales {
                let title = wording
                    .subscales
                    .get(&subscale.id)
                    .ok_or_else(|| missing(&format!("subscale {}", subscale.id)))?;
                subscale.title.0.insert(language.clone(), title.clone());
            }
            self.items = items;
            self.title.0.insert(language.clone(), wording.title.clone());
            self.languages.push(language.clone());
            self.translations.insert(
                language.clone(),
                TranslationStatus {
                    validated: wording.validated,
                },
            );
        }
        Ok(self)
    }

    /// The definition with the translations Rapport ships for it (none for
    /// a clinic's own questionnaires).
    pub fn with_shipped_translations(self) -> Self {
        let mut def = self;
        for pack in shipped_translations() {
            if pack.instrument == def.id && pack.version == def.version {
                // Shipped packs are checked by a test; one that did not fit
                // would leave the questionnaire in its own languages.
                def = match def.clone().with_translations(&pack) {
                    Ok(translated) => translated,
                    Err(_) => def,
                };
            }
        }
        def
    }
    pub fn title(&self) -> &LocalText {
        &self.title
    }
    pub fn direction(&self) -> Direction {
        self.direction
    }
    pub fn cutoff(&self) -> Option<f64> {
        self.cutoff
    }
    pub fn norms(&self) -> &Norms {
        &self.norms
    }
    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }
    pub fn subscales(&self) -> &[Subscale] {
        &self.subscales
    }
    pub fn items(&self) -> &[Item] {
        &self.items
    }
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
    /// The item with the given role, if the instrument has one.
    pub fn item_with_role(&self, role: ItemRole) -> Option<&Item> {
        self.items.iter().find(|i| i.role == Some(role))
    }

    /// The lowest and highest possible total.
    pub fn total_range(&self) -> (f64, f64) {
        range_of(&self.items, &self.scoring.items, self.scoring.method)
    }

    /// A total on a 0–100 scale where 100 is the best possible total.
    pub fn to_common_scale(&self, total: f64) -> f64 {
        let (lo, hi) = self.total_range();
        let share = ((total - lo) / (hi - lo)).clamp(0.0, 1.0);
        let common = match self.direction {
            Direction::HigherIsBetter => share,
            Direction::LowerIsBetter => 1.0 - share,
        };
        common * 100.0
    }

    /// The keyed value of a scale answer: reversed when the item is reverse keyed.
    pub fn keyed_value(&self, item: &Item, value: f64) -> f64 {
        match (&item.kind, item.reverse) {
            (ItemKind::Scale(s), true) => s.reversed(value),
            _ => value,
        }
    }

    /// Checks a response for the survey form: every problem, each naming its question.
    /// The answers with every scale value set exactly on its point (call
    /// after [`InstrumentDefinition::validate_answers`]).
    pub fn snapped(&self, answers: &Answers) -> Answers {
        let mut snapped = answers.clone();
        for (id, answer) in snapped.0.iter_mut() {
            if let (Some(ItemKind::Scale(s)), Answer::Number(v)) = (self.item(id).map(|i| &i.kind), &*answer) {
                *answer = Answer::Number(s.snap(*v));
            }
        }
        snapped
    }

    pub fn validate_answers(&self, answers: &Answers) -> Result<(), Vec<AnswerError>> {
        let mut errors = Vec::new();
        for (id, answer) in &answers.0 {
            let Some(item) = self.item(id) else {
                errors.push(AnswerError::UnknownItem(id.clone()));
                continue;
            };
            if let Err(e) = check_answer(item, answer) {
                errors.push(e);
            }
        }
        for item in self.items.iter().filter(|i| i.required) {
            let given = match answers.get(&item.id) {
                None => false,
                Some(Answer::Text(t)) | Some(Answer::Choice(t)) => !t.trim().is_empty(),
                Some(_) => true,
            };
            if !given {
                errors.push(AnswerError::RequiredMissing(item.id.clone()));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Scores a response. Answers that do not fit their item (unknown item,
    /// wrong kind, out of range) are treated as missing: validate first to
    /// tell the client.
    pub fn score(&self, answers: &Answers) -> Scores {
        let keyed = self.keyed_answers(answers);
        let mut scores = Scores {
            keyed_items: keyed.clone(),
            ..Scores::default()
        };
        let total = score_group(
            &self.items,
            &self.scoring.items,
            self.scoring.max_missing,
            self.scoring.method,
            &keyed,
        );
        scores.missing = total.missing.clone();
        scores.prorated = total.prorated;
        scores.total = total.value;
        if total.value.is_none() {
            scores.reason_no_total = Some(format!(
                "{} of {} scored questions were not answered; at most {} may be missing for a total",
                total.missing.len(),
                self.scoring.items.len(),
                self.scoring.max_missing
            ));
        }
        scores.common_0_100 = scores.total.map(|t| self.to_common_scale(t));
        for sub in &self.subscales {
            let g = score_group(&self.items, &sub.items, sub.max_missing, self.scoring.method, &keyed);
            scores.subscales.insert(sub.id.clone(), g.value);
        }
        if let Some(item) = self.item_with_role(ItemRole::Screener) {
            scores.screener_flagged = match answers.get(&item.id) {
                Some(Answer::Bool(b)) => Some(*b),
                _ => None,
            };
        }
        if let Some(item) = self.item_with_role(ItemRole::Comment) {
            scores.has_comment = matches!(answers.get(&item.id), Some(Answer::Text(t)) if !t.trim().is_empty());
        }
        scores
    }

    /// Keyed values of the valid scale answers.
    fn keyed_answers(&self, answers: &Answers) -> BTreeMap<String, f64> {
        let mut keyed = BTreeMap::new();
        for item in &self.items {
            if let (Some(Answer::Number(v)), ItemKind::Scale(s)) = (answers.get(&item.id), &item.kind)
                && v.is_finite()
                && s.contains(*v)
            {
                keyed.insert(item.id.clone(), self.keyed_value(item, *v));
            }
        }
        keyed
    }
}

fn check_answer(item: &Item, answer: &Answer) -> Result<(), AnswerError> {
    let wrong = |expected| AnswerError::WrongKind {
        item: item.id.clone(),
        expected,
        got: answer.kind_name(),
    };
    match (&item.kind, answer) {
        (ItemKind::Scale(s), Answer::Number(v)) => {
            if !v.is_finite() || !s.contains(*v) {
                return Err(AnswerError::OutOfRange {
                    item: item.id.clone(),
                    value: *v,
                    min: s.min,
                    max: s.max,
                });
            }
            if !s.on_step(*v) {
                return Err(AnswerError::OffStep {
                    item: item.id.clone(),
                    value: *v,
                    min: s.min,
                    step: s.step,
                });
            }
            Ok(())
        }
        (ItemKind::Scale(_), _) => Err(wrong("a number")),
        (ItemKind::YesNo, Answer::Bool(_)) => Ok(()),
        (ItemKind::YesNo, _) => Err(wrong("yes or no")),
        (ItemKind::Choice { options }, Answer::Choice(c)) => {
            if options.iter().any(|o| &o.value == c) {
                Ok(())
            } else {
                Err(AnswerError::UnknownOption {
                    item: item.id.clone(),
                    value: c.clone(),
                })
            }
        }
        (ItemKind::Choice { .. }, _) => Err(wrong("a choice")),
        (ItemKind::Text { max_length }, Answer::Text(t)) => {
            if t.chars().count() > *max_length {
                Err(AnswerError::TooLong {
                    item: item.id.clone(),
                    max_length: *max_length,
                })
            } else {
                Ok(())
            }
        }
        (ItemKind::Text { .. }, _) => Err(wrong("text")),
    }
}

struct GroupScore {
    value: Option<f64>,
    prorated: bool,
    missing: Vec<String>,
}

/// Scores a group of scale items (the total or a subscale).
///
/// Proration fills each missing item at the same share of its range as the
/// answered items reached together; for items with equal ranges this is the
/// usual "mean of answered × number of items", and it can never leave the
/// group's range when item ranges differ.
fn score_group(
    items: &[Item],
    ids: &[String],
    max_missing: usize,
    method: ScoringMethod,
    keyed: &BTreeMap<String, f64>,
) -> GroupScore {
    let scales: Vec<(&String, &ScaleSpec)> = ids
        .iter()
        .filter_map(|id| {
            items
                .iter()
                .find(|i| &i.id == id)
                .and_then(|i| i.scale())
                .map(|s| (id, s))
        })
        .collect();
    let missing: Vec<String> = scales
        .iter()
        .filter(|(id, _)| !keyed.contains_key(*id))
        .map(|(id, _)| (*id).clone())
        .collect();
    let answered = scales.len() - missing.len();
    if answered == 0 || missing.len() > max_missing {
        return GroupScore {
            value: None,
            prorated: false,
            missing,
        };
    }
    let (mut got, mut span) = (0.0, 0.0);
    for (id, s) in &scales {
        if let Some(v) = keyed.get(*id) {
            got += v - s.min;
            span += s.max - s.min;
        }
    }
    let share = if span > 0.0 { got / span } else { 0.0 };
    let sum: f64 = scales
        .iter()
        .map(|(id, s)| keyed.get(*id).copied().unwrap_or(s.min + share * (s.max - s.min)))
        .sum();
    let value = match method {
        ScoringMethod::Sum => sum,
        ScoringMethod::Mean => sum / scales.len() as f64,
    };
    GroupScore {
        value: Some(value),
        prorated: !missing.is_empty(),
        missing,
    }
}

fn range_of(items: &[Item], ids: &[String], method: ScoringMethod) -> (f64, f64) {
    let mut lo = 0.0;
    let mut hi = 0.0;
    let mut n = 0usize;
    for id in ids {
        if let Some(s) = items.iter().find(|i| &i.id == id).and_then(|i| i.scale()) {
            lo += s.min;
            hi += s.max;
            n += 1;
        }
    }
    match method {
        ScoringMethod::Sum => (lo, hi),
        ScoringMethod::Mean if n > 0 => (lo / n as f64, hi / n as f64),
        ScoringMethod::Mean => (0.0, 0.0),
    }
}

/// The instrument(s) that ship with Rapport.
pub fn shipped_instruments() -> Vec<InstrumentDefinition> {
    SHIPPED
        .iter()
        .map(|(name, text)| {
            InstrumentDefinition::from_toml_str(text)
                .unwrap_or_else(|e| panic!("shipped instrument {name} is invalid: {e}"))
        })
        .collect()
}

const SHIPPED: &[(&str, &str)] = &[(
    "rapport-alliance-v1.toml",
    include_str!("instruments/rapport-alliance-v1.toml"),
)];

/// The wording of an instrument in more languages, kept apart from the
/// definition (which never changes once published).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationPack {
    pub instrument: String,
    pub version: u32,
    pub languages: BTreeMap<String, PackLanguage>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackLanguage {
    /// False until a clinic has checked the wording against the original.
    pub validated: bool,
    pub title: String,
    #[serde(default)]
    pub subscales: BTreeMap<String, String>,
    pub items: BTreeMap<String, PackItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackItem {
    pub text: String,
    pub easy_text: Option<String>,
    pub anchor_min: Option<String>,
    pub anchor_max: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// The translations Rapport ships, unvalidated (read once).
pub fn shipped_translations() -> Vec<TranslationPack> {
    static PACKS: std::sync::OnceLock<Vec<TranslationPack>> = std::sync::OnceLock::new();
    PACKS
        .get_or_init(|| {
            SHIPPED_TRANSLATIONS
                .iter()
                .filter_map(|text| toml::from_str(text).ok())
                .collect()
        })
        .clone()
}

const SHIPPED_TRANSLATIONS: &[&str] = &[include_str!("instruments/rapport-alliance-v1.translations.toml")];

// ---------------------------------------------------------------------------
// The raw file format and its validation.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Scale,
    Choice,
    YesNo,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    kind: RawKind,
    text: LocalText,
    #[serde(default, skip_serializing_if = "LocalText::is_empty")]
    easy_text: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anchors: Option<Anchors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    options: Option<Vec<ChoiceOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reverse: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subscale: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<ItemRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alert_below: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    #[serde(default)]
    method: ScoringMethod,
    /// Defaults to every scale item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<String>>,
    #[serde(default)]
    max_missing: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscale {
    id: String,
    #[serde(default, skip_serializing_if = "LocalText::is_empty")]
    title: LocalText,
    #[serde(default)]
    max_missing: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    id: String,
    version: u32,
    languages: Vec<String>,
    title: LocalText,
    #[serde(default)]
    direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cutoff: Option<f64>,
    norms: Norms,
    scoring: RawScoring,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subscales: Vec<RawSubscale>,
    items: Vec<RawItem>,
    /// `[translations.cy] validated = false` for a wording not yet checked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    translations: BTreeMap<String, TranslationStatus>,
}

fn is_slug(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || extra.contains(&c))
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn check_text(field: &str, text: &LocalText, languages: &[String], required: bool) -> Result<(), InstrumentError> {
    for language in text.0.keys() {
        if !languages.contains(language) {
            return Err(InstrumentError::UndeclaredLanguage {
                field: field.to_string(),
                language: language.clone(),
            });
        }
    }
    if required || !text.is_empty() {
        for language in languages {
            let present = text.get(language).is_some_and(|t| !t.trim().is_empty());
            if !present {
                return Err(InstrumentError::MissingText {
                    field: field.to_string(),
                    language: language.clone(),
                });
            }
        }
    }
    Ok(())
}

fn finite(field: String, v: f64) -> Result<f64, InstrumentError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(InstrumentError::NotFinite(field))
    }
}

fn convert_item(raw: RawItem, languages: &[String]) -> Result<Item, InstrumentError> {
    let id = raw.id;
    if !is_slug(&id, &['_']) {
        return Err(InstrumentError::BadItemId(id));
    }
    let kind_name: &'static str = match raw.kind {
        RawKind::Scale => "scale",
        RawKind::Choice => "choice",
        RawKind::YesNo => "yes_no",
        RawKind::Text => "text",
    };
    let not_allowed = |field| InstrumentError::FieldNotAllowed {
        item: id.clone(),
        field,
        kind: kind_name,
    };
    check_text(&format!("item {id:?} text"), &raw.text, languages, true)?;
    check_text(&format!("item {id:?} easy_text"), &raw.easy_text, languages, false)?;
    let kind = match raw.kind {
        RawKind::Scale => {
            let missing = |field| InstrumentError::MissingField {
                item: id.clone(),
                field,
                kind: kind_name,
            };
            let min = finite(format!("item {id:?} min"), raw.min.ok_or_else(|| missing("min"))?)?;
            let max = finite(format!("item {id:?} max"), raw.max.ok_or_else(|| missing("max"))?)?;
            let step = finite(format!("item {id:?} step"), raw.step.unwrap_or(1.0))?;
            if min >= max {
                return Err(InstrumentError::MinNotBelowMax { item: id, min, max });
            }
            let steps = (max - min) / step;
            if step <= 0.0 || (steps - steps.round()).abs() > 1e-6 || steps > 1000.0 {
                return Err(InstrumentError::BadStep {
                    item: id,
                    min,
                    max,
                    step,
                });
            }
            if raw.options.is_some() {
                return Err(not_allowed("options"));
            }
            if raw.max_length.is_some() {
                return Err(not_allowed("max_length"));
            }
            if let Some(a) = &raw.anchors {
                check_text(&format!("item {id:?} anchors.min"), &a.min, languages, true)?;
                check_text(&format!("item {id:?} anchors.max"), &a.max, languages, true)?;
            }
            if let Some(floor) = raw.alert_below
                && (!floor.is_finite() || floor < min || floor > max)
            {
                return Err(InstrumentError::FloorOutsideScale {
                    item: id,
                    value: floor,
                    min,
                    max,
                });
            }
            ItemKind::Scale(ScaleSpec {
                min,
                max,
                step,
                anchors: raw.anchors,
            })
        }
        other => {
            if raw.reverse {
                return Err(InstrumentError::ReverseOnNonScale {
                    item: id,
                    kind: kind_name,
                });
            }
            for (field, present) in [
                ("min", raw.min.is_some()),
                ("max", raw.max.is_some()),
                ("step", raw.step.is_some()),
                ("anchors", raw.anchors.is_some()),
                ("alert_below", raw.alert_below.is_some()),
            ] {
                if present {
                    return Err(not_allowed(field));
                }
            }
            if raw.subscale.is_some() {
                return Err(InstrumentError::SubscaleOnNonScale { item: id });
            }
            match other {
                RawKind::Choice => {
                    if raw.max_length.is_some() {
                        return Err(not_allowed("max_length"));
                    }
                    let options = raw.options.unwrap_or_default();
                    if options.len() < 2 {
                        return Err(InstrumentError::TooFewOptions { item: id });
                    }
                    let mut seen = BTreeSet::new();
                    for o in &options {
                        if !seen.insert(o.value.clone()) {
                            return Err(InstrumentError::DuplicateOption {
                                item: id.clone(),
                                value: o.value.clone(),
                            });
                        }
                        check_text(&format!("item {id:?} option {:?}", o.value), &o.text, languages, true)?;
                    }
                    ItemKind::Choice { options }
                }
                RawKind::YesNo => {
                    if raw.options.is_some() {
                        return Err(not_allowed("options"));
                    }
                    if raw.max_length.is_some() {
                        return Err(not_allowed("max_length"));
                    }
                    ItemKind::YesNo
                }
                _ => {
                    if raw.options.is_some() {
                        return Err(not_allowed("options"));
                    }
                    ItemKind::Text {
                        max_length: raw.max_length.unwrap_or(DEFAULT_TEXT_MAX_LENGTH),
                    }
                }
            }
        }
    };
    if let Some(role) = raw.role {
        let (role_name, needed, ok) = match role {
            ItemRole::Screener => ("screener", "yes_no", matches!(kind, ItemKind::YesNo)),
            ItemRole::Comment => ("comment", "text", matches!(kind, ItemKind::Text { .. })),
        };
        if !ok {
            return Err(InstrumentError::RoleOnWrongKind {
                item: id,
                role: role_name,
                needed,
                kind: kind_name,
            });
        }
    }
    Ok(Item {
        id,
        kind,
        text: raw.text,
        easy_text: raw.easy_text,
        reverse: raw.reverse,
        subscale: raw.subscale,
        required: raw.required,
        role: raw.role,
        alert_below: raw.alert_below,
    })
}

impl TryFrom<RawInstrument> for InstrumentDefinition {
    type Error = InstrumentError;

    fn try_from(raw: RawInstrument) -> Result<Self, Self::Error> {
        if !is_slug(&raw.id, &[]) {
            return Err(InstrumentError::BadId(raw.id));
        }
        if raw.version == 0 {
            return Err(InstrumentError::BadVersion);
        }
        if raw.languages.is_empty() {
            return Err(InstrumentError::NoLanguages);
        }
        let mut langs = BTreeSet::new();
        for l in &raw.languages {
            if !langs.insert(l.clone()) {
                return Err(InstrumentError::DuplicateLanguage(l.clone()));
            }
        }
        let languages = raw.languages;
        check_text("title", &raw.title, &languages, true)?;
        if let Some(language) = raw.translations.keys().find(|l| !languages.contains(l)) {
            return Err(InstrumentError::UndeclaredLanguage {
                field: "translations".into(),
                language: language.clone(),
            });
        }
        if raw.items.is_empty() {
            return Err(InstrumentError::NoItems);
        }

        let mut subscale_ids = BTreeSet::new();
        for s in &raw.subscales {
            if !subscale_ids.insert(s.id.clone()) {
                return Err(InstrumentError::DuplicateSubscale(s.id.clone()));
            }
            check_text(&format!("subscale {:?} title", s.id), &s.title, &languages, false)?;
        }

        let mut items: Vec<Item> = Vec::with_capacity(raw.items.len());
        let mut ids = BTreeSet::new();
        for raw_item in raw.items {
            if !ids.insert(raw_item.id.clone()) {
                return Err(InstrumentError::DuplicateItem(raw_item.id));
            }
            let item = convert_item(raw_item, &languages)?;
            if let Some(sub) = &item.subscale
                && !subscale_ids.contains(sub)
            {
                return Err(InstrumentError::UnknownSubscale {
                    item: item.id.clone(),
                    subscale: sub.clone(),
                });
            }
            items.push(item);
        }
        for (role, name) in [(ItemRole::Screener, "screener"), (ItemRole::Comment, "comment")] {
            if items.iter().filter(|i| i.role == Some(role)).count() > 1 {
                return Err(InstrumentError::DuplicateRole(name));
            }
        }

        let scored: Vec<String> = match raw.scoring.items {
            Some(list) => list,
            None => items
                .iter()
                .filter(|i| i.scale().is_some())
                .map(|i| i.id.clone())
                .collect(),
        };
        let mut seen = BTreeSet::new();
        for id in &scored {
            let Some(item) = items.iter().find(|i| &i.id == id) else {
                return Err(InstrumentError::ScoringUnknownItem(id.clone()));
            };
            if item.scale().is_none() {
                return Err(InstrumentError::ScoringNonScaleItem {
                    item: id.clone(),
                    kind: item.kind.name(),
                });
            }
            if !seen.insert(id.clone()) {
                return Err(InstrumentError::ScoringDuplicateItem(id.clone()));
            }
        }
        if scored.is_empty() {
            return Err(InstrumentError::NothingToScore);
        }
        if raw.scoring.max_missing >= scored.len() {
            return Err(InstrumentError::ProrateTooHigh {
                max_missing: raw.scoring.max_missing,
                items: scored.len(),
            });
        }
        let scoring = Scoring {
            method: raw.scoring.method,
            items: scored,
            max_missing: raw.scoring.max_missing,
        };

        let mut subscales = Vec::new();
        for s in raw.subscales {
            let members: Vec<String> = items
                .iter()
                .filter(|i| i.subscale.as_deref() == Some(s.id.as_str()))
                .map(|i| i.id.clone())
                .collect();
            if members.is_empty() {
                return Err(InstrumentError::EmptySubscale(s.id));
            }
            if s.max_missing >= members.len() {
                return Err(InstrumentError::SubscaleProrateTooHigh {
                    subscale: s.id,
                    max_missing: s.max_missing,
                    items: members.len(),
                });
            }
            subscales.push(Subscale {
                id: s.id,
                title: s.title,
                items: members,
                max_missing: s.max_missing,
            });
        }

        let (lo, hi) = range_of(&items, &scoring.items, scoring.method);
        if let Some(c) = raw.cutoff
            && (!c.is_finite() || c < lo || c > hi)
        {
            return Err(InstrumentError::CutoffOutsideRange {
                cutoff: c,
                min: lo,
                max: hi,
            });
        }
        let norms = raw.norms;
        if !(norms.reliability > 0.0 && norms.reliability < 1.0) {
            return Err(InstrumentError::BadReliability(norms.reliability));
        }
        if !(norms.sd > 0.0 && norms.sd.is_finite()) {
            return Err(InstrumentError::BadSd(norms.sd));
        }
        if let Some(m) = norms.mean
            && (!m.is_finite() || m < lo || m > hi)
        {
            return Err(InstrumentError::MeanOutsideRange {
                mean: m,
                min: lo,
                max: hi,
            });
        }
        if norms.source.trim().is_empty() {
            return Err(InstrumentError::NoNormsSource);
        }

        Ok(InstrumentDefinition {
            id: raw.id,
            version: raw.version,
            languages,
            title: raw.title,
            direction: raw.direction,
            cutoff: raw.cutoff,
            norms,
            scoring,
            subscales,
            items,
            translations: raw.translations,
        })
    }
}

impl From<InstrumentDefinition> for RawInstrument {
    fn from(def: InstrumentDefinition) -> Self {
        let subscales = def
            .subscales
            .iter()
            .map(|s| RawSubscale {
                id: s.id.clone(),
                title: s.title.clone(),
                max_missing: s.max_missing,
            })
            .collect();
        let items = def
            .items
            .into_iter()
            .map(|i| {
                let mut raw = RawItem {
                    id: i.id,
                    kind: RawKind::Text,
                    text: i.text,
                    easy_text: i.easy_text,
                    min: None,
                    max: None,
                    step: None,
                    anchors: None,
                    options: None,
                    max_length: None,
                    reverse: i.reverse,
                    subscale: i.subscale,
                    required: i.required,
                    role: i.role,
                    alert_below: i.alert_below,
                };
                match i.kind {
                    ItemKind::Scale(s) => {
                        raw.kind = RawKind::Scale;
                        raw.min = Some(s.min);
                        raw.max = Some(s.max);
                        raw.step = Some(s.step);
                        raw.anchors = s.anchors;
                    }
                    ItemKind::Choice { options } => {
                        raw.kind = RawKind::Choice;
                        raw.options = Some(options);
                    }
                    ItemKind::YesNo => raw.kind = RawKind::YesNo,
                    ItemKind::Text { max_length } => raw.max_length = Some(max_length),
                }
                raw
            })
            .collect();
        RawInstrument {
            id: def.id,
            version: def.version,
            languages: def.languages,
            title: def.title,
            direction: def.direction,
            cutoff: def.cutoff,
            norms: def.norms,
            scoring: RawScoring {
                method: def.scoring.method,
                items: Some(def.scoring.items),
                max_missing: def.scoring.max_missing,
            },
            subscales,
            items,
            translations: def.translations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WAI_LIKE: &str = include_str!("../../tests/fixtures/instruments/twelve-item-three-subscales.toml");
    const FOUR_BY_TEN: &str = include_str!("../../tests/fixtures/instruments/four-by-ten.toml");

    fn alliance() -> InstrumentDefinition {
        shipped_instruments().remove(0)
    }

    fn numbers(pairs: &[(&str, f64)]) -> Answers {
        pairs
            .iter()
            .fold(Answers::new(), |a, (k, v)| a.with(k, Answer::Number(*v)))
    }

    #[test]
    fn shipped_alliance_instrument_loads_with_the_documented_defaults() {
        let def = alliance();
        assert_eq!(def.id(), "rapport-alliance");
        assert_eq!(def.version(), 1);
        assert_eq!(def.total_range(), (0.0, 40.0));
        assert_eq!(def.cutoff(), Some(36.0));
        assert_eq!(def.norms().reliability, 0.70);
        assert_eq!(def.scoring().max_missing, 1);
        assert_eq!(def.scoring().items.len(), 4);
        assert!(def.item_with_role(ItemRole::Screener).is_some());
        assert!(def.item_with_role(ItemRole::Comment).is_some());
        for item in def.items() {
            assert!(item.text_in("en", true).is_some(), "{} has easy text", item.id);
            assert!(!item.easy_text.is_empty(), "{} has easy text", item.id);
        }
    }

    #[test]
    fn fixtures_carry_placeholder_wording_only() {
        let def = InstrumentDefinition::from_toml_str(WAI_LIKE).unwrap();
        for (n, item) in def.items().iter().enumerate() {
            assert_eq!(
                item.text.get("en"),
                Some(format!("Placeholder item {}", n + 1).as_str())
            );
        }
    }

    #[test]
    fn twelve_item_fixture_carries_three_subscales_of_four() {
        let def = InstrumentDefinition::from_toml_str(WAI_LIKE).unwrap();
        assert_eq!(def.items().len(), 12);
        let subs: BTreeMap<_, _> = def
            .subscales()
            .iter()
            .map(|s| (s.id.as_str(), s.items.clone()))
            .collect();
        let ids = |v: &[u32]| v.iter().map(|n| format!("item{n}")).collect::<Vec<_>>();
        assert_eq!(subs["task"], ids(&[1, 2, 10, 12]));
        assert_eq!(subs["bond"], ids(&[3, 5, 7, 9]));
        assert_eq!(subs["goal"], ids(&[4, 6, 8, 11]));
        assert_eq!(def.total_range(), (12.0, 60.0));
        let all_fives = (1..=12).fold(Answers::new(), |a, n| a.with(&format!("item{n}"), Answer::Number(5.0)));
        let s = def.score(&all_fives);
        assert_eq!(s.total, Some(60.0));
        assert_eq!(s.subscales["bond"], Some(20.0));
        assert_eq!(s.common_0_100, Some(100.0));
    }

    #[test]
    fn four_by_ten_fixture_scores_zero_to_forty() {
        let def = InstrumentDefinition::from_toml_str(FOUR_BY_TEN).unwrap();
        assert_eq!(def.total_range(), (0.0, 40.0));
        let s = def.score(&numbers(&[("q1", 9.0), ("q2", 8.0), ("q3", 10.0), ("q4", 7.0)]));
        assert_eq!(s.total, Some(34.0));
        assert!(!s.prorated);
    }

    #[test]
    fn proration_within_limit_and_reason_beyond_it() {
        let def = alliance();
        let ids: Vec<String> = def.scoring().items.clone();
        let three = numbers(&[(&ids[0], 9.0), (&ids[1], 8.0), (&ids[2], 10.0)]);
        let s = def.score(&three);
        assert_eq!(s.total, Some(36.0));
        assert!(s.prorated);
        assert_eq!(s.missing, vec![ids[3].clone()]);
        let two = numbers(&[(&ids[0], 9.0), (&ids[1], 8.0)]);
        let s = def.score(&two);
        assert_eq!(s.total, None);
        assert!(s.reason_no_total.unwrap().contains("2 of 4"));
    }

    #[test]
    fn reverse_keyed_items_score_turned_round() {
        let text = WAI_LIKE.replace("id = \"item3\"\n", "id = \"item3\"\nreverse = true\n");
        let def = InstrumentDefinition::from_toml_str(&text).unwrap();
        let answers = (1..=12).fold(Answers::new(), |a, n| {
            a.with(&format!("item{n}"), Answer::Number(if n == 3 { 1.0 } else { 5.0 }))
        });
        let s = def.score(&answers);
        assert_eq!(s.total, Some(60.0));
    }

    #[test]
    fn screener_and_comment_are_reported() {
        let def = alliance();
        let screener = def.item_with_role(ItemRole::Screener).unwrap().id.clone();
        let comment = def.item_with_role(ItemRole::Comment).unwrap().id.clone();
        let a = Answers::new()
            .with(&screener, Answer::Bool(true))
            .with(&comment, Answer::Text("  ".into()));
        let s = def.score(&a);
        assert_eq!(s.screener_flagged, Some(true));
        assert!(!s.has_comment);
        let a = a.with(&comment, Answer::Text("The last exercise was hard".into()));
        assert!(def.score(&a).has_comment);
    }

    #[test]
    fn common_scale_flips_for_lower_is_better() {
        let text = FOUR_BY_TEN.replace("direction = \"higher_is_better\"", "direction = \"lower_is_better\"");
        let def = InstrumentDefinition::from_toml_str(&text).unwrap();
        assert_eq!(def.to_common_scale(0.0), 100.0);
        assert_eq!(def.to_common_scale(10.0), 75.0);
    }

    #[test]
    fn answer_validation_names_each_problem() {
        let def = alliance();
        let ids = def.scoring().items.clone();
        let screener = def.item_with_role(ItemRole::Screener).unwrap().id.clone();
        let answers = Answers::new()
            .with(&ids[0], Answer::Number(11.0))
            .with(&ids[1], Answer::Number(7.5))
            .with(&ids[2], Answer::Bool(true))
            .with("nonsense", Answer::Number(1.0))
            .with(&screener, Answer::Number(1.0));
        let errors = def.validate_answers(&answers).unwrap_err();
        assert!(errors.iter().any(|e| matches!(e, AnswerError::OutOfRange { .. })));
        assert!(errors.iter().any(|e| matches!(e, AnswerError::OffStep { .. })));
        assert!(errors.iter().any(|e| matches!(e, AnswerError::UnknownItem(_))));
        assert!(
            errors
                .iter()
                .filter(|e| matches!(e, AnswerError::WrongKind { .. }))
                .count()
                == 2
        );
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, AnswerError::RequiredMissing(id) if id == &ids[3]))
        );
        let good = numbers(&[(&ids[0], 10.0), (&ids[1], 7.0), (&ids[2], 0.0), (&ids[3], 9.0)]);
        assert_eq!(def.validate_answers(&good), Ok(()));
    }

    fn refused(text: &str) -> String {
        InstrumentDefinition::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn invalid_definitions_are_refused_with_a_clear_message() {
        let cases: Vec<(String, &str)> = vec![
            (
                FOUR_BY_TEN.replace("subscale = \"overall\"", "subscale = \"nowhere\""),
                "not declared",
            ),
            (
                FOUR_BY_TEN.replace("id = \"q2\"", "id = \"q1\""),
                "\"q1\" is used more than once",
            ),
            (FOUR_BY_TEN.replace("max = 10", "max = 0"), "must be below max"),
            (FOUR_BY_TEN.replacen("step = 1", "step = 3", 1), "step 3"),
            (FOUR_BY_TEN.replace("cutoff = 36", "cutoff = 41"), "cutoff 41"),
            (
                FOUR_BY_TEN.replace("max_missing = 1", "max_missing = 4"),
                "max_missing is 4",
            ),
            (
                FOUR_BY_TEN.replace("items = [\"q1\", \"q2\", \"q3\", \"q4\"]", "items = [\"q1\", \"zz\"]"),
                "\"zz\"",
            ),
            (
                FOUR_BY_TEN.replace("items = [\"q1\", \"q2\", \"q3\", \"q4\"]", "items = [\"q1\", \"note\"]"),
                "only scale items can be scored",
            ),
            (
                FOUR_BY_TEN.replace("kind = \"text\"", "kind = \"text\"\nreverse = true"),
                "cannot be reverse keyed",
            ),
            (
                FOUR_BY_TEN.replace("languages = [\"en\"]", "languages = [\"en\", \"cy\"]"),
                "no text for declared language \"cy\"",
            ),
            (
                FOUR_BY_TEN.replace("reliability = 0.7", "reliability = 1.2"),
                "reliability 1.2",
            ),
            (
                FOUR_BY_TEN.replace("id = \"four-by-ten\"", "id = \"Four By Ten\""),
                "slug",
            ),
            (
                FOUR_BY_TEN.replace("kind = \"text\"", "kind = \"text\"\nmin = 1"),
                "`min` does not apply",
            ),
            (
                FOUR_BY_TEN.replace("role = \"comment\"", "role = \"screener\""),
                "role screener needs a yes_no",
            ),
            (FOUR_BY_TEN.replace("version = 1", "version = 0"), "version"),
            (FOUR_BY_TEN.replace("[norms]", "[norms]\ncolour = 1"), "colour"),
        ];
        for (text, expected) in cases {
            let message = refused(&text);
            assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        }
    }

    #[test]
    fn definition_round_trips_through_json() {
        for def in [alliance(), InstrumentDefinition::from_toml_str(WAI_LIKE).unwrap()] {
            let back = InstrumentDefinition::from_json_str(&def.to_json()).unwrap();
            assert_eq!(back, def);
        }
    }

    fn wai() -> InstrumentDefinition {
        InstrumentDefinition::from_toml_str(WAI_LIKE).unwrap()
    }

    proptest! {
        #[test]
        fn scores_stay_within_bounds(values in proptest::collection::vec(proptest::option::of(1u8..=5), 12)) {
            let def = wai();
            let answers = values.iter().enumerate().fold(Answers::new(), |a, (i, v)| match v {
                Some(v) => a.with(&format!("item{}", i + 1), Answer::Number(f64::from(*v))),
                None => a,
            });
            let s = def.score(&answers);
            let (lo, hi) = def.total_range();
            if let Some(t) = s.total {
                prop_assert!(t >= lo - 1e-9 && t <= hi + 1e-9);
                let c = s.common_0_100.unwrap();
                prop_assert!((0.0..=100.0).contains(&c));
            }
            for (id, v) in &s.subscales {
                if let Some(v) = v {
                    prop_assert!(*v >= 4.0 - 1e-9 && *v <= 20.0 + 1e-9, "{id} = {v}");
                }
            }
        }

        #[test]
        fn reverse_keying_is_an_involution(value in 0u8..=10, min in -5i8..=2) {
            let spec = ScaleSpec { min: f64::from(min), max: 10.0, step: 1.0, anchors: None };
            let v = f64::from(value).max(spec.min);
            prop_assert_eq!(spec.reversed(spec.reversed(v)), v);
        }

        #[test]
        fn proration_of_a_complete_response_equals_the_plain_total(values in proptest::collection::vec(1u8..=5, 12), limit in 0usize..4) {
            let strict = WAI_LIKE.replace("max_missing = 1\n", &format!("max_missing = {limit}\n"));
            let def = InstrumentDefinition::from_toml_str(&strict).unwrap();
            let answers = values.iter().enumerate().fold(Answers::new(), |a, (i, v)| {
                a.with(&format!("item{}", i + 1), Answer::Number(f64::from(*v)))
            });
            let s = def.score(&answers);
            let plain: f64 = values.iter().map(|v| f64::from(*v)).sum();
            prop_assert_eq!(s.total, Some(plain));
            prop_assert!(!s.prorated);
        }

        #[test]
        fn definition_parsing_never_panics(text in ".{0,400}") {
            let _ = InstrumentDefinition::from_toml_str(&text);
        }
    }
}

#[cfg(test)]
mod snap_tests {
    use super::ScaleSpec;
    use proptest::prelude::*;

    proptest! {
        /// A value that passed the step check is stored exactly on its
        /// point, whatever noise a client's form added.
        #[test]
        fn values_on_a_step_are_stored_exactly(k in 0u32..=10, noise in -1e-8f64..1e-8, tenths in any::<bool>()) {
            let scale = if tenths {
                ScaleSpec { min: 0.0, max: 1.0, step: 0.1, anchors: None }
            } else {
                ScaleSpec { min: 0.0, max: 10.0, step: 1.0, anchors: None }
            };
            let point = scale.points()[k as usize];
            let snapped = scale.snap(point + noise);
            prop_assert_eq!(snapped, scale.snap(point));
            prop_assert!((snapped - point).abs() < 1e-9);
            prop_assert_eq!(snapped, (snapped * 1e6).round() / 1e6);
        }
    }
}

#[cfg(test)]
mod translation_tests {
    use super::*;

    #[test]
    fn shipped_translations_add_languages_without_a_new_version() {
        let original = shipped_instruments().remove(0);
        let translated = original.clone().with_shipped_translations();
        assert_eq!(translated.version(), original.version());
        assert_eq!(translated.languages(), ["en", "ar", "cy", "es", "pl", "ur"]);
        assert_eq!(translated.unvalidated_languages(), ["ar", "cy", "es", "pl", "ur"]);
        assert!(translated.is_validated("en") && !translated.is_validated("ar"));
        let bond = translated.item("bond").unwrap();
        assert!(bond.text_in("cy", false).unwrap().contains("nghlinigydd"));
        assert!(bond.text_in("ar", true).is_some());
        let anchors = bond.scale().unwrap().anchors.as_ref().unwrap();
        assert_eq!(anchors.max.get("es"), Some("Totalmente"));
        // Scoring is untouched: the same answers score the same.
        let answers = Answers(
            [("bond", 9.0), ("goals", 8.0), ("approach", 7.0), ("overall", 6.0)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), Answer::Number(v)))
                .collect(),
        );
        assert_eq!(original.score(&answers).total, translated.score(&answers).total);
        // What is published stays the original (a published version never
        // changes); the translated form reads back with its flags.
        assert!(!original.to_json().contains("translations"));
        let again = InstrumentDefinition::from_json_str(&translated.to_json()).unwrap();
        assert_eq!(again.unvalidated_languages(), translated.unvalidated_languages());
    }

    #[test]
    fn a_translation_pack_must_fit_and_be_complete() {
        let original = shipped_instruments().remove(0);
        let mut pack = shipped_translations().remove(0);
        pack.version = 2;
        assert!(original.clone().with_translations(&pack).is_err(), "another version");
        let mut pack = shipped_translations().remove(0);
        if let Some(cy) = pack.languages.get_mut("cy") {
            cy.items.remove("note");
        }
        let err = original.with_translations(&pack).unwrap_err();
        assert!(err.to_string().contains("item note"), "{err}");
        // A language in `translations` must be one of `languages`.
        let text = include_str!("instruments/rapport-alliance-v1.toml")
            .replace("cutoff = 36", "cutoff = 36\n[translations.cy]\nvalidated = false\n");
        assert!(InstrumentDefinition::from_toml_str(&text).is_err());
    }
}
