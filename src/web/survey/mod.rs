//! The client's questionnaire (`/s/{token}`) and unsubscribe (`/u/{token}`)
//! pages. GET never changes anything (mail scanners open every link); only
//! POST records answers or choices.

mod views;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::AppError;
use crate::actions::questionnaires::{self, Link, Questionnaire};
use crate::config::Settings;
use crate::context::Context;
use crate::domain::instrument::{Answer, AnswerError, Answers, InstrumentDefinition, ItemKind};
use crate::i18n::Lang;
use crate::store::clients::{self, Client};
use crate::store::invitations;
use crate::store::{DbConnection, StoreError};
use fluent_templates::fluent_bundle::FluentValue;
use views::Frame;

/// Shown until the clinic sets its own line (safe without a phone
/// number), as staff read it; clients read it in their language.
pub fn default_help_line() -> String {
    Lang::new("en", crate::i18n::Numerals::Western).t("help-line-default")
}

/// The language of the questionnaire page: the client's if the
/// questionnaire has it (a regional tag such as ar-EG reads ar), else the
/// clinic's default, else the questionnaire's first. Questions and
/// everything around them are in the same language.
fn language(settings: &Settings, questionnaire: &Questionnaire) -> Lang {
    let langs = questionnaire.instrument.languages();
    let has = |tag: &str| {
        let primary = tag.split('-').next().unwrap_or(tag);
        langs
            .iter()
            .find(|l| l.as_str() == tag || l.as_str() == primary)
            .cloned()
    };
    let tag = has(&questionnaire.client.language)
        .or_else(|| has(&settings.default_language))
        .or_else(|| langs.first().cloned())
        .unwrap_or_else(|| "en".into());
    Lang::new(&tag, settings.client_numerals)
}

/// The language of a page with no questions (see [`Lang::for_client`]).
fn client_language(state: &Context, client: Option<&Client>) -> Lang {
    Lang::for_client(
        client.map(|c| c.language.as_str()),
        &state.settings.default_language,
        state.settings.client_numerals,
    )
}

/// A client's page: never kept in a shared cache, never indexed.
fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    use actix_web::http::header::{CACHE_CONTROL, HeaderName, HeaderValue};
    let mut response = crate::web::views::html_page(status, markup);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    response
}

/// The calm page for every state but "open".
fn state_page(state: &Context, link: &Link) -> Option<HttpResponse> {
    let clinic = &state.settings.clinic_name;
    let client = match link {
        Link::Open(_) => return None,
        _ => link.questionnaire().map(|q| &q.client),
    };
    let lang = client_language(state, client);
    let frame = Frame {
        lang: &lang,
        clinic,
        // Keep the easy-read presentation for clients who chose it.
        easy: client.is_some_and(|c| c.easy_read),
        switch_token: None,
        languages: &[],
    };
    let (status, title, lines): (StatusCode, &str, Vec<&str>) = match link {
        Link::Open(_) => return None,
        Link::Unknown => (
            StatusCode::NOT_FOUND,
            "unknown-title",
            vec!["unknown-check", "unknown-contact"],
        ),
        Link::Answered(_) => (StatusCode::OK, "answered-title", vec!["answered-thanks", "close-page"]),
        Link::Expired(_) => (StatusCode::GONE, "expired-title", vec!["expired-fine", "expired-next"]),
        Link::NoLongerNeeded(_) => (StatusCode::GONE, "cancelled-title", vec!["cancelled-line"]),
        Link::Unsubscribed(_) => (
            StatusCode::OK,
            "stopped-title",
            vec!["stopped-closed", "stopped-change"],
        ),
    };
    let lines: Vec<String> = lines.iter().map(|k| lang.t(k)).collect();
    Some(html_response(status, views::message(&frame, &lang.t(title), &lines)))
}

/// The open questionnaire behind a link (with the clinic's help line), or
/// the calm page to show instead.
async fn open_survey(
    state: &Context,
    token: &str,
    now: chrono::NaiveDateTime,
) -> Result<Result<Box<Questionnaire>, HttpResponse>, AppError> {
    let lookup = token.to_string();
    let link = state.read(move |conn| questionnaires::link(conn, &lookup, now)).await?;
    match link {
        Link::Open(questionnaire) => Ok(Ok(questionnaire)),
        other => Ok(Err(
            state_page(state, &other).unwrap_or_else(|| HttpResponse::NotFound().finish())
        )),
    }
}

