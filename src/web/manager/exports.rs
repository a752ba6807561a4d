//! Exports for managers: the dashboard's tables as CSV, and a
//! pseudonymised answer-level CSV for research. Every export is written
//! to the audit log.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;

use super::figures::{self, Trends, csv_cells};
use super::page::{TrendsQuery, load_trends, today};
use super::views::query_string;
use crate::actions::{Actor, research};
use crate::context::Context;
use crate::domain::trends::{CellValue, Figure, Period, RuleFigure, Unit};
use crate::web::auth::{ManagerRole, Staff};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[get("/manager/exports")]
async fn exports_page(state: web::Data<Context>, staff: Staff<ManagerRole>) -> Result<HttpResponse, AppError> {
    let default = TrendsQuery::default().selection(&state)?;
    let body = html! {
        section aria-labelledby="h-trend-tables" {
            h2 #h-trend-tables { "Trend tables" }
            p {
                "Every table on the " a href="/manager" { "Service overview" } " page can be downloaded on its own, for the range, grouping and breakdown shown there. "
                "One file holds them all, one row per figure, period and group; figures behind fewer than 5 clients are left empty and marked “" (figures::SUPPRESSED) "”."
            }
            p { a.button href={ "/manager/export.csv?" (query_string(&default)) } { "Download the last twelve months (CSV)" } }
        }
        section aria-labelledby="h-research" {
            h2 #h-research { "Answers for research (pseudonymised)" }
            p {
                "One row per answered questionnaire, with no names, email addresses or free text. "
                "Each client appears under a pseudonym made for this download only: the same client has the same pseudonym throughout one file, "
                "but two downloads cannot be linked to each other or to the client."
            }
            form.stack method="get" action="/manager/export/responses.csv" {
                div.row {
                    div.field {
                        label for="r-from" { "Answers from (optional)" }
                        input #r-from type="date" name="from";
                    }
                    div.field {
                        label for="r-to" { "Up to and including (optional)" }
                        input #r-to type="date" name="to";
                    }
                }
                div.field {
                    label {
                        input type="checkbox" name="shift_dates" value="1";
                        " Shift each client's dates by a random number of days (1–365, earlier or later), the same for all of that client's rows"
                    }
                }
                button.primary type="submit" { "Download answers (CSV)" }
            }
            h3 { "Columns" }
            dl.columns {
                dt { "pseudonym" } dd { "The client, as “p-” and 16 hex digits, for this file only." }
                dt { "questionnaire, questionnaire_version" } dd { "Which questionnaire and which published version was answered." }
                dt { "session_number" } dd { "The client's nth attended session (appointments marked attended, in order)." }
                dt { "date" } dd { "The day the answers were submitted, in the clinic's time zone (shifted if asked)." }
                dt { "days_since_first_answer" } dd { "Days since the client's first answer in this file." }
                dt { "one column per question" } dd { "Numbers as answered, yes/no, or the code of a choice. Free-text questions are never included." }
                dt { "total, score_0_100" } dd { "The questionnaire's total and the same total on the common 0–100 scale." }
            }
            p.hint { "Clients whose records were erased are left out (their scores stay in the trends, added up, only). Every download is recorded in the audit log with who made it." }
        }
    };
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, "/manager/exports", "Exports", body),
    ))
}

/// Which of the dashboard's tables a CSV holds.
#[derive(Debug, Clone, PartialEq)]
enum Only {
    All,
    Figure(Figure),
    Rule(RuleFigure),
    Spread(Figure),
}

