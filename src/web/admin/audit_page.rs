//! The audit log for admins: who did what to which client and when, in
//! words, filtered by person, client, kind of action and dates, and
//! exported as CSV (the same filter).

use crate::store::{ClientId, StaffId};
use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::views;
use crate::context::Context;
use crate::domain::spreadsheet::spreadsheet_text;
use crate::store::audit::{self, AuditFilter, AuditRow, action_label};
use crate::store::staff as staff_store;
use crate::web::auth::{AdminRole, Staff};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

/// Rows in the CSV export at most.
const EXPORT_LIMIT: i64 = 100_000;

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    who: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

/// The query as a filter, or the sentence saying which part is wrong.
fn filter_from(q: &AuditQuery, tz: chrono_tz::Tz) -> Result<AuditFilter, String> {
    let number = |text: &str, what: &str| -> Result<Option<i64>, String> {
        let text = text.trim().trim_start_matches('#');
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{what} must be a number, such as 42."))
    };
    let day = |text: &str, what: &str| -> Result<Option<NaiveDate>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        crate::domain::dates::parse_date(text)
            .map(Some)
            .map_err(|e| format!("{what}: {e}"))
    };
    // Days are the clinic's days: from its midnight to the next.
    let start_of = |d: NaiveDate| -> NaiveDateTime {
        use chrono::TimeZone;
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.naive_utc())
            .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default())
    };
    let kind = q.kind.trim();
    if !kind.is_empty() && !views::audit::KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(format!("“{kind}” is not a kind of action in the list."));
    }
    let from = day(&q.from, "From")?;
    let to = day(&q.to, "To")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err("“From” is after “To”.".into());
    }
    Ok(AuditFilter {
        staff_id: number(&q.who, "Who")?.map(StaffId),
        client_id: number(&q.client, "Client")?.map(ClientId),
        action: (!kind.is_empty()).then(|| kind.to_string()),
        from: from.map(start_of),
        until: to.and_then(|t| t.succ_opt()).map(start_of),
    })
}

#[get("/admin/audit")]
async fn audit_log(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let tz = state.settings.time_zone;
    let filter = match filter_from(&q, tz) {
        Ok(f) => f,
        Err(message) => return Err(AppError::BadRequest(message)),
    };
    let csv = match q.format.as_str() {
        "" | "html" => false,
        "csv" => true,
        other => return Err(AppError::BadRequest(format!("unknown format “{other}”: use csv"))),
    };
    let limit = if csv { EXPORT_LIMIT } else { views::audit::PAGE_LIMIT };
    let search = filter.clone();
    let (rows, people) = state
        .db(move |conn| Ok((audit::search(conn, &search, limit)?, staff_store::list_staff(conn)?)))
        .await?;
    if csv {
        return export(&rows, tz);
    }
    let query_string = serde_urlencoded::to_string([
        ("who", q.who.as_str()),
        ("client", q.client.as_str()),
        ("kind", q.kind.as_str()),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
        ("format", "csv"),
    ])
    .unwrap_or_default();
    let page = views::audit::AuditPage {
        people: &people,
        chosen: filter.staff_id,
        client: &q.client,
        kind: &q.kind,
        from: &q.from,
        to: &q.to,
        rows: &rows,
        csv_query: &query_string,
        tz,
    };
    let body = views::audit::body(&page);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, "/admin/audit", "Audit log", body),
    ))
}

fn export(rows: &[AuditRow], tz: chrono_tz::Tz) -> Result<HttpResponse, AppError> {
    let fail = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    let mut out = csv::Writer::from_writer(vec![]);
    out.write_record(["when", "who", "action", "what", "client", "alert", "detail"])
        .map_err(fail)?;
    for r in rows {
        out.write_record([
            r.at.and_utc().with_timezone(&tz).to_rfc3339(),
            spreadsheet_text(r.staff_name.as_deref().unwrap_or("API / system")),
            r.action.clone(),
            action_label(&r.action),
            r.client_id.map(|c| c.to_string()).unwrap_or_default(),
            r.alert_id.map(|a| a.to_string()).unwrap_or_default(),
            spreadsheet_text(r.detail.as_deref().unwrap_or("")),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"rapport-audit-log.csv\""))
        .body(bytes))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(audit_log);
}
