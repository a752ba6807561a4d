//! Appointment import from a CSV file, in two steps: the upload shows a
//! preview (which column holds what, the first rows and what would be
//! created, updated, skipped or refused, with nothing written), then the
//! admin imports. Each bad row is reported with its line, good rows are
//! kept, and importing the same file again changes nothing. The columns
//! chosen are remembered per sending system; the clinic says whether its
//! files write dates year-first or day-first.
//!
//! The preview carries the file in the page (base64 in a hidden field), so
//! nothing from it is stored until the admin imports.

use crate::actions::{self, Actor};
use crate::store::audit::AuditAction;
use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use futures_util::StreamExt;
use maud::{Markup, html};
use serde::Deserialize;

use super::views;
use crate::context::Context;
use crate::domain::import::{self as csv_import, CsvFormat, DateOrder, Field, Mapping};
use crate::store::intake;
use crate::web::auth::{AdminRole, Staff, StaffForm, constant_time_eq};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{form_error, staff_page};

/// Largest file accepted (about 50,000 rows).
const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The system name when the admin gives none; files imported before
/// system names existed used it too, so importing them again changes nothing.
const DEFAULT_SOURCE: &str = "csv";

fn page(state: &Context, staff: &Staff<AdminRole>, body: Markup) -> Markup {
    staff_page(
        staff,
        &state.settings.clinic_name,
        "/admin/appointments",
        "Appointments",
        body,
    )
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

#[get("/admin/appointments")]
async fn import_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let order = state.db(intake::date_order).await?;
    let body = views::import::start(&staff.csrf, DEFAULT_SOURCE, order, query.saved.is_some());
    Ok(html_page(actix_web::http::StatusCode::OK, page(&state, &staff, body)))
}

#[get("/admin/appointments/template.csv")]
async fn template(state: web::Data<Context>, _staff: Staff<AdminRole>) -> Result<HttpResponse, AppError> {
    let order = state.db(intake::date_order).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"rapport-appointments-template.csv\"",
        ))
        .body(csv_import::template(order)))
}

#[derive(Deserialize)]
struct DateOrderForm {
    order: String,
}

#[post("/admin/appointments/date-order")]
async fn set_date_order(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, DateOrderForm>,
) -> Result<HttpResponse, AppError> {
    let order = DateOrder::parse(&form.form.order).ok_or_else(|| {
        AppError::BadRequest(format!(
            "“Dates in your files” must be yyyy-mm-dd or dd/mm/yyyy, not “{}”.",
            form.form.order
        ))
    })?;
    super::save_setting(
        &state,
        form.staff.id(),
        AuditAction::ClinicSettingChanged,
        Some(format!("dates in imported files: {}", order.as_str())),
        "/admin/appointments?saved=date-order".into(),
        move |conn, now| intake::set_date_order(conn, order, now),
    )
    .await
}

/// What the upload form or the preview's form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    source: String,
    /// A new file.
    file: Option<Vec<u8>>,
    /// The file again, from the preview page.
    carried: Option<String>,
    /// "import" to import; anything else previews.
    action: String,
    /// The columns chosen on the preview page (field name → column).
    columns: BTreeMap<String, String>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(format!("the upload could not be read ({e})")))?;
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes(2 * MAX_BYTES)
            .await
            .map_err(|_| AppError::BadRequest("the file is larger than 5 MB; split it and import each part".into()))?
            .map_err(|e| AppError::BadRequest(format!("the upload could not be read ({e})")))?;
        let text = || String::from_utf8_lossy(&bytes).to_string();
        match name.as_str() {
            "csrf" => upload.csrf = text(),
            "source" => upload.source = text(),
            "file" => upload.file = Some(bytes.to_vec()),
            "carried" => upload.carried = Some(text()),
            "action" => upload.action = text(),
            other => {
                if let Some(field) = other.strip_prefix("column_") {
                    upload.columns.insert(field.to_string(), text());
                }
            }
        }
    }
    Ok(upload)
}

