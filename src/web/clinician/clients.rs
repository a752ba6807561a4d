//! The clinician's clients: the list, and each client's page with their
//! trajectory, answers, invitations, appointments and alerts.

use crate::store::ClientId;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::access::ClientAccess;
use super::views;
use crate::context::Context;
use crate::store::clients::{self, InvitationChoice};
use crate::store::history;
use crate::store::invitations;
use crate::store::{alerts, appointments};
use crate::web::auth::{ClinicianRole, Staff, StaffForm};
use crate::web::error::AppError;
use crate::web::views::html_page;
use crate::web::views::layout::staff_page;

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
}

#[get("/clinician/clients")]
async fn list(
    state: web::Data<Context>,
    staff: Staff<ClinicianRole>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let search = query.into_inner().q.unwrap_or_default();
    if search.chars().count() > 100 {
        return Err(AppError::BadRequest("the search is too long".into()));
    }
    let viewer = staff.viewer();
    let term = search.clone();
    let rows = state
        .db(move |conn| {
            let clients = clients::list_visible(conn, &viewer, Some(&term))?;
            let ids: Vec<ClientId> = clients.iter().map(|c| c.id).collect();
            let open = alerts::open_counts(conn, &ids)?;
            let mut rows = vec![];
            for client in clients {
                let summary = history::load(conn, client.id)?.map(|h| views::client::summarise(&h));
                let open_alerts = open.iter().find(|(id, _)| *id == client.id).map_or(0, |(_, n)| *n);
                rows.push((client, summary, open_alerts));
            }
            Ok(rows)
        })
        .await?;
    let body = views::client::list_body(&search, &rows, state.settings.time_zone);
    Ok(html_page(
        actix_web::http::StatusCode::OK,
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/clinician/clients",
            "My clients",
            body,
        ),
    ))
}

#[derive(Deserialize, Default)]
struct ClientQuery {
    done: Option<String>,
}

#[get("/clinician/clients/{client_id}")]
async fn show(
    state: web::Data<Context>,
    access: ClientAccess,
    query: web::Query<ClientQuery>,
) -> Result<HttpResponse, AppError> {
    render(&state, access, query.into_inner().done.as_deref(), None).await
}

async fn render(
    state: &Context,
    access: ClientAccess,
    done: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let ClientAccess { staff, client } = access;
    let id = client.id;
    let (loaded, invites, appts, client_alerts) = state
        .db(move |conn| {
            Ok((
                history::load(conn, id)?,
                invitations::for_client(conn, id)?,
                appointments::for_client(conn, id)?,
                alerts::for_client(conn, id)?,
            ))
        })
        .await?;
    let page = views::client::ClientPage {
        csrf: &staff.csrf,
        client: &client,
        loaded: loaded.as_ref(),
        invites: &invites,
        appts: &appts,
        client_alerts: &client_alerts,
        tz: state.settings.time_zone,
        done,
        error,
    };
    let body = views::client::body(&page);
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(html_page(
        status,
        staff_page(
            &staff,
            &state.settings.clinic_name,
            "/clinician/clients",
            &client.name,
            body,
        ),
    ))
}

#[derive(Deserialize)]
struct ChoiceForm {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    reason: String,
}

#[post("/clinician/clients/{client_id}/invitations")]
async fn set_choice(
    state: web::Data<Context>,
    access: ClientAccess,
    form: StaffForm<ClinicianRole, ChoiceForm>,
) -> Result<HttpResponse, AppError> {
    let reason = form.form.reason.trim().to_string();
    let choice = match form.form.choice.as_str() {
        "active" => InvitationChoice::Active,
        "paused" => InvitationChoice::Paused,
        "stopped" => InvitationChoice::Stopped,
        _ => return render(&state, access, None, Some("Choose whether to send, pause or stop.")).await,
    };
    if choice != InvitationChoice::Active && reason.is_empty() {
        return render(
            &state,
            access,
            None,
            Some("Give a short reason for pausing or stopping."),
        )
        .await;
    }
    if reason.chars().count() > 300 {
        return render(
            &state,
            access,
            None,
            Some("The reason is too long (at most 300 characters)."),
        )
        .await;
    }
    let (id, now) = (access.client.id, state.now());
    let reason = (choice != InvitationChoice::Active).then_some(reason);
    state
        .db(move |conn| crate::actions::clients::set_invitation_choice(conn, id, choice, reason.as_deref(), now))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/clinician/clients/{id}?done=Saved.#invitations")))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(show).service(set_choice);
}