fn only(figure: Option<&str>) -> Result<Only, AppError> {
    let Some(slug) = figure.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Only::All);
    };
    if let Some(f) = Figure::parse(slug) {
        return Ok(Only::Figure(f));
    }
    if let Some(f) = RuleFigure::parse(slug) {
        return Ok(Only::Rule(f));
    }
    if let Some(f) = figures::SPREAD_FIGURES
        .into_iter()
        .find(|f| figures::spread_slug(*f) == slug)
    {
        return Ok(Only::Spread(f));
    }
    Err(AppError::BadRequest(format!(
        "There is no table called “{slug}”. Leave “figure” out for every table, or use one of: {}.",
        Figure::ALL
            .iter()
            .map(|f| f.slug().to_string())
            .chain(RuleFigure::ALL.iter().map(|f| f.slug().to_string()))
            .chain(figures::SPREAD_FIGURES.iter().map(|f| figures::spread_slug(*f)))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

use crate::domain::spreadsheet::spreadsheet_text as text;

fn csv_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("writing CSV: {e}"))
}

fn trends_csv_bytes(trends: &Trends, which: &Only) -> Result<(Vec<u8>, usize), AppError> {
    let mut out = csv::Writer::from_writer(vec![]);
    out.write_record([
        "figure",
        "rule",
        "period",
        "period_start",
        "period_end",
        "breakdown",
        "group",
        "value",
        "unit",
        "note",
    ])
    .map_err(csv_error)?;
    let selection = &trends.selection;
    let breakdown = selection.breakdown.as_str();
    let range = ("whole range".to_string(), selection.first_day(), selection.last_day());
    let mut rows = 0;
    let mut write = |figure: &str,
                     rule: &str,
                     period: &(String, NaiveDate, NaiveDate),
                     group: &str,
                     cells: (String, &str, &str)| {
        rows += 1;
        out.write_record([
            figure,
            rule,
            &period.0,
            &period.1.to_string(),
            &period.2.to_string(),
            breakdown,
            &text(group),
            &cells.0,
            cells.1,
            cells.2,
        ])
    };
    let of_period = |p: &Period| (p.label(), p.start, p.last_day());
    for table in &trends.figures {
        if !matches!(which, Only::All) && *which != Only::Figure(table.figure) {
            continue;
        }
        let unit = table.figure.unit();
        for (period, values) in &table.rows {
            for (series, value) in trends.series.iter().zip(values) {
                write(
                    table.figure.slug(),
                    "",
                    &of_period(period),
                    &series.name,
                    csv_cells(*value, unit),
                )
                .map_err(csv_error)?;
            }
        }
        for (series, value) in trends.series.iter().zip(table.total.iter().flatten()) {
            write(table.figure.slug(), "", &range, &series.name, csv_cells(*value, unit)).map_err(csv_error)?;
        }
    }
    for table in &trends.rules {
        if !matches!(which, Only::All) && *which != Only::Rule(table.figure) {
            continue;
        }
        for (rule, _, values) in &table.rows {
            for (series, value) in trends.series.iter().zip(values) {
                write(
                    table.figure.slug(),
                    rule,
                    &range,
                    &series.name,
                    csv_cells(*value, table.figure.unit()),
                )
                .map_err(csv_error)?;
            }
        }
    }
    for table in &trends.spreads {
        if !matches!(which, Only::All) && *which != Only::Spread(table.figure) {
            continue;
        }
        let unit = table.figure.unit();
        for (period, spread) in &table.rows {
            let parts: [(&str, CellValue, bool); 4] = match spread {
                Some(s) => [
                    ("clinicians", CellValue::Value(s.clinicians as f64), true),
                    ("lowest", CellValue::Value(s.lowest), false),
                    ("middle", CellValue::Value(s.median), false),
                    ("highest", CellValue::Value(s.highest), false),
                ],
                None => [
                    ("clinicians", CellValue::Suppressed, true),
                    ("lowest", CellValue::Suppressed, false),
                    ("middle", CellValue::Suppressed, false),
                    ("highest", CellValue::Suppressed, false),
                ],
            };
            for (group, value, is_count) in parts {
                let mut cells = csv_cells(value, if is_count { Unit::Count } else { unit });
                if value == CellValue::Suppressed {
                    cells.2 = "fewer than 3 clinicians with 5 or more clients";
                }
                write(&table.slug(), "", &of_period(period), group, cells).map_err(csv_error)?;
            }
        }
    }
    Ok((out.into_inner().map_err(csv_error)?, rows))
}

fn attachment(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}

#[get("/manager/export.csv")]
async fn trends_csv(
    state: web::Data<Context>,
    staff: Staff<ManagerRole>,
    query: web::Query<TrendsQuery>,
) -> Result<HttpResponse, AppError> {
    let selection = query.selection(&state)?;
    let which = only(query.figure.as_deref())?;
    let (_, dashboard) = load_trends(&state, selection).await?;
    let trends = figures::build(&selection, &dashboard);
    let (bytes, rows) = trends_csv_bytes(&trends, &which)?;
    let table = match &which {
        Only::All => "every table".to_string(),
        Only::Figure(f) => f.slug().to_string(),
        Only::Rule(f) => f.slug().to_string(),
        Only::Spread(f) => figures::spread_slug(*f),
    };
    let detail = format!(
        "trend tables ({table}): {} to {}, {}, {}; {rows} rows",
        selection.first_day(),
        selection.last_day(),
        selection.grouping.as_str(),
        selection.breakdown.as_str()
    );
    let (by, now) = (Actor::Staff(staff.id()), state.now());
    state
        .db(move |conn| research::record_trends_export(conn, by, detail, now))
        .await?;
    let filename = format!("rapport-trends-{}-{}.csv", selection.first_day(), selection.last_day());
    Ok(attachment(bytes, &filename))
}

#[derive(Deserialize)]
struct ResearchQuery {
    from: Option<String>,
    to: Option<String>,
    shift_dates: Option<String>,
}

fn optional_date(label: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(format!("“{label}” must be a date written like 2026-03-31, not “{v}”.")))
            .and_then(|d| {
                crate::domain::dates::check_date(d)
                    .map(Some)
                    .map_err(|e| AppError::BadRequest(format!("“{label}”: {e}.")))
            }),
    }
}

fn yes_no(value: Option<&str>) -> Result<bool, AppError> {
    match value.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("0") | Some("no") | Some("false") | Some("off") => Ok(false),
        Some("1") | Some("yes") | Some("true") | Some("on") => Ok(true),
        Some(other) => Err(AppError::BadRequest(format!(
            "“shift_dates” must be 1 or 0, not “{other}”."
        ))),
    }
}

#[get("/manager/export/responses.csv")]
async fn responses_csv(
    state: web::Data<Context>,
    staff: Staff<ManagerRole>,
    query: web::Query<ResearchQuery>,
) -> Result<HttpResponse, AppError> {
    let tz = state.settings.time_zone;
    let from = optional_date("From", query.from.as_deref())?;
    let to = optional_date("To", query.to.as_deref())?;
    let shift = yes_no(query.shift_dates.as_deref())?;
    let request = research::Request {
        from,
        to,
        shift_dates: shift,
    };
    let (by, now) = (Actor::Staff(staff.id()), state.now());
    let bytes = state
        .db(move |conn| research::export_answers(conn, by, &request, tz, now))
        .await?;
    Ok(attachment(bytes, &format!("rapport-answers-{}.csv", today(&state))))
}