#[post("/admin/appointments/import")]
async fn import(state: web::Data<Context>, staff: Staff<AdminRole>, form: Multipart) -> Result<HttpResponse, AppError> {
    let upload = read_upload(form).await?;
    if !constant_time_eq(upload.csrf.as_bytes(), staff.csrf.as_bytes()) {
        return Err(AppError::Forbidden(
            "This form has expired. Reload the page and try again.".into(),
        ));
    }
    let source_typed = if upload.source.trim().is_empty() {
        DEFAULT_SOURCE
    } else {
        upload.source.as_str()
    };
    let bad_file = |message: &str| {
        let body = html! { (form_error(message)) (views::import::upload_form(&staff.csrf, source_typed)) };
        Ok(html_page(
            actix_web::http::StatusCode::BAD_REQUEST,
            page(&state, &staff, body),
        ))
    };
    let source = match csv_import::check_source(source_typed) {
        Ok(s) => s,
        Err(message) => return bad_file(&message),
    };
    let fresh = upload.file.is_some();
    let bytes = match (upload.file, &upload.carried) {
        (Some(bytes), _) => bytes,
        (None, Some(carried)) => match base64::engine::general_purpose::STANDARD.decode(carried.trim()) {
            Ok(bytes) => bytes,
            Err(_) => return bad_file("The file sent with the preview was damaged; choose the file again."),
        },
        (None, None) => return bad_file("Choose a CSV file to import."),
    };
    if bytes.len() > MAX_BYTES {
        return bad_file("The file is larger than 5 MB; split it and import each part.");
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return bad_file("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.");
    };
    if text.contains('\0') {
        return bad_file("The file holds a NUL character, which no CSV text has; export it again as CSV.");
    }
    let headers = match csv_import::headers(&text) {
        Ok(h) => h,
        Err(message) => return bad_file(&message),
    };
    let saved_for = source.clone();
    let (order, saved) = state
        .db(move |conn| Ok((intake::date_order(conn)?, intake::saved_mapping(conn, &saved_for)?)))
        .await?;
    let mapping = if fresh {
        Mapping::adapt(&saved.clone().unwrap_or_default(), &headers)
    } else {
        let mut chosen = Mapping::default();
        for field in Field::ALL {
            if let Some(column) = upload.columns.get(field.name()).filter(|c| !c.is_empty()) {
                chosen.set(field, column);
            }
        }
        chosen
    };
    let problems = mapping.problems(&headers);
    let format = CsvFormat {
        clinic_tz: state.settings.time_zone,
        date_order: order,
        source: source.clone(),
    };
    let preview = views::import::Preview {
        csrf: &staff.csrf,
        source: &source,
        text: &text,
        headers: &headers,
        mapping: &mapping,
        saved: saved.is_some() && fresh,
        order,
        tz: state.settings.time_zone,
    };
    if !problems.is_empty() {
        let status = if fresh {
            actix_web::http::StatusCode::OK
        } else {
            actix_web::http::StatusCode::BAD_REQUEST
        };
        let body = preview.render(Some(&problems), None);
        return Ok(html_page(status, page(&state, &staff, body)));
    }
    let rows = match csv_import::parse(&text, &format, &mapping) {
        Ok(rows) => rows,
        Err(message) => return bad_file(&message),
    };
    let now = state.now();
    let settings = state.settings.clone();
    let by = Actor::Staff(staff.id());
    if upload.action != "import" {
        let report = state
            .db_mailing(move |conn, mailing| {
                actions::appointments::preview_import(conn, by, rows, &settings, mailing, now)
            })
            .await?;
        let body = preview.render(None, Some(&report));
        return Ok(html_page(actix_web::http::StatusCode::OK, page(&state, &staff, body)));
    }
    let (saved_source, saved_mapping) = (source.clone(), mapping.clone());
    let report = state
        .db_mailing(move |conn, mailing| {
            let import = actions::appointments::Import {
                source: &saved_source,
                mapping: &saved_mapping,
                settings: &settings,
            };
            actions::appointments::import(conn, by, rows, &import, mailing, now)
        })
        .await?;
    let body = views::import::result(&staff.csrf, &source, &report);
    Ok(html_page(actix_web::http::StatusCode::OK, page(&state, &staff, body)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(import_page)
        .service(template)
        .service(set_date_order)
        .service(import);
}
