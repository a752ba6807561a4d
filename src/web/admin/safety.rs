//! Client safety: the help line beside the survey's comment box, how long
//! an alert may wait for acknowledgement, and the clinic's words-of-risk
//! lists (CLINICAL.md §3, rule 10), with a box to try a sentence.

use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::context::Context;
use crate::domain::signals::risk_words::matching_phrase;
use crate::store::risk_words::{self, MAX_PHRASE_CHARS, MAX_PHRASES, RiskList, SHIPPED_LANGUAGE};
use crate::store::{alerts, kv};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::survey::{HELP_LINE_KEY, default_help_line};
use crate::web::views::html_page;
use crate::web::views::layout::{form_error, notice, staff_page};

const HELP_LINE_MAX: usize = 300;

/// Which form a refusal belongs to, so its message sits above that form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    HelpLine,
    Overdue,
    List,
    NewList,
}

struct Refusal {
    part: Part,
    message: String,
    /// The language whose list was refused, and what the admin typed.
    language: String,
    typed: String,
}

#[derive(Deserialize, Default)]
struct SafetyQuery {
    saved: Option<String>,
    #[serde(rename = "try")]
    sentence: Option<String>,
}

/// A language's name for the page, with its tag.
fn language_name(tag: &str) -> String {
    match crate::i18n::english_name(tag) {
        name if name == tag => name,
        name => format!("{name} ({tag})"),
    }
}

#[get("/admin/safety")]
async fn safety_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<SafetyQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let message = match query.saved.as_deref() {
        Some("help-line") => Some("The help line is saved; clients see it on the survey now."),
        Some("risk-words") => Some("The list is saved; it applies to every comment from now on."),
        Some("risk-words-reset") => Some("The list is back as shipped."),
        Some("overdue") => Some("Saved: clinicians see alerts as overdue from now on."),
        _ => None,
    };
    render(&state, &staff, message, query.sentence.as_deref(), None).await
}

async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    message: Option<&str>,
    sentence: Option<&str>,
    refusal: Option<Refusal>,
) -> Result<HttpResponse, AppError> {
    let (help_line, lists, overdue_days, questionnaires) = state
        .db(|conn| {
            let mut questionnaires = vec![];
            for row in crate::store::instruments::list(conn)? {
                let definition = crate::store::history::instrument(conn, row.id)?;
                questionnaires.push((row, definition));
            }
            Ok((
                kv::get(conn, HELP_LINE_KEY)?,
                risk_words::lists(conn)?,
                alerts::overdue_days(conn)?,
                questionnaires,
            ))
        })
        .await?;
    let all: Vec<String> = lists.iter().flat_map(|l| l.phrases.clone()).collect();
    let csrf = &staff.csrf;
    let refused = |part: Part| refusal.as_ref().filter(|r| r.part == part);
    let body = html! {
        @if let Some(m) = message { (notice(m)) }
        (help_line_section(csrf, help_line.as_deref(), refused(Part::HelpLine)))
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
            @for list in &lists {
                (list_form(csrf, list, refused(Part::List).filter(|r| r.language == list.language)))
            }
            (new_list_form(csrf, refused(Part::NewList)))
        }
        (languages_section(&questionnaires))
    };
    let status = if refusal.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(
            staff,
            &state.settings.clinic_name,
            "/admin/safety",
            "Client safety",
            body,
        ),
    ))
}