#[get("/s/{token}")]
async fn show(state: web::Data<Context>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let token_text = token.into_inner();
    let survey = match open_survey(&state, &token_text, now).await? {
        Ok(survey) => survey,
        Err(page) => return Ok(page),
    };
    Ok(if survey.client.easy_read {
        html_response(
            StatusCode::OK,
            easy_step(&state, &survey, &token_text, 0, &Answers::new(), None),
        )
    } else {
        html_response(
            StatusCode::OK,
            full_form(&state, &survey, &token_text, &Answers::new(), &BTreeMap::new()),
        )
    })
}

/// The whole questionnaire on one page.
fn full_form(
    state: &Context,
    survey: &Questionnaire,
    token: &str,
    answers: &Answers,
    problems: &BTreeMap<String, &'static str>,
) -> Markup {
    let lang = language(&state.settings, survey);
    let frame = Frame {
        lang: &lang,
        clinic: &state.settings.clinic_name,
        easy: false,
        switch_token: Some(token),
        languages: survey.instrument.languages(),
    };
    let title = survey
        .instrument
        .title()
        .get(lang.tag())
        .map(str::to_string)
        .unwrap_or_else(|| lang.t("survey-title-fallback"));
    let help_line = help_line(survey, &lang);
    views::page(
        &frame,
        &title,
        html! {
            h1 { (title) }
            p { (lang.t("survey-intro")) }
            @if !problems.is_empty() {
                div.error role="alert" {
                    p { (lang.t("survey-problems")) }
                    // In the order of the questions on the page.
                    ul {
                        @for item in survey.instrument.items().iter().filter(|i| problems.contains_key(&i.id)) {
                            li { a href={ "#q-" (item.id) } { (question_label(survey, &item.id, lang.tag())) } }
                        }
                    }
                }
            }
            form method="post" action={ "/s/" (token) } novalidate {
                @if answers.0.is_empty() && problems.is_empty() {
                    (views::blank_questions(&survey.instrument, &views::Wording { lang: &lang, easy: false, help_line: &help_line }))
                } @else {
                    @for item in survey.instrument.items() {
                        (views::question(&survey.instrument, item, &views::Wording { lang: &lang, easy: false, help_line: &help_line }, answers, problems.get(&item.id).copied()))
                    }
                }
                div.actions { button.primary type="submit" { (lang.t("survey-send")) } }
            }
            p.muted { (lang.t("survey-footer")) }
        },
    )
}

fn question_label(survey: &Questionnaire, id: &str, lang: &str) -> String {
    survey
        .instrument
        .item(id)
        .and_then(|i| i.text_in(lang, false))
        .unwrap_or(id)
        .to_string()
}

/// One question per screen, larger text, plain words, a progress line and
/// a back button; earlier answers ride along as hidden fields.
fn easy_step(
    state: &Context,
    survey: &Questionnaire,
    token: &str,
    step: usize,
    answers: &Answers,
    problem: Option<&'static str>,
) -> Markup {
    let lang = language(&state.settings, survey);
    let frame = Frame {
        lang: &lang,
        clinic: &state.settings.clinic_name,
        easy: true,
        switch_token: Some(token),
        languages: survey.instrument.languages(),
    };
    let help_line = help_line(survey, &lang);
    let items = survey.instrument.items();
    let total = items.len();
    if step >= total {
        return easy_review(&frame, survey, token, answers);
    }
    let item = &items[step];
    let progress = lang.t_with(
        "easy-progress",
        &[
            ("step", FluentValue::from(step + 1)),
            ("total", FluentValue::from(total)),
        ],
    );
    views::page(
        &frame,
        &progress,
        html! {
            p.progress { (progress) }
            form method="post" action={ "/s/" (token) "/step" } novalidate {
                input type="hidden" name="_step" value=(step);
                (views::carried(answers, &item.id))
                (views::question(&survey.instrument, item, &views::Wording { lang: &lang, easy: true, help_line: &help_line }, answers, problem))
                @if !item.required { p.hint { (lang.t("easy-skip")) } }
                // Back before Next, as people read; Enter still means Next
                // (the form's first submit button, not shown).
                button.default-next type="submit" name="_go" value="next" tabindex="-1" aria-hidden="true" { (lang.t("easy-next")) }
                div.actions {
                    @if step > 0 { button type="submit" name="_go" value="back" formnovalidate { (lang.t("easy-back")) } }
                    button.primary type="submit" name="_go" value="next" { (lang.t("easy-next")) }
                }
            }
        },
    )
}

