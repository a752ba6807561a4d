//! Alerts: listed, read with their reasons and repair log, and
//! acknowledged by an integration (the step is logged with no member of
//! staff, and the audit log names the API key).

use crate::store::AlertId;
use crate::store::ClientId;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiCaller, audit_read, page_limit, query};
use crate::actions::{self, Actor};
use crate::context::Context;
use crate::json::{AlertView, Problem};
use crate::store::alerts::{self, AlertStatus, RepairStep};
use crate::store::api_keys::Scope;
use crate::store::audit::AuditAction;
use crate::store::listing::{self, AlertFilter, AlertState};
use crate::store::record;
use crate::web::error::{ApiError, AppError};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Only this client's alerts.
    #[param(value_type = Option<i64>)]
    client: Option<ClientId>,
    /// open, acknowledged, closed, active (open or acknowledged) or all (the default).
    #[param(value_type = Option<AlertStatusFilter>, inline)]
    status: Option<String>,
    /// Return alerts with an id greater than this (the previous page's `next_after`).
    #[param(value_type = Option<i64>)]
    after: Option<AlertId>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The alert statuses a list can be narrowed to.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Only describes the accepted strings in the OpenAPI document.
enum AlertStatusFilter {
    Open,
    Acknowledged,
    Closed,
    Active,
    All,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AlertPage {
    pub alerts: Vec<AlertView>,
    /// Pass as `after` for the next page; null when this is the last.
    pub next_after: Option<AlertId>,
}

/// List alerts
///
/// In id order, each with its signals and repair log.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    operation_id = "listAlerts",
    tag = "alerts",
    params(AlertQuery),
    responses(
        (status = 200, description = "A page of alerts", body = AlertPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/alerts")]
async fn list(state: web::Data<Context>, caller: ApiCaller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let q: AlertQuery = query(&req)?;
    let state_filter = match q.status.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some("active") => Some(AlertState::Active),
        Some(other) => Some(AlertState::Is(AlertStatus::parse(other).ok_or_else(|| {
            ApiError(AppError::BadRequest(format!(
                "status \"{other}\" is not one of open, acknowledged, closed, active, all"
            )))
        })?)),
    };
    let filter = AlertFilter {
        client_id: q.client,
        state: state_filter,
        after: q.after,
        limit: page_limit(q.limit)?,
    };
    let (now, key_id, limit) = (state.now(), caller.key.id, filter.limit);
    let alerts = state
        .db(move |conn| {
            let rows = listing::alerts(conn, &filter)?;
            audit_read(
                conn,
                key_id,
                AuditAction::ApiAlertsList,
                rows.iter().map(|a| a.client_id),
                None,
                now,
            )?;
            let mut views = Vec::with_capacity(rows.len());
            for alert in rows {
                views.push(AlertView::new(&record::alert_with_log(conn, alert)?));
            }
            Ok(views)
        })
        .await?;
    let next_after = (alerts.len() as i64 == limit)
        .then(|| alerts.last().map(|a| a.id))
        .flatten();
    Ok(HttpResponse::Ok().json(AlertPage { alerts, next_after }))
}

/// Read an alert
///
/// With every signal's plain-English reason and the repair log.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}",
    operation_id = "getAlert",
    tag = "alerts",
    params(("id" = i64, Path, description = "Rapport's alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/alerts/{id}")]
async fn read(state: web::Data<Context>, caller: ApiCaller, id: web::Path<AlertId>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let view = state
        .db(move |conn| {
            let alert = alerts::find(conn, id)?;
            audit_read(
                conn,
                key_id,
                AuditAction::ApiAlertRead,
                [alert.client_id],
                Some(id),
                now,
            )?;
            Ok(AlertView::new(&record::alert_with_log(conn, alert)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Acknowledge an alert
///
/// Records that someone has seen the alert: an `acknowledged` step in its repair log, with no member of staff
/// (the audit log names this API key), and an `alert.changed` webhook. An alert already acknowledged is
/// returned unchanged; a closed alert cannot change (409).
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/acknowledge",
    operation_id = "acknowledgeAlert",
    tag = "alerts",
    params(("id" = i64, Path, description = "Rapport's alert id")),
    responses(
        (status = 200, description = "The alert, acknowledged", body = AlertView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The alert is closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["write"]))
)]
#[post("/alerts/{id}/acknowledge")]
async fn acknowledge(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Write)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let view = state
        .db_mailing(move |conn, mailing| {
            let alert = actions::alerts::record_repair_step(
                conn,
                Actor::ApiKey(key_id),
                id,
                &RepairStep::Acknowledge,
                mailing,
                now,
            )?;
            Ok(AlertView::new(&record::alert_with_log(conn, alert)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(read).service(acknowledge);
}
