//! The clinician's landing page: clients who wrote something, the alerts as
//! a table to triage (open first, by severity then age, or sorted by any
//! column; how old, overdue past the clinic's limit, the latest total, the
//! next appointment, a comment marker), the clients to follow up after a
//! "not repaired", and the coming appointments.

use crate::store::{AlertId, ClientId};
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use crate::context::Context;
use crate::store::alerts::{self, AlertFilter, AlertStatus};
use crate::store::appointments;
use crate::web::auth::{ClinicianRole, Staff};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

use super::views;

#[derive(Deserialize, Default)]
struct InboxQuery {
    show: Option<String>,
    sort: Option<String>,
}

#[get("/clinician")]
async fn inbox(
    state: web::Data<Context>,
    staff: Staff<ClinicianRole>,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let show = query.show.unwrap_or_else(|| "active".into());
    let filter = match show.as_str() {
        "active" => AlertFilter::Active,
        "open" => AlertFilter::Status(AlertStatus::Open),
        "closed" => AlertFilter::Status(AlertStatus::Closed),
        "all" => AlertFilter::All,
        other => {
            return Err(AppError::BadRequest(format!(
                "unknown filter \"{other}\": use active, open, closed or all"
            )));
        }
    };
    let sort = query.sort.unwrap_or_else(|| "priority".into());
    if !views::inbox::SORTS.iter().any(|(key, _)| *key == sort) {
        return Err(AppError::BadRequest(format!(
            "unknown sort \"{sort}\": use priority, client, opened, total or next"
        )));
    }
    let viewer = staff.viewer();
    let now = state.now();
    let me = staff.id();
    let since = now - chrono::Duration::days(views::inbox::COMMENT_DAYS);
    let (rows, reasons, upcoming, comments, risk_list, watched, overdue_days) = state
        .db(move |conn| {
            // The viewer's clients, read once for the three lists below.
            let visible = crate::store::clients::list_visible(conn, &viewer, None)?;
            let listed = alerts::list_visible(conn, &visible, filter)?;
            let ids: Vec<AlertId> = listed.iter().map(|(a, _)| a.id).collect();
            let client_ids: Vec<ClientId> = listed.iter().map(|(_, c)| c.id).collect();
            let reasons = alerts::headline_signals(conn, &ids)?;
            let totals = crate::store::responses::latest_totals(conn, &client_ids)?;
            let next = appointments::next_for_clients(conn, &client_ids, now)?;
            let upcoming = appointments::upcoming_for_clinician(conn, me, now, 8)?;
            let comments = crate::store::responses::recent_comments(conn, &visible, since, 20)?;
            let risk_list = crate::store::risk_words::phrases(conn)?;
            let watched = alerts::under_watch(conn, &visible)?;
            let overdue_days = alerts::overdue_days(conn)?;
            let rows: Vec<views::inbox::Row> = listed
                .into_iter()
                .map(|(alert, client)| {
                    let age_days = (now - alert.opened_at).num_days();
                    views::inbox::Row {
                        overdue: alert.status == AlertStatus::Open && age_days >= overdue_days,
                        age_days,
                        latest_total: totals.get(&client.id).copied(),
                        next: next.get(&client.id).copied(),
                        wrote: comments.iter().any(|(c, _, _)| c.id == client.id),
                        alert,
                        client,
                    }
                })
                .collect();
            Ok((rows, reasons, upcoming, comments, risk_list, watched, overdue_days))
        })
        .await?;
    let mut rows = rows;
    match sort.as_str() {
        "client" => rows.sort_by_key(|r| r.client.name.to_lowercase()),
        "opened" => rows.sort_by_key(|r| (r.alert.opened_at, r.alert.id)),
        "total" => rows.sort_by(|a, b| {
            let key = |r: &views::inbox::Row| r.latest_total.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        "next" => rows.sort_by_key(|r| (r.next.is_none(), r.next)),
        _ => {} // list_visible's order: open first, severity, oldest
    }
    let tz = state.settings.time_zone;
    let page = views::inbox::InboxPage {
        rows: &rows,
        reasons: &reasons,
        upcoming: &upcoming,
        comments: &comments,
        risk_list: &risk_list,
        watched: &watched,
        overdue_days,
        show: &show,
        sort: &sort,
        tz,
    };
    let body = views::inbox::body(&page);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, "/clinician", "Alerts", body),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox);
}
