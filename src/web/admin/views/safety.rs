//! Admin → Client safety: the help line beside the comment box, the limit
//! for acknowledging an alert, the words of risk per language and the
//! questionnaires' languages, from what the handler read.

use std::sync::Arc;

use maud::{Markup, html};

use crate::domain::InstrumentDefinition;
use crate::domain::signals::risk_words::matching_phrase;
use crate::store::instruments::InstrumentRow;
use crate::store::risk_words::{MAX_PHRASE_CHARS, MAX_PHRASES, RiskList, SHIPPED_LANGUAGE};
use crate::web::survey::default_help_line;
use crate::web::views::layout::{form_error, notice};

/// The longest help line.
pub const HELP_LINE_MAX: usize = 300;

/// Which form a refusal belongs to, so its message sits above that form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Part {
    HelpLine,
    Overdue,
    List,
    NewList,
}

/// A form that was not saved: which one, why, and what was typed.
pub struct Refusal {
    pub part: Part,
    pub message: String,
    /// The language whose list was refused, and what the admin typed.
    pub language: String,
    pub typed: String,
}

/// A language's name for the page, with its tag.
fn language_name(tag: &str) -> String {
    match crate::i18n::english_name(tag) {
        name if name == tag => name,
        name => format!("{name} ({tag})"),
    }
}

/// What the Client safety page shows.
pub struct SafetyPage<'a> {
    pub csrf: &'a str,
    pub message: Option<&'a str>,
    /// A sentence the admin tried against the lists.
    pub sentence: Option<&'a str>,
    pub refusal: Option<&'a Refusal>,
    pub help_line: Option<&'a str>,
    pub lists: &'a [RiskList],
    pub overdue_days: i64,
    pub questionnaires: &'a [(InstrumentRow, Arc<InstrumentDefinition>)],
}

/// The page's content.
pub fn body(page: &SafetyPage) -> Markup {
    let SafetyPage {
        csrf,
        message,
        sentence,
        refusal,
        help_line,
        lists,
        overdue_days,
        questionnaires,
    } = *page;
    let all: Vec<String> = lists.iter().flat_map(|l| l.phrases.clone()).collect();
    let refused = |part: Part| refusal.filter(|r| r.part == part);
    html! {
        @if let Some(m) = message { (notice(m)) }
        (help_line_section(csrf, help_line, refused(Part::HelpLine)))
        (overdue_section(csrf, overdue_days, refused(Part::Overdue)))
        section #risk-words {
            h2 { "Words of risk" }
            p {
                "A comment holding one of these phrases opens a high alert at once and emails the client's clinician, whatever the scores say and whatever their email setting. "
                "Matching ignores case, accents and punctuation, and a phrase just after “not”, “never” or “don't” does not count (“I'm not suicidal”). "
                "Every comment is checked against every language's list."
            }
            p.hint { "Add the words your clients use. Every comment is shown to the clinician either way; this list decides which ones cannot wait." }
            (try_form(sentence, &all))
            @for list in lists {
                (list_form(csrf, list, refused(Part::List).filter(|r| r.language == list.language)))
            }
            (new_list_form(csrf, refused(Part::NewList)))
        }
        (languages_section(questionnaires))
    }
}

