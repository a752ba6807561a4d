//! The managers' page: the filters read from the address, the trends and
//! the overview read from the database, shown by `views`; and the
//! admin's setting for figures per clinician.

use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;

use super::InsightsRole;
use super::figures;
use super::views::{self, Overview};
use crate::context::Context;
use crate::domain::trends::{Breakdown, Selection, SelectionInput, parse_selection};
use crate::store::staff as staff_store;
use crate::store::trends::{self, Dashboard};
use crate::store::{DbConnection, StoreError, clients};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

/// The dashboard's filters as they arrive in the address.
#[derive(Deserialize, Default)]
pub(super) struct TrendsQuery {
    from: Option<String>,
    to: Option<String>,
    group: Option<String>,
    breakdown: Option<String>,
    /// One table of the CSV export (all when missing).
    pub(super) figure: Option<String>,
    saved: Option<String>,
}

impl TrendsQuery {
    pub(super) fn selection(&self, state: &Context) -> Result<Selection, AppError> {
        let input = SelectionInput {
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            group: self.group.as_deref(),
            breakdown: self.breakdown.as_deref(),
        };
        parse_selection(&input, today(state)).map_err(AppError::BadRequest)
    }
}

/// Today in the clinic's time zone.
pub(super) fn today(state: &Context) -> NaiveDate {
    state
        .now()
        .and_utc()
        .with_timezone(&state.settings.time_zone)
        .date_naive()
}

pub(super) const NOT_ALLOWED: &str = "Figures per clinician are not turned on for this clinic. An administrator can allow them on this page; until then the trends show the anonymous spread across clinicians.";

/// Loads the trends for a selection, refusing figures per clinician unless
/// the clinic allows them. Returns whether they are allowed.
pub(super) async fn load_trends(state: &Context, selection: Selection) -> Result<(bool, Dashboard), AppError> {
    let tz = state.settings.time_zone;
    let now = state.now();
    let loaded = state
        .db(move |conn| {
            let allowed = trends::clinician_figures_allowed(conn)?;
            if selection.breakdown == Breakdown::Clinician && !allowed {
                return Ok(None);
            }
            Ok(Some((allowed, trends::dashboard(conn, tz, &selection, now)?)))
        })
        .await?;
    loaded.ok_or_else(|| AppError::Forbidden(NOT_ALLOWED.into()))
}

/// Teams, staff and caseload counts: the manager's overview. Every count
/// comes from an index or the trend cells, so the page stays fast on a
/// large clinic.
fn load_overview(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<Overview, StoreError> {
    let overdue_days = crate::store::alerts::overdue_days(conn)?;
    Ok(Overview {
        teams: staff_store::list_teams(conn)?,
        members: staff_store::list_staff(conn)?,
        per_clinician: clients::count_by_clinician(conn)?,
        sessions: trends::sessions_recorded(conn)?,
        overdue: crate::store::alerts::overdue_by_clinician(conn, now, overdue_days)?,
        overdue_days,
    })
}

#[get("/manager")]
async fn overview(
    state: web::Data<Context>,
    staff: Staff<InsightsRole>,
    query: web::Query<TrendsQuery>,
) -> Result<HttpResponse, AppError> {
    let selection = query.selection(&state)?;
    let (allowed, dashboard) = load_trends(&state, selection).await?;
    let now = state.now();
    let overview = state.db(move |conn| load_overview(conn, now)).await?;
    let trends = figures::build(&selection, &dashboard);
    let saved = query.saved.as_deref() == Some("clinician_figures");
    let page = views::ManagerPage {
        overview: &overview,
        trends: &trends,
        allowed,
        saved,
        refreshing: dashboard.refreshed.skipped,
        now,
        tz: state.settings.time_zone,
        staff: &staff,
    };
    let body = views::body(&page);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/manager",
            "Service overview",
            body,
        ),
    ))
}

#[derive(Deserialize)]
struct ClinicianFiguresForm {
    allowed: String,
}

#[post("/manager/clinician-figures")]
async fn clinician_figures(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, ClinicianFiguresForm>,
) -> Result<HttpResponse, AppError> {
    let allowed = match form.form.allowed.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(AppError::BadRequest(format!(
                "“allowed” must be on or off, not “{other}”."
            )));
        }
    };
    crate::web::admin::save_setting(
        &state,
        form.staff.id(),
        AuditAction::ClinicSettingChanged,
        Some(format!(
            "figures per clinician: {}",
            if allowed { "allowed" } else { "not allowed" }
        )),
        "/manager?saved=clinician_figures#clinician-figures".into(),
        move |conn, now| trends::set_clinician_figures_allowed(conn, allowed, now),
    )
    .await
}
