//! Privacy for admins: a client's full record as JSON (subject access
//! request), erasing a client (the admin types the client's number to
//! confirm), and what the retention period would erase now (a dry run).

use crate::store::ClientId;
use crate::store::audit::AuditAction;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::views;
use super::views::privacy::{PATH, RetentionAsk};
use crate::actions::{self, Actor, settings};
use crate::context::Context;
use crate::json::ClientRecordView;
use crate::store::audit::{self, AuditEntry};
use crate::store::clients;
use crate::store::erasure;
use crate::store::{StoreError, kv};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct Lookup {
    client: Option<String>,
    erased: Option<String>,
}

#[get("/admin/privacy")]
async fn privacy_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let notice_text = query
        .erased
        .as_ref()
        .map(|_| "Erased. The client's identifying data is gone; anonymous scores are kept.");
    render(&state, &staff, query.client.unwrap_or_default(), notice_text, None).await
}

async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    term: String,
    done: Option<&str>,
    erase_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    render_with(state, staff, term, done, erase_error, None).await
}

async fn render_with(
    state: &Context,
    staff: &Staff<AdminRole>,
    term: String,
    done: Option<&str>,
    erase_error: Option<&str>,
    retention: Option<RetentionAsk>,
) -> Result<HttpResponse, AppError> {
    let retention = retention.as_ref();
    let (now, admin, server_days) = (state.now(), staff.id(), state.settings.retention_days);
    let lookup = term.clone();
    let (found, responses, due, free_text, days) = state
        .db(move |conn| {
            let found = if lookup.trim().is_empty() {
                None
            } else {
                clients::find_by_number_or_email(conn, &lookup)?
            };
            let mut responses = 0;
            if let Some(c) = &found {
                responses = crate::store::responses::for_client(conn, c.id)?.len();
                audit::record(
                    conn,
                    &AuditEntry {
                        staff_id: Some(admin),
                        client_id: Some(c.id),
                        ..AuditEntry::new(AuditAction::ClientLookup)
                    },
                    now,
                )?;
            }
            let days = erasure::retention_days(conn, server_days)?;
            let due = match days {
                Some(d) => erasure::retention_due(conn, d, now)?,
                None => vec![],
            };
            Ok((found, responses, due, kv::flag(conn, kv::STAFF_READ_FREE_TEXT)?, days))
        })
        .await?;
    let page = views::privacy::PrivacyPage {
        csrf: &staff.csrf,
        done,
        term: &term,
        found: found.as_ref(),
        responses,
        erase_error,
        days,
        due: &due,
        retention,
        free_text,
        tz: state.settings.time_zone,
    };
    let body = views::privacy::body(&page);
    let status = if !term.trim().is_empty() && found.is_none() {
        actix_web::http::StatusCode::NOT_FOUND
    } else if erase_error.is_some() || matches!(retention, Some(RetentionAsk::Error(_))) {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, PATH, "Privacy", body),
    ))
}

#[derive(Deserialize)]
struct RetentionForm {
    #[serde(default)]
    days: String,
    confirmed: Option<String>,
}

/// Sets the retention period. A period that would erase clients at the
/// next daily run is only saved once the admin confirms that number.
#[post("/admin/privacy/retention")]
async fn save_retention(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, RetentionForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let days = match crate::config::parse_retention_days(&form.days) {
        Ok(d) => d,
        Err(e) => {
            let ask = RetentionAsk::Error(format!("Retention {e}."));
            return render_with(&state, &staff, String::new(), None, None, Some(ask)).await;
        }
    };
    let now = state.now();
    if let Some(d) = days
        && form.confirmed.as_deref() != Some("yes")
    {
        let would_erase = state
            .db(move |conn| Ok(erasure::retention_due(conn, d, now)?.len()))
            .await?;
        if would_erase > 0 {
            let ask = RetentionAsk::Confirm { days: d, would_erase };
            return render_with(&state, &staff, String::new(), None, None, Some(ask)).await;
        }
    }
    let by = Actor::Staff(staff.id());
    state
        .db(move |conn| settings::set_retention(conn, by, days, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/privacy#retention"))
        .finish())
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// Erases a client once the admin has typed their number.
#[post("/admin/clients/{id}/erase")]
async fn erase(
    state: web::Data<Context>,
    path: web::Path<ClientId>,
    form: StaffForm<AdminRole, EraseForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let id = path.into_inner();
    if form.confirm.trim().trim_start_matches('#') != id.to_string() {
        let message = format!("Nothing was erased: type the client's number, {id}, to confirm.");
        return render(&state, &staff, id.to_string(), None, Some(&message)).await;
    }
    let (now, admin) = (state.now(), staff.id());
    let erased = state
        .db(
            move |conn| match actions::clients::erase(conn, Actor::Staff(admin), id, "Admin → Privacy", now) {
                Ok(_) => Ok(true),
                Err(StoreError::NotFound) => Ok(false),
                Err(e) => Err(e),
            },
        )
        .await?;
    if !erased {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/admin/privacy?client={id}&erased=1#erase")))
        .finish())
}

#[derive(Deserialize)]
struct FreeTextForm {
    allow: String,
}

#[post("/admin/privacy/free-text")]
async fn set_free_text(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, FreeTextForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let allow = match form.allow.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("choose on or off".into())),
    };
    let (now, by) = (state.now(), Actor::Staff(staff.id()));
    state
        .db(move |conn| settings::let_staff_read_free_text(conn, by, allow, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}#free-text")))
        .finish())
}

#[get("/admin/clients/{id}/record.json")]
async fn record_download(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, AppError> {
    let (id, now, admin) = (id.into_inner(), state.now(), staff.id());
    let view = state
        .db(move |conn| {
            let record = actions::clients::read_record(conn, Actor::Staff(admin), id, now)?;
            Ok(ClientRecordView::new(&record, now))
        })
        .await?;
    let body = serde_json::to_string_pretty(&view).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"client-{id}-record.json\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(privacy_page)
        .service(erase)
        .service(save_retention)
        .service(record_download)
        .service(set_free_text);
}