fn easy_review(frame: &Frame, survey: &Questionnaire, token: &str, answers: &Answers) -> Markup {
    let items = survey.instrument.items();
    let lang = frame.lang;
    views::page(
        frame,
        &lang.t("easy-review-title"),
        html! {
            p.progress { (lang.t_with("easy-review-done", &[("count", FluentValue::from(items.len()))])) }
            h1 { (lang.t("easy-review-heading")) }
            p { (lang.t("easy-review-hint")) }
            // Back before Send, as on every easy-read step.
            div.actions {
                form method="post" action={ "/s/" (token) "/step" } {
                    input type="hidden" name="_step" value=(items.len());
                    (views::carried(answers, ""))
                    button type="submit" name="_go" value="back" { (lang.t("easy-back")) }
                }
                form method="post" action={ "/s/" (token) } {
                    (views::carried(answers, ""))
                    button.primary type="submit" { (lang.t("survey-send")) }
                }
            }
        },
    )
}

/// The clinic's line beside the comment box, or the default in the
/// client's language until the clinic sets its own.
fn help_line(survey: &Questionnaire, lang: &Lang) -> String {
    survey.help_line.clone().unwrap_or_else(|| lang.t("help-line-default"))
}

/// Turns form fields into answers, keeping only the instrument's items.
/// Returns the answers and, per item, a friendly problem.
fn read_answers(
    instrument: &InstrumentDefinition,
    fields: &[(String, String)],
) -> (Answers, BTreeMap<String, &'static str>) {
    let mut answers = Answers::new();
    let mut problems = BTreeMap::new();
    for (name, value) in fields {
        let Some(item) = instrument.item(name) else { continue };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let answer = match &item.kind {
            ItemKind::Scale(_) => value.parse::<f64>().ok().filter(|v| v.is_finite()).map(Answer::Number),
            ItemKind::YesNo => match value {
                "yes" => Some(Answer::Bool(true)),
                "no" => Some(Answer::Bool(false)),
                _ => None,
            },
            ItemKind::Choice { .. } => Some(Answer::Choice(value.to_string())),
            ItemKind::Text { .. } => Some(Answer::Text(value.to_string())),
        };
        match answer {
            Some(a) => {
                answers.0.insert(item.id.clone(), a);
            }
            None => {
                problems.insert(item.id.clone(), views::problem_key(item));
            }
        }
    }
    (answers, problems)
}

fn problems_from(instrument: &InstrumentDefinition, errors: &[AnswerError]) -> BTreeMap<String, &'static str> {
    let mut problems = BTreeMap::new();
    for e in errors {
        let id = match e {
            AnswerError::UnknownItem(_) => continue,
            AnswerError::RequiredMissing(id) => id,
            AnswerError::WrongKind { item, .. }
            | AnswerError::OutOfRange { item, .. }
            | AnswerError::OffStep { item, .. }
            | AnswerError::UnknownOption { item, .. }
            | AnswerError::TooLong { item, .. } => item,
        };
        if let Some(item) = instrument.item(id) {
            problems.insert(id.clone(), views::problem_key(item));
        }
    }
    problems
}

/// Upper bound for a questionnaire form (free text included).
const FORM_LIMIT: usize = 64 * 1024;

fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    if body.len() > FORM_LIMIT {
        return Err(AppError::BadRequest("The answers are too long to send.".into()));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::BadRequest("The answers could not be read. Please go back and try again.".into()))
}

