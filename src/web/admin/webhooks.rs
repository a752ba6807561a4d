//! Admin → Integrations: API keys (see `api_keys.rs`) and webhook
//! endpoints: add one (its signing secret is shown once), disable one, and
//! see recent deliveries (on their own page, apart from email).

use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::views;
use super::views::integrations::{NewEndpointForm, PATH};
use crate::actions::{Actor, integrations};
use crate::context::Context;
use crate::store::webhooks;
use crate::store::{StoreError, kv};
use crate::web::auth::{AdminRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::{notice, staff_page};

#[derive(Deserialize, Default)]
struct Flash {
    done: Option<String>,
}

/// The webhook deliveries: what went, what is retrying, what failed.
#[get("/admin/webhooks/deliveries")]
async fn deliveries_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    let rows = state.db(|conn| webhooks::recent_deliveries(conn, 200)).await?;
    let body =
        views::integrations::deliveries_body(&staff.csrf, flash.done.as_deref(), &rows, state.settings.time_zone);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(&staff, &state.settings.clinic_name, PATH, "Webhook deliveries", body),
    ))
}

/// The page; `error` above the webhook form, `key_error` above the API key
/// form.
pub(super) async fn render(
    state: &Context,
    staff: &Staff<AdminRole>,
    top: Option<Markup>,
    form: &NewEndpointForm,
    error: Option<&str>,
    key_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let (endpoints, deliveries, allow_private, keys) = state
        .db(|conn| {
            Ok((
                webhooks::list(conn)?,
                webhooks::recent_deliveries(conn, 50)?,
                kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS)?,
                crate::store::api_keys::list(conn)?,
            ))
        })
        .await?;
    let page = views::integrations::IntegrationsPage {
        csrf: &staff.csrf,
        top,
        keys: &keys,
        endpoints: &endpoints,
        deliveries: &deliveries,
        allow_private,
        form,
        error,
        key_error,
        tz: state.settings.time_zone,
    };
    let body = views::integrations::body(&page);
    let status = if error.is_some() || key_error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(staff, &state.settings.clinic_name, PATH, "Integrations", body),
    ))
}

#[get("/admin/webhooks")]
async fn webhooks_page(
    state: web::Data<Context>,
    staff: Staff<AdminRole>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AppError> {
    let top = flash.into_inner().done.map(|d| notice(&d));
    render(&state, &staff, top, &NewEndpointForm::default(), None, None).await
}

#[post("/admin/webhooks")]
async fn add_endpoint(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, NewEndpointForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { staff, form } = form;
    let events = form.events();
    let allow_private = state
        .db(|conn| kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS))
        .await?;
    let problem = match webhooks::check_url(&form.url) {
        Ok(url) if !events.is_empty() => crate::mail::webhook::resolve_target(&url, allow_private)
            .await
            .err()
            .map(|e| format!("Address: {e}.")),
        // add_webhook words the other problems itself.
        _ => None,
    };
    if let Some(problem) = problem {
        return render(&state, &staff, None, &form, Some(&problem), None).await;
    }
    let (now, by, sealer, url) = (
        state.now(),
        Actor::Staff(staff.id()),
        state.sealer.clone(),
        form.url.clone(),
    );
    let added = state
        .db(move |conn| integrations::add_webhook(conn, by, &url, &events, &sealer, now))
        .await;
    let (endpoint, secret) = match added {
        Ok(added) => added,
        Err(StoreError::Invalid(problem)) => return render(&state, &staff, None, &form, Some(&problem), None).await,
        Err(e) => return Err(e.into()),
    };
    // Shown on this response only: it is never displayed again.
    let top = html! {
        div.notice.webhook-secret role="status" {
            p { "Endpoint #" (endpoint.id) " added. Its signing secret, shown only now:" }
            p { code { (secret) } }
            p { "Store it in the receiving system; it checks each event's " code { "Rapport-Signature" } " with it." }
        }
    };
    render(&state, &staff, Some(top), &NewEndpointForm::default(), None, None).await
}

#[derive(Deserialize)]
struct NoFields {}

#[post("/admin/webhooks/{id}/disable")]
async fn disable_endpoint(
    state: web::Data<Context>,
    path: web::Path<i64>,
    form: StaffForm<AdminRole, NoFields>,
) -> Result<HttpResponse, AppError> {
    let (id, now, by) = (path.into_inner(), state.now(), Actor::Staff(form.staff.id()));
    let disabled = state
        .db(move |conn| integrations::disable_webhook(conn, by, id, now))
        .await?;
    let message = if disabled {
        "Endpoint+disabled."
    } else {
        "That+endpoint+was+already+disabled."
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}?done={message}")))
        .finish())
}

#[derive(Deserialize)]
struct PrivateNetworksForm {
    allow: String,
}

#[post("/admin/webhooks/private-networks")]
async fn set_private_networks(
    state: web::Data<Context>,
    form: StaffForm<AdminRole, PrivateNetworksForm>,
) -> Result<HttpResponse, AppError> {
    let allow = match form.form.allow.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(AppError::BadRequest(format!(
                "allow must be on or off, not \"{other}\""
            )));
        }
    };
    let (now, by) = (state.now(), Actor::Staff(form.staff.id()));
    state
        .db(move |conn| integrations::allow_private_networks(conn, by, allow, now))
        .await?;
    let message = if allow {
        "Receivers+on+private+networks+are+allowed."
    } else {
        "Receivers+on+private+networks+are+refused."
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}?done={message}")))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(set_private_networks)
        .service(deliveries_page)
        .service(webhooks_page)
        .service(add_endpoint)
        .service(disable_endpoint);
}