/// The languages clients can answer each questionnaire in, and which
/// wordings are translations no one has validated yet.
fn languages_section(questionnaires: &[(InstrumentRow, Arc<InstrumentDefinition>)]) -> Markup {
    html! {
        section #languages aria-labelledby="h-languages" {
            h2 #h-languages { "Questionnaire languages" }
            p {
                "Clients answer in their own language when the questionnaire has it (their language is on their contact details). "
                "A translation marked unvalidated has not been checked against the original by the clinic: its answers may not score like the original's, and alerts from them say so. "
                "To use a validated wording, import it as a new questionnaire version (" code { "rapport instrument import" } ")."
            }
            table.cards {
                thead { tr { th scope="col" { "Questionnaire" } th scope="col" { "Validated" } th scope="col" { "Not validated" } } }
                tbody {
                    @for (row, definition) in questionnaires {
                        @let unvalidated = definition.unvalidated_languages();
                        tr {
                            td data-label="Questionnaire" { (row.title) " (" (row.slug) " v" (row.version) ")" @if row.is_default { " · used for new invitations" } }
                            td data-label="Validated" {
                                (definition.languages().iter().filter(|l| definition.is_validated(l)).map(|l| language_name(l)).collect::<Vec<_>>().join(", "))
                            }
                            td data-label="Not validated" {
                                @if unvalidated.is_empty() { "none" } @else {
                                    (unvalidated.iter().map(|l| language_name(l)).collect::<Vec<_>>().join(", "))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The clinic's line beside the survey's comment box. Until it is set,
/// clients see a general line and this section asks for the clinic's own.
fn help_line_section(csrf: &str, current: Option<&str>, refused: Option<&Refusal>) -> Markup {
    let typed = refused.map(|r| r.typed.as_str());
    html! {
        section #help-line {
            h2 { "Help line on the survey" }
            @if current.is_none() {
                p.warning role="status" {
                    "Set your clinic's own line: clients see it beside the comment box, because comments are not read straight away. Until then they see: “" (default_help_line()) "”"
                }
            }
            @if let Some(r) = refused { (form_error(&r.message)) }
            form.stack method="post" action="/admin/help-line" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="help_line" { "Line shown beside the comment box" }
                    textarea #help_line name="help_line" rows="2" maxlength=(HELP_LINE_MAX) required aria-describedby="help-line-hint" {
                        (typed.or(current).unwrap_or("Your comment is not read straight away. If you need help now, call [your clinic's number], or 999 in an emergency."))
                    }
                    p.hint #help-line-hint { "Replace the part in brackets. At most " (HELP_LINE_MAX) " characters." }
                }
                button type="submit" { "Save the line" }
            }
        }
    }
}

/// How long an alert may wait for acknowledgement before the clinician's
/// inbox marks it overdue.
fn overdue_section(csrf: &str, days: i64, refused: Option<&Refusal>) -> Markup {
    html! {
        section #overdue {
            h2 { "Time to acknowledge an alert" }
            @if let Some(r) = refused { (form_error(&r.message)) }
            form.row method="post" action="/admin/alert-limit" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="overdue_days" { "Days before an unacknowledged alert is marked overdue" }
                    input #overdue_days type="number" name="days" min="1" max="30" required value=(days) inputmode="numeric";
                }
                button type="submit" { "Save" }
            }
        }
    }
}

fn try_form(sentence: Option<&str>, phrases: &[String]) -> Markup {
    html! {
        form.stack method="get" action="/admin/safety#try" {
            div.field {
                label for="try" { "Try a sentence" }
                input #try name="try" value=(sentence.unwrap_or("")) maxlength="500" autocomplete="off";
            }
            button type="submit" { "Check" }
        }
        @if let Some(sentence) = sentence.filter(|s| !s.trim().is_empty()) {
            p role="status" {
                @match matching_phrase(sentence, phrases) {
                    Some(phrase) => { strong { "Would open a high alert" } " (matches “" (phrase) "”)." }
                    None => { strong { "Would not open an alert" } " (no phrase matches). The clinician still sees the comment." }
                }
            }
        }
    }
}

fn list_form(csrf: &str, list: &RiskList, refused: Option<&Refusal>) -> Markup {
    let id = format!("phrases-{}", list.language);
    let text = refused
        .map(|r| r.typed.clone())
        .unwrap_or_else(|| list.phrases.join("\n"));
    html! {
        section.risk-list {
            h3 { (language_name(&list.language)) }
            p.hint {
                (list.phrases.len()) " phrases · "
                @if list.language == SHIPPED_LANGUAGE && !list.edited { "as shipped with Rapport" } @else { "the clinic's list" }
            }
            @if let Some(r) = refused { (form_error(&r.message)) }
            form.stack method="post" action="/admin/risk-words" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="language" value=(list.language);
                div.field {
                    label for=(id) { "Phrases, one per line" }
                    textarea id=(id) name="phrases" rows="10" dir="auto" lang=(list.language) { (text) }
                }
                button type="submit" { "Save the " (language_name(&list.language)) " list" }
            }
            @if list.edited {
                form method="post" action="/admin/risk-words/reset" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="language" value=(list.language);
                    button type="submit" {
                        @if list.language == SHIPPED_LANGUAGE { "Restore the shipped English list" } @else { "Remove the " (language_name(&list.language)) " list" }
                    }
                }
            }
        }
    }
}

fn new_list_form(csrf: &str, refused: Option<&Refusal>) -> Markup {
    html! {
        section.risk-list #new-list {
            h3 { "A list for another language" }
            @if let Some(r) = refused { (form_error(&r.message)) }
            form.stack method="post" action="/admin/risk-words" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="new-language" { "Language tag" }
                    input #new-language name="language" required aria-describedby="new-language-hint" autocomplete="off"
                        value=(refused.map(|r| r.language.as_str()).unwrap_or(""));
                    p.hint #new-language-hint { "As in the client's record: cy for Welsh, pl for Polish, ar for Arabic, ur for Urdu." }
                }
                div.field {
                    label for="new-phrases" { "Phrases, one per line" }
                    textarea #new-phrases name="phrases" rows="6" dir="auto" required { (refused.map(|r| r.typed.as_str()).unwrap_or("")) }
                    p.hint { "At most " (MAX_PHRASES) " phrases of at most " (MAX_PHRASE_CHARS) " characters. Ask a fluent colleague or interpreter for the words clients really use." }
                }
                button type="submit" { "Add the list" }
            }
        }
    }
}
