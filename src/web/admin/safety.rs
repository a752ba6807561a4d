//! Client safety: the help line beside the survey's comment box, how long
//! an alert may wait for acknowledgement, and the clinic's words-of-risk
//! lists (CLINICAL.md §3, rule 10), with a box to try a sentence.

use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::views;
use super::views::safety::{HELP_LINE_MAX, Part, Refusal};
use crate::context::Context;
use crate::store::risk_words;
use crate::store::{alerts, kv};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct SafetyQuery {
    saved: Option<String>,
    #[serde(rename = "try")]
    sentence: Option<String>,
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
                kv::get(conn, kv::HELP_LINE)?,
                risk_words::lists(conn)?,
                alerts::overdue_days(conn)?,
                questionnaires,
            ))
        })
        .await?;
    let page = views::safety::SafetyPage {
        csrf: &staff.csrf,
        message,
        sentence,
        refusal: refusal.as_ref(),
        help_line: help_line.as_deref(),
        lists: &lists,
        overdue_days,
        questionnaires: &questionnaires,
    };
    let body = views::safety::body(&page);
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
        move |conn, now| kv::set(conn, kv::HELP_LINE, &line, now),
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