/// The languages clients can answer each questionnaire in, and which
/// wordings are translations no one has validated yet.
fn languages_section(
    questionnaires: &[(
        crate::store::instruments::InstrumentRow,
        std::sync::Arc<crate::domain::InstrumentDefinition>,
    )],
) -> Markup {
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

#[derive(Deserialize)]
struct HelpLineForm {
    help_line: String,
}

#[post("/admin/help-line")]
async fn save_help_line(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, HelpLineForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let line = form.help_line.trim().to_string();
    let problem = if line.is_empty() {
        Some("Write the line clients will see beside the comment box.".to_string())
    } else if line.chars().count() > HELP_LINE_MAX {
        Some(format!("The line is longer than {HELP_LINE_MAX} characters."))
    } else if line.contains('[') || line.contains(']') {
        Some("Replace the part in brackets with your clinic's details.".to_string())
    } else {
        None
    };
    if let Some(message) = problem {
        let refusal = Refusal {
            part: Part::HelpLine,
            message,
            language: String::new(),
            typed: line,
        };
        return render(&state, &staff, None, None, Some(refusal)).await;
    }
    save_audited(
        &state,
        &staff,
        AuditAction::SettingsHelpLine,
        None,
        "help-line",
        move |conn, now| kv::set(conn, HELP_LINE_KEY, &line, now),
    )
    .await
}

#[derive(Deserialize)]
struct OverdueForm {
    #[serde(default)]
    days: String,
}

#[post("/admin/alert-limit")]
async fn save_overdue_days(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, OverdueForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let days = match form.days.trim().parse::<i64>() {
        Ok(d) if (1..=30).contains(&d) => d,
        _ => {
            let refusal = Refusal {
                part: Part::Overdue,
                message: "Give a whole number of days from 1 to 30.".into(),
                language: String::new(),
                typed: form.days,
            };
            return render(&state, &staff, None, None, Some(refusal)).await;
        }
    };
    save_audited(
        &state,
        &staff,
        AuditAction::SettingsAlertOverdueDays,
        Some(format!("{days} days")),
        "overdue",
        move |conn, now| kv::set(conn, alerts::OVERDUE_DAYS_KEY, &days.to_string(), now),
    )
    .await
}

#[derive(Deserialize)]
struct ListForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    phrases: String,
}

#[post("/admin/risk-words")]
async fn save_list(state: web::Data<Context>, form: StaffForm<AdminRole, ListForm>) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let language = form.language.trim().to_string();
    let existing = state.db(risk_words::lists).await?;
    let part = if existing.iter().any(|l| l.language == language) {
        Part::List
    } else {
        Part::NewList
    };
    let parsed = if !risk_words::valid_language(&language) {
        Err(format!(
            "“{language}” is not a language tag: use a short code such as cy, pl, ar or ur."
        ))
    } else {
        risk_words::parse_list(&form.phrases)
    };
    let phrases = match parsed {
        Ok(p) => p,
        Err(message) => {
            let refusal = Refusal {
                part,
                message,
                language,
                typed: form.phrases,
            };
            return render(&state, &staff, None, None, Some(refusal)).await;
        }
    };
    let detail = format!("{language}: {} phrases", phrases.len());
    save_audited(
        &state,
        &staff,
        AuditAction::SettingsRiskWords,
        Some(detail),
        "risk-words",
        move |conn, now| risk_words::save(conn, &language, &phrases, now),
    )
    .await
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    language: String,
}

#[post("/admin/risk-words/reset")]
async fn reset_list(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, ResetForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let language = form.language.trim().to_string();
    if !risk_words::valid_language(&language) {
        return Err(AppError::BadRequest(format!("“{language}” is not a language tag")));
    }
    let detail = format!("{language}: reset");
    save_audited(
        &state,
        &staff,
        AuditAction::SettingsRiskWords,
        Some(detail),
        "risk-words-reset",
        move |conn, _| risk_words::reset(conn, &language),
    )
    .await
}

/// Saves a setting of this page (audited) and returns to its section.
async fn save_audited(
    state: &Context,
    staff: &Staff<AdminRole>,
    action: AuditAction,
    detail: Option<String>,
    saved: &str,
    write: impl FnOnce(&mut crate::store::DbConnection, chrono::NaiveDateTime) -> Result<(), crate::store::StoreError>
    + Send
    + 'static,
) -> Result<HttpResponse, AppError> {
    let section = match saved {
        "help-line" => "help-line",
        "overdue" => "overdue",
        _ => "risk-words",
    };
    super::save_setting(
        state,
        staff.id(),
        action,
        detail,
        format!("/admin/safety?saved={saved}#{section}"),
        write,
    )
    .await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(safety_page)
        .service(save_help_line)
        .service(save_overdue_days)
        .service(save_list)
        .service(reset_list);
}
