//! Email delivery for admins: what is waiting and why (delay, quiet hours,
//! retrying), what failed and why, a test email to oneself, and the
//! delivery settings. Webhook deliveries have their own page under Integrations.

use crate::store::ClientId;
use crate::store::InvitationId;
use actix_web::{HttpResponse, get, post, web};
use chrono::Duration;
use serde::Deserialize;

use super::views;
use crate::actions::{Actor, settings};
use crate::config::parse_quiet_hours;
use crate::context::Context;
use crate::domain::schedule::DeliveryRules;
use crate::store::{invitations, outbox};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

#[get("/admin/email")]
async fn email_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    render(&state, &staff, flash.into_inner().done.as_deref(), None).await
}

/// The page, with a notice (`done`) or a failed test email's reason.
async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    done: Option<&str>,
    failed: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let settings = state.settings.clone();
    let (counts, problems, rules, waiting, client_of) = state
        .db(move |conn| {
            let waiting = outbox::waiting(conn, views::email::WAITING_SHOWN)?;
            let problems = outbox::problems(conn, 100)?;
            // The invitations (and their clients) of both lists, read once:
            // client emails wait in the client's own time zone, and a failed
            // one links to the client's details to correct the address.
            let invitation_ids: Vec<InvitationId> = waiting
                .iter()
                .chain(&problems)
                .filter_map(|r| r.invitation_id)
                .collect();
            let client_of: std::collections::HashMap<InvitationId, ClientId> =
                invitations::find_many(conn, &invitation_ids)?
                    .into_iter()
                    .map(|i| (i.id, i.client_id))
                    .collect();
            let client_ids: Vec<ClientId> = client_of.values().copied().collect();
            let clients = crate::store::clients::find_many(conn, &client_ids)?;
            let waiting: Vec<(outbox::OutboxRow, Option<chrono_tz::Tz>)> = waiting
                .into_iter()
                .map(|r| {
                    let zone = r
                        .invitation_id
                        .and_then(|i| client_of.get(&i))
                        .and_then(|id| clients.iter().find(|c| c.id == *id))
                        .and_then(|c| c.time_zone.as_deref()?.parse::<chrono_tz::Tz>().ok());
                    (r, zone)
                })
                .collect();
            Ok((
                outbox::status_counts(conn)?,
                problems,
                invitations::delivery_rules(conn, &settings)?,
                waiting,
                client_of,
            ))
        })
        .await?;
    let page = views::email::EmailPage {
        csrf: &staff.csrf,
        admin_email: &staff.member.email,
        done,
        failed,
        counts: &counts,
        waiting: &waiting,
        problems: &problems,
        client_of: &client_of,
        rules: &rules,
        now: state.now(),
        tz: state.settings.time_zone,
    };
    let body = views::email::body(&page);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(
            staff,
            &state.settings.clinic_name,
            "/admin/email",
            "Email delivery",
            body,
        ),
    ))
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
    state: web::Data<Context>,
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
            let body = views::email::delivery_form(&staff.csrf, &current, Some(&message));
            return Ok(html_page(
                actix_web::http::StatusCode::BAD_REQUEST,
                staff_page(
                    &staff,
                    &state.settings.clinic_name,
                    "/admin/email",
                    "Email delivery",
                    body,
                ),
            ));
        }
    };
    let (now, by) = (state.now(), Actor::Staff(staff.id()));
    state
        .db(move |conn| settings::set_delivery_rules(conn, by, &rules, now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/email?done=Delivery+settings+saved."))
        .finish())
}

#[derive(Deserialize)]
struct NoFields {}

#[post("/admin/email/{id}/retry")]
async fn retry(
    state: web::Data<Context>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    let (id, now, by) = (path.into_inner(), state.now(), Actor::Staff(form.staff.id()));
    let retried = state.db(move |conn| settings::retry_message(conn, by, id, now)).await?;
    let Some(webhook) = retried else {
        return Err(AppError::Conflict(
            "That message is not failed, so there is nothing to retry.".into(),
        ));
    };
    let back = if webhook {
        "/admin/webhooks/deliveries?done=The+delivery+will+be+tried+again+shortly."
    } else {
        "/admin/email?done=The+message+will+be+sent+again+shortly."
    };
    Ok(HttpResponse::SeeOther().insert_header(("Location", back)).finish())
}

/// A test email to the admin, sent now through the clinic's transport (not
/// queued), so the page can say at once what the mail server answered.
#[post("/admin/email/test")]
async fn send_test(state: web::Data<Context>, form: StaffForm<AdminRole, NoFields>) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, .. } = form;
    let to = staff.member.email.clone();
    let rendered = crate::mail::templates::test_email(&state.settings.clinic_name);
    let message_id = format!(
        "<test.{}@{}>",
        crate::security::new_token(),
        state.settings.base_url.host_str().unwrap_or("rapport")
    );
    let built = crate::mail::templates::compose(
        &state.settings.mail_from,
        &to,
        &message_id,
        &rendered,
        state.dkim.as_deref(),
    );
    let outcome = match built {
        Ok((envelope, message)) => {
            let limit = std::time::Duration::from_secs(state.settings.smtp_timeout_seconds);
            state
                .mailer
                .send(&envelope, &message, limit)
                .await
                .map_err(|e| match e {
                    crate::mail::SendError::Transient(m) | crate::mail::SendError::Permanent(m) => m,
                })
        }
        Err(e) => Err(e),
    };
    let (now, by, accepted) = (state.now(), Actor::Staff(staff.id()), outcome.is_ok());
    state
        .db(move |conn| settings::record_test_email(conn, by, accepted, now))
        .await?;
    match outcome {
        Ok(()) => {
            let done = format!(
                "A test email went to {to}: the mail server accepted it. If it does not arrive, check the spam folder and the sender address (RAPPORT_MAIL_FROM)."
            );
            render(&state, &staff, Some(&done), None).await
        }
        Err(reason) => {
            let failed = format!("The test email to {to} was not sent: {reason}");
            render(&state, &staff, None, Some(&failed)).await
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(email_page)
        .service(save_delivery)
        .service(retry)
        .service(send_test);
}
