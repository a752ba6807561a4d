//! Email delivery for admins: what is queued, what failed and why, and the
//! delivery settings.

use actix_web::{HttpResponse, get, post, web};
use chrono::Duration;
use maud::html;
use serde::Deserialize;

use crate::config::{parse_quiet_hours, quiet_hours_setting};
use crate::domain::schedule::DeliveryRules;
use crate::store::audit::{self, AuditEntry};
use crate::store::{invitations, outbox};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::views::layout::{form_error, notice, staff_page};
use crate::web::views::local_time;

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

#[get("/admin/email")]
async fn email_page(
    state: web::Data<AppState>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    let settings = state.settings.clone();
    let (counts, problems, rules) = state
        .db(move |conn| {
            Ok((
                outbox::status_counts(conn)?,
                outbox::problems(conn, 100)?,
                invitations::delivery_rules(conn, &settings)?,
            ))
        })
        .await?;
    let count = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    let tz = state.settings.time_zone;
    let body = html! {
        @if let Some(done) = &flash.done { (notice(done)) }
        dl.stats {
            div { dt { "Waiting to send" } dd { (count("pending")) } }
            div { dt { "Sent" } dd { (count("sent")) } }
            div { dt { "Failed" } dd { (count("failed")) } }
            div { dt { "Not needed" } dd { (count("cancelled")) } }
        }
        section {
            h2 { "Problems" }
            @if problems.is_empty() {
                p.muted { "No failed or retrying messages." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Problem messages" { table {
                    thead { tr {
                        th scope="col" { "Queued" } th scope="col" { "Kind" } th scope="col" { "To" }
                        th scope="col" { "State" } th scope="col" { "Attempts" } th scope="col" { "Reason given" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for row in &problems {
                            tr {
                                td { (local_time(row.created_at, tz)) }
                                td { (row.kind) }
                                td { (row.recipient) }
                                td { @if row.status == "failed" { span.badge.high { "failed" } } @else { span.badge.medium { "retrying " (local_time(row.next_attempt_at, tz)) } } }
                                td.num { (row.attempts) }
                                td { (row.last_error.as_deref().unwrap_or("")) }
                                td {
                                    @if row.status == "failed" {
                                        form method="post" action={ "/admin/email/" (row.id) "/retry" } {
                                            input type="hidden" name="csrf" value=(staff.csrf);
                                            button type="submit" { "Retry" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
                p.hint { "Failed messages are not retried by themselves: a server refusal (5xx) usually means a wrong address. Correct the client's email address, then retry." }
            }
        }
        (delivery_form(&staff.csrf, &rules, None))
    };
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/admin/email",
            "Email delivery",
            body,
        )
        .into_string(),
    ))
}

fn delivery_form(csrf: &str, rules: &DeliveryRules, error: Option<&str>) -> maud::Markup {
    html! {
        section {
            h2 #delivery { "When questionnaires are sent" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action="/admin/email/delivery" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="delay" { "Minutes after the session ends" }
                    input #delay type="number" name="invite_delay_minutes" min="0" max="10080" value=(rules.delay.num_minutes()) required;
                }
                div.field {
                    label for="quiet" { "Quiet hours (no client email), in the client's time zone" }
                    input #quiet name="quiet_hours" value=(quiet_hours_setting(rules.quiet_hours)) aria-describedby="quiet-hint" required;
                    p.hint #quiet-hint { "For example 21:00-08:00, or off." }
                }
                div.field {
                    label for="reminder" { "Send one reminder after (hours)" }
                    input #reminder type="number" name="reminder_after_hours" min="1" max="720" value=(rules.reminder_after.num_hours()) required;
                }
                div.field {
                    label for="expiry" { "Links close after (days)" }
                    input #expiry type="number" name="expiry_days" min="1" max="60" value=(rules.expires_after.num_days()) required;
                }
                button.primary type="submit" { "Save" }
                p.hint { "Changes apply to invitations created from now on." }
            }
        }
    }
}

#[derive(Deserialize)]
struct DeliveryForm {
    invite_delay_minutes: String,
    quiet_hours: String,
    reminder_after_hours: String,
    expiry_days: String,
}

fn parse_delivery(form: &DeliveryForm) -> Result<DeliveryRules, String> {
    let number = |text: &str, what: &str, min: i64, max: i64| {
        text.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("{what} must be a whole number from {min} to {max}."))
    };
    Ok(DeliveryRules {
        delay: Duration::minutes(number(&form.invite_delay_minutes, "The delay", 0, 7 * 24 * 60)?),
        quiet_hours: parse_quiet_hours(&form.quiet_hours).map_err(|e| format!("Quiet hours: {e}."))?,
        reminder_after: Duration::hours(number(&form.reminder_after_hours, "The reminder time", 1, 720)?),
        expires_after: Duration::days(number(&form.expiry_days, "The expiry", 1, 60)?),
    })
}

#[post("/admin/email/delivery")]
async fn save_delivery(
    state: web::Data<AppState>,
    form: StaffForm<AdminRole, DeliveryForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let rules = match parse_delivery(&form) {
        Ok(r) => r,
        Err(message) => {
            let settings = state.settings.clone();
            let current = state
                .db(move |conn| invitations::delivery_rules(conn, &settings))
                .await?;
            let body = delivery_form(&staff.csrf, &current, Some(&message));
            return Ok(HttpResponse::BadRequest()
                .content_type("text/html; charset=utf-8")
                .body(
                    staff_page(
                        &staff,
                        &state.settings.clinic_name,
                        "/admin/email",
                        "Email delivery",
                        body,
                    )
                    .into_string(),
                ));
        }
    };
    let now = state.now();
    let admin = staff.id();
    state
        .db(move |conn| {
            conn.write_transaction(|conn| {
                invitations::save_delivery_rules(conn, &rules, now)?;
                audit::record(
                    conn,
                    &AuditEntry {
                        staff_id: Some(admin),
                        action: "settings.delivery",
                        ..Default::default()
                    },
                    now,
                )
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/email?done=Delivery+settings+saved."))
        .finish())
}

#[derive(Deserialize)]
struct NoFields {}

#[post("/admin/email/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let now = state.now();
    let admin = form.staff.id();
    let retried = state
        .db(move |conn| {
            let ok = outbox::retry_failed(conn, id, now)?;
            if ok {
                audit::record(
                    conn,
                    &AuditEntry {
                        staff_id: Some(admin),
                        action: "email.retry",
                        detail: Some(&format!("message #{id}")),
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok(ok)
        })
        .await?;
    if !retried {
        return Err(AppError::Conflict(
            "That message is not failed, so there is nothing to retry.".into(),
        ));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/email?done=The+message+will+be+sent+again+shortly."))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(email_page).service(save_delivery).service(retry);
}
