//! Appointment import from a CSV file: each bad row is reported with its
//! line, good rows are kept, and importing the same file again changes
//! nothing.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use futures_util::StreamExt;
use maud::{Markup, html};

use crate::domain::appointment::{self, CSV_COLUMNS};
use crate::store::appointments::Upserted;
use crate::store::audit::{self, AuditEntry};
use crate::store::intake::{self, IntakeError};
use crate::store::invitations;
use crate::web::auth::{AdminRole, Staff, constant_time_eq};
use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::views::layout::{form_error, staff_page};

/// Largest file accepted (about 50,000 rows).
const MAX_BYTES: usize = 5 * 1024 * 1024;

fn upload_form(csrf: &str) -> Markup {
    html! {
        section {
            h2 { "Import appointments from a CSV file" }
            p { "Columns: " code { (CSV_COLUMNS) } "." }
            p.hint {
                "Times are like 2026-03-02 14:00 (clinic time, or the row's time_zone) or RFC 3339. "
                "Status is attended, cancelled, no_show or booked. Clients are matched by client_id; "
                "rows already imported are left as they are."
            }
            form method="post" action="/admin/appointments/import" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="file" { "CSV file" }
                    input #file type="file" name="file" accept=".csv,text/csv" required;
                }
                button.primary type="submit" { "Import" }
            }
        }
    }
}

fn page(state: &AppState, staff: &Staff<AdminRole>, body: Markup) -> String {
    staff_page(
        staff,
        &state.settings.clinic_name,
        "/admin/appointments",
        "Appointments",
        body,
    )
    .into_string()
}

#[get("/admin/appointments")]
async fn import_page(state: web::Data<AppState>, staff: Staff<AdminRole>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page(&state, &staff, upload_form(&staff.csrf))))
}

/// Reads the CSRF field and the file from the upload.
async fn read_upload(mut form: Multipart) -> Result<(String, Vec<u8>), AppError> {
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(format!("the upload could not be read ({e})")))?;
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes(MAX_BYTES)
            .await
            .map_err(|_| AppError::BadRequest("the file is larger than 5 MB; split it and import each part".into()))?
            .map_err(|e| AppError::BadRequest(format!("the upload could not be read ({e})")))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).to_string(),
            "file" => file = Some(bytes.to_vec()),
            _ => {}
        }
    }
    Ok((
        csrf,
        file.ok_or_else(|| AppError::BadRequest("choose a CSV file to import".into()))?,
    ))
}

/// What happened to each row.
#[derive(Default)]
struct Report {
    created: usize,
    updated: usize,
    unchanged: usize,
    invited: usize,
    errors: Vec<(u64, String)>,
}

#[post("/admin/appointments/import")]
async fn import(
    state: web::Data<AppState>,
    staff: Staff<AdminRole>,
    form: Multipart,
) -> Result<HttpResponse, AppError> {
    let (csrf, bytes) = read_upload(form).await?;
    if !constant_time_eq(csrf.as_bytes(), staff.csrf.as_bytes()) {
        return Err(AppError::Forbidden(
            "This form has expired. Reload the page and try again.".into(),
        ));
    }
    let bad_file = |message: String| {
        let body = html! { (form_error(&message)) (upload_form(&staff.csrf)) };
        HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(page(&state, &staff, body))
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(bad_file(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.".into(),
        ));
    };
    let rows = match appointment::parse_csv(&text, state.settings.time_zone, "csv") {
        Ok(rows) => rows,
        Err(message) => return Ok(bad_file(message)),
    };
    let now = state.now();
    let settings = state.settings.clone();
    let admin = staff.id();
    let report = state
        .db_mailing(move |conn, mailing| {
            let rules = invitations::delivery_rules(conn, &settings)?;
            let mut report = Report::default();
            for row in rows {
                let appointment = match row.appointment {
                    Ok(a) => a,
                    Err(message) => {
                        report.errors.push((row.line, message));
                        continue;
                    }
                };
                // One transaction per row: a bad row never undoes a good one.
                let recorded = conn.idempotent_write(|conn| intake::record(conn, &appointment, &rules, mailing, now));
                match recorded {
                    Ok(r) => {
                        match r.outcome {
                            Upserted::Created => report.created += 1,
                            Upserted::Updated => report.updated += 1,
                            Upserted::Unchanged => report.unchanged += 1,
                        }
                        report.invited += usize::from(r.invitation.is_some() && r.outcome != Upserted::Unchanged);
                    }
                    Err(IntakeError::Invalid(message)) => report.errors.push((row.line, message)),
                    Err(IntakeError::Store(e)) => return Err(e),
                }
            }
            let detail = format!(
                "{} created, {} updated, {} unchanged, {} rows refused",
                report.created,
                report.updated,
                report.unchanged,
                report.errors.len()
            );
            audit::record(
                conn,
                &AuditEntry {
                    staff_id: Some(admin),
                    action: "appointments.import",
                    detail: Some(&detail),
                    ..Default::default()
                },
                now,
            )?;
            Ok(report)
        })
        .await?;
    let body = html! {
        section {
            h2 { "Import result" }
            dl.stats {
                div { dt { "New" } dd { (report.created) } }
                div { dt { "Updated" } dd { (report.updated) } }
                div { dt { "Already there" } dd { (report.unchanged) } }
                div { dt { "Questionnaires scheduled" } dd { (report.invited) } }
                div { dt { "Rows refused" } dd { (report.errors.len()) } }
            }
            @if !report.errors.is_empty() {
                h3 { "Rows that were not imported" }
                p.hint { "Correct these lines and import the file again: rows already imported will not be duplicated." }
                table {
                    thead { tr { th scope="col" { "Line" } th scope="col" { "Problem" } } }
                    tbody { @for (line, message) in &report.errors { tr { td.num { (line) } td { (message) } } } }
                }
            }
        }
        (upload_form(&staff.csrf))
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page(&state, &staff, body)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(import_page).service(import);
}