/// What a submission came to.
enum Submitted {
    /// Stored; the thanks are in the language the client answered in.
    Stored(Lang),
    NotOpen(Link),
    Invalid(Box<Questionnaire>, Answers, BTreeMap<String, &'static str>),
}

#[post("/s/{token}")]
async fn submit(
    state: web::Data<Context>,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = parse_form(&body)?;
    let token_text = token.into_inner();
    let now = state.now();
    let lookup = token_text.clone();
    let settings = state.settings.clone();
    // Read and check first, outside the write lock; the write then takes
    // the invitation only if it is still open.
    let outcome = state
        .db_mailing(move |conn, mailing| {
            let link = questionnaires::link(conn, &lookup, now)?;
            let Link::Open(questionnaire) = link else {
                return Ok(Submitted::NotOpen(link));
            };
            let lang = language(&settings, &questionnaire);
            let (answers, mut problems) = read_answers(&questionnaire.instrument, &fields);
            if let Err(errors) = questionnaire.instrument.validate_answers(&answers) {
                problems.extend(problems_from(&questionnaire.instrument, &errors));
            }
            if !problems.is_empty() {
                return Ok(Submitted::Invalid(questionnaire, answers, problems));
            }
            if questionnaires::answer(conn, mailing, &questionnaire, &answers, lang.tag(), now)? {
                Ok(Submitted::Stored(lang))
            } else {
                Ok(Submitted::NotOpen(questionnaires::link(conn, &lookup, now)?))
            }
        })
        .await?;
    match outcome {
        Submitted::Stored(lang) => {
            let frame = Frame {
                lang: &lang,
                clinic: &state.settings.clinic_name,
                easy: false,
                switch_token: None,
                languages: &[],
            };
            Ok(html_response(
                StatusCode::OK,
                views::message(
                    &frame,
                    &lang.t("thanks-title"),
                    &[lang.t("thanks-sent"), lang.t("thanks-done")],
                ),
            ))
        }
        Submitted::NotOpen(link) => Ok(state_page(&state, &link).unwrap_or_else(|| HttpResponse::NotFound().finish())),
        Submitted::Invalid(survey, answers, problems) => {
            let markup = if survey.client.easy_read {
                // Back to the first question with a problem.
                let step = survey
                    .instrument
                    .items()
                    .iter()
                    .position(|i| problems.contains_key(&i.id))
                    .unwrap_or(0);
                let problem = problems.values().next().copied();
                easy_step(&state, &survey, &token_text, step, &answers, problem)
            } else {
                full_form(&state, &survey, &token_text, &answers, &problems)
            };
            Ok(html_response(StatusCode::BAD_REQUEST, markup))
        }
    }
}

/// Moves through the easy-read screens. Stores nothing.
#[post("/s/{token}/step")]
async fn next_step(
    state: web::Data<Context>,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = parse_form(&body)?;
    let token_text = token.into_inner();
    let now = state.now();
    let survey = match open_survey(&state, &token_text, now).await? {
        Ok(survey) => survey,
        Err(page) => return Ok(page),
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let count = survey.instrument.items().len();
    let current: usize = field("_step")
        .and_then(|s| s.parse().ok())
        .filter(|s| *s <= count)
        .unwrap_or(0);
    let (answers, problems) = read_answers(&survey.instrument, &fields);
    let going_back = field("_go") == Some("back");
    if going_back {
        return Ok(html_response(
            StatusCode::OK,
            easy_step(&state, &survey, &token_text, current.saturating_sub(1), &answers, None),
        ));
    }
    if let Some(item) = survey.instrument.items().get(current) {
        let mut problem = problems.get(&item.id).copied();
        if problem.is_none() {
            let only_this = Answers(
                answers
                    .0
                    .iter()
                    .filter(|(k, _)| **k == item.id)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
            let missing = item.required && only_this.0.is_empty();
            let invalid = survey
                .instrument
                .validate_answers(&only_this)
                .err()
                .is_some_and(|errs| {
                    errs.iter()
                        .any(|e| !matches!(e, AnswerError::RequiredMissing(id) if *id != item.id))
                });
            if missing || invalid {
                problem = Some(views::problem_key(item));
            }
        }
        if problem.is_some() {
            return Ok(html_response(
                StatusCode::BAD_REQUEST,
                easy_step(&state, &survey, &token_text, current, &answers, problem),
            ));
        }
    }
    Ok(html_response(
        StatusCode::OK,
        easy_step(&state, &survey, &token_text, current + 1, &answers, None),
    ))
}

#[derive(Deserialize)]
struct EasyReadForm {
    easy: String,
}

/// Remembers the client's choice of the easy-read questionnaire.
#[post("/s/{token}/easy-read")]
async fn easy_read(
    state: web::Data<Context>,
    token: web::Path<String>,
    form: web::Form<EasyReadForm>,
) -> Result<HttpResponse, AppError> {
    let token_text = token.into_inner();
    let easy = form.easy == "on";
    let now = state.now();
    let survey = match open_survey(&state, &token_text, now).await? {
        Ok(survey) => survey,
        Err(page) => return Ok(page),
    };
    let client_id = survey.client.id;
    state
        .db(move |conn| clients::set_easy_read(conn, client_id, easy, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/s/{token_text}")))
        .finish())
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
}

/// Remembers the language the client chose among the questionnaire's.
#[post("/s/{token}/language")]
async fn choose_language(
    state: web::Data<Context>,
    token: web::Path<String>,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let token_text = token.into_inner();
    let now = state.now();
    let survey = match open_survey(&state, &token_text, now).await? {
        Ok(survey) => survey,
        Err(page) => return Ok(page),
    };
    let chosen = form.into_inner().language;
    if !survey.instrument.languages().contains(&chosen) {
        return Err(AppError::BadRequest(format!(
            "This questionnaire is not available in “{chosen}”."
        )));
    }
    let client_id = survey.client.id;
    state
        .db(move |conn| clients::set_language(conn, client_id, &chosen, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/s/{token_text}")))
        .finish())
}

/// The client's unsubscribe link: what the invitation's unsubscribe token
/// belongs to.
fn load_unsubscribe(conn: &mut DbConnection, token: &str) -> Result<Option<Client>, StoreError> {
    Ok(invitations::find_by_token(conn, token, "unsubscribe")?.map(|(_, client)| client))
}

fn unsubscribe_unknown(state: &Context) -> HttpResponse {
    let lang = client_language(state, None);
    let frame = Frame {
        lang: &lang,
        clinic: &state.settings.clinic_name,
        easy: false,
        switch_token: None,
        languages: &[],
    };
    html_response(
        StatusCode::NOT_FOUND,
        views::message(&frame, &lang.t("link-unknown-title"), &[lang.t("link-unknown-line")]),
    )
}

#[get("/u/{token}")]
async fn unsubscribe_confirm(state: web::Data<Context>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let token_text = token.into_inner();
    let lookup = token_text.clone();
    let Some(client) = state.db(move |conn| load_unsubscribe(conn, &lookup)).await? else {
        return Ok(unsubscribe_unknown(&state));
    };
    let lang = client_language(&state, Some(&client));
    let frame = Frame {
        lang: &lang,
        clinic: &state.settings.clinic_name,
        easy: client.easy_read,
        switch_token: None,
        languages: &[],
    };
    if client.opted_out {
        return Ok(html_response(
            StatusCode::OK,
            views::message(&frame, &lang.t("stopped-title"), &[lang.t("unsubscribe-already")]),
        ));
    }
    Ok(html_response(
        StatusCode::OK,
        views::page(
            &frame,
            &lang.t("unsubscribe-title"),
            html! {
                h1 { (lang.t("unsubscribe-question")) }
                p { (lang.t("unsubscribe-explain")) }
                form method="post" action={ "/u/" (token_text) } {
                    div.actions { button.primary type="submit" { (lang.t("unsubscribe-confirm")) } }
                }
                p.muted { (lang.t("unsubscribe-keep")) }
            },
        ),
    ))
}

/// One-click unsubscribe (RFC 8058): no cookie, no login, honoured at once.
#[post("/u/{token}")]
async fn unsubscribe(state: web::Data<Context>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let token_text = token.into_inner();
    let now = state.now();
    let done = state
        .db(move |conn| {
            conn.write_transaction(|conn| {
                let Some(client) = load_unsubscribe(conn, &token_text)? else {
                    return Ok(None);
                };
                crate::actions::clients::opt_out(conn, crate::actions::Actor::Client, client.id, now)?;
                Ok(Some(client))
            })
        })
        .await?;
    let Some(client) = done else {
        return Ok(unsubscribe_unknown(&state));
    };
    tracing::info!("a client unsubscribed from feedback emails");
    let lang = client_language(&state, Some(&client));
    let frame = Frame {
        lang: &lang,
        clinic: &state.settings.clinic_name,
        easy: client.easy_read,
        switch_token: None,
        languages: &[],
    };
    Ok(html_response(
        StatusCode::OK,
        views::message(
            &frame,
            &lang.t("stopped-title"),
            &[lang.t("unsubscribe-done"), lang.t("stopped-change")],
        ),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(submit)
        .service(next_step)
        .service(easy_read)
        .service(choose_language)
        .service(unsubscribe_confirm)
        .service(unsubscribe);
}
